/**
 * `sessionCookies` (cognito-guard/testing): a session made without the login round trips must be
 * the one a sign-in makes — accepted by a real guard, refreshable, revocable at logout, stored in
 * the app's session store when it has one — and made with no socket at all when the emulator runs
 * in-process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CognitoGuard,
  MemorySessionStore,
  TokenVerifyError,
  fromEnv,
  type CognitoGuardOptions,
} from '../../src/index.js';
import { CognitoEmulator } from '../../src/emulator/index.js';
import { sessionCookies, startTestPool, type TestPool } from '../../src/testing/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { serveBuilt, type RunningServer } from '../support/http.js';
import { inProcessRequest } from '../support/requests.js';

const QUIET = { logger: { warn: () => undefined } };

describe('sessionCookies', { timeout: 60_000 }, () => {
  let pool: TestPool;
  let server: RunningServer;
  let appUrl: string;
  let options: CognitoGuardOptions;

  before(async () => {
    pool = await startTestPool();
    server = await serveBuilt((url) => {
      options = { ...fromEnv(pool.envFor(url)), ...QUIET };
      return createExampleApp(options);
    });
    appUrl = server.url;
  });
  after(async () => {
    await server.stop();
    await pool.stop();
  });

  it("gives the cookies the app's callback would set, which the running app accepts", async () => {
    const session = await sessionCookies(pool, options, 'alice');
    assert.deepEqual(
      session.cookies.map((cookie) => cookie.name),
      ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'],
    );
    for (const cookie of session.cookies) {
      assert.equal(cookie.domain, '127.0.0.1');
      assert.equal(cookie.path, '/');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.secure, false, 'plain-http loopback app: no Secure');
      assert.equal(cookie.sameSite, 'Lax');
    }
    const claims = await fetch(`${appUrl}/claims`, { headers: { cookie: session.cookie } });
    assert.equal(claims.status, 200);
    const body = (await claims.json()) as {
      claims: { username: string; client_id: string; scope: string };
      user_info: { email: string };
    };
    assert.equal(body.claims.username, 'alice');
    assert.equal(body.claims.client_id, pool.clientId);
    assert.equal(body.claims.scope, 'openid email profile');
    assert.equal(body.user_info.email, 'alice@example.com');
    const admin = await fetch(`${appUrl}/admin`, { headers: { cookie: session.cookie } });
    assert.equal(admin.status, 200);
  });

  it('carries the user’s groups: carol is refused /admin', async () => {
    const session = await sessionCookies(pool, options, 'carol');
    const admin = await fetch(`${appUrl}/admin`, { headers: { cookie: session.cookie } });
    assert.equal(admin.status, 403);
  });

  it('holds a live refresh token: POST /refresh works, and logout revokes it', async () => {
    const session = await sessionCookies(pool, options, 'bob');
    const sealed = session.jar.get(appUrl, 'cognito_refresh_token');
    assert.ok(sealed !== undefined && sealed.split('.').length === 5, 'an encrypted (JWE) cookie');
    const refreshed = await session.jar.fetch(`${appUrl}/refresh`, { method: 'POST' });
    assert.equal(refreshed.url, `${appUrl}/claims`);
    assert.equal(refreshed.status, 200);
    await session.jar.fetch(`${appUrl}/logout`);
    // The old refresh cookie, replayed after logout: its token was revoked at the emulator.
    const replay = await fetch(`${appUrl}/refresh`, {
      method: 'POST',
      headers: { cookie: `cognito_refresh_token=${sealed}` },
    });
    assert.equal(replay.status, 401);
  });

  it('adds a user given as an object, with its groups', async () => {
    const session = await sessionCookies(pool, options, {
      username: 'dave',
      password: 'Dave-Passw0rd!',
      groups: ['editor'],
    });
    const edit = await fetch(`${appUrl}/edit`, { headers: { cookie: session.cookie } });
    assert.equal(edit.status, 200);
    assert.deepEqual(await edit.json(), ['editor']);
  });

  it('refuses users who could not sign in, and a guard of another pool refuses the session', async () => {
    await assert.rejects(sessionCookies(pool, options, 'nobody'), /no user "nobody"/);
    pool.emulator.addUser({ username: 'off', password: 'Off-Passw0rd!', enabled: false });
    await assert.rejects(sessionCookies(pool, options, 'off'), /disabled/);
    const other = await startTestPool();
    try {
      // Tokens of another pool do not verify against this guard's issuer.
      await assert.rejects(sessionCookies(other, options, 'alice'), TokenVerifyError);
    } finally {
      await other.stop();
    }
  });

  it('stores the session in the app’s session store when it has one', async () => {
    const store = new MemorySessionStore();
    const withStore = { ...options, sessionStore: store };
    const guard = new CognitoGuard(withStore);
    const session = await sessionCookies(pool, guard, 'alice');
    assert.deepEqual(
      session.cookies.map((cookie) => cookie.name),
      ['cognito_session'],
    );
    const result = await guard.protect(inProcessRequest('/claims', { cookie: session.cookie }), {
      groups: ['admin'],
    });
    assert.equal(result.action, 'continue');
    // A guard without the store does not know the session.
    const cookieOnly = new CognitoGuard(options);
    const refused = await cookieOnly.protect(
      inProcessRequest('/claims', { cookie: session.cookie }),
    );
    assert.equal(refused.action, 'respond');
  });

  it('needs no socket: an in-process emulator, and a guard that reads its keys in-process', async () => {
    const origin = 'http://127.0.0.1:9'; // nothing listens there
    const emulator = await CognitoEmulator.create({ origin });
    const [client] = emulator.clients();
    assert.ok(client !== undefined);
    const inProcess: CognitoGuardOptions = {
      region: emulator.region,
      userPoolId: emulator.poolId,
      domain: emulator.domain,
      issuer: emulator.issuer,
      clientId: client.clientId,
      ...(client.clientSecret === undefined ? {} : { clientSecret: client.clientSecret }),
      redirectUrl: 'http://localhost:3000/postlogin',
      logoutUrl: 'http://localhost:3000/postlogout',
      secretKey: 'in-process-secret-in-process-secret-0123',
      ...QUIET,
    };
    const session = await sessionCookies(emulator, inProcess, 'bob');
    assert.equal(session.appUrl, 'http://localhost:3000');
    assert.equal(session.cookies[0]?.domain, 'localhost');
    // A real guard, reading the keys from the same emulator, accepts it.
    const guard = new CognitoGuard({
      ...inProcess,
      fetch: (input, init) => emulator.fetch(new Request(input, init)),
    });
    const result = await guard.protect(inProcessRequest('/claims', { cookie: session.cookie }), {
      groups: ['editor'],
    });
    assert.equal(result.action, 'continue');
    assert.equal(result.identity?.claims.username, 'bob');
    // Over the network, the same guard options cannot even fetch the keys (nothing listens).
    const networked = await new CognitoGuard(inProcess).protect(
      inProcessRequest('/claims', { cookie: session.cookie }),
    );
    assert.equal(networked.action, 'respond');
    assert.ok(networked.response.status >= 500);
  });

  it('needs appUrl when the redirect URL is a function', async () => {
    const dynamic = { ...options, redirectUrl: () => `${appUrl}/postlogin` };
    await assert.rejects(sessionCookies(pool, dynamic, 'alice'), /pass options\.appUrl/);
    const session = await sessionCookies(pool, dynamic, 'alice', { appUrl });
    // The guard cannot tell that a computed redirect URL is plain-http loopback, so the cookies
    // are Secure; browsers (and the jar) still send those to a loopback app.
    assert.ok(session.cookies.every((cookie) => cookie.secure));
    const claims = await fetch(`${appUrl}/claims`, { headers: { cookie: session.cookie } });
    assert.equal(claims.status, 200);
  });
});
