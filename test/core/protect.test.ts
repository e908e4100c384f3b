import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoGuard, ConfigurationError, type GuardResult } from '../../src/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { sessionCookies } from '../../src/testing/index.js';
import { CLIENT_ID, guardOptions, registerClient } from '../support/pool.js';
import { inProcessRequest } from '../support/requests.js';

/** The HTTP status a result stands for (200 when it continues to the handler). */
function statusOf(result: GuardResult): number {
  return result.action === 'respond' ? result.response.status : 200;
}

describe('CognitoGuard.protector (synchronous when the verified-token cache answers)', () => {
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
    const request = inProcessRequest('/claims', {
      cookie: `cognito_access_token=${access}; cognito_id_token=${id}`,
    });

    const admins = guard.protector({ groups: ['admin'] });
    const first = admins(request);
    assert.ok(first instanceof Promise, 'nothing verified yet: a promise');
    assert.equal(statusOf(await first), 200);

    const cached = admins(request);
    assert.ok(!(cached instanceof Promise), 'verified once: answered synchronously');
    assert.ok(cached.action === 'continue' && cached.identity !== undefined);
    assert.equal(cached.identity.claims.username, 'alice');
    assert.equal(cached.identity.userInfo?.['cognito:username'], 'alice');
    assert.deepEqual(cached.identity.groups, ['admin']);

    const refused = guard.protector({ groups: ['editor'] })(request);
    assert.ok(!(refused instanceof Promise));
    assert.equal(statusOf(refused), 403);
  });

  it('refuses synchronously when no token is presented or cookies are duplicated', () => {
    const protect = guard.protector();
    const none = protect(inProcessRequest('/claims', { cookie: '' }));
    assert.ok(!(none instanceof Promise));
    assert.equal(statusOf(none), 401);
    const duplicated = protect(
      inProcessRequest('/claims', {
        cookie: 'cognito_access_token=a.b.c; cognito_access_token=d.e.f',
      }),
    );
    assert.ok(!(duplicated instanceof Promise));
    assert.equal(statusOf(duplicated), 401);
  });

  it('a cached ID token of another user does not pair with a cached access token', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'alice',
      clientId: CLIENT_ID,
    });
    const otherId = await emulator.mintToken({ use: 'id', username: 'bob', clientId: CLIENT_ID });
    await guard.protect(inProcessRequest('/claims', { cookie: `cognito_access_token=${access}` }));
    const bobAccess = await emulator.mintToken({
      use: 'access',
      username: 'bob',
      clientId: CLIENT_ID,
    });
    await guard.protect(
      inProcessRequest('/claims', {
        cookie: `cognito_access_token=${bobAccess}; cognito_id_token=${otherId}`,
      }),
    );
    const mixed = guard.protector()(
      inProcessRequest('/claims', {
        cookie: `cognito_access_token=${access}; cognito_id_token=${otherId}`,
      }),
    );
    assert.ok(!(mixed instanceof Promise), 'both tokens were cached: answered synchronously');
    assert.equal(statusOf(mixed), 401);
  });

  it('a forged token that copies the tail (signature end) of a cached token is not served from the cache', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'carol',
      clientId: CLIENT_ID,
    });
    await guard.protect(inProcessRequest('/claims', { cookie: `cognito_access_token=${access}` }));
    const [header, payload, signature] = access.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, 'cognito:groups': ['admin'] }),
    ).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    const request = inProcessRequest('/claims', { cookie: `cognito_access_token=${forged}` });
    const outcome = guard.protector({ groups: ['admin'] })(request);
    assert.ok(outcome instanceof Promise, 'a miss, not a hit');
    assert.equal(statusOf(await outcome), 401);
  });

  it('a requirement with an unknown key (a typo such as `group`) is refused when the route is declared', () => {
    assert.throws(
      () => guard.protector({ group: ['admin'] } as never),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.includes('unknown route requirement key "group" (did you mean "groups"?)'),
    );
    assert.throws(() => guard.protector({}, { redirectToLogn: true } as never), ConfigurationError);
    assert.throws(
      () => guard.protector({ groups: ['admin'] }, { optional: true }),
      /optional route cannot require groups/,
    );
  });

  it('an optional route refuses scopes even beside an empty list of groups (they would never be checked)', () => {
    assert.throws(
      () => guard.protector({ groups: [], scopes: ['orders/read'] }, { optional: true }),
      /optional route cannot require groups or scopes/,
    );
    assert.throws(
      () => guard.protector({ scopes: ['orders/read'] }, { optional: true }),
      /optional route cannot require groups or scopes/,
    );
    assert.doesNotThrow(() => guard.protector({ groups: [], scopes: [] }, { optional: true }));
  });

  it('authorize() refuses a misspelt requirement instead of letting every signed-in user through', async () => {
    const access = await emulator.mintToken({
      use: 'access',
      username: 'carol',
      clientId: CLIENT_ID,
    });
    const identity = await guard.authenticate(
      inProcessRequest('/claims', { cookie: `cognito_access_token=${access}` }),
    );
    assert.throws(() => {
      guard.authorize(identity, { group: ['admin'] } as never);
    }, ConfigurationError);
    assert.throws(() => {
      guard.authorize(identity, { groups: ['admin'] });
    }, /group membership/);
    assert.doesNotThrow(() => {
      guard.authorize(identity, {});
    });
  });

  it('automatic refresh when the access-token cookie is gone but the refresh token is there (its cookie outlives the access cookie)', async () => {
    const session = await sessionCookies(emulator, guard, 'alice', {
      appUrl: 'http://127.0.0.1:1',
    });
    const refreshOnly = session.cookie
      .split('; ')
      .filter((pair) => pair.startsWith('cognito_refresh_token='))
      .join('; ');
    assert.match(refreshOnly, /^cognito_refresh_token=/);
    const result = await guard.protector({ groups: ['admin'] })(
      inProcessRequest('/claims', { cookie: refreshOnly }),
    );
    assert.ok(result.action === 'continue', 'signed in, not refused');
    assert.equal(result.identity?.claims.username, 'alice');
    assert.ok(result.setCookies.some((cookie) => cookie.startsWith('cognito_access_token=ey')));
  });

  it('verifiedTokenCacheSize 0: a real guard remembers nothing and verifies every request', async () => {
    const uncached = new CognitoGuard(
      guardOptions(emulator, 'http://127.0.0.1:1', { verifiedTokenCacheSize: 0 }),
    );
    const access = await emulator.mintToken({
      use: 'access',
      username: 'bob',
      clientId: CLIENT_ID,
    });
    const protect = uncached.protector();
    const request = inProcessRequest('/claims', { cookie: `cognito_access_token=${access}` });
    for (let round = 0; round < 3; round += 1) {
      const result = protect(request);
      assert.ok(
        result instanceof Promise,
        `round ${round}: verified again, not served from a cache`,
      );
      assert.equal(statusOf(await result), 200);
    }
    assert.equal(uncached.verifier.verifiedCacheSize, 0);
  });
});
