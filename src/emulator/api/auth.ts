/**
 * Sign-in and session operations of the JSON API: InitiateAuth / AdminInitiateAuth
 * (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH),
 * RespondToAuthChallenge / AdminRespondToAuthChallenge (PASSWORD_VERIFIER,
 * NEW_PASSWORD_REQUIRED), GetTokensFromRefreshToken, RevokeToken, GlobalSignOut and
 * AdminUserGlobalSignOut.
 *
 * Their tokens belong to the same families as the hosted UI's, so a refresh token from
 * InitiateAuth also works at `/oauth2/token`, and a global sign-out revokes both kinds.
 */
import { randomBytes } from 'node:crypto';

import type { ExplicitAuthFlow, ResolvedClient, ResolvedUser } from '../config.js';
import { isJwtShaped, safeEqual } from '../http.js';
import type { UserPool } from '../pool.js';
import { liveRefresh } from '../endpoints/refresh-grant.js';
import {
  attributesOf,
  checkPasswordPolicy,
  checkSecretHash,
  refreshResult,
  requireClient,
  requireFlow,
  requirePool,
  requireUser,
  signInResult,
  userOfAccessToken,
  withAttributes,
} from './common.js';
import { ApiError } from './errors.js';
import { optionalString, requiredString, stringMap } from './input.js';
import type { ApiBody } from './input.js';
import {
  expectedSignature,
  newSalt,
  parseClientPublic,
  passwordVerifier,
  serverEphemeral,
} from './srp.js';

const WRONG_CREDENTIALS = 'Incorrect username or password.';
/** The format amazon-cognito-identity-js sends: `Tue Nov 5 12:34:56 UTC 2024`. */
const TIMESTAMP_RE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} UTC \d{4}$/;

function wrongCredentials(): ApiError {
  return new ApiError('NotAuthorizedException', WRONG_CREDENTIALS);
}

function parameter(map: Readonly<Record<string, string>>, name: string): string {
  const value = map[name];
  if (value === undefined || value === '') {
    throw new ApiError('InvalidParameterException', `Missing required parameter ${name}`);
  }
  return value;
}

/** The pool name SRP hashes with: the part of the pool id after `_`. */
function poolName(pool: UserPool): string {
  return pool.poolId.split('_')[1] ?? pool.poolId;
}

/**
 * After the password is proven: refuse disabled and unconfirmed users, ask FORCE_CHANGE_PASSWORD
 * users for a new password, and sign everyone else in.
 */
function afterPassword(pool: UserPool, client: ResolvedClient, user: ResolvedUser) {
  if (!user.enabled) throw new ApiError('NotAuthorizedException', 'User is disabled.');
  if (user.status === 'UNCONFIRMED') {
    throw new ApiError('UserNotConfirmedException', 'User is not confirmed.');
  }
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    const session = pool.state.createChallenge({
      name: 'NEW_PASSWORD_REQUIRED',
      clientId: client.clientId,
      username: user.username,
    });
    const attributes = Object.fromEntries(
      attributesOf(user)
        .filter((attribute) => attribute.Name !== 'sub')
        .map((attribute) => [attribute.Name, attribute.Value]),
    );
    return {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: session,
      ChallengeParameters: {
        USER_ID_FOR_SRP: user.username,
        requiredAttributes: '[]',
        userAttributes: JSON.stringify(attributes),
      },
    };
  }
  return signInResult(pool, user, client);
}

/** USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH. */
function passwordAuth(
  pool: UserPool,
  client: ResolvedClient,
  parameters: Readonly<Record<string, string>>,
  flow: ExplicitAuthFlow,
) {
  requireFlow(client, flow);
  const username = parameter(parameters, 'USERNAME');
  const password = parameter(parameters, 'PASSWORD');
  checkSecretHash(client, parameters.SECRET_HASH, [username]);
  const user = pool.checkPassword(username, password);
  if (!user) throw wrongCredentials();
  return afterPassword(pool, client, user);
}

/**
 * USER_SRP_AUTH, first step: the PASSWORD_VERIFIER challenge. An unknown user gets a challenge
 * too (for a random password), so the answer does not reveal who exists.
 */
function srpAuth(
  pool: UserPool,
  client: ResolvedClient,
  parameters: Readonly<Record<string, string>>,
) {
  requireFlow(client, 'ALLOW_USER_SRP_AUTH');
  const username = parameter(parameters, 'USERNAME');
  const A = parseClientPublic(parameter(parameters, 'SRP_A'));
  if (A === undefined)
    throw new ApiError('InvalidParameterException', 'SRP_A is not a valid value');
  checkSecretHash(client, parameters.SECRET_HASH, [username]);
  const user = pool.users.get(username);
  const userId = user?.username ?? username;
  const salt = newSalt();
  const password = user?.password ?? randomBytes(32).toString('base64');
  const verifier = passwordVerifier(poolName(pool), userId, password, salt);
  const { b, B } = serverEphemeral(verifier);
  const secretBlock = pool.state.createChallenge({
    name: 'PASSWORD_VERIFIER',
    clientId: client.clientId,
    username: userId,
    srp: { A, B, b, salt, verifier },
  });
  return {
    ChallengeName: 'PASSWORD_VERIFIER',
    ChallengeParameters: {
      SALT: salt.toString(16),
      SECRET_BLOCK: secretBlock,
      SRP_B: B.toString(16),
      USERNAME: userId,
      USER_ID_FOR_SRP: userId,
    },
  };
}

