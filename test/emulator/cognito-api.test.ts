// Cognito's JSON API through the real AWS SDK v3 client, unmodified, pointed at the emulator with
// `endpoint` and dummy credentials: every implemented operation, Cognito's error names and token
// shapes, and the state it shares with the OAuth2 endpoints (hosted page, /oauth2/token, userInfo).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUsersCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import * as identityJs from 'amazon-cognito-identity-js';

import { COGNITO_API_OPERATIONS, DEMO_PASSWORD, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  authorizeUrl,
  basic,
  browserLogin,
  decodeJwt,
  defaultAuthorizeParams,
  get,
  postForm,
  rawRequest,
  signIn,
} from './helpers.js';

// The SDK warns that releases after January 2027 need Node 22; this suite runs on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const PUBLIC = 'public-app';
const ROTATING = 'rotating-app';
let emulator: EmulatorHandle;
let cognito: CognitoIdentityProviderClient;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  emulator.addClient({
    clientId: PUBLIC,
    callbackUrls: [REDIRECT_URI],
    allowedScopes: ['openid', 'email', 'aws.cognito.signin.user.admin'],
  });
  emulator.addClient({
    clientId: ROTATING,
    callbackUrls: [],
    allowedScopes: ['openid'],
    refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 },
  });
  cognito = new CognitoIdentityProviderClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-checked' },
    maxAttempts: 1,
  });
});
after(async () => {
  cognito.destroy();
  await emulator.stop();
});

function secretHash(username: string, clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return createHmac('sha256', secret).update(`${username}${clientId}`).digest('base64');
}

