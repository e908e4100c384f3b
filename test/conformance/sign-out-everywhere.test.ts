/**
 * Sign-out everywhere (`POST /logout/everywhere`) on every adapter's example app: Cognito's
 * GlobalSignOut for the user, and every other browser's session ends — with a session store at
 * once, with cookie sessions at their next refresh (their access token stays valid until it
 * expires: that is what stateless cookies mean).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { login } from '../support/sign-in.js';
import { findSystemComponent, startRedis, type RedisServer } from '../support/system.js';
import {
  sessionCookies,
  SESSION_SCOPES,
  setCookiesOf,
  sessionTimeFor,
  trackRedisStores,
  type SessionTime,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';

const redisSkip = findSystemComponent('redis-server').skip;

async function claimsStatus(browser: TestBrowser, app: ConformanceApp): Promise<number> {
  return (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status;
}

async function signedIn(app: ConformanceApp, username: string): Promise<TestBrowser> {
  const browser = new TestBrowser();
  assert.equal((await login(browser, app.url, username)).status, 302);
  return browser;
}

async function signOutEverywhere(browser: TestBrowser, app: ConformanceApp) {
  const response = await browser.request(`${app.url}/logout/everywhere`, {
    method: 'POST',
    headers: { origin: app.url, 'sec-fetch-site': 'same-origin' },
  });
  return response;
}

describe('sign-out everywhere', () => {
  let redis: RedisServer | undefined;
  const stores = trackRedisStores();
  before(async () => {
    if (redisSkip === false) redis = await startRedis();
  });
  after(async () => {
    await stores.closeAll();
    await redis?.close();
  });

  for (const adapter of ADAPTERS) {
    describe(`POST /logout/everywhere (${adapter.name})`, () => {
      let time: SessionTime;
      const apps: ConformanceApp[] = [];

      before(async () => {
        time = await sessionTimeFor(adapter);
      });
      after(async () => {
        await Promise.all(apps.map((app) => app.stop()));
        await time.pool.stop();
      });

      async function startApp(env: Record<string, string> = {}): Promise<ConformanceApp> {
        const app = await startConformanceApp(adapter, time.pool.emulator, {
          env: { AWS_COGNITO_SCOPES: SESSION_SCOPES, ...env },
          client: time.lifetimes,
          extras: time.extras,
        });
        apps.push(app);
        return app;
      }

      it('cookie sessions: this browser is signed out now, another browser of the user at its next refresh', async () => {
        const app = await startApp();
        const here = await signedIn(app, 'alice');
        const elsewhere = await signedIn(app, 'alice');
        const bob = await signedIn(app, 'bob');

        const response = await signOutEverywhere(here, app);
        assert.equal(response.status, 200, response.body);
        assert.match(response.body, /\/logout\?client_id=/, 'continues to Cognito’s logout');
        assert.equal(setCookiesOf(response).get('cognito_refresh_token')?.deleted, true);
        assert.equal(sessionCookies(here, app.url).size, 0);

        // Stateless cookies: the other browser's access token is valid until it expires (on
        // the real clock a 2-second token may already be inside its refresh margin: not asked)…
        if (time.shared) assert.equal(await claimsStatus(elsewhere, app), 200);
        // …and its refresh is refused by Cognito: signed out, cookies cleared.
        await time.expireAccessTokens();
        const ended = await elsewhere.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(ended.status, 401);
        assert.equal((JSON.parse(ended.body) as { error: string }).error, 'ERR_REFRESH_REJECTED');
        assert.equal(sessionCookies(elsewhere, app.url).size, 0);

        // Another user is not affected.
        assert.equal(await claimsStatus(bob, app), 200);
      });

      it('with an expired access token, the session is refreshed first, then signed out everywhere', async () => {
        const app = await startApp();
        const here = await signedIn(app, 'carol');
        const elsewhere = await signedIn(app, 'carol');
        await time.expireAccessTokens();
        const response = await signOutEverywhere(here, app);
        assert.equal(response.status, 200, response.body);
        assert.equal(await claimsStatus(elsewhere, app), 401, 'its refresh is refused');
      });

      it('without the aws.cognito.signin.user.admin scope: 403, and nobody is signed out', async () => {
        const app = await startApp({ AWS_COGNITO_SCOPES: 'openid email profile' });
        const here = await signedIn(app, 'alice');
        const elsewhere = await signedIn(app, 'alice');
        const response = await signOutEverywhere(here, app);
        assert.equal(response.status, 403);
        assert.equal(await claimsStatus(here, app), 200);
        await time.expireAccessTokens();
        assert.equal(await claimsStatus(elsewhere, app), 200, 'still refreshes');
      });

      it('a cross-site form cannot sign a user out everywhere', async () => {
        const app = await startApp();
        const here = await signedIn(app, 'alice');
        const elsewhere = await signedIn(app, 'alice');
        const forged = await here.request(`${app.url}/logout/everywhere`, {
          method: 'POST',
          headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        });
        assert.equal(forged.status, 403);
        await time.expireAccessTokens();
        assert.equal(await claimsStatus(elsewhere, app), 200);
        assert.equal(await claimsStatus(here, app), 200);
      });

      // A Worker has no TCP client for Redis (see session-store.test.ts), and Next.js reaches
      // Redis from its own process (test/next/next-app.test.ts): apps in this process only.
      if (adapter.inProcess) {
        it(
          'sessions in Redis: every other browser of the user is signed out at once',
          { skip: redisSkip },
          async () => {
            await redis!.command(['FLUSHALL']);
            const app = await startApp({ AWS_COGNITO_SESSION_STORE: `${redis!.url}/0` });
            const here = await signedIn(app, 'alice');
            const elsewhere = await signedIn(app, 'alice');
            const third = await signedIn(app, 'alice');
            const bob = await signedIn(app, 'bob');
            const response = await signOutEverywhere(here, app);
            assert.equal(response.status, 200, response.body);
            assert.equal(setCookiesOf(response).get('cognito_session')?.deleted, true);
            // No clock moved: the other sessions end now, not at their next refresh.
            assert.equal(await claimsStatus(elsewhere, app), 401);
            assert.equal(await claimsStatus(third, app), 401);
            assert.equal(await claimsStatus(bob, app), 200);
            const keys = (await redis!.command(['KEYS', '*:session:*'])) as string[];
            assert.equal(keys.length, 1, 'only bob’s session is left');
          },
        );
      }
    });
  }
});