/** The live refresh record of `client`, with Cognito's messages for the ways it can fail. */
function requireLiveRefresh(pool: UserPool, client: ResolvedClient, token: string) {
  const live = liveRefresh(pool, client, token);
  if (!live.ok) {
    const message = {
      revoked: 'Refresh Token has been revoked',
      invalid: 'Invalid Refresh Token',
      'no-user': 'User does not exist.',
      disabled: 'User is disabled.',
    }[live.reason];
    throw new ApiError('NotAuthorizedException', message);
  }
  return live;
}

/** REFRESH_TOKEN_AUTH: new access and ID tokens, no new refresh token. */
function refreshAuth(
  pool: UserPool,
  client: ResolvedClient,
  parameters: Readonly<Record<string, string>>,
) {
  requireFlow(client, 'ALLOW_REFRESH_TOKEN_AUTH');
  const token = parameter(parameters, 'REFRESH_TOKEN');
  if (client.rotation.enabled) {
    // Cognito: with rotation on, API refreshes go through GetTokensFromRefreshToken.
    throw new ApiError(
      'NotAuthorizedException',
      'Refresh token rotation is enabled for this app client; use GetTokensFromRefreshToken',
    );
  }
  const { record, user } = requireLiveRefresh(pool, client, token);
  // The hash may be computed over the username or the sub (both are seen in the wild).
  checkSecretHash(client, parameters.SECRET_HASH, [user.username, user.sub]);
  return {
    AuthenticationResult: refreshResult(pool, record.family, user, client, undefined),
    ChallengeParameters: {},
  };
}

/**
 * InitiateAuth and AdminInitiateAuth, once the pool (admin) and the client are found: they differ
 * only in the password flow's names and the client flag it needs (the other's names are refused
 * as unsupported).
 */
function startAuth(
  pool: UserPool,
  client: ResolvedClient,
  body: ApiBody,
  passwordFlows: readonly string[],
  passwordFlag: ExplicitAuthFlow,
) {
  const flow = requiredString(body, 'AuthFlow');
  const parameters = stringMap(body, 'AuthParameters');
  if (passwordFlows.includes(flow)) return passwordAuth(pool, client, parameters, passwordFlag);
  switch (flow) {
    case 'USER_SRP_AUTH':
      return srpAuth(pool, client, parameters);
    case 'REFRESH_TOKEN_AUTH':
    case 'REFRESH_TOKEN':
      return refreshAuth(pool, client, parameters);
    default:
      throw new ApiError(
        'InvalidParameterException',
        `Initiate Auth method not supported: ${flow}`,
      );
  }
}

/** `InitiateAuth`. */
export function initiateAuth(pool: UserPool, body: ApiBody) {
  return startAuth(
    pool,
    requireClient(pool, body),
    body,
    ['USER_PASSWORD_AUTH'],
    'ALLOW_USER_PASSWORD_AUTH',
  );
}

