/**
 * Automatic refresh inside a protected request, on every adapter's example app: a session whose
 * access token has expired (or is about to) is refreshed in the request itself, the handler runs
 * with the new identity and the response carries the new cookies. Time is moved on a clock the
 * emulator and the app share; nothing sleeps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { login, TestBrowser } from '../support/stack.js';
import {
  cognitoApi,
  sessionCookies,
  SESSION_SCOPES,
  setCookiesOf,
  SHORT_LIFETIMES,
  startClockedEmulator,
  type ClaimsBody,
  type ClockedEmulator,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from './harness.js';

const JSON_ACCEPT = { accept: 'application/json' } as const;

for (const adapter of ADAPTERS) {
  describe(
    `automatic refresh (${adapter.name})`,
    { skip: !adapter.inProcess && 'needs the shared clock' },
    () => {
      let pool: ClockedEmulator;
      const apps: ConformanceApp[] = [];

      before(async () => {
        pool = await startClockedEmulator();
      });
      after(async () => {
        await Promise.all(apps.map((app) => app.stop()));
        await pool.stop();
      });

      async function startApp(env: Record<string, string> = {}): Promise<ConformanceApp> {
        const app = await startConformanceApp(adapter, pool.emulator, {
          env: { AWS_COGNITO_SCOPES: SESSION_SCOPES, ...env },
          client: SHORT_LIFETIMES,
          extras: { now: pool.clock.now },
        });
        apps.push(app);
        return app;
      }

      async function signedIn(app: ConformanceApp, username = 'alice'): Promise<TestBrowser> {
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, username);
        assert.equal(callback.status, 302);
        return browser;
      }

      it('an expired access token with a valid refresh cookie: 200, new cookies on that response, the handler sees the new tokens', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        const before = sessionCookies(browser, app.url);
        const calls = pool.tokenRequests();

        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const response = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(response.status, 200);
        assert.equal(pool.tokenRequests() - calls, 1, 'one refresh at the token endpoint');
        const set = setCookiesOf(response);
        const access = set.get('cognito_access_token');
        assert.ok(access !== undefined && !access.deleted, 'a new access-token cookie');
        assert.notEqual(access.value, before.get('cognito_access_token'));
        assert.ok(set.has('cognito_id_token'), 'a new ID-token cookie');
        assert.equal(response.headers.get('cache-control'), 'no-store');
        const body = JSON.parse(response.body) as ClaimsBody;
        assert.equal(body.claims.username, 'alice');
        assert.equal(body.claims.iat, pool.clock.seconds, 'the handler got the token issued now');
        assert.ok(body.claims.exp > pool.clock.seconds);

        // The browser now holds the new session: the next request needs no refresh.
        const next = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(next.status, 200);
        assert.deepEqual(next.setCookies, []);
        assert.equal(pool.tokenRequests() - calls, 1);
      });

      it('the margin: a token expiring within AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS is refreshed, one with more time left is not', async () => {
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '120' });
        const browser = await signedIn(app);
        const calls = pool.tokenRequests();

        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds - 200); // 200 s left
        const early = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(early.status, 200);
        assert.deepEqual(early.setCookies, [], 'not yet');
        assert.equal(pool.tokenRequests(), calls);

        pool.clock.advance(100); // 100 s left, inside the margin
        const late = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(late.status, 200);
        assert.ok(setCookiesOf(late).has('cognito_access_token'), 'refreshed before it expired');
        assert.equal(pool.tokenRequests() - calls, 1);
        assert.equal((JSON.parse(late.body) as ClaimsBody).claims.iat, pool.clock.seconds);
      });

      it('a margin as long as the token’s lifetime is capped at half of it (no refresh on every request)', async () => {
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '300' });
        const browser = await signedIn(app);
        const calls = pool.tokenRequests();
        const fresh = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(fresh.status, 200);
        assert.deepEqual(fresh.setCookies, [], 'a token just issued is not refreshed');
        assert.equal(pool.tokenRequests(), calls);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds / 2 + 10);
        const half = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.ok(setCookiesOf(half).has('cognito_access_token'), 'past half its lifetime it is');
        assert.equal(pool.tokenRequests() - calls, 1);
      });

      it('AWS_COGNITO_AUTO_REFRESH=false: an expired access token is 401; POST /refresh still works', async () => {
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH: 'false' });
        const browser = await signedIn(app);
        const calls = pool.tokenRequests();
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const refused = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(refused.status, 401);
        assert.equal((JSON.parse(refused.body) as { error: string }).error, 'ERR_TOKEN_INVALID');
        assert.equal(pool.tokenRequests(), calls, 'no refresh was attempted');

        const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);
        assert.equal(pool.tokenRequests() - calls, 1);
        const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
      });

      it('POST /refresh works with automatic refresh on, too', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);
        assert.ok(setCookiesOf(refreshed).has('cognito_access_token'));
      });

      it('a revoked refresh token: 401 and the session cookies are cleared', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        // The user signs out of every device elsewhere (Cognito's GlobalSignOut).
        const signOut = await cognitoApi(pool.emulator, 'GlobalSignOut', {
          AccessToken: browser.cookie(app.url, 'cognito_access_token'),
        });
        assert.equal(signOut.status, 200, await signOut.clone().text());

        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const refused = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(refused.status, 401);
        assert.equal((JSON.parse(refused.body) as { error: string }).error, 'ERR_REFRESH_REJECTED');
        const set = setCookiesOf(refused);
        for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token']) {
          assert.equal(set.get(name)?.deleted, true, `${name} cleared`);
        }
        assert.equal(sessionCookies(browser, app.url).size, 0);
      });

      it('an expired refresh token: 401 and the session cookies are cleared', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        pool.clock.advance(SHORT_LIFETIMES.refreshTokenValiditySeconds + 1);
        const refused = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(refused.status, 401);
        assert.equal(setCookiesOf(refused).get('cognito_refresh_token')?.deleted, true);
        assert.equal(sessionCookies(browser, app.url).size, 0);
      });

      it('Cognito failing or unreachable: 502-504, the cookies kept, and the session works once Cognito is back', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        const held = sessionCookies(browser, app.url);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);

        pool.emulator.setFault('token', { status: 503, body: 'Service Unavailable' });
        const failing = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.ok([502, 503].includes(failing.status), `answered ${failing.status}`);
        assert.deepEqual(failing.setCookies, [], 'no cookie changed');

        pool.emulator.setFault('token', { hang: true });
        const started = Date.now();
        const hung = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(hung.status, 504);
        assert.ok(Date.now() - started < 5000, 'within the timeout');
        assert.deepEqual(hung.setCookies, []);
        assert.deepEqual(sessionCookies(browser, app.url), held);

        pool.emulator.clearFaults();
        const back = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(back.status, 200);
      });

      it('inside the margin with Cognito down, the still-valid token is served', async () => {
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '120' });
        const browser = await signedIn(app);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds - 60);
        pool.emulator.setFault('token', { status: 500, body: 'oops' });
        try {
          const served = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
          assert.equal(served.status, 200);
          assert.deepEqual(served.setCookies, []);
        } finally {
          pool.emulator.clearFaults();
        }
      });

      it('N concurrent requests with the same expired session: one refresh at the token endpoint, all N succeed', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const calls = pool.tokenRequests();
        const cookie = [...sessionCookies(browser, app.url)]
          .map(([n, v]) => `${n}=${v}`)
          .join('; ');
        const responses = await Promise.all(
          Array.from({ length: 8 }, () =>
            fetch(`${app.url}/claims`, { headers: { ...JSON_ACCEPT, cookie } }),
          ),
        );
        const bodies = await Promise.all(responses.map((r) => r.json() as Promise<ClaimsBody>));
        assert.deepEqual(
          responses.map((r) => r.status),
          Array.from({ length: 8 }, () => 200),
        );
        assert.equal(pool.tokenRequests() - calls, 1, 'one exchange shared by all eight');
        assert.equal(new Set(bodies.map((b) => b.claims.iat)).size, 1, 'all got the same tokens');
        for (const response of responses) {
          assert.ok(
            response.headers.getSetCookie().some((c) => c.startsWith('cognito_access_token=')),
          );
        }
      });

      it('a prefetch never refreshes (a speculative load must not spend the refresh token)', async () => {
        const app = await startApp();
        const browser = await signedIn(app);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const calls = pool.tokenRequests();
        const prefetch = await browser.request(`${app.url}/claims`, {
          headers: { ...JSON_ACCEPT, 'sec-purpose': 'prefetch' },
        });
        assert.equal(prefetch.status, 401);
        assert.equal(pool.tokenRequests(), calls);
        assert.deepEqual(prefetch.setCookies, []);
      });
    },
  );
}
