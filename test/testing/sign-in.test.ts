/**
 * `startTestPool` and `signIn` (cognito-guard/testing) against real apps on loopback: every
 * adapter's example app, an app with its own route names, and the failures a user must be able to
 * read (wrong password, wrong login path, a callback the app refuses).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { fromEnv } from '../../src/index.js';
import { cognitoGuard } from '../../src/express/index.js';
import {
  CookieJar,
  DEMO_PASSWORD,
  SignInError,
  signIn,
  startTestPool,
  type TestPool,
} from '../../src/testing/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { ADAPTERS, type AppUnderTest } from '../support/adapters.js';
import { freePort, serveBuilt, type RunningServer } from '../support/http.js';

const QUIET = { logger: { warn: () => undefined } };

/** The example Express app on a free port, configured from the pool's environment. */
function exampleApp(
  pool: TestPool,
  env: Readonly<Record<string, string>> = {},
): Promise<RunningServer> {
  return serveBuilt((url) =>
    createExampleApp({ ...fromEnv({ ...pool.envFor(url), ...env }), ...QUIET }),
  );
}

describe('startTestPool', { timeout: 60_000 }, () => {
  it('answers at once on a free port, with an environment fromEnv accepts', async () => {
    const pool = await startTestPool();
    try {
      // No start-up window: the very first request is served.
      const discovery = await fetch(pool.emulator.discoveryUrl);
      assert.equal(discovery.status, 200);
      assert.notEqual(pool.emulator.port, 9229);
      const options = fromEnv(pool.env);
      assert.equal(options.domain, pool.emulator.domain);
      assert.equal(options.issuer, pool.emulator.issuer);
      assert.equal(options.clientId, pool.clientId);
      assert.equal(options.redirectUrl, 'http://localhost:3000/postlogin');
      assert.deepEqual(Object.keys(pool.env).sort(), [
        'AWS_COGNITO_DOMAIN',
        'AWS_COGNITO_ISSUER',
        'AWS_COGNITO_LOGOUT_URL',
        'AWS_COGNITO_REDIRECT_URL',
        'AWS_COGNITO_REFRESH_FLOW_ENABLED',
        'AWS_COGNITO_SCOPES',
        'AWS_COGNITO_USER_POOL_CLIENT_ID',
        'AWS_COGNITO_USER_POOL_CLIENT_SECRET',
        'AWS_COGNITO_USER_POOL_ID',
        'AWS_REGION',
        'SECRET_KEY',
      ]);
    } finally {
      await pool.stop();
    }
    await pool.stop(); // idempotent
    await assert.rejects(fetch(pool.emulator.discoveryUrl), 'stopped: nothing listens');
  });

  it('registers each app URL given to envFor, so apps on ports chosen at start-up can sign in', async () => {
    const pool = await startTestPool();
    const first = await exampleApp(pool);
    const second = await exampleApp(pool);
    try {
      const client = pool.emulator.clients().find((c) => c.clientId === pool.clientId);
      assert.ok(client !== undefined);
      assert.ok(client.callbackUrls.includes(`${first.url}/postlogin`));
      assert.ok(client.callbackUrls.includes(`${second.url}/postlogin`));
      for (const app of [first, second]) {
        const session = await signIn(app.url, { username: 'alice', password: DEMO_PASSWORD });
        assert.equal(session.callback.location, `${app.url}/claims`);
      }
    } finally {
      await first.stop();
      await second.stop();
      await pool.stop();
    }
  });

  it('signs in only the users it was given, and a public client has no secret in the env', async () => {
    const pool = await startTestPool({
      users: [{ username: 'ann', password: 'Ann-Passw0rd!', groups: ['auditor'] }],
      publicClient: true,
      env: { AWS_COGNITO_SCOPES: 'openid email' },
    });
    const app = await exampleApp(pool);
    try {
      assert.equal(pool.env['AWS_COGNITO_USER_POOL_CLIENT_SECRET'], undefined);
      assert.equal(pool.clientSecret, undefined);
      const session = await signIn(app.url, { username: 'ann', password: 'Ann-Passw0rd!' });
      const claims = (await (
        await fetch(`${app.url}/claims`, { headers: { cookie: session.cookie } })
      ).json()) as { claims: { 'cognito:groups': string[]; scope: string } };
      assert.deepEqual(claims.claims['cognito:groups'], ['auditor']);
      assert.equal(claims.claims.scope, 'openid email');
      await assert.rejects(
        signIn(app.url, { username: 'alice', password: DEMO_PASSWORD }),
        /Incorrect username or password/,
      );
    } finally {
      await app.stop();
      await pool.stop();
    }
  });
});

