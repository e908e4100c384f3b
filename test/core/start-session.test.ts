// CognitoGuard.startSession(): tokens the app's server got from Cognito become a session exactly
// as a sign-in's do, and only tokens that verify for this guard's pool and client are accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  CognitoGuard,
  TokenVerifyError,
  type CognitoGuardOptions,
  type IncomingRequest,
} from '../../src/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';

function withCookies(setCookies: readonly string[]): IncomingRequest {
  const cookie = setCookies.map((value) => value.slice(0, value.indexOf(';'))).join('; ');
  return {
    method: 'GET',
    url: '/claims',
    header: (name) => (name === 'cookie' ? cookie : undefined),
  };
}

describe('CognitoGuard.startSession', () => {
  let emulator: EmulatorHandle;
  let options: CognitoGuardOptions;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    const [client] = emulator.clients();
    assert.ok(client?.clientSecret !== undefined);
    options = {
      region: emulator.region,
      userPoolId: emulator.poolId,
      domain: emulator.domain,
      issuer: emulator.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUrl: 'http://localhost:3000/postlogin',
      logoutUrl: 'http://localhost:3000/postlogout',
      secretKey: 'start-session-secret-start-session-secret',
      refreshFlowEnabled: true,
      logger: { warn: () => undefined },
    };
  });
  after(async () => {
    await emulator.stop();
  });

  it('keeps verified tokens as the sign-in cookies, which protect() then accepts', async () => {
    const guard = new CognitoGuard(options);
    const tokens = emulator.issueTokens({ username: 'alice' });
    const { identity, setCookies } = await guard.startSession(tokens);
    assert.equal(identity.claims.username, 'alice');
    assert.deepEqual(
      setCookies.map((value) => value.slice(0, value.indexOf('='))),
      ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'],
    );
    // The refresh token is sealed, never stored as is.
    assert.ok(!setCookies.some((value) => value.includes(tokens.refreshToken)));
    const result = await guard.protect(withCookies(setCookies), { groups: ['admin'] });
    assert.equal(result.action, 'continue');
  });

  it('refuses tokens that do not verify: another client, a forged signature, mismatched users', async () => {
    const guard = new CognitoGuard(options);
    emulator.addClient({ clientId: 'other', callbackUrls: [], allowedScopes: ['openid'] });
    const foreign = emulator.issueTokens({ username: 'alice', clientId: 'other' });
    await assert.rejects(guard.startSession(foreign), TokenVerifyError);
    const forged = await emulator.mintToken({ use: 'access', key: 'unpublished' });
    await assert.rejects(guard.startSession({ accessToken: forged }), TokenVerifyError);
    const alice = emulator.issueTokens({ username: 'alice' });
    const bob = emulator.issueTokens({ username: 'bob' });
    await assert.rejects(
      guard.startSession({ accessToken: alice.accessToken, idToken: bob.idToken }),
      TokenVerifyError,
    );
  });
});