/** The SDK's error for a failing call: its name (Cognito's `__type`) and HTTP status. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode ?? 0, message: e.message };
  }
  throw new assert.AssertionError({ message: 'the call should have failed' });
}

interface SignedIn {
  readonly AccessToken: string;
  readonly IdToken: string;
  readonly RefreshToken: string;
}

async function passwordSignIn(username: string, password = DEMO_PASSWORD): Promise<SignedIn> {
  const result = await cognito.send(
    new InitiateAuthCommand({
      ClientId: PUBLIC,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  const { AccessToken, IdToken, RefreshToken } = result.AuthenticationResult ?? {};
  assert.ok(AccessToken && IdToken && RefreshToken, 'signed in without a challenge');
  return { AccessToken, IdToken, RefreshToken };
}

async function createConfirmedUser(username: string, groups: string[] = []): Promise<void> {
  await cognito.send(
    new AdminCreateUserCommand({
      UserPoolId: emulator.poolId,
      Username: username,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: `${username}@example.com` },
        { Name: 'email_verified', Value: 'true' },
      ],
    }),
  );
  await cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: emulator.poolId,
      Username: username,
      Password: DEMO_PASSWORD,
      Permanent: true,
    }),
  );
  for (const group of groups) {
    await cognito.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: emulator.poolId,
        Username: username,
        GroupName: group,
      }),
    );
  }
}

describe('JSON API: users (admin)', () => {
  it('AdminCreateUser makes a FORCE_CHANGE_PASSWORD user and "sends" the temporary password; a duplicate is UsernameExistsException', async () => {
    const created = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: emulator.poolId,
        Username: 'erin',
        UserAttributes: [{ Name: 'email', Value: 'erin@example.com' }],
      }),
    );
    const user = created.User;
    assert.ok(user);
    assert.equal(user.Username, 'erin');
    assert.equal(user.UserStatus, 'FORCE_CHANGE_PASSWORD');
    assert.equal(user.Enabled, true);
    assert.ok(user.UserCreateDate instanceof Date);
    const attributes = Object.fromEntries(
      (user.Attributes ?? []).map((attribute) => [attribute.Name, attribute.Value]),
    );
    assert.equal(attributes.email, 'erin@example.com');
    assert.match(attributes.sub ?? '', /^[0-9a-f-]{36}$/);
    const message = emulator.messages().findLast((m) => m.username === 'erin');
    assert.equal(message?.kind, 'temporary-password');
    assert.equal(message.destination, 'erin@example.com');

    const again = await failure(
      cognito.send(new AdminCreateUserCommand({ UserPoolId: emulator.poolId, Username: 'erin' })),
    );
    assert.deepEqual([again.name, again.status], ['UsernameExistsException', 400]);
  });

  it('a user created through the SDK signs in on the hosted page', async () => {
    await createConfirmedUser('sdk-user');
    const tokens = await signIn(emulator, { username: 'sdk-user' });
    assert.equal(decodeJwt(tokens.access_token).payload.username, 'sdk-user');
  });

  it('AdminSetUserPassword enforces the default password policy (InvalidPasswordException)', async () => {
    const weak = await failure(
      cognito.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: emulator.poolId,
          Username: 'alice',
          Password: 'short',
          Permanent: true,
        }),
      ),
    );
    assert.equal(weak.name, 'InvalidPasswordException');
    assert.match(weak.message, /Password did not conform with policy/);
  });

  it('AdminGetUser returns attributes and status; an unknown user is UserNotFoundException', async () => {
    const alice = await cognito.send(
      new AdminGetUserCommand({ UserPoolId: emulator.poolId, Username: 'alice' }),
    );
    assert.equal(alice.Username, 'alice');
    assert.equal(alice.UserStatus, 'CONFIRMED');
    assert.deepEqual(
      alice.UserAttributes?.find((attribute) => attribute.Name === 'email_verified')?.Value,
      'true',
    );
    const missing = await failure(
      cognito.send(new AdminGetUserCommand({ UserPoolId: emulator.poolId, Username: 'nobody' })),
    );
    assert.deepEqual([missing.name, missing.status], ['UserNotFoundException', 400]);
  });

  it("AdminDeleteUser ends the user's hosted-UI session: a re-created user of the same name gets no code from it", async () => {
    await createConfirmedUser('phoenix');
    const first = await browserLogin(emulator, { username: 'phoenix' });
    await cognito.send(
      new AdminDeleteUserCommand({ UserPoolId: emulator.poolId, Username: 'phoenix' }),
    );
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: emulator.poolId,
        Username: 'phoenix',
        MessageAction: 'SUPPRESS',
      }),
    );
    const again = await get(authorizeUrl(emulator, defaultAuthorizeParams()), first.jar);
    assert.equal(again.status, 302);
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('a wrong UserPoolId is ResourceNotFoundException', async () => {
    const wrong = await failure(
      cognito.send(new AdminGetUserCommand({ UserPoolId: 'eu-west-1_Other', Username: 'alice' })),
    );
    assert.equal(wrong.name, 'ResourceNotFoundException');
  });

  it('AdminDeleteUser removes the user and ends its sign-ins', async () => {
    await createConfirmedUser('short-lived');
    const tokens = await passwordSignIn('short-lived');
    await cognito.send(
      new AdminDeleteUserCommand({ UserPoolId: emulator.poolId, Username: 'short-lived' }),
    );
    const gone = await failure(
      cognito.send(
        new AdminGetUserCommand({ UserPoolId: emulator.poolId, Username: 'short-lived' }),
      ),
    );
    assert.equal(gone.name, 'UserNotFoundException');
    const refresh = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: PUBLIC,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken },
        }),
      ),
    );
    assert.equal(refresh.name, 'NotAuthorizedException');
  });

  it('ListUsers filters with = and ^=, pages with Limit, and refuses a malformed filter', async () => {
    const list = async (Filter?: string, Limit?: number, PaginationToken?: string) =>
      cognito.send(
        new ListUsersCommand({ UserPoolId: emulator.poolId, Filter, Limit, PaginationToken }),
      );
    assert.deepEqual(
      (await list('email = "bob@example.com"')).Users?.map((user) => user.Username),
      ['bob'],
    );
    assert.deepEqual(
      (await list('username ^= "ca"')).Users?.map((user) => user.Username),
      ['carol'],
    );
    assert.ok(
      (await list('cognito:user_status = "CONFIRMED"')).Users?.some((u) => u.Username === 'alice'),
    );
    assert.deepEqual((await list('email = "none@example.com"')).Users, []);
    const firstPage = await list(undefined, 2);
    const firstUsers = firstPage.Users ?? [];
    assert.equal(firstUsers.length, 2);
    assert.ok(firstPage.PaginationToken);
    const secondPage = await list(undefined, 2, firstPage.PaginationToken);
    assert.notEqual(secondPage.Users?.[0]?.Username, firstUsers[0]?.Username);
    const bad = await failure(list('email == bob'));
    assert.equal(bad.name, 'InvalidParameterException');
    const unknown = await failure(list('shoe_size = "9"'));
    assert.equal(unknown.name, 'InvalidParameterException');
  });
});

describe('JSON API: groups', () => {
  it('CreateGroup, ListGroups, AdminAddUserToGroup and AdminListGroupsForUser; membership reaches the tokens', async () => {
    const created = await cognito.send(
      new CreateGroupCommand({
        UserPoolId: emulator.poolId,
        GroupName: 'auditors',
        Description: 'Read-only auditors',
        Precedence: 5,
      }),
    );
    assert.equal(created.Group?.GroupName, 'auditors');
    assert.equal(created.Group.Precedence, 5);
    const duplicate = await failure(
      cognito.send(new CreateGroupCommand({ UserPoolId: emulator.poolId, GroupName: 'auditors' })),
    );
    assert.equal(duplicate.name, 'GroupExistsException');
    const groups = await cognito.send(new ListGroupsCommand({ UserPoolId: emulator.poolId }));
    assert.ok(groups.Groups?.some((group) => group.GroupName === 'auditors'));
    assert.ok(
      groups.Groups?.some((group) => group.GroupName === 'admin'),
      'config groups listed',
    );

    await createConfirmedUser('gina', ['auditors']);
    const forUser = await cognito.send(
      new AdminListGroupsForUserCommand({ UserPoolId: emulator.poolId, Username: 'gina' }),
    );
    assert.deepEqual(
      forUser.Groups?.map((group) => group.GroupName),
      ['auditors'],
    );
    const tokens = await passwordSignIn('gina');
    assert.deepEqual(decodeJwt(tokens.IdToken).payload['cognito:groups'], ['auditors']);
    const hosted = await signIn(emulator, { username: 'gina' });
    assert.deepEqual(decodeJwt(hosted.access_token).payload['cognito:groups'], ['auditors']);
  });

  it('AdminRemoveUserFromGroup; an unknown group is ResourceNotFoundException', async () => {
    await createConfirmedUser('hank', ['editor']);
    await cognito.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: emulator.poolId,
        Username: 'hank',
        GroupName: 'editor',
      }),
    );
    const tokens = await passwordSignIn('hank');
    assert.equal(decodeJwt(tokens.IdToken).payload['cognito:groups'], undefined);
    const unknown = await failure(
      cognito.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: emulator.poolId,
          Username: 'hank',
          GroupName: 'no-such-group',
        }),
      ),
    );
    assert.equal(unknown.name, 'ResourceNotFoundException');
  });
});

describe('JSON API: sign-up', () => {
  it('SignUp (with SECRET_HASH) → UserNotConfirmedException → ConfirmSignUp with the sent code → signs in', async () => {
    const signedUp = await cognito.send(
      new SignUpCommand({
        ClientId: CLIENT_ID,
        SecretHash: secretHash('ivy'),
        Username: 'ivy',
        Password: DEMO_PASSWORD,
        UserAttributes: [{ Name: 'email', Value: 'ivy@example.com' }],
      }),
    );
    assert.equal(signedUp.UserConfirmed, false);
    assert.match(signedUp.UserSub ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(signedUp.CodeDeliveryDetails, {
      Destination: 'i***@e***',
      DeliveryMedium: 'EMAIL',
      AttributeName: 'email',
    });
    const unconfirmed = await failure(passwordSignIn('ivy'));
    assert.equal(unconfirmed.name, 'UserNotConfirmedException');

    const wrongCode = await failure(
      cognito.send(
        new ConfirmSignUpCommand({
          ClientId: CLIENT_ID,
          SecretHash: secretHash('ivy'),
          Username: 'ivy',
          ConfirmationCode: '000000x',
        }),
      ),
    );
    assert.equal(wrongCode.name, 'CodeMismatchException');
    const code = emulator.messages().findLast((m) => m.username === 'ivy')?.code ?? '';
    assert.match(code, /^\d{6}$/);
    await cognito.send(
      new ConfirmSignUpCommand({
        ClientId: CLIENT_ID,
        SecretHash: secretHash('ivy'),
        Username: 'ivy',
        ConfirmationCode: code,
      }),
    );
    const tokens = await passwordSignIn('ivy');
    assert.equal(decodeJwt(tokens.IdToken).payload.email_verified, true);
  });

  it('SignUp to a client with a secret needs a correct SECRET_HASH (NotAuthorizedException)', async () => {
    const missing = await failure(
      cognito.send(
        new SignUpCommand({ ClientId: CLIENT_ID, Username: 'jo', Password: DEMO_PASSWORD }),
      ),
    );
    assert.equal(missing.name, 'NotAuthorizedException');
    assert.match(missing.message, /SECRET_HASH was not received/);
    const wrong = await failure(
      cognito.send(
        new SignUpCommand({
          ClientId: CLIENT_ID,
          SecretHash: secretHash('someone-else'),
          Username: 'jo',
          Password: DEMO_PASSWORD,
        }),
      ),
    );
    assert.match(wrong.message, /Unable to verify secret hash/);
    const existing = await failure(
      cognito.send(
        new SignUpCommand({
          ClientId: CLIENT_ID,
          SecretHash: secretHash('alice'),
          Username: 'alice',
          Password: DEMO_PASSWORD,
        }),
      ),
    );
    assert.equal(existing.name, 'UsernameExistsException');
  });

  it('AdminConfirmSignUp confirms without a code; confirming twice is NotAuthorizedException', async () => {
    await cognito.send(
      new SignUpCommand({ ClientId: PUBLIC, Username: 'kim', Password: DEMO_PASSWORD }),
    );
    await cognito.send(
      new AdminConfirmSignUpCommand({ UserPoolId: emulator.poolId, Username: 'kim' }),
    );
    await passwordSignIn('kim');
    const twice = await failure(
      cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: emulator.poolId, Username: 'kim' })),
    );
    assert.equal(twice.name, 'NotAuthorizedException');
  });
});

describe('JSON API: sign-in', () => {
  it("InitiateAuth USER_PASSWORD_AUTH returns Cognito's AuthenticationResult; API tokens differ from hosted-UI ones as in Cognito", async () => {
    const result = await cognito.send(
      new InitiateAuthCommand({
        ClientId: CLIENT_ID,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: {
          USERNAME: 'alice',
          PASSWORD: DEMO_PASSWORD,
          SECRET_HASH: secretHash('alice'),
        },
      }),
    );
    assert.deepEqual(result.ChallengeParameters, {});
    const auth = result.AuthenticationResult;
    assert.equal(auth?.TokenType, 'Bearer');
    assert.equal(auth.ExpiresIn, 3600);
    assert.ok(auth.RefreshToken?.startsWith('eyJjdHkiOiJKV1Qi'));
    const access = decodeJwt(auth.AccessToken ?? '').payload;
    assert.equal(access.token_use, 'access');
    assert.equal(access.scope, 'aws.cognito.signin.user.admin');
    assert.equal(access.client_id, CLIENT_ID);
    assert.equal(access.version, undefined, 'API-flow access tokens carry no version');
    assert.deepEqual(access['cognito:groups'], ['admin']);
    const id = decodeJwt(auth.IdToken ?? '').payload;
    assert.equal(id.aud, CLIENT_ID);
    assert.equal(id.at_hash, undefined);
    assert.equal(id.event_id, access.event_id);
  });

  it('a wrong password and an unknown user get the same NotAuthorizedException; a missing SECRET_HASH is refused', async () => {
    const wrong = await failure(passwordSignIn('alice', 'Wrong-passw0rd'));
    const unknown = await failure(passwordSignIn('no-such-user'));
    assert.deepEqual(wrong, unknown);
    assert.deepEqual(
      [wrong.name, wrong.status, wrong.message],
      ['NotAuthorizedException', 400, 'Incorrect username or password.'],
    );
    const noHash = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: CLIENT_ID,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'alice', PASSWORD: DEMO_PASSWORD },
        }),
      ),
    );
    assert.equal(noHash.name, 'NotAuthorizedException');
  });

  it("a client's ExplicitAuthFlows are enforced (InvalidParameterException)", async () => {
    emulator.addClient({
      clientId: 'srp-only',
      callbackUrls: [],
      allowedScopes: ['openid'],
      explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
    const refused = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: 'srp-only',
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'alice', PASSWORD: DEMO_PASSWORD },
        }),
      ),
    );
    assert.deepEqual(
      [refused.name, refused.message],
      ['InvalidParameterException', 'USER_PASSWORD_AUTH flow not enabled for this client'],
    );
  });

  it('AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH signs in from a server', async () => {
    const result = await cognito.send(
      new AdminInitiateAuthCommand({
        UserPoolId: emulator.poolId,
        ClientId: PUBLIC,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'bob', PASSWORD: DEMO_PASSWORD },
      }),
    );
    assert.equal(decodeJwt(result.AuthenticationResult?.AccessToken ?? '').payload.username, 'bob');
  });

  it('USER_SRP_AUTH → PASSWORD_VERIFIER answered with the SRP math of amazon-cognito-identity-js, through InitiateAuth and AdminInitiateAuth', async () => {
    for (const admin of [false, true]) {
      const helper = newSrpHelper(emulator.poolId.split('_')[1] ?? '');
      const A = await largeA(helper);
      const parameters = { USERNAME: 'carol', SRP_A: A.toString(16) };
      const started = admin
        ? await cognito.send(
            new AdminInitiateAuthCommand({
              UserPoolId: emulator.poolId,
              ClientId: PUBLIC,
              AuthFlow: 'USER_SRP_AUTH',
              AuthParameters: parameters,
            }),
          )
        : await cognito.send(
            new InitiateAuthCommand({
              ClientId: PUBLIC,
              AuthFlow: 'USER_SRP_AUTH',
              AuthParameters: parameters,
            }),
          );
      assert.equal(started.ChallengeName, 'PASSWORD_VERIFIER');
      const challenge = started.ChallengeParameters ?? {};
      assert.equal(challenge.USER_ID_FOR_SRP, 'carol');
      const responses = await passwordClaim(helper, challenge, DEMO_PASSWORD);
      const answered = admin
        ? await cognito.send(
            new AdminRespondToAuthChallengeCommand({
              UserPoolId: emulator.poolId,
              ClientId: PUBLIC,
              ChallengeName: 'PASSWORD_VERIFIER',
              ChallengeResponses: responses,
            }),
          )
        : await cognito.send(
            new RespondToAuthChallengeCommand({
              ClientId: PUBLIC,
              ChallengeName: 'PASSWORD_VERIFIER',
              ChallengeResponses: responses,
            }),
          );
      assert.equal(
        decodeJwt(answered.AuthenticationResult?.AccessToken ?? '').payload.username,
        'carol',
      );
    }
  });

  it('PASSWORD_VERIFIER with the wrong password, or replayed, is NotAuthorizedException', async () => {
    const helper = newSrpHelper(emulator.poolId.split('_')[1] ?? '');
    const A = await largeA(helper);
    const started = await cognito.send(
      new InitiateAuthCommand({
        ClientId: PUBLIC,
        AuthFlow: 'USER_SRP_AUTH',
        AuthParameters: { USERNAME: 'carol', SRP_A: A.toString(16) },
      }),
    );
    const responses = await passwordClaim(
      helper,
      started.ChallengeParameters ?? {},
      'Wrong-pass1!',
    );
    const answer = () =>
      cognito.send(
        new RespondToAuthChallengeCommand({
          ClientId: PUBLIC,
          ChallengeName: 'PASSWORD_VERIFIER',
          ChallengeResponses: responses,
        }),
      );
    const wrong = await failure(answer());
    assert.deepEqual(
      [wrong.name, wrong.message],
      ['NotAuthorizedException', 'Incorrect username or password.'],
    );
    assert.equal((await failure(answer())).name, 'NotAuthorizedException');
  });

  it('NEW_PASSWORD_REQUIRED: a temporary password leads to the challenge; RespondToAuthChallenge sets the new one', async () => {
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: emulator.poolId,
        Username: 'lee',
        TemporaryPassword: 'Temp-Passw0rd!',
        MessageAction: 'SUPPRESS',
      }),
    );
    const started = await cognito.send(
      new InitiateAuthCommand({
        ClientId: PUBLIC,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'lee', PASSWORD: 'Temp-Passw0rd!' },
      }),
    );
    assert.equal(started.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    assert.ok(started.Session);
    assert.equal(started.AuthenticationResult, undefined);
    const weak = await failure(
      cognito.send(
        new RespondToAuthChallengeCommand({
          ClientId: PUBLIC,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: started.Session,
          ChallengeResponses: { USERNAME: 'lee', NEW_PASSWORD: 'weak' },
        }),
      ),
    );
    assert.equal(weak.name, 'InvalidPasswordException');
    const again = await cognito.send(
      new InitiateAuthCommand({
        ClientId: PUBLIC,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'lee', PASSWORD: 'Temp-Passw0rd!' },
      }),
    );
    const done = await cognito.send(
      new RespondToAuthChallengeCommand({
        ClientId: PUBLIC,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: again.Session,
        ChallengeResponses: { USERNAME: 'lee', NEW_PASSWORD: 'Brand-New-Passw0rd!' },
      }),
    );
    assert.ok(done.AuthenticationResult?.AccessToken);
    await passwordSignIn('lee', 'Brand-New-Passw0rd!');
    const reused = await failure(
      cognito.send(
        new RespondToAuthChallengeCommand({
          ClientId: PUBLIC,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: again.Session,
          ChallengeResponses: { USERNAME: 'lee', NEW_PASSWORD: 'Other-Passw0rd!' },
        }),
      ),
    );
    assert.equal(reused.name, 'NotAuthorizedException', 'a session answers once');
  });
});

describe('JSON API: tokens and sessions', () => {
  it('REFRESH_TOKEN_AUTH (InitiateAuth and AdminInitiateAuth) gives new tokens without a refresh token; the same refresh token works at /oauth2/token', async () => {
    const tokens = await passwordSignIn('bob');
    const refreshed = await cognito.send(
      new InitiateAuthCommand({
        ClientId: PUBLIC,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken },
      }),
    );
    assert.ok(refreshed.AuthenticationResult?.AccessToken);
    assert.equal(refreshed.AuthenticationResult.RefreshToken, undefined);
    const before = decodeJwt(tokens.AccessToken).payload;
    const after = decodeJwt(refreshed.AuthenticationResult.AccessToken).payload;
    assert.equal(after.origin_jti, before.origin_jti);
    const adminRefreshed = await cognito.send(
      new AdminInitiateAuthCommand({
        UserPoolId: emulator.poolId,
        ClientId: PUBLIC,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken },
      }),
    );
    assert.ok(adminRefreshed.AuthenticationResult?.IdToken);
    const oauth = await postForm(`${emulator.url}/oauth2/token`, {
      grant_type: 'refresh_token',
      refresh_token: tokens.RefreshToken,
      client_id: PUBLIC,
    });
    assert.equal(oauth.status, 200);
  });

  it('GetTokensFromRefreshToken rotates the refresh token for a rotating client; REFRESH_TOKEN_AUTH is refused there', async () => {
    const signedIn = await cognito.send(
      new InitiateAuthCommand({
        ClientId: ROTATING,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'carol', PASSWORD: DEMO_PASSWORD },
      }),
    );
    const first = signedIn.AuthenticationResult?.RefreshToken ?? '';
    const rotated = await cognito.send(
      new GetTokensFromRefreshTokenCommand({ ClientId: ROTATING, RefreshToken: first }),
    );
    const second = rotated.AuthenticationResult?.RefreshToken;
    assert.ok(second && second !== first, 'a new refresh token');
    const old = await failure(
      cognito.send(
        new GetTokensFromRefreshTokenCommand({ ClientId: ROTATING, RefreshToken: first }),
      ),
    );
    assert.equal(old.name, 'NotAuthorizedException', 'the rotated-out token is dead (grace 0)');
    const viaInitiate = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: ROTATING,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: second },
        }),
      ),
    );
    assert.equal(viaInitiate.name, 'NotAuthorizedException');
    const plain = await passwordSignIn('carol');
    const notRotated = await cognito.send(
      new GetTokensFromRefreshTokenCommand({ ClientId: PUBLIC, RefreshToken: plain.RefreshToken }),
    );
    assert.equal(notRotated.AuthenticationResult?.RefreshToken, undefined);
  });

  it("a disabled user's refresh tokens are refused: REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken say so, /oauth2/token is invalid_grant", async () => {
    emulator.addUser({ username: 'dormant', password: DEMO_PASSWORD });
    const api = await passwordSignIn('dormant');
    const hosted = await signIn(emulator, { username: 'dormant' });
    emulator.addUser({ username: 'dormant', password: DEMO_PASSWORD, enabled: false });

    const viaInitiate = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: PUBLIC,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: api.RefreshToken },
        }),
      ),
    );
    assert.deepEqual(
      [viaInitiate.name, viaInitiate.message],
      ['NotAuthorizedException', 'User is disabled.'],
    );
    const viaGetTokens = await failure(
      cognito.send(
        new GetTokensFromRefreshTokenCommand({ ClientId: PUBLIC, RefreshToken: api.RefreshToken }),
      ),
    );
    assert.deepEqual(
      [viaGetTokens.name, viaGetTokens.message],
      ['NotAuthorizedException', 'User is disabled.'],
    );
    const apiToken = await postForm(`${emulator.url}/oauth2/token`, {
      grant_type: 'refresh_token',
      refresh_token: api.RefreshToken,
      client_id: PUBLIC,
    });
    assert.equal(apiToken.status, 400);
    assert.deepEqual(await apiToken.json(), { error: 'invalid_grant' });
    const hostedToken = await postForm(
      `${emulator.url}/oauth2/token`,
      { grant_type: 'refresh_token', refresh_token: hosted.refresh_token },
      { authorization: basic() },
    );
    assert.equal(hostedToken.status, 400);
    assert.deepEqual(await hostedToken.json(), { error: 'invalid_grant' });
  });

  it('GetUser answers for a live access token and refuses a token without the admin scope', async () => {
    const tokens = await passwordSignIn('alice');
    const me = await cognito.send(new GetUserCommand({ AccessToken: tokens.AccessToken }));
    assert.equal(me.Username, 'alice');
    assert.equal(me.UserAttributes?.find((a) => a.Name === 'email')?.Value, 'alice@example.com');
    const hosted = await signIn(emulator, { params: { scope: 'openid email' } });
    const narrow = await failure(
      cognito.send(new GetUserCommand({ AccessToken: hosted.access_token })),
    );
    assert.deepEqual(
      [narrow.name, narrow.message],
      ['NotAuthorizedException', 'Access Token does not have required scopes'],
    );
    const forged = await emulator.mintToken({ use: 'access', key: 'unpublished' });
    assert.equal(
      (await failure(cognito.send(new GetUserCommand({ AccessToken: forged })))).name,
      'NotAuthorizedException',
    );
  });

  it('GlobalSignOut kills the refresh tokens of every sign-in (API and hosted UI) and the access tokens it revoked', async () => {
    await createConfirmedUser('max');
    const api = await passwordSignIn('max');
    const hosted = await signIn(emulator, { username: 'max' });
    await cognito.send(new GlobalSignOutCommand({ AccessToken: api.AccessToken }));

    const getUser = await failure(
      cognito.send(new GetUserCommand({ AccessToken: api.AccessToken })),
    );
    assert.deepEqual(
      [getUser.name, getUser.message],
      ['NotAuthorizedException', 'Access Token has been revoked'],
    );
    const apiRefresh = await failure(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: PUBLIC,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: api.RefreshToken },
        }),
      ),
    );
    assert.equal(apiRefresh.name, 'NotAuthorizedException');
    const hostedRefresh = await postForm(
      `${emulator.url}/oauth2/token`,
      { grant_type: 'refresh_token', refresh_token: hosted.refresh_token },
      { authorization: basic() },
    );
    assert.equal(hostedRefresh.status, 400);
    assert.deepEqual(await hostedRefresh.json(), { error: 'invalid_grant' });
    const userInfo = await fetch(`${emulator.url}/oauth2/userInfo`, {
      headers: { authorization: `Bearer ${hosted.access_token}` },
    });
    assert.equal(userInfo.status, 401);
    await passwordSignIn('max'); // a new sign-in works again
  });

  it('AdminUserGlobalSignOut does the same from a server', async () => {
    const tokens = await passwordSignIn('carol');
    await cognito.send(
      new AdminUserGlobalSignOutCommand({ UserPoolId: emulator.poolId, Username: 'carol' }),
    );
    assert.equal(
      (await failure(cognito.send(new GetUserCommand({ AccessToken: tokens.AccessToken })))).name,
      'NotAuthorizedException',
    );
  });

  it('RevokeToken ends one sign-in; an access token is UnsupportedTokenTypeException', async () => {
    const kept = await passwordSignIn('bob');
    const revoked = await passwordSignIn('bob');
    await cognito.send(new RevokeTokenCommand({ ClientId: PUBLIC, Token: revoked.RefreshToken }));
    assert.equal(
      (await failure(cognito.send(new GetUserCommand({ AccessToken: revoked.AccessToken })))).name,
      'NotAuthorizedException',
    );
    await cognito.send(new GetUserCommand({ AccessToken: kept.AccessToken }));
    const access = await failure(
      cognito.send(new RevokeTokenCommand({ ClientId: PUBLIC, Token: kept.AccessToken })),
    );
    assert.equal(access.name, 'UnsupportedTokenTypeException');
    const noSecret = await failure(
      cognito.send(new RevokeTokenCommand({ ClientId: CLIENT_ID, Token: kept.RefreshToken })),
    );
    assert.equal(noSecret.name, 'NotAuthorizedException');
  });
});

describe('JSON API: protocol', () => {
  const post = (headers: Record<string, string>, body = '{}') =>
    fetch(emulator.url, { method: 'POST', headers, body });

  it('every operation the issue lists is implemented', () => {
    for (const operation of [
      'AdminCreateUser',
      'AdminSetUserPassword',
      'AdminGetUser',
      'AdminDeleteUser',
      'ListUsers',
      'AdminAddUserToGroup',
      'AdminRemoveUserFromGroup',
      'CreateGroup',
      'ListGroups',
      'AdminListGroupsForUser',
      'SignUp',
      'ConfirmSignUp',
      'AdminConfirmSignUp',
      'InitiateAuth',
      'AdminInitiateAuth',
      'RespondToAuthChallenge',
      'GetUser',
      'GlobalSignOut',
      'AdminUserGlobalSignOut',
      'RevokeToken',
      'GetTokensFromRefreshToken',
    ]) {
      assert.ok(COGNITO_API_OPERATIONS.includes(operation), operation);
    }
  });

  it("no target header, an unknown operation or a body that is not JSON get Cognito's error shape", async () => {
    const expectShape = async (response: Response, type: string) => {
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
      assert.equal(response.headers.get('x-amzn-errortype'), type);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.__type, type);
      assert.equal(typeof body.message, 'string');
    };
    const json11 = { 'content-type': 'application/x-amz-json-1.1' };
    await expectShape(await post(json11), 'UnknownOperationException');
    await expectShape(
      await post({ ...json11, 'x-amz-target': 'AWSCognitoIdentityProviderService.DeleteUserPool' }),
      'UnknownOperationException',
    );
    await expectShape(
      await post({ ...json11, 'x-amz-target': 'AWSCognitoIdentityProviderService.toString' }),
      'UnknownOperationException',
    );
    await expectShape(
      await post(
        { ...json11, 'x-amz-target': 'AWSCognitoIdentityProviderService.SignUp' },
        '{not json',
      ),
      'SerializationException',
    );
    await expectShape(
      await post({ ...json11, 'x-amz-target': 'AWSCognitoIdentityProviderService.SignUp' }, '{}'),
      'InvalidParameterException',
    );
  });

  it('admin operations need a signed request (not verified); public ones are open to browsers (CORS), admin ones are not', async () => {
    const target = 'AWSCognitoIdentityProviderService.AdminGetUser';
    const unsigned = await post(
      { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      JSON.stringify({ UserPoolId: emulator.poolId, Username: 'alice' }),
    );
    assert.equal(unsigned.status, 403);
    assert.equal(
      ((await unsigned.json()) as { __type: string }).__type,
      'MissingAuthenticationTokenException',
    );
    assert.equal(unsigned.headers.get('access-control-allow-origin'), null);

    const preflight = await fetch(emulator.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-amz-target,authorization',
      },
    });
    assert.equal(preflight.status, 204);
    const allowed = preflight.headers.get('access-control-allow-headers') ?? '';
    assert.match(allowed, /x-amz-target/);
    assert.doesNotMatch(allowed, /authorization/, 'a page cannot sign an admin call cross-origin');

    const signUp = await post(
      {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
        origin: 'http://localhost:5173',
      },
      JSON.stringify({
        ClientId: PUBLIC,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'alice', PASSWORD: DEMO_PASSWORD },
      }),
    );
    assert.equal(signUp.status, 200);
    assert.equal(signUp.headers.get('access-control-allow-origin'), '*');
  });

  it('a forged Host header (DNS rebinding) is refused with 403 AccessDeniedException and creates nothing', async () => {
    const response = await rawRequest(emulator.url, {
      method: 'POST',
      headers: {
        host: `rebound.example:${emulator.port}`,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.AdminCreateUser',
        authorization: 'AWS4-HMAC-SHA256 Credential=x',
      },
      body: JSON.stringify({ UserPoolId: emulator.poolId, Username: 'rebinder' }),
    });
    assert.equal(response.status, 403);
    assert.equal((JSON.parse(response.body) as { __type: string }).__type, 'AccessDeniedException');
    assert.equal(
      emulator.users().some((user) => user.username === 'rebinder'),
      false,
    );
  });
});

// ---- SRP with amazon-cognito-identity-js's own helper (the math the library runs) ----------

interface BigIntegerLike {
  toString(radix: number): string;
}
interface SrpHelper {
  getLargeAValue(callback: (error: unknown, value: BigIntegerLike) => void): void;
  getPasswordAuthenticationKey(
    username: string,
    password: string,
    serverB: BigIntegerLike,
    salt: BigIntegerLike,
    callback: (error: unknown, key: Uint8Array) => void,
  ): void;
}
type SrpHelperConstructor = new (poolName: string) => SrpHelper;
type BigIntegerConstructor = new (value: string, radix: number) => BigIntegerLike;

// Exported by the package at run time but not in its type declarations.
const { AuthenticationHelper, DateHelper } = identityJs as unknown as {
  AuthenticationHelper: SrpHelperConstructor;
  DateHelper: new () => { getNowString(): string };
};

function newSrpHelper(poolName: string): SrpHelper {
  return new AuthenticationHelper(poolName);
}

function largeA(helper: SrpHelper): Promise<BigIntegerLike> {
  return new Promise((resolve, reject) => {
    helper.getLargeAValue((error, value) => {
      if (error) reject(error instanceof Error ? error : new Error('SRP helper failed'));
      else resolve(value);
    });
  });
}

/** The PASSWORD_VERIFIER answer exactly as CognitoUser.authenticateUserDefaultAuth builds it. */
async function passwordClaim(
  helper: SrpHelper,
  challenge: Record<string, string>,
  password: string,
): Promise<Record<string, string>> {
  const userId = challenge.USER_ID_FOR_SRP ?? '';
  // The helper's BigInteger class is the one its A value was built with.
  const BigInteger = (await largeA(helper)).constructor as BigIntegerConstructor;
  const key = await new Promise<Uint8Array>((resolve, reject) => {
    helper.getPasswordAuthenticationKey(
      userId,
      password,
      new BigInteger(challenge.SRP_B ?? '', 16),
      new BigInteger(challenge.SALT ?? '', 16),
      (error, value) => {
        if (error) reject(error instanceof Error ? error : new Error('SRP helper failed'));
        else resolve(value);
      },
    );
  });
  const timestamp = new DateHelper().getNowString();
  const signature = createHmac('sha256', key)
    .update(Buffer.from(emulator.poolId.split('_')[1] ?? '', 'utf8'))
    .update(Buffer.from(userId, 'utf8'))
    .update(Buffer.from(challenge.SECRET_BLOCK ?? '', 'base64'))
    .update(Buffer.from(timestamp, 'utf8'))
    .digest('base64');
  return {
    USERNAME: userId,
    PASSWORD_CLAIM_SECRET_BLOCK: challenge.SECRET_BLOCK ?? '',
    TIMESTAMP: timestamp,
    PASSWORD_CLAIM_SIGNATURE: signature,
  };
}
