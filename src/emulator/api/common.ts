/**
 * What the JSON-API operations share: finding the pool, client and user a request names,
 * `SECRET_HASH`, Cognito's default password policy, user attributes in `[{Name, Value}]` form,
 * access-token checks, and the `AuthenticationResult` of a sign-in.
 */
import { createHmac, randomBytes } from 'node:crypto';

import type { ExplicitAuthFlow, ResolvedClient, ResolvedUser } from '../config.js';
import { safeEqual } from '../http.js';
import type { UserPool } from '../pool.js';
import type { TokenFamily } from '../state.js';
import { ApiError } from './errors.js';
import { requiredString } from './input.js';
import type { ApiBody } from './input.js';

/** The scope of every access token the JSON API issues; GetUser and GlobalSignOut need it. */
export const ADMIN_SCOPE = 'aws.cognito.signin.user.admin';

/** `UserPoolId` must name this pool. */
export function requirePool(pool: UserPool, body: ApiBody): void {
  const id = requiredString(body, 'UserPoolId');
  if (id !== pool.poolId) {
    throw new ApiError('ResourceNotFoundException', `User pool ${id} does not exist.`);
  }
}

/** `ClientId` must name a client of this pool. */
export function requireClient(pool: UserPool, body: ApiBody): ResolvedClient {
  const id = requiredString(body, 'ClientId');
  const client = pool.clients.get(id);
  if (!client) {
    throw new ApiError('ResourceNotFoundException', `User pool client ${id} does not exist.`);
  }
  return client;
}

/** The named user, or `UserNotFoundException`. */
export function requireUser(pool: UserPool, username: string): ResolvedUser {
  const user = pool.users.get(username);
  if (!user) throw new ApiError('UserNotFoundException', 'User does not exist.');
  return user;
}

/**
 * Checks `SECRET_HASH` (base64 HMAC-SHA-256 of username + client id, keyed with the client
 * secret) when the client has a secret. Any of `usernames` may be the one the caller hashed
 * (Cognito accepts the username or the `sub` for refreshes).
 */
export function checkSecretHash(
  client: ResolvedClient,
  hash: string | undefined,
  usernames: readonly string[],
): void {
  if (client.clientSecret === undefined) return;
  if (hash === undefined) {
    throw new ApiError(
      'NotAuthorizedException',
      `Client ${client.clientId} is configured with secret but SECRET_HASH was not received`,
    );
  }
  const secret = client.clientSecret;
  const matches = usernames.map((name) =>
    safeEqual(
      hash,
      createHmac('sha256', secret).update(`${name}${client.clientId}`).digest('base64'),
    ),
  );
  if (!matches.includes(true)) {
    throw new ApiError(
      'NotAuthorizedException',
      `Unable to verify secret hash for client ${client.clientId}`,
    );
  }
}

/** The client must allow the JSON-API sign-in flow (Cognito's `ExplicitAuthFlows`). */
export function requireFlow(client: ResolvedClient, flow: ExplicitAuthFlow): void {
  if (!client.explicitAuthFlows.includes(flow)) {
    throw new ApiError(
      'InvalidParameterException',
      `${flow.replace(/^ALLOW_/, '')} flow not enabled for this client`,
    );
  }
}

/**
 * What is wrong with a password under Cognito's default policy (8+ characters, upper and lower
 * case, a digit and a symbol), in Cognito's words; `undefined` when it passes.
 */
export function passwordProblem(password: string): string | undefined {
  const problem =
    password.length < 8
      ? 'Password not long enough'
      : !/[a-z]/.test(password)
        ? 'Password must have lowercase characters'
        : !/[A-Z]/.test(password)
          ? 'Password must have uppercase characters'
          : !/[0-9]/.test(password)
            ? 'Password must have numeric characters'
            : !/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password)
              ? 'Password must have symbol characters'
              : undefined;
  return problem === undefined ? undefined : `Password did not conform with policy: ${problem}`;
}

/** The default password policy, for passwords set through the API. */
export function checkPasswordPolicy(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new ApiError('InvalidPasswordException', problem);
}

/** A random password that meets the default policy (for AdminCreateUser without one). */
export function temporaryPassword(): string {
  return `Tmp-${randomBytes(9).toString('base64url')}a1A!`;
}

/** The user's attributes as Cognito lists them: `sub` first, then the others, as strings. */
export function attributesOf(user: ResolvedUser): { Name: string; Value: string }[] {
  const list = [{ Name: 'sub', Value: user.sub }];
  for (const [name, value] of Object.entries(user.attributes))
    list.push({ Name: name, Value: value });
  if (user.phoneNumber !== undefined) {
    list.push({ Name: 'phone_number_verified', Value: String(user.phoneNumberVerified) });
    list.push({ Name: 'phone_number', Value: user.phoneNumber });
  }
  if (user.email !== undefined) {
    list.push({ Name: 'email_verified', Value: String(user.emailVerified) });
    list.push({ Name: 'email', Value: user.email });
  }
  return list;
}

