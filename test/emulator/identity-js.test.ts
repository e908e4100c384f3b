// amazon-cognito-identity-js (what Amplify v5 and many front ends use), unmodified, against the
// emulator: real SRP sign-in (USER_SRP_AUTH → PASSWORD_VERIFIER), sign-up and confirmation, the
// new-password challenge, attributes, refresh and global sign-out. Node 20's global fetch is all
// it needs (its isomorphic-unfetch uses the global when there is one).
/* eslint-disable @typescript-eslint/no-deprecated -- amazon-cognito-identity-js is the client
   under test: deprecated in favour of Amplify v6, it is still what many apps run. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} from 'amazon-cognito-identity-js';
import type { CognitoUserSession } from 'amazon-cognito-identity-js';

import { DEMO_PASSWORD, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';

const SPA = 'spa-client';
let emulator: EmulatorHandle;
let pool: CognitoUserPool;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  // A browser app's client: no secret (amazon-cognito-identity-js cannot send one).
  emulator.addClient({ clientId: SPA, callbackUrls: [], allowedScopes: ['openid'] });
  pool = new CognitoUserPool({
    UserPoolId: emulator.poolId,
    ClientId: SPA,
    endpoint: emulator.url,
  });
});
after(async () => {
  await emulator.stop();
});

/** `authenticateUser` as a promise; resolves with the session or with the challenge it stopped at. */
function authenticate(
  user: CognitoUser,
  username: string,
  password: string,
): Promise<CognitoUserSession | { newPasswordRequired: true }> {
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired: () => {
        resolve({ newPasswordRequired: true });
      },
    });
  });
}

function sessionOf(result: CognitoUserSession | { newPasswordRequired: true }): CognitoUserSession {
  assert.ok(!('newPasswordRequired' in result), 'signed in without a challenge');
  return result;
}

describe('amazon-cognito-identity-js against the emulator', () => {
  it('signs in with SRP (the library default) and gets Cognito-shaped tokens', async () => {
    const user = new CognitoUser({ Username: 'alice', Pool: pool });
    const session = sessionOf(await authenticate(user, 'alice', DEMO_PASSWORD));
    assert.ok(session.isValid());
    assert.equal(session.getAccessToken().payload.username, 'alice');
    assert.deepEqual(session.getAccessToken().payload['cognito:groups'], ['admin']);
    assert.equal(session.getIdToken().payload.email, 'alice@example.com');
    assert.equal(session.getIdToken().payload.iss, emulator.issuer);
  });

  it('a wrong password fails with NotAuthorizedException, as an unknown user does', async () => {
    const wrong = await authenticate(
      new CognitoUser({ Username: 'bob', Pool: pool }),
      'bob',
      'Not-the-passw0rd',
    ).then(
      () => assert.fail('should not sign in'),
      (error: unknown) => error as Error & { code?: string },
    );
    assert.equal(wrong.code, 'NotAuthorizedException');
    assert.equal(wrong.message, 'Incorrect username or password.');
    const unknown = await authenticate(
      new CognitoUser({ Username: 'nobody', Pool: pool }),
      'nobody',
      DEMO_PASSWORD,
    ).then(
      () => assert.fail('should not sign in'),
      (error: unknown) => error as Error & { code?: string },
    );
    assert.equal(unknown.code, 'NotAuthorizedException');
  });

  it('signUp → confirmRegistration with the code the pool sent → SRP sign-in → attributes, refresh, global sign-out', async () => {
    const signedUp = await new Promise<{ userSub: string; userConfirmed: boolean }>(
      (resolve, reject) => {
        pool.signUp(
          'nina',
          'Nina-Passw0rd!',
          [new CognitoUserAttribute({ Name: 'email', Value: 'nina@example.com' })],
          [],
          (error, result) => {
            if (error || !result) reject(error ?? new Error('no result'));
            else resolve(result);
          },
        );
      },
    );
    assert.equal(signedUp.userConfirmed, false);
    const user = new CognitoUser({ Username: 'nina', Pool: pool });
    const code = emulator.messages().findLast((m) => m.username === 'nina')?.code ?? '';
    await new Promise<void>((resolve, reject) => {
      user.confirmRegistration(code, false, (error) => {
        if (error) reject(error as Error);
        else resolve();
      });
    });

    const session = sessionOf(await authenticate(user, 'nina', 'Nina-Passw0rd!'));
    assert.equal(session.getIdToken().payload.sub, signedUp.userSub);

    const attributes = await new Promise<CognitoUserAttribute[]>((resolve, reject) => {
      user.getUserAttributes((error, result) => {
        if (error || !result) reject(error ?? new Error('no result'));
        else resolve(result);
      });
    });
    assert.equal(attributes.find((a) => a.getName() === 'email')?.getValue(), 'nina@example.com');
    assert.equal(attributes.find((a) => a.getName() === 'email_verified')?.getValue(), 'true');

    const refreshed = await new Promise<CognitoUserSession>((resolve, reject) => {
      user.refreshSession(
        session.getRefreshToken(),
        (error: unknown, result: CognitoUserSession) => {
          if (error) reject(error instanceof Error ? error : new Error('refresh failed'));
          else resolve(result);
        },
      );
    });
    assert.notEqual(
      refreshed.getAccessToken().getJwtToken(),
      session.getAccessToken().getJwtToken(),
    );
    assert.equal(
      refreshed.getAccessToken().payload.origin_jti,
      session.getAccessToken().payload.origin_jti,
    );

    await new Promise<void>((resolve, reject) => {
      user.globalSignOut({
        onSuccess: () => {
          resolve();
        },
        onFailure: reject,
      });
    });
    // The library clears its own copy; the emulator must have revoked the tokens too. (Its
    // refreshSession retries every error for ~6 s, so ask GetUser directly instead.)
    const getUser = await fetch(emulator.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.GetUser',
      },
      body: JSON.stringify({ AccessToken: refreshed.getAccessToken().getJwtToken() }),
    });
    assert.equal(getUser.status, 400);
    assert.deepEqual(await getUser.json(), {
      __type: 'NotAuthorizedException',
      message: 'Access Token has been revoked',
    });
  });

  it('an admin-created user completes the new-password challenge', async () => {
    emulator.addUser({
      username: 'omar',
      password: 'Temp-Passw0rd!',
      status: 'FORCE_CHANGE_PASSWORD',
      email: 'omar@example.com',
    });
    const user = new CognitoUser({ Username: 'omar', Pool: pool });
    const first = await authenticate(user, 'omar', 'Temp-Passw0rd!');
    assert.deepEqual(first, { newPasswordRequired: true });
    const session = await new Promise<CognitoUserSession>((resolve, reject) => {
      user.completeNewPasswordChallenge(
        'Omar-Own-Passw0rd!',
        {},
        { onSuccess: resolve, onFailure: reject },
      );
    });
    assert.equal(session.getAccessToken().payload.username, 'omar');
    const again = sessionOf(
      await authenticate(
        new CognitoUser({ Username: 'omar', Pool: pool }),
        'omar',
        'Omar-Own-Passw0rd!',
      ),
    );
    assert.ok(again.isValid());
  });
});