/** `AdminInitiateAuth` (a server's sign-in, trusted to send the password itself). */
export function adminInitiateAuth(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  return startAuth(
    pool,
    requireClient(pool, body),
    body,
    ['ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH'],
    'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  );
}

/** PASSWORD_VERIFIER: the client proves it knows the password without sending it. */
function passwordVerifierAnswer(
  pool: UserPool,
  client: ResolvedClient,
  responses: Readonly<Record<string, string>>,
) {
  const secretBlock = parameter(responses, 'PASSWORD_CLAIM_SECRET_BLOCK');
  const signature = parameter(responses, 'PASSWORD_CLAIM_SIGNATURE');
  const timestamp = parameter(responses, 'TIMESTAMP');
  const username = parameter(responses, 'USERNAME');
  if (!TIMESTAMP_RE.test(timestamp)) {
    throw new ApiError(
      'InvalidParameterException',
      'TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.',
    );
  }
  checkSecretHash(client, responses.SECRET_HASH, [username]);
  // One answer per challenge: a wrong signature cannot be retried against the same B.
  const challenge = pool.state.takeChallenge(secretBlock);
  if (
    challenge?.name !== 'PASSWORD_VERIFIER' ||
    challenge.srp === undefined ||
    challenge.clientId !== client.clientId ||
    challenge.username !== username
  ) {
    throw wrongCredentials();
  }
  const expected = expectedSignature(
    challenge.srp,
    poolName(pool),
    username,
    secretBlock,
    timestamp,
  );
  const user = pool.users.get(username);
  if (expected === undefined || !safeEqual(signature, expected) || !user) throw wrongCredentials();
  return afterPassword(pool, client, user);
}

/** NEW_PASSWORD_REQUIRED: a user with a temporary password sets their own. */
function newPasswordAnswer(
  pool: UserPool,
  client: ResolvedClient,
  session: string | undefined,
  responses: Readonly<Record<string, string>>,
) {
  const username = parameter(responses, 'USERNAME');
  const password = parameter(responses, 'NEW_PASSWORD');
  checkSecretHash(client, responses.SECRET_HASH, [username]);
  const challenge = pool.state.takeChallenge(session);
  if (
    challenge?.name !== 'NEW_PASSWORD_REQUIRED' ||
    challenge.clientId !== client.clientId ||
    challenge.username !== username
  ) {
    throw new ApiError(
      'NotAuthorizedException',
      'Invalid session for the user, session is expired.',
    );
  }
  const user = requireUser(pool, username);
  checkPasswordPolicy(password);
  const attributes = Object.entries(responses)
    .filter(([name]) => name.startsWith('userAttributes.'))
    .map(([name, value]) => ({ name: name.slice('userAttributes.'.length), value }));
  const changed = withAttributes({ ...user, password, status: 'CONFIRMED' }, attributes);
  const updated = pool.updateUser(username, changed) ?? requireUser(pool, username);
  return afterPassword(pool, client, updated);
}

function answerChallenge(pool: UserPool, client: ResolvedClient, body: ApiBody) {
  const name = requiredString(body, 'ChallengeName');
  const responses = stringMap(body, 'ChallengeResponses');
  switch (name) {
    case 'PASSWORD_VERIFIER':
      return passwordVerifierAnswer(pool, client, responses);
    case 'NEW_PASSWORD_REQUIRED':
      return newPasswordAnswer(pool, client, optionalString(body, 'Session'), responses);
    default:
      throw new ApiError('InvalidParameterException', `Unsupported challenge: ${name}`);
  }
}

/** `RespondToAuthChallenge`. */
export function respondToAuthChallenge(pool: UserPool, body: ApiBody) {
  return answerChallenge(pool, requireClient(pool, body), body);
}

/** `AdminRespondToAuthChallenge`. */
export function adminRespondToAuthChallenge(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  return answerChallenge(pool, requireClient(pool, body), body);
}

/** The client secret sent as `ClientSecret` (GetTokensFromRefreshToken, RevokeToken). */
function checkClientSecret(client: ResolvedClient, secret: string | undefined): void {
  if (client.clientSecret === undefined) return;
  if (secret === undefined || !safeEqual(secret, client.clientSecret)) {
    throw new ApiError(
      'NotAuthorizedException',
      `Unable to verify the client secret for client ${client.clientId}`,
    );
  }
}

/** `GetTokensFromRefreshToken`: a refresh that also rotates the refresh token when the client rotates. */
export function getTokensFromRefreshToken(pool: UserPool, body: ApiBody) {
  const client = requireClient(pool, body);
  requireFlow(client, 'ALLOW_REFRESH_TOKEN_AUTH');
  const token = requiredString(body, 'RefreshToken');
  checkClientSecret(client, optionalString(body, 'ClientSecret'));
  const { record, user } = requireLiveRefresh(pool, client, token);
  const rotated = pool.rotateRefresh(record, client);
  return { AuthenticationResult: refreshResult(pool, record.family, user, client, rotated) };
}

/** `RevokeToken`: ends the refresh token's sign-in (every token of it), like `/oauth2/revoke`. */
export function revokeToken(pool: UserPool, body: ApiBody) {
  const client = requireClient(pool, body);
  const token = requiredString(body, 'Token');
  checkClientSecret(client, optionalString(body, 'ClientSecret'));
  if (!client.enableTokenRevocation) {
    throw new ApiError(
      'UnsupportedOperationException',
      'Token revocation is not enabled for this client.',
    );
  }
  if (isJwtShaped(token)) {
    throw new ApiError('UnsupportedTokenTypeException', 'Only refresh tokens can be revoked.');
  }
  const record = pool.state.getRefresh(token);
  // Unknown tokens and other clients' tokens: the same empty answer, nothing revoked.
  if (record && record.family.clientId === client.clientId) pool.state.revokeFamily(record.family);
  return {};
}

/** `GlobalSignOut`: the user of the access token loses every refresh and access token. */
export function globalSignOut(pool: UserPool, body: ApiBody) {
  const user = userOfAccessToken(pool, requiredString(body, 'AccessToken'));
  pool.state.revokeUserFamilies(user.username);
  return {};
}

/** `AdminUserGlobalSignOut`. */
export function adminUserGlobalSignOut(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const user = requireUser(pool, requiredString(body, 'Username'));
  pool.state.revokeUserFamilies(user.username);
  return {};
}
