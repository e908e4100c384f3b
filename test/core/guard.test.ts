import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoGuard, type IncomingRequest } from '../../src/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { CLIENT_ID, guardOptions, registerClient } from '../support/stack.js';

function requestWith(cookie: string): IncomingRequest {
  return {
    method: 'GET',
    url: '/claims',
    header: (name) => (name === 'cookie' ? cookie : undefined),
  };
}

describe('CognitoGuard.protectFromCache (the synchronous steady-state path)', () => {
  let emulator: EmulatorHandle;
  let guard: CognitoGuard;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
    registerClient(emulator, 'http://127.0.0.1:1');
    guard = new CognitoGuard(guardOptions(emulator, 'http://127.0.0.1:1'));
  });
  after(async () => {
    await emulator.stop();
  });

  it('answers only for tokens already verified, and applies the same checks', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'alice',
      clientId: CLIENT_ID,
    });
    const id = await emulator.mintToken({ use: 'id', username: 'alice', clientId: CLIENT_ID });
    const request = requestWith(`cognito_access_token=${access}; cognito_id_token=${id}`);

    assert.equal(guard.protectFromCache(request), undefined, 'nothing verified yet');
    const first = await guard.protect(request);
    assert.equal(first.ok, true);

    const cached = guard.protectFromCache(request, { groups: ['admin'] });
    assert.ok(cached?.ok === true && cached.identity !== undefined);
    assert.equal(cached.identity.claims.username, 'alice');
    assert.equal(cached.identity.userInfo?.['cognito:username'], 'alice');
    assert.deepEqual(cached.identity.groups, ['admin']);

    const refused = guard.protectFromCache(request, { groups: ['editor'] });
    assert.ok(refused?.ok === false);
    assert.equal(refused.response.status, 403);
  });

  it('refuses synchronously when no token is presented or cookies are duplicated', () => {
    const none = guard.protectFromCache(requestWith(''));
    assert.equal(none?.ok === false ? none.response.status : 0, 401);
    const duplicated = guard.protectFromCache(
      requestWith('cognito_access_token=a.b.c; cognito_access_token=d.e.f'),
    );
    assert.equal(duplicated?.ok === false ? duplicated.response.status : 0, 401);
  });

  it('a cached ID token of another user does not pair with a cached access token', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'alice',
      clientId: CLIENT_ID,
    });
    const otherId = await emulator.mintToken({ use: 'id', username: 'bob', clientId: CLIENT_ID });
    await guard.protect(requestWith(`cognito_access_token=${access}`));
    const bobAccess = await emulator.mintToken({
      use: 'access',
      username: 'bob',
      clientId: CLIENT_ID,
    });
    await guard.protect(
      requestWith(`cognito_access_token=${bobAccess}; cognito_id_token=${otherId}`),
    );
    const mixed = guard.protectFromCache(
      requestWith(`cognito_access_token=${access}; cognito_id_token=${otherId}`),
    );
    assert.equal(mixed?.ok === false ? mixed.response.status : 0, 401);
  });

  it('a forged token that copies the tail (signature end) of a cached token is not served from the cache', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'carol',
      clientId: CLIENT_ID,
    });
    await guard.protect(requestWith(`cognito_access_token=${access}`));
    const [header, payload, signature] = access.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, 'cognito:groups': ['admin'] }),
    ).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    const request = requestWith(`cognito_access_token=${forged}`);
    assert.equal(guard.protectFromCache(request), undefined, 'a miss, not a hit');
    const outcome = await guard.protect(request, { groups: ['admin'] });
    assert.ok(!outcome.ok);
    assert.equal(outcome.response.status, 401);
  });
});
