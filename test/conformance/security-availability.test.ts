/**
 * Security cases B61–B67 (availability, information leakage, proxy headers) against every
 * adapter's example app: oversized input, JWKS outages and garbage at a real emulator, what error
 * bodies reveal, and X-Forwarded-* spoofing.
 *
 * What needs an in-process app is in in-process.test.ts: B62 with a hanging or unreachable JWKS
 * (a timeout, a fetch) and its log line, B64's exception thrown by app code (a function option),
 * and B67's Secure cookies on a plain-http loopback app. B66 (scopes required by a route the app
 * declares) is in test/express/required-scopes.test.ts; the API guard's scope check runs for
 * every adapter in modes.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTERS, type ConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT, HTML_ACCEPT } from '../support/browser.js';
import { sessionCookiesSet } from '../support/cookies.js';
import { decodeJwt } from '../support/jwt.js';
import { rawRequest } from '../support/requests.js';
import { assertFixedErrorAnswer, looksLikeStackTrace } from '../support/safety.js';
import { beginLogin, login, signInAt } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`availability, leakage, proxies (B61–B67) (${adapter.name})`, () => {
    let sec: ConformanceStack;
    let appUrl: string;
    /** A signed-in browser and its genuine access token. */
    let alice: TestBrowser;
    let accessToken: string;

    before(async () => {
      sec = await startConformanceStack(adapter);
      appUrl = sec.app.url;
      alice = new TestBrowser();
      await login(alice, appUrl, 'alice');
      accessToken = alice.cookie(appUrl, 'cognito_access_token')!;
    });
    after(async () => {
      await sec.stop();
    });

    it('B61 oversized or malformed Authorization headers and cookies are 4xx (401, 400 or 431), never 500', async () => {
      const junkJwt = (bytes: number) =>
        `eyJ${'a'.repeat(bytes / 3)}.${'b'.repeat(bytes / 3)}.${'c'.repeat(bytes / 3)}`;
      const cases: {
        label: string;
        path: string;
        method?: string;
        headers: Record<string, string>;
        /** What the app answers when the request reaches it. */
        expect: number;
      }[] = [
        {
          label: '12 KB bearer token',
          path: '/claims',
          headers: { authorization: `Bearer ${junkJwt(12_000)}` },
          expect: 401,
        },
        {
          label: '12 KB access cookie',
          path: '/claims',
          headers: { cookie: `cognito_access_token=${junkJwt(12_000)}` },
          expect: 401,
        },
        {
          label: '20 KB bearer token',
          path: '/claims',
          headers: { authorization: `Bearer ${junkJwt(20_000)}` },
          expect: 401,
        },
        {
          label: '40 KB cookie header',
          path: '/claims',
          headers: { cookie: `a=${'x'.repeat(40_000)}` },
          expect: 401,
        },
        {
          label: 'Basic credentials',
          path: '/claims',
          headers: { authorization: 'Basic YWxpY2U6cGFzcw==' },
          expect: 401,
        },
        {
          label: 'Bearer with junk characters',
          path: '/claims',
          headers: { authorization: 'Bearer <script>' },
          expect: 401,
        },
        {
          label: 'Bearer and nothing else',
          path: '/claims',
          headers: { authorization: 'Bearer' },
          expect: 401,
        },
        {
          label: 'many tiny cookies',
          path: '/claims',
          headers: { cookie: Array.from({ length: 1000 }, (_, i) => `c${i}=1`).join('; ') },
          expect: 401,
        },
        {
          label: '9 KB refresh cookie',
          path: '/refresh',
          method: 'POST',
          headers: { cookie: `cognito_refresh_token=${'a.'.repeat(4).concat('x'.repeat(9000))}` },
          expect: 401,
        },
        {
          label: '10 KB state',
          path: `/postlogin?code=x&state=${'s'.repeat(10_000)}`,
          headers: {},
          expect: 400,
        },
        {
          label: '10 KB transaction cookie',
          path: '/postlogin?code=x&state=s',
          headers: { cookie: `cognito_txn_x=${'t'.repeat(10_000)}` },
          expect: 400,
        },
      ];
      // Past the server's (or the platform's) limit on the request head, it answers 431 itself.
      const headLimit = adapter.requestHeadQuotaBytes ?? adapter.requestHeadLimitBytes;
      for (const { label, path, method, headers, expect } of cases) {
        const sent = { ...JSON_ACCEPT, ...headers };
        const headBytes =
          Buffer.byteLength(`${method ?? 'GET'} ${path} HTTP/1.1`) +
          Object.entries(sent).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
        const refusedFirst = headLimit !== undefined && headBytes > headLimit;
        let response: Awaited<ReturnType<typeof rawRequest>>;
        try {
          response = await rawRequest(`${appUrl}${path}`, {
            ...(method === undefined ? {} : { method }),
            headers: sent,
          });
        } catch (error) {
          // Fastify writes its 431 and destroys the socket at once: a client still sending the
          // head may see only the reset. Anything else is a failure.
          assert.ok(
            refusedFirst && adapter.headOverflowMayReset === true,
            `${label}: ${String(error)}`,
          );
          continue;
        }
        assert.equal(response.status, refusedFirst ? 431 : expect, label);
        assert.ok(!looksLikeStackTrace(response.body), label);
      }
    });

    describe('B62 B63 JWKS outages and garbage, at an app instance with nothing cached', () => {
      /**
       * A fresh instance (empty key cache) of the main app's client, so the main app's tokens are
       * meant for it, behind the hostile domain.
       */
      function freshApp(): Promise<ConformanceApp> {
        return sec.startApp({
          register: false,
          env: { AWS_COGNITO_USER_POOL_CLIENT_ID: sec.app.clientId },
        });
      }
      async function presentAt(app: ConformanceApp): Promise<globalThis.Response> {
        return fetch(`${app.url}/claims`, {
          headers: { ...JSON_ACCEPT, cookie: `cognito_access_token=${accessToken}` },
        });
      }

      it('B62 a JWKS answering 500 is a 502 at an instance with nothing cached, never a 200', async () => {
        const app = await freshApp();
        sec.emulator.setFault('jwks', { status: 500, body: 'Internal Server Error' });
        try {
          const response = await presentAt(app);
          assert.equal(response.status, 502);
          assert.equal(JSON.parse(await response.text()).error, 'ERR_COGNITO_BAD_RESPONSE');
        } finally {
          sec.emulator.setFault('jwks', null);
          await app.stop();
        }
      });

      it('B62 a login at an instance that cannot get the JWKS fails closed (502, no session); an instance with cached keys keeps working', async () => {
        const app = await sec.startApp();
        sec.emulator.setFault('jwks', { status: 500, body: 'down' });
        try {
          const browser = new TestBrowser();
          const started = await beginLogin(browser, app.url);
          const response = await browser.request(
            await signInAt(browser, started.authorizeUrl, 'bob'),
            {
              headers: JSON_ACCEPT,
            },
          );
          assert.equal(response.status, 502);
          assert.equal(JSON.parse(response.body).error, 'ERR_COGNITO_BAD_RESPONSE');
          assert.deepEqual(sessionCookiesSet(response.setCookies), []);

          // The main instance cached the pool's keys at its first login: new sessions still work.
          const other = new TestBrowser();
          assert.equal((await login(other, appUrl, 'bob')).status, 302);
          assert.equal((await other.request(`${appUrl}/claims`)).status, 200);
        } finally {
          sec.emulator.setFault('jwks', null);
          await app.stop();
        }
      });

      it('B63 B21 a JWKS that is HTML, empty, not JSON, or holds only a symmetric key under our kid never verifies anything (502)', async () => {
        const kid = decodeJwt(accessToken).header.kid as string;
        const garbage = [
          { label: 'HTML', body: '<html>maintenance</html>', contentType: 'text/html' },
          { label: 'empty keys', body: '{"keys":[]}', contentType: 'application/json' },
          { label: 'no keys member', body: '{"kids":[]}', contentType: 'application/json' },
          {
            label: 'truncated JSON',
            body: '{"keys":[{"kty":"RSA"',
            contentType: 'application/json',
          },
          {
            label: 'an oct key under our kid',
            body: JSON.stringify({
              keys: [
                { kty: 'oct', kid, k: Buffer.from('secret').toString('base64url'), alg: 'HS256' },
              ],
            }),
            contentType: 'application/json',
          },
          {
            label: 'an RSA key marked for encryption',
            body: JSON.stringify({ keys: [{ kty: 'RSA', kid, use: 'enc', n: 'AQAB', e: 'AQAB' }] }),
            contentType: 'application/json',
          },
        ];
        for (const { label, body, contentType } of garbage) {
          const app = await freshApp();
          sec.emulator.setFault('jwks', { status: 200, body, contentType });
          try {
            const response = await presentAt(app);
            assert.equal(response.status, 502, label);
            assert.equal(JSON.parse(await response.text()).error, 'ERR_COGNITO_BAD_RESPONSE');
          } finally {
            sec.emulator.setFault('jwks', null);
            await app.stop();
          }
        }
      });
    });

    it('B64 error bodies carry fixed messages only: no stack trace, token, code, state or upstream text, never a 500', async () => {
      // A live transaction, so the error callback gets past the state check to Cognito's error.
      const starter = new TestBrowser();
      const started = await beginLogin(starter, appUrl);
      const disabledRefresh = await sec.startApp({
        env: { AWS_COGNITO_REFRESH_FLOW_ENABLED: 'false' },
      });
      const code = crypto.randomUUID();
      try {
        const upstreamLeak = `Traceback (most recent call last):\n  at Object.<anonymous> (/var/task/index.js:1:1) code=${code} token=${accessToken}`;
        const probes: {
          label: string;
          url: string;
          init?: RequestInit;
          expect: number;
          setup?: () => void;
        }[] = [
          {
            label: 'callback with an error',
            url: `${appUrl}/postlogin?error=access_denied&error_description=${encodeURIComponent(upstreamLeak)}&state=${started.state}`,
            init: { headers: { cookie: starter.cookieHeader(appUrl) } },
            expect: 400,
          },
          {
            label: 'unsolicited callback',
            url: `${appUrl}/postlogin?code=${code}&state=${started.state}x`,
            expect: 400,
          },
          {
            label: 'bad token',
            url: `${appUrl}/claims`,
            init: { headers: { authorization: `Bearer ${accessToken}x` } },
            expect: 401,
          },
          {
            label: 'missing group',
            url: `${appUrl}/admin`,
            init: {
              headers: {
                authorization: `Bearer ${await sec.emulator.mintToken({ use: 'access', username: 'carol', clientId: sec.app.clientId })}`,
              },
            },
            expect: 403,
          },
          {
            label: 'cross-site refresh',
            url: `${appUrl}/refresh`,
            init: { method: 'POST', headers: { origin: 'https://evil.example' } },
            expect: 403,
          },
          {
            label: 'refresh disabled',
            url: `${disabledRefresh.url}/refresh`,
            init: { method: 'POST' },
            expect: 404,
          },
          {
            label: 'token endpoint leaking a stack trace',
            url: '',
            expect: 502,
            setup: () => {
              sec.hostile.onToken = () => ({
                status: 500,
                body: upstreamLeak,
                contentType: 'text/plain',
              });
            },
          },
        ];
        for (const probe of probes) {
          for (const accept of [JSON_ACCEPT, HTML_ACCEPT]) {
            let url = probe.url;
            let cookie: Record<string, string> = {};
            if (probe.setup !== undefined) {
              const browser = new TestBrowser();
              const pending = await beginLogin(browser, appUrl);
              url = await signInAt(browser, pending.authorizeUrl, 'bob');
              cookie = { cookie: browser.cookieHeader(appUrl) };
              probe.setup();
            }
            try {
              const headers = {
                ...accept,
                ...cookie,
                ...(probe.init?.headers as Record<string, string> | undefined),
              };
              const response = await fetch(url, { ...probe.init, headers, redirect: 'manual' });
              const body = await response.text();
              assert.equal(response.status, probe.expect, `${probe.label} (${accept.accept})`);
              assertFixedErrorAnswer(
                response,
                body,
                [accessToken.slice(0, 30), code, started.state, 'Traceback', 'access_denied'],
                probe.label,
              );
            } finally {
              sec.hostile.onToken = undefined;
            }
          }
        }
      } finally {
        await disabledRefresh.stop();
      }
    });

    it('B67 X-Forwarded-Proto/Host/For are ignored: they decide neither Secure cookies, redirect_uri, logout_uri nor the same-origin check', async () => {
      const forwarded = {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-for': '10.0.0.1',
        forwarded: 'for=10.0.0.1;host=evil.example;proto=https',
      };
      const start = await rawRequest(`${appUrl}/login`, { headers: forwarded });
      const authorize = new URL(start.headers.location!);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${appUrl}/postlogin`);
      const txn = (start.headers['set-cookie'] ?? []).find((c) => c.includes('cognito_txn_'))!;
      assert.ok(
        !txn.startsWith('__Host-') && !txn.includes('Secure'),
        'https claimed by a header is not trusted',
      );

      const logout = await rawRequest(`${appUrl}/logout`, {
        headers: { ...forwarded, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(
        new URL(logout.headers.location!).searchParams.get('logout_uri'),
        `${appUrl}/postlogout`,
      );

      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const cookie = browser.cookieHeader(appUrl);
      const host = new URL(appUrl).host;
      for (const origin of ['https://evil.example', `https://${host}`]) {
        const refresh = await rawRequest(`${appUrl}/refresh`, {
          method: 'POST',
          headers: {
            ...JSON_ACCEPT,
            ...forwarded,
            'x-forwarded-host': new URL(origin).host,
            origin,
            cookie,
          },
        });
        assert.equal(refresh.status, 403, origin);
        assert.equal(JSON.parse(refresh.body).error, 'ERR_CROSS_SITE_REQUEST', origin);
      }
      const sameOrigin = await rawRequest(`${appUrl}/refresh`, {
        method: 'POST',
        headers: { ...forwarded, origin: appUrl, cookie },
      });
      assert.equal(sameOrigin.status, 303, 'control: our own origin');
    });
  });
}
