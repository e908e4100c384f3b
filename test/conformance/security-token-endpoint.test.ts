/**
 * Security cases B43–B51 (token endpoint, client authentication, refresh, userInfo) against every
 * adapter's example app. The hostile domain in front of the emulator (the app's
 * `AWS_COGNITO_DOMAIN`) records what the library sends to `/oauth2/token` and `/oauth2/revoke`
 * and scripts what comes back.
 *
 * What needs an in-process app is in in-process.test.ts: B49 with a Cognito that hangs (a
 * timeout) and with the access token expired meanwhile (a clock), and the operator's log of B45.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTERS } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT, HTML_ACCEPT } from '../support/browser.js';
import { findCookie, sessionCookiesSet, SESSION_COOKIES } from '../support/cookies.js';
import type { ScriptedResponse, UpstreamResponse } from '../support/hostile-issuer.js';
import { decodeJwt } from '../support/jwt.js';
import { beginLogin, login, signInAt } from '../support/sign-in.js';

/** RFC 6749 Appendix B: `client_secret_basic` form-urlencodes id and secret before base64. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

/** A copy of `record` without `key`. */
function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

for (const adapter of ADAPTERS) {
  describe(`token endpoint, client authentication, refresh (B43–B51) (${adapter.name})`, () => {
    let sec: ConformanceStack;
    let appUrl: string;

    before(async () => {
      sec = await startConformanceStack(adapter);
      appUrl = sec.app.url;
    });
    after(async () => {
      await sec.stop();
    });
    afterEach(() => {
      sec.hostile.onToken = undefined;
      sec.hostile.onRevoke = undefined;
      sec.hostile.mode = 'proxy';
    });

    /** Starts a login and signs in at Cognito; returns the callback URL not yet visited. */
    async function pendingCallback(username = 'alice') {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      return {
        browser,
        started,
        callback: await signInAt(browser, started.authorizeUrl, username),
      };
    }

    /** Completes a login with the code exchange's answer rewritten by `rewrite`. */
    async function callbackWith(
      rewrite: (real: UpstreamResponse) => ScriptedResponse,
      accept: Record<string, string> = JSON_ACCEPT,
    ) {
      const { browser, callback } = await pendingCallback();
      sec.hostile.onToken = async (request, upstream) =>
        request.form.get('grant_type') === 'authorization_code'
          ? rewrite(await upstream())
          : undefined;
      try {
        return {
          browser,
          callback,
          response: await browser.request(callback, { headers: accept }),
        };
      } finally {
        sec.hostile.onToken = undefined;
      }
    }

    const refreshOf = (browser: TestBrowser, url = appUrl) =>
      browser.request(`${url}/refresh`, {
        method: 'POST',
        headers: { ...JSON_ACCEPT, origin: url },
      });

    it('B43 a confidential client uses HTTP Basic with the id and secret form-encoded first, and never sends the secret in a body', async () => {
      const clientId = 'b43.client+1';
      const clientSecret = 'p@ss w0rd+:%/&=é';
      const app = await sec.startApp({
        env: {
          AWS_COGNITO_USER_POOL_CLIENT_ID: clientId,
          AWS_COGNITO_USER_POOL_CLIENT_SECRET: clientSecret,
        },
      });
      try {
        const browser = new TestBrowser();
        assert.equal((await login(browser, app.url, 'bob')).status, 302);
        assert.equal((await refreshOf(browser, app.url)).status, 303);
        const out = await browser.request(`${app.url}/logout`, {
          headers: { 'sec-fetch-site': 'same-origin' },
        });
        assert.equal(out.status, 302);

        const sent = sec.hostile.requests
          .filter((r) => r.path === '/oauth2/token' || r.path === '/oauth2/revoke')
          .slice(-3);
        assert.deepEqual(
          sent.map((r) => r.form.get('grant_type') ?? r.path),
          ['authorization_code', 'refresh_token', '/oauth2/revoke'],
        );
        for (const request of sent) {
          const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(request.headers.authorization ?? '');
          assert.ok(match, `${request.path}: Basic credentials`);
          const userPass = Buffer.from(match[1]!, 'base64').toString('utf8');
          // Form-encoded before base64: the only raw ':' is the separator, nothing else is raw.
          assert.equal(userPass.split(':').length, 2, userPass.replace(/:.*/, ':…'));
          assert.match(userPass, /^[A-Za-z0-9%+*_.~!'()-]+:[A-Za-z0-9%+*_.~!'()-]+$/);
          const [id, secret] = userPass.split(':').map(formDecode);
          assert.equal(id, clientId);
          assert.equal(secret, clientSecret);
          assert.equal(request.form.get('client_secret'), null);
          assert.ok(
            !request.body.includes(formEncode(clientSecret)),
            'the form-encoded secret is not in the body',
          );
          assert.ok(
            !formDecode(request.body).includes(clientSecret),
            'the secret is not in the body',
          );
        }
      } finally {
        await app.stop();
      }
    });

    describe('B44 token response validation', () => {
      const malformed: Record<string, (real: UpstreamResponse) => ScriptedResponse> = {
        'no access_token': (real) => {
          return { status: 200, body: without(real.json(), 'access_token') };
        },
        'access_token not a string': (real) => ({
          status: 200,
          body: { ...real.json(), access_token: 42 },
        }),
        'no token_type': (real) => {
          return { status: 200, body: without(real.json(), 'token_type') };
        },
        'token_type mac': (real) => ({ status: 200, body: { ...real.json(), token_type: 'mac' } }),
        'token_type DPoP': (real) => ({
          status: 200,
          body: { ...real.json(), token_type: 'DPoP' },
        }),
        'no id_token although openid was requested': (real) => {
          return { status: 200, body: without(real.json(), 'id_token') };
        },
        'an HTML page with status 200': () => ({
          status: 200,
          body: '<html><body>Service temporarily unavailable</body></html>',
          contentType: 'text/html',
        }),
        'a JSON array': () => ({ status: 200, body: '[]' }),
        'truncated JSON': (real) => ({ status: 200, body: real.body.slice(0, 60) }),
        'HTTP 500 with an OAuth error': () => ({ status: 500, body: { error: 'server_error' } }),
        'HTTP 503 with HTML': () => ({
          status: 503,
          body: '<h1>down</h1>',
          contentType: 'text/html',
        }),
      };
      for (const [label, rewrite] of Object.entries(malformed)) {
        it(`B44 a token response with ${label} is 502 and sets no session`, async () => {
          const { browser, response } = await callbackWith(rewrite);
          assert.equal(response.status, 502, label);
          assert.equal(JSON.parse(response.body).error, 'ERR_COGNITO_BAD_RESPONSE');
          assert.deepEqual(sessionCookiesSet(response.setCookies), []);
          assert.equal((await browser.request(`${appUrl}/claims`)).status, 401);
        });
      }

      it('B44 both JWTs are validated before use: a response whose access_token is not a Cognito JWT signs nobody in', async () => {
        const { response } = await callbackWith((real) => ({
          status: 200,
          body: { ...real.json(), access_token: 'not-a-jwt' },
        }));
        assert.equal(response.status, 400);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
        assert.deepEqual(sessionCookiesSet(response.setCookies), []);
      });

      it('B44 token_type is compared case-insensitively (control: "BEARER" is accepted)', async () => {
        const { response } = await callbackWith((real) => ({
          status: 200,
          body: { ...real.json(), token_type: 'BEARER' },
        }));
        assert.equal(response.status, 302);
      });
    });

    describe('B45 token endpoint errors', () => {
      it('B45 invalid_grant at the callback is a 400 "sign in again" page; Cognito\'s description is never shown', async () => {
        const { callback, response } = await callbackWith(
          () => ({
            status: 400,
            body: { error: 'invalid_grant', error_description: '<script>alert(1)</script>' },
          }),
          HTML_ACCEPT,
        );
        assert.equal(response.status, 400);
        assert.match(response.body, /<a href="\/login">Sign in again<\/a>/);
        assert.ok(!response.body.includes('<script>'), "Cognito's description is not shown");
        assert.ok(!response.body.includes('invalid_grant'), "Cognito's error is not shown");
        assert.ok(
          !response.body.includes(new URL(callback).searchParams.get('code')!),
          'the code is not echoed',
        );
      });

      it('B45 invalid_client (a wrong client secret, for real) is a 502 that users see as an outage', async () => {
        const app = await sec.startApp({
          env: { AWS_COGNITO_USER_POOL_CLIENT_SECRET: 'a-stale-secret' },
          client: { clientSecret: 'the-registered-secret' },
        });
        try {
          const browser = new TestBrowser();
          const started = await beginLogin(browser, app.url);
          const callback = await signInAt(browser, started.authorizeUrl, 'bob');
          const response = await browser.request(callback, { headers: JSON_ACCEPT });
          assert.equal(response.status, 502);
          assert.deepEqual(JSON.parse(response.body), {
            error: 'ERR_COGNITO_CLIENT_REJECTED',
            message: 'The sign-in service is unavailable. Please try again shortly.',
          });
          assert.deepEqual(sessionCookiesSet(response.setCookies), []);
        } finally {
          await app.stop();
        }
      });

      it('B45 unauthorized_client and invalid_client answers are 502: an operator problem, shown as an outage', async () => {
        for (const scripted of [
          { status: 400, body: { error: 'unauthorized_client' } },
          { status: 400, body: { error: 'invalid_client', error_description: 'bad secret' } },
        ] as const) {
          const { response } = await callbackWith(() => scripted);
          assert.equal(response.status, 502);
          assert.equal(JSON.parse(response.body).error, 'ERR_COGNITO_CLIENT_REJECTED');
        }
      });

      it('B45 invalid_grant on refresh (revoked or expired refresh token) ends the session: 401 and every token cookie cleared', async () => {
        const browser = new TestBrowser();
        await login(browser, appUrl, 'bob');
        sec.hostile.onToken = (request) =>
          request.form.get('grant_type') === 'refresh_token'
            ? { status: 400, body: { error: 'invalid_grant' } }
            : undefined;
        const response = await refreshOf(browser);
        assert.equal(response.status, 401);
        assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
        for (const name of SESSION_COOKIES) {
          assert.match(findCookie(response.setCookies, name)?.header ?? '', /Max-Age=0/, name);
        }
        assert.equal((await browser.request(`${appUrl}/claims`)).status, 401);
      });
    });

    it('B47 concurrent refreshes of one session are single-flight: one call to Cognito, every request answered', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const before = sec.hostile.tokenRequests('refresh_token').length;
      // Cognito takes a quarter of a second to answer, so that the six requests overlap on every
      // server: a refresh that has finished is not shared with a request that starts after it,
      // and a server that dispatches requests one after another (Next.js) can start the last one
      // after a local emulator's instant answer.
      sec.hostile.onToken = async (request) => {
        if (request.form.get('grant_type') === 'refresh_token') {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        return undefined;
      };
      const responses = await Promise.all(Array.from({ length: 6 }, () => refreshOf(browser)));
      assert.deepEqual(
        responses.map((r) => r.status),
        Array<number>(6).fill(303),
      );
      assert.equal(sec.hostile.tokenRequests('refresh_token').length - before, 1);
      const accessCookies = new Set(
        responses.map((r) => findCookie(r.setCookies, 'cognito_access_token')?.header),
      );
      assert.equal(accessCookies.size, 1, 'every caller got the same new tokens');
    });

    it('B47 with rotation on, the rotated refresh token is stored (encrypted) at once; the old one is refused; concurrent callers share it', async () => {
      const app = await sec.startApp({
        client: { refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 } },
      });
      try {
        const browser = new TestBrowser();
        await login(browser, app.url, 'bob');
        const original = browser.cookie(app.url, 'cognito_refresh_token')!;
        const responses = await Promise.all(
          Array.from({ length: 4 }, () => refreshOf(browser, app.url)),
        );
        assert.deepEqual(
          responses.map((r) => r.status),
          [303, 303, 303, 303],
        );
        const rotatedCookies = new Set(
          responses.map((r) => findCookie(r.setCookies, 'cognito_refresh_token')?.header),
        );
        assert.equal(rotatedCookies.size, 1, 'one rotation, one new refresh cookie');
        const rotated = browser.cookie(app.url, 'cognito_refresh_token')!;
        assert.notEqual(rotated, original);
        assert.equal(rotated.split('.').length, 5, 'the rotated token is sealed too');
        const rawRotated = JSON.parse(sec.hostile.tokenRequests('refresh_token').at(-1)!.answer!)
          .refresh_token as string;
        assert.ok(
          !rotated.includes(rawRotated.slice(0, 60)),
          'the cookie does not hold the raw rotated token',
        );

        // The rotated-out token is dead (grace 0); the stored one works.
        const stale = new TestBrowser();
        stale.setCookie(app.url, 'cognito_refresh_token', original);
        assert.equal((await refreshOf(stale, app.url)).status, 401);
        assert.equal((await refreshOf(browser, app.url)).status, 303);
      } finally {
        await app.stop();
      }
    });

    describe('B48 refresh must return the same user and sign-in', () => {
      async function refreshWith(
        forge: (authTime: number) => Promise<{ access: string; id?: string }>,
      ) {
        const browser = new TestBrowser();
        await login(browser, appUrl, 'alice');
        const authTime = decodeJwt(browser.cookie(appUrl, 'cognito_access_token')!).payload
          .auth_time as number;
        const forged = await forge(authTime);
        sec.hostile.onToken = async (request, upstream) => {
          if (request.form.get('grant_type') !== 'refresh_token') return undefined;
          const real = (await upstream()).json();
          return {
            status: 200,
            body: { ...real, access_token: forged.access, id_token: forged.id ?? real.id_token },
          };
        };
        return { browser, response: await refreshOf(browser) };
      }
      const mint = (use: 'access' | 'id', username: string, claims: Record<string, unknown> = {}) =>
        sec.emulator.mintToken({ use, username, clientId: sec.app.clientId, claims });

      it('B48 control: genuine tokens of the same user and sign-in are accepted', async () => {
        const { response } = await refreshWith(async (authTime) => ({
          access: await mint('access', 'alice', { auth_time: authTime }),
          id: await mint('id', 'alice', { auth_time: authTime }),
        }));
        assert.equal(response.status, 303);
      });

      const attacks: Record<
        string,
        (authTime: number) => Promise<{ access: string; id?: string }>
      > = {
        "another user's tokens": async (authTime) => ({
          access: await mint('access', 'bob', { auth_time: authTime }),
          id: await mint('id', 'bob', { auth_time: authTime }),
        }),
        "another user's ID token only": async (authTime) => ({
          access: await mint('access', 'alice', { auth_time: authTime }),
          id: await mint('id', 'bob', { auth_time: authTime }),
        }),
        "another user's access token only": async (authTime) => ({
          access: await mint('access', 'bob', { auth_time: authTime }),
          id: await mint('id', 'alice', { auth_time: authTime }),
        }),
        'a different auth_time (another sign-in)': async (authTime) => ({
          access: await mint('access', 'alice', { auth_time: authTime - 600 }),
          id: await mint('id', 'alice', { auth_time: authTime - 600 }),
        }),
        'an ID token for another app client': async (authTime) => ({
          access: await mint('access', 'alice', { auth_time: authTime }),
          id: await sec.emulator.mintToken({
            use: 'id',
            username: 'alice',
            clientId: 'demo-client',
            claims: { auth_time: authTime },
          }),
        }),
      };
      for (const [label, forge] of Object.entries(attacks)) {
        it(`B48 a refresh answered with ${label} is refused and the session ended`, async () => {
          const { browser, response } = await refreshWith(forge);
          assert.equal(response.status, 401, label);
          assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
          for (const name of SESSION_COOKIES) {
            assert.match(findCookie(response.setCookies, name)?.header ?? '', /Max-Age=0/, name);
          }
          assert.ok(
            !response.setCookies.some((c) => /^cognito_access_token=[^;]/.test(c)),
            'no new access token is set',
          );
          assert.equal((await browser.request(`${appUrl}/claims`)).status, 401);
        });
      }
    });

    it('B49 Cognito unreachable or answering 500 during a refresh: 503 (with Retry-After) or 502, and no cookie touched', async () => {
      const outages = [
        { set: () => (sec.hostile.mode = 'refuse'), status: 503, code: 'ERR_COGNITO_UNREACHABLE' },
        {
          set: () =>
            (sec.hostile.onToken = () => ({
              status: 500,
              body: '<h1>oops</h1>',
              contentType: 'text/html',
            })),
          status: 502,
          code: 'ERR_COGNITO_BAD_RESPONSE',
        },
      ];
      for (const outage of outages) {
        const browser = new TestBrowser();
        await login(browser, appUrl, 'bob');
        const cookiesBefore = new Map(browser.cookiesFor(appUrl));
        outage.set();
        try {
          const response = await refreshOf(browser);
          assert.equal(response.status, outage.status);
          assert.equal(JSON.parse(response.body).error, outage.code);
          assert.deepEqual(response.setCookies, [], 'cookies untouched');
          if (outage.status === 503)
            assert.ok(response.headers.get('retry-after'), 'Retry-After says when to try again');
        } finally {
          sec.hostile.reset();
        }
        assert.deepEqual(new Map(browser.cookiesFor(appUrl)), cookiesBefore);
        assert.equal((await refreshOf(browser)).status, 303, 'the session survives the outage');
      }
    });

    it('B50 B51 N/A: a whole session (login, refresh, logout) never calls /oauth2/userInfo', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      assert.equal((await browser.request(`${appUrl}/claims`)).status, 200);
      assert.equal((await refreshOf(browser)).status, 303);
      await browser.request(`${appUrl}/logout`, { headers: { 'sec-fetch-site': 'same-origin' } });
      assert.equal(sec.hostile.requests.filter((r) => r.path === '/oauth2/userInfo').length, 0);
      assert.equal(sec.count('/oauth2/userInfo'), 0);
      // Bearer tokens only ever travel in headers: no token in any query string the app sent.
      for (const request of sec.hostile.requests) {
        assert.ok(!/eyJ[\w-]{20,}/.test(request.query.toString()), request.path);
      }
    });
  });
}
