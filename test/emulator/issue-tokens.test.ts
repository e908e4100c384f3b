// issueTokens(): the tokens of a sign-in without the hosted page. They must be what the code grant
// returns (same claim names and order, verifiable with the JWKS) and belong to a live sign-in whose
// refresh token refreshes and can be revoked; users who could not sign in get none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { CLIENT_ID, basic, decodeJwt, postForm, signIn } from './helpers.js';

describe('emulator issueTokens()', () => {
  let emulator: EmulatorHandle;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(async () => {
    await emulator.stop();
  });

  it('issues what a hosted sign-in issues: same claims, in the same order, verifiable', async () => {
    const issued = emulator.issueTokens({ username: 'alice', clientId: CLIENT_ID });
    const real = await signIn(emulator, { username: 'alice' });
    const keys = createRemoteJWKSet(new URL(emulator.jwksUri));
    await jwtVerify(issued.accessToken, keys, { issuer: emulator.issuer });
    assert.ok(issued.idToken !== undefined);
    await jwtVerify(issued.idToken, keys, { issuer: emulator.issuer, audience: CLIENT_ID });
    assert.deepEqual(
      Object.keys(decodeJwt(issued.accessToken).payload),
      Object.keys(decodeJwt(real.access_token).payload),
    );
    assert.deepEqual(
      Object.keys(decodeJwt(issued.idToken).payload).filter((name) => name !== 'nonce'),
      Object.keys(decodeJwt(real.id_token ?? '').payload).filter((name) => name !== 'nonce'),
    );
    assert.deepEqual(decodeJwt(issued.accessToken).payload['cognito:groups'], ['admin']);
    assert.equal(issued.expiresIn, real.expires_in);
  });

  it('gives a refresh token that refreshes until it is revoked', async () => {
    const { refreshToken } = emulator.issueTokens({ username: 'bob', scopes: ['openid'] });
    const refresh = () =>
      postForm(
        `${emulator.url}/oauth2/token`,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        { authorization: basic() },
      );
    const first = await refresh();
    assert.equal(first.status, 200);
    const body = (await first.json()) as { access_token: string };
    assert.equal(decodeJwt(body.access_token).payload['scope'], 'openid');
    const revoked = await postForm(
      `${emulator.url}/oauth2/revoke`,
      { token: refreshToken },
      { authorization: basic() },
    );
    assert.equal(revoked.status, 200);
    assert.equal((await refresh()).status, 400);
  });

  it('refuses users who could not sign in, unknown clients and scopes the client does not allow', () => {
    emulator.addUser({ username: 'off', password: 'Off-Passw0rd!', enabled: false });
    emulator.addUser({ username: 'new', password: 'New-Passw0rd!', status: 'UNCONFIRMED' });
    assert.throws(() => emulator.issueTokens({ username: 'nobody' }), /no user "nobody"/);
    assert.throws(() => emulator.issueTokens({ username: 'off' }), /disabled/);
    assert.throws(() => emulator.issueTokens({ username: 'new' }), /UNCONFIRMED/);
    assert.throws(
      () => emulator.issueTokens({ username: 'alice', clientId: 'nope' }),
      /no app client "nope"/,
    );
    assert.throws(
      () => emulator.issueTokens({ username: 'alice', scopes: ['openid', 'api/write'] }),
      /does not allow api\/write/,
    );
  });
});