for (const adapter of ADAPTERS) {
  describe(`signIn (${adapter.name} example app)`, { timeout: 60_000 }, () => {
    let pool: TestPool;
    let app: AppUnderTest;

    before(async () => {
      pool = await startTestPool();
      const port = await freePort();
      app = await adapter.start(pool.envFor(`http://127.0.0.1:${port}`), port, QUIET);
    });
    after(async () => {
      await app.stop();
      await pool.stop();
    });

    it('returns a Cookie header the app accepts, and the callback answer', async () => {
      const anonymous = await fetch(`${app.url}/claims`);
      assert.equal(anonymous.status, 401);
      const session = await signIn(app.url, { username: 'alice', password: DEMO_PASSWORD });
      assert.equal(session.callback.status, 302);
      assert.equal(session.callback.location, `${app.url}/claims`);
      const claims = await fetch(`${app.url}/claims`, { headers: { cookie: session.cookie } });
      assert.equal(claims.status, 200);
      const body = (await claims.json()) as { claims: { username: string } };
      assert.equal(body.claims.username, 'alice');
      const admin = await fetch(`${app.url}/admin`, { headers: { cookie: session.cookie } });
      assert.equal(admin.status, 200);
    });

    it('honours returnTo', async () => {
      const session = await signIn(app.url, {
        username: 'bob',
        password: DEMO_PASSWORD,
        returnTo: '/edit',
      });
      assert.equal(session.callback.location, `${app.url}/edit`);
      const edit = await fetch(`${app.url}/edit`, { headers: { cookie: session.cookie } });
      assert.equal(edit.status, 200);
    });
  });
}

