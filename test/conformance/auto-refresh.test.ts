/**
 * Automatic refresh inside a protected request, on every adapter's example app: a session whose
 * access token has expired (or is about to) is refreshed in the request itself, the handler runs
 * with the new identity and the response carries the new cookies.
 *
 * Apps in this process share a clock with the emulator, which is moved (nothing sleeps). An app
 * in another process (the Worker in workerd, Next.js) runs on the real clock with 2-second tokens:
 * the test waits for them to expire. The tests that need exact times (the refresh margin) are
 * generated only for the adapters whose app shares the clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { login } from '../support/sign-in.js';
import {
  cognitoApi,
  sessionCookies,
  SESSION_SCOPES,
  sessionTimeFor,
  setCookiesOf,
  type ClaimsBody,
  type SessionTime,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { SESSION_COOKIES, cookieHeader } from '../support/cookies.js';

/** One GET over `agent`: status, body and Set-Cookie headers. */
function get(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; setCookies: string[] }> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.once('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          body,
          setCookies: response.headers['set-cookie'] ?? [],
        });
      });
      response.once('error', reject);
    })
      .once('error', reject)
      .end();
  });
}

for (const adapter of ADAPTERS) {
  describe(`automatic refresh (${adapter.name})`, () => {
    let time: SessionTime;
    const apps: ConformanceApp[] = [];

    before(async () => {
      time = await sessionTimeFor(adapter);
    });
    after(async () => {
      await Promise.all(apps.map((app) => app.stop()));
      await time.pool.stop();
    });

    async function startApp(
      env: Record<string, string> = {},
      client: Record<string, number> = {},
    ): Promise<ConformanceApp> {
      const app = await startConformanceApp(adapter, time.pool.emulator, {
        env: { AWS_COGNITO_SCOPES: SESSION_SCOPES, ...env },
        client: { ...time.lifetimes, ...client },
        extras: time.extras,
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

    async function claims(browser: TestBrowser, app: ConformanceApp) {
      return browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
    }

    it('an expired access token with a valid refresh cookie: 200, new cookies on that response, the handler sees the new tokens', async () => {
      const app = await startApp();
      const browser = await signedIn(app);
      const before = sessionCookies(browser, app.url);
      const first = JSON.parse((await claims(browser, app)).body) as ClaimsBody;
      const calls = time.pool.tokenRequests();

      await time.expireAccessTokens();
      const response = await claims(browser, app);
      assert.equal(response.status, 200);
      assert.equal(time.pool.tokenRequests() - calls, 1, 'one refresh at the token endpoint');
      const set = setCookiesOf(response);
      const access = set.get('cognito_access_token');
      assert.ok(access !== undefined && !access.deleted, 'a new access-token cookie');
      assert.notEqual(access.value, before.get('cognito_access_token'));
      assert.ok(set.has('cognito_id_token'), 'a new ID-token cookie');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const body = JSON.parse(response.body) as ClaimsBody;
      assert.equal(body.claims.username, 'alice');
      assert.ok(body.claims.iat > first.claims.iat, 'the handler got the token issued now');
      if (time.shared) assert.equal(body.claims.iat, time.pool.clock.seconds);

      // The browser now holds the new session: the next request needs no refresh.
      const next = await claims(browser, app);
      assert.equal(next.status, 200);
      if (time.shared) {
        assert.deepEqual(next.setCookies, []);
        assert.equal(time.pool.tokenRequests() - calls, 1);
      }
    });

    // Moving the clock needs an app that reads it: one in this process.
    if (adapter.inProcess) {
      it('the margin: a token expiring within AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS is refreshed, one with more time left is not', async () => {
        const { pool } = time;
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '120' });
        const browser = await signedIn(app);
        const calls = pool.tokenRequests();

        pool.clock.advance(time.lifetimes.accessTokenValiditySeconds - 200); // 200 s left
        const early = await claims(browser, app);
        assert.equal(early.status, 200);
        assert.deepEqual(early.setCookies, [], 'not yet');
        assert.equal(pool.tokenRequests(), calls);

        pool.clock.advance(100); // 100 s left, inside the margin
        const late = await claims(browser, app);
        assert.equal(late.status, 200);
        assert.ok(setCookiesOf(late).has('cognito_access_token'), 'refreshed before it expired');
        assert.equal(pool.tokenRequests() - calls, 1);
        assert.equal((JSON.parse(late.body) as ClaimsBody).claims.iat, pool.clock.seconds);
      });
    }

    if (adapter.inProcess) {
      it('a margin as long as the token’s lifetime is capped at half of it (no refresh on every request)', async () => {
        const { pool } = time;
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '300' });
        const browser = await signedIn(app);
        const calls = pool.tokenRequests();
        const fresh = await claims(browser, app);
        assert.equal(fresh.status, 200);
        assert.deepEqual(fresh.setCookies, [], 'a token just issued is not refreshed');
        assert.equal(pool.tokenRequests(), calls);
        pool.clock.advance(time.lifetimes.accessTokenValiditySeconds / 2 + 10);
        const half = await claims(browser, app);
        assert.ok(setCookiesOf(half).has('cognito_access_token'), 'past half its lifetime it is');
        assert.equal(pool.tokenRequests() - calls, 1);
      });
    }

    it('AWS_COGNITO_AUTO_REFRESH=false: an expired access token is 401; POST /refresh still works', async () => {
      const app = await startApp({ AWS_COGNITO_AUTO_REFRESH: 'false' });
      const browser = await signedIn(app);
      const calls = time.pool.tokenRequests();
      await time.expireAccessTokens();
      const refused = await claims(browser, app);
      assert.equal(refused.status, 401);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, 'ERR_TOKEN_INVALID');
      assert.equal(time.pool.tokenRequests(), calls, 'no refresh was attempted');

      const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
      assert.equal(refreshed.status, 303);
      assert.equal(time.pool.tokenRequests() - calls, 1);
      assert.equal((await claims(browser, app)).status, 200);
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
      const signOut = await cognitoApi(time.pool.emulator, 'GlobalSignOut', {
        AccessToken: browser.cookie(app.url, 'cognito_access_token'),
      });
      assert.equal(signOut.status, 200, await signOut.clone().text());

      await time.expireAccessTokens();
      const refused = await claims(browser, app);
      assert.equal(refused.status, 401);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, 'ERR_REFRESH_REJECTED');
      const set = setCookiesOf(refused);
      for (const name of SESSION_COOKIES) {
        assert.equal(set.get(name)?.deleted, true, `${name} cleared`);
      }
      assert.equal(sessionCookies(browser, app.url).size, 0);
    });

    it('an expired refresh token: 401 and the session cookies are cleared', async () => {
      // On the real clock, a refresh token that dies with the access token.
      const app = await startApp(
        {},
        time.shared
          ? {}
          : { refreshTokenValiditySeconds: time.lifetimes.accessTokenValiditySeconds },
      );
      const browser = await signedIn(app);
      if (time.shared) time.pool.clock.advance(time.lifetimes.refreshTokenValiditySeconds + 1);
      else await time.expireAccessTokens();
      const refused = await claims(browser, app);
      assert.equal(refused.status, 401);
      assert.equal(setCookiesOf(refused).get('cognito_refresh_token')?.deleted, true);
      assert.equal(sessionCookies(browser, app.url).size, 0);
    });

    it('Cognito failing or unreachable: 502-504, the cookies kept, and the session works once Cognito is back', async () => {
      const app = await startApp();
      const browser = await signedIn(app);
      const held = sessionCookies(browser, app.url);
      await time.expireAccessTokens();
      const { emulator } = time.pool;

      emulator.setFault('token', { status: 503, body: 'Service Unavailable' });
      try {
        const failing = await claims(browser, app);
        assert.ok([502, 503].includes(failing.status), `answered ${failing.status}`);
        assert.deepEqual(failing.setCookies, [], 'no cookie changed');

        emulator.setFault('token', { hang: true });
        const started = Date.now();
        const hung = await claims(browser, app);
        assert.equal(hung.status, 504);
        assert.ok(Date.now() - started < 5000, 'within the timeout');
        assert.deepEqual(hung.setCookies, []);
        assert.deepEqual(sessionCookies(browser, app.url), held);
      } finally {
        emulator.clearFaults();
      }
      assert.equal((await claims(browser, app)).status, 200);
    });

    if (adapter.inProcess) {
      it('inside the margin with Cognito down, the still-valid token is served', async () => {
        const app = await startApp({ AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '120' });
        const browser = await signedIn(app);
        time.pool.clock.advance(time.lifetimes.accessTokenValiditySeconds - 60);
        time.pool.emulator.setFault('token', { status: 500, body: 'oops' });
        try {
          const served = await claims(browser, app);
          assert.equal(served.status, 200);
          assert.deepEqual(served.setCookies, []);
        } finally {
          time.pool.emulator.clearFaults();
        }
      });
    }

    it('N concurrent requests with the same expired session: one refresh at the token endpoint, all N succeed', async () => {
      const app = await startApp();
      const browser = await signedIn(app);
      await time.expireAccessTokens();
      const calls = time.pool.tokenRequests();
      const cookie = cookieHeader(sessionCookies(browser, app.url));
      // Eight requests in flight at once, as a page's parallel requests are: over connections
      // that are already open, so none is still connecting when the refresh completes.
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      try {
        await Promise.all(Array.from({ length: 8 }, () => get(agent, `${app.url}/`, {})));
        const responses = await Promise.all(
          Array.from({ length: 8 }, () =>
            get(agent, `${app.url}/claims`, { ...JSON_ACCEPT, cookie }),
          ),
        );
        assert.deepEqual(
          responses.map((r) => r.status),
          Array.from({ length: 8 }, () => 200),
        );
        assert.equal(time.pool.tokenRequests() - calls, 1, 'one exchange shared by all eight');
        const bodies = responses.map((r) => JSON.parse(r.body) as ClaimsBody);
        assert.equal(new Set(bodies.map((b) => b.claims.iat)).size, 1, 'all got the same tokens');
        for (const response of responses) {
          assert.ok(response.setCookies.some((c) => c.startsWith('cognito_access_token=')));
        }
      } finally {
        agent.destroy();
      }
    });

    it('a request that starts after the refresh finished, with the old cookies, gets an exchange of its own', async () => {
      // Never a remembered success: after a logout or a rotation, Cognito's answer must reach it.
      const app = await startApp();
      const browser = await signedIn(app);
      const old = cookieHeader(sessionCookies(browser, app.url));
      await time.expireAccessTokens();
      const calls = time.pool.tokenRequests();
      assert.equal((await claims(browser, app)).status, 200);
      assert.equal(time.pool.tokenRequests() - calls, 1);
      const late = await fetch(`${app.url}/claims`, { headers: { ...JSON_ACCEPT, cookie: old } });
      assert.equal(late.status, 200, 'the refresh token still works (no rotation, no logout)');
      assert.equal(time.pool.tokenRequests() - calls, 2, 'a second exchange');
    });

    it('a prefetch never refreshes (a speculative load must not spend the refresh token)', async () => {
      const app = await startApp();
      const browser = await signedIn(app);
      await time.expireAccessTokens();
      const calls = time.pool.tokenRequests();
      const prefetch = await browser.request(`${app.url}/claims`, {
        headers: { ...JSON_ACCEPT, 'sec-purpose': 'prefetch' },
      });
      assert.equal(prefetch.status, 401);
      assert.equal(time.pool.tokenRequests(), calls);
      assert.deepEqual(prefetch.setCookies, []);
    });
  });
}