/** Attributes a caller may not set (Cognito manages them). */
const READ_ONLY_ATTRIBUTES = new Set(['sub', 'cognito:user_status', 'identities']);

/**
 * A user with `[{Name, Value}]` attributes applied: the standard e-mail and phone attributes go
 * to their fields, everything else to `attributes`.
 */
export function withAttributes(
  user: ResolvedUser,
  attributes: readonly { readonly name: string; readonly value: string }[],
): ResolvedUser {
  let next: ResolvedUser = user;
  const extra: Record<string, string> = { ...user.attributes };
  for (const { name, value } of attributes) {
    if (READ_ONLY_ATTRIBUTES.has(name)) {
      throw new ApiError(
        'InvalidParameterException',
        `Cannot modify an immutable attribute: ${name}`,
      );
    }
    // A new e-mail or phone number is unverified until said otherwise.
    if (name === 'email') next = { ...next, email: value, emailVerified: false };
    else if (name === 'phone_number') {
      next = { ...next, phoneNumber: value, phoneNumberVerified: false };
    } else if (name !== 'email_verified' && name !== 'phone_number_verified') extra[name] = value;
  }
  // A verified flag in the list (the first one, if repeated) wins over that reset.
  const verified = attributes.find((attribute) => attribute.name === 'email_verified');
  if (verified) next = { ...next, emailVerified: verified.value === 'true' };
  const phoneVerified = attributes.find((attribute) => attribute.name === 'phone_number_verified');
  if (phoneVerified) next = { ...next, phoneNumberVerified: phoneVerified.value === 'true' };
  return { ...next, attributes: extra };
}

/** Cognito's `UserType` (AdminCreateUser, ListUsers). */
export function userType(user: ResolvedUser, attributeNames?: readonly string[]) {
  const attributes = attributesOf(user).filter(
    (attribute) => attributeNames === undefined || attributeNames.includes(attribute.Name),
  );
  return {
    Username: user.username,
    Attributes: attributes,
    UserCreateDate: user.createdAtMs / 1000,
    UserLastModifiedDate: user.updatedAtMs / 1000,
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

/** The `AuthenticationResult` of a token set. */
function authenticationResult(
  tokens: { access_token: string; id_token?: string; expires_in: number },
  refreshToken: string | undefined,
) {
  return {
    AccessToken: tokens.access_token,
    ExpiresIn: tokens.expires_in,
    ...(tokens.id_token !== undefined ? { IdToken: tokens.id_token } : {}),
    ...(refreshToken !== undefined ? { RefreshToken: refreshToken } : {}),
    TokenType: 'Bearer',
  };
}

/**
 * A completed JSON-API sign-in: a new token family (so `/oauth2/token`, `/oauth2/revoke` and
 * GlobalSignOut all reach it) and its `AuthenticationResult`.
 */
export function signInResult(pool: UserPool, user: ResolvedUser, client: ResolvedClient) {
  const { tokens, refreshToken } = pool.signIn({
    user,
    client,
    scopes: [ADMIN_SCOPE],
    authTime: pool.nowSeconds(),
    flow: 'api',
    audience: undefined,
  });
  return {
    AuthenticationResult: authenticationResult(tokens, refreshToken),
    ChallengeParameters: {},
  };
}

/** New tokens for a live family (REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken). */
export function refreshResult(
  pool: UserPool,
  family: TokenFamily,
  user: ResolvedUser,
  client: ResolvedClient,
  rotatedRefreshToken: string | undefined,
) {
  return authenticationResult(pool.reissue(family, user, client), rotatedRefreshToken);
}

/**
 * The user an access token belongs to, for GetUser and GlobalSignOut: a token this pool signed,
 * not expired, of a sign-in not revoked, with the `aws.cognito.signin.user.admin` scope.
 */
export function userOfAccessToken(pool: UserPool, token: string): ResolvedUser {
  const checked = pool.checkAccessToken(token, ADMIN_SCOPE);
  if (checked.ok) return checked.user;
  const message = {
    invalid: 'Invalid Access Token',
    expired: 'Access Token has expired',
    revoked: 'Access Token has been revoked',
    scope: 'Access Token does not have required scopes',
    'no-user': 'User does not exist.',
  }[checked.problem];
  throw new ApiError('NotAuthorizedException', message);
}

/** Where a message to the user would go, masked as Cognito shows it (`a***@e***`). */
export function deliveryDetails(user: ResolvedUser) {
  if (user.email !== undefined) {
    const [local = '', domain = ''] = user.email.split('@');
    return {
      Destination: `${local.slice(0, 1)}***@${domain.slice(0, 1)}***`,
      DeliveryMedium: 'EMAIL',
      AttributeName: 'email',
    };
  }
  if (user.phoneNumber !== undefined) {
    return {
      Destination: `+*******${user.phoneNumber.slice(-4)}`,
      DeliveryMedium: 'SMS',
      AttributeName: 'phone_number',
    };
  }
  return undefined;
}