describe('signIn', { timeout: 60_000 }, () => {
  let pool: TestPool;
  let app: RunningServer;

  before(async () => {
    pool = await startTestPool();
    app = await exampleApp(pool);
  });
  after(async () => {
    await app.stop();
    await pool.stop();
  });

  it('works with supertest: .set("Cookie", session.cookie)', async () => {
    const session = await signIn(app.url, { username: 'carol', password: DEMO_PASSWORD });
    const response = await request(app.url).get('/whoami').set('Cookie', session.cookie);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { signedIn: true, username: 'carol' });
    await request(app.url).get('/admin').set('Cookie', session.cookie).expect(403);
  });

  it("keeps the session in a jar whose fetch refreshes and signs out through the app's routes", async () => {
    const session = await signIn(app.url, { username: 'alice', password: DEMO_PASSWORD });
    const before = session.jar.get(app.url, 'cognito_access_token');
    const refreshed = await session.jar.fetch(`${app.url}/refresh`, { method: 'POST' });
    // 303 to /claims, followed by the jar as a GET with the new cookies.
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.url, `${app.url}/claims`);
    assert.notEqual(session.jar.get(app.url, 'cognito_access_token'), before);
    const out = await session.jar.fetch(`${app.url}/logout`);
    assert.equal(out.status, 200);
    assert.equal(session.jar.get(app.url, 'cognito_access_token'), undefined);
    assert.equal((await session.jar.fetch(`${app.url}/claims`)).status, 401);
  });

  it('reuses the hosted-UI session of a jar, as a browser does', async () => {
    const jar = new CookieJar();
    await signIn(app.url, { username: 'bob', password: DEMO_PASSWORD, jar });
    jar.clear();
    // A cleared jar has no hosted-UI session: the password is asked, and checked, again.
    await assert.rejects(
      signIn(app.url, { username: 'bob', password: 'wrong', jar }),
      /Incorrect username or password/,
    );
    const again = await signIn(app.url, { username: 'bob', password: DEMO_PASSWORD, jar });
    const second = await signIn(app.url, { username: 'bob', password: 'not asked', jar });
    assert.equal(second.callback.status, 302);
    assert.notEqual(second.cookie, '');
    assert.equal(again.jar, second.jar);
  });

  it('fails with the hosted page’s message for a wrong password', async () => {
    const error = await signIn(app.url, { username: 'alice', password: 'nope' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SignInError);
    assert.match(error.message, /alice.*hosted page with 400: Incorrect username or password\./);
  });

  it('names the login path when the app has no such route', async () => {
    await assert.rejects(
      signIn(app.url, { username: 'alice', password: DEMO_PASSWORD, loginPath: '/signin' }),
      (error: unknown) =>
        error instanceof SignInError &&
        /login route \/signin answered 404.*is loginPath right/.test(error.message),
    );
    await assert.rejects(
      signIn(app.url, { username: 'alice', password: DEMO_PASSWORD, loginPath: '//evil' }),
      TypeError,
    );
  });

  it('sets a new password for a FORCE_CHANGE_PASSWORD user when given one, and says so when not', async () => {
    pool.emulator.addUser({
      username: 'newbie',
      password: 'Temp-Passw0rd!',
      status: 'FORCE_CHANGE_PASSWORD',
    });
    await assert.rejects(
      signIn(app.url, { username: 'newbie', password: 'Temp-Passw0rd!' }),
      /newbie must set a new password.*pass newPassword/,
    );
    const session = await signIn(app.url, {
      username: 'newbie',
      password: 'Temp-Passw0rd!',
      newPassword: 'Final-Passw0rd!',
    });
    assert.equal(session.callback.location, `${app.url}/claims`);
    assert.equal(pool.emulator.users().find((u) => u.username === 'newbie')?.status, 'CONFIRMED');
  });

  it('reports a callback the app refuses, with its answer', async () => {
    // An app whose issuer is wrong refuses every sign-in at its callback.
    const wrong = await exampleApp(pool, { AWS_COGNITO_ISSUER: `${pool.emulator.domain}/other` });
    try {
      const error = await signIn(wrong.url, { username: 'alice', password: DEMO_PASSWORD }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof SignInError);
      assert.equal(error.response?.status, 400);
      assert.match(error.message, /refused the sign-in at its callback \/postlogin with 400/);
    } finally {
      await wrong.stop();
    }
  });

  it("follows an app's own route names (login path, callback path)", async () => {
    const custom = await startTestPool({
      callbackPath: '/auth/callback',
      logoutPath: '/auth/bye',
    });
    const server = await serveBuilt((url) => {
      const auth = cognitoGuard({ ...fromEnv(custom.envFor(url)), ...QUIET });
      const site = express();
      site.get('/auth/start', auth.login());
      site.get('/auth/callback', auth.callback({ redirectTo: '/home' }));
      site.get('/home', auth.required(), (req, res) => {
        res.json({ user: req.cognito?.claims.username });
      });
      return site;
    });
    const { url } = server;
    try {
      const session = await signIn(url, {
        username: 'alice',
        password: DEMO_PASSWORD,
        loginPath: '/auth/start',
      });
      assert.equal(session.callback.location, `${url}/home`);
      const home = await fetch(`${url}/home`, { headers: { cookie: session.cookie } });
      assert.deepEqual(await home.json(), { user: 'alice' });
    } finally {
      await server.stop();
      await custom.stop();
    }
  });
});
