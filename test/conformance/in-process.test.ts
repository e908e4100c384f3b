/**
 * The behaviour tests that need an app running in this process, generated only for the adapters
 * whose example app runs here (`inProcess: true`: express5, express4, fastify, lambda behind its
 * API Gateway bridge, hono on Node), not for workerd and hono-workerd. Each needs something no
 * environment variable can carry into a Worker:
 *
 * - a clock (`now`): B18 (a transaction's 10 minutes), B29 (exp while cached), B49 (expiry while
 *   Cognito is down);
 * - a timeout (`httpTimeoutMs`) or a `fetch`: B49, B53 and B62 with a Cognito that hangs or
 *   cannot be reached;
 * - Secure cookies on a plain-http loopback app (`secureCookies`): B55, B56 with SameSite=None,
 *   B67's reverse case;
 * - app code that throws (a function option): B64;
 * - the operator's log (`logger`): B45, B53, B58, B60, B62, and flask-cognito-lib fault 9;
 * - a start-up that can fail (`start` rejects): flask-cognito-lib fault 16's refused values. (A
 *   Worker reads its bindings at the first request: a bad value answers every request with an
 *   error instead, never an open route.)
 *
 * What the same cases show from outside runs for every adapter in the files named in each test.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ConfigurationError } from '../../src/index.js';
import { DEMO_PASSWORD } from '../../src/emulator/index.js';
import { IN_PROCESS_ADAPTERS, logOf, type ConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT, HTML_ACCEPT, SAME_ORIGIN } from '../support/browser.js';
import { findCookie, SESSION_COOKIES, sessionCookiesSet } from '../support/cookies.js';
import { listenOn } from '../support/http.js';
import { decodeJwt } from '../support/jwt.js';
import { CLIENT_SECRET, SECRET_KEY } from '../support/pool.js';
import { rawRequest } from '../support/requests.js';
import { assertFixedErrorAnswer } from '../support/safety.js';
import { beginLogin, login, signInAt } from '../support/sign-in.js';

for (const adapter of IN_PROCESS_ADAPTERS) {
  describe(`cases that need an in-process app (${adapter.name})`, () => {
    /** The example app behind the hostile domain, with a clock and a 1 s timeout. */
    let sec: ConformanceStack;
    const clock = { offsetMs: 0 };
    const now = () => Date.now() + clock.offsetMs;

    before(async () => {
      sec = await startConformanceStack(adapter, { extras: { httpTimeoutMs: 1000, now } });
    });
    after(async () => {
      await sec.stop();
    });
    afterEach(() => {
      sec.hostile.reset();
      clock.offsetMs = 0;
    });

    const refreshOf = (browser: TestBrowser, url: string) =>
      browser.request(`${url}/refresh`, {
        method: 'POST',
        headers: { ...JSON_ACCEPT, origin: url },
      });
    const claimsStatus = async (browser: TestBrowser, url: string) =>
      (await browser.request(`${url}/claims`, { headers: JSON_ACCEPT })).status;
    /** A fresh instance (empty key cache) of the main app's client, with `extras`. */
    const freshApp = (extras: Parameters<ConformanceStack['startApp']>[0] = {}) =>
      sec.startApp({
        ...extras,
        register: false,
        env: { AWS_COGNITO_USER_POOL_CLIENT_ID: sec.app.clientId },
      });

    it('B18 a transaction older than 10 minutes is refused; one within it completes', async () => {
      const browser = new TestBrowser();
      const app = sec.app;
      const fresh = await beginLogin(browser, app.url);
      const freshCallback = await signInAt(browser, fresh.authorizeUrl, 'bob');
      clock.offsetMs = 590_000;
      assert.equal((await browser.request(freshCallback)).status, 302);

      const stale = await beginLogin(browser, app.url);
      const staleCallback = await signInAt(browser, stale.authorizeUrl, 'bob');
      clock.offsetMs += 601_000;
      const response = await browser.request(staleCallback, { headers: JSON_ACCEPT });
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
      assert.deepEqual(sessionCookiesSet(response.setCookies), []);
      assert.equal(findCookie(response.setCookies, stale.transactionCookieName)?.maxAge, 0);
    });

    it('B29 a session stops working at exp, even though its token was being served from the verified-token cache', async () => {
      const app = await sec.startApp({
        client: { accessTokenValiditySeconds: 300, idTokenValiditySeconds: 300 },
        // Without the automatic refresh, which would renew the session at exp (tested elsewhere).
        env: { AWS_COGNITO_AUTO_REFRESH: 'false' },
        extras: { now },
      });
      try {
        const browser = new TestBrowser();
        await login(browser, app.url, 'bob');
        for (let i = 0; i < 3; i += 1) {
          assert.equal((await browser.request(`${app.url}/claims`)).status, 200);
        }
        clock.offsetMs = 301_000;
        const expired = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(expired.status, 401);
        assert.match(expired.headers.get('www-authenticate') ?? '', /invalid_token/);
      } finally {
        await app.stop();
      }
    });

    describe('B49 refresh while Cognito is unavailable fails closed and leaves the cookies alone', () => {
      const outages: Record<string, { set: () => void; status: number; code: string }> = {
        unreachable: {
          set: () => {
            sec.hostile.mode = 'refuse';
          },
          status: 503,
          code: 'ERR_COGNITO_UNREACHABLE',
        },
        'too slow': {
          set: () => {
            sec.hostile.mode = 'hang';
          },
          status: 504,
          code: 'ERR_COGNITO_TIMEOUT',
        },
        'answering 500': {
          set: () => {
            sec.hostile.onToken = () => ({
              status: 500,
              body: '<h1>oops</h1>',
              contentType: 'text/html',
            });
          },
          status: 502,
          code: 'ERR_COGNITO_BAD_RESPONSE',
        },
      };
      for (const [label, outage] of Object.entries(outages)) {
        it(`B49 Cognito ${label}: refresh is ${outage.status}, no cookie touched, no local extension`, async () => {
          const browser = new TestBrowser();
          await login(browser, sec.app.url, 'bob');
          const cookiesBefore = new Map(browser.cookiesFor(sec.app.url));
          outage.set();
          const response = await refreshOf(browser, sec.app.url);
          assert.equal(response.status, outage.status);
          assert.equal(JSON.parse(response.body).error, outage.code);
          assert.deepEqual(response.setCookies, [], 'cookies untouched');
          assert.deepEqual(new Map(browser.cookiesFor(sec.app.url)), cookiesBefore);
          if (outage.status === 503)
            assert.ok(response.headers.get('retry-after'), 'Retry-After says when to try again');
          // Once the access token has expired, a protected request tries the automatic refresh:
          // Cognito is still down, so it fails closed with the same status and keeps the cookies.
          clock.offsetMs = 3_601_000;
          for (const attempt of [1, 2]) {
            const claims = await browser.request(`${sec.app.url}/claims`, { headers: JSON_ACCEPT });
            assert.equal(claims.status, outage.status, `attempt ${attempt}: never served expired`);
            assert.deepEqual(claims.setCookies, [], 'cookies kept for when Cognito is back');
          }
          assert.equal((await refreshOf(browser, sec.app.url)).status, outage.status);
          assert.deepEqual(new Map(browser.cookiesFor(sec.app.url)), cookiesBefore);
        });
      }
    });

    it("B45 the operator is told of invalid_client and unauthorized_client, without the secret or Cognito's description", async () => {
      const stale = await sec.startApp({
        env: { AWS_COGNITO_USER_POOL_CLIENT_SECRET: 'a-stale-secret' },
        client: { clientSecret: 'the-registered-secret' },
      });
      try {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, stale.url);
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        assert.equal((await browser.request(callback, { headers: JSON_ACCEPT })).status, 502);
        assert.match(logOf(stale).text(), /ERR_COGNITO_CLIENT_REJECTED.*invalid_client/);
        assert.ok(!logOf(stale).text().includes('a-stale-secret'), 'the secret is not logged');
      } finally {
        await stale.stop();
      }

      const log = logOf(sec.app);
      const before = log.entries.length;
      for (const scripted of [
        { status: 400, body: { error: 'unauthorized_client' } },
        { status: 400, body: { error: 'invalid_client', error_description: 'bad secret' } },
      ] as const) {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, sec.app.url);
        const callback = await signInAt(browser, started.authorizeUrl, 'alice');
        sec.hostile.onToken = () => scripted;
        assert.equal((await browser.request(callback, { headers: JSON_ACCEPT })).status, 502);
        sec.hostile.onToken = undefined;
      }
      const logged = log.text(before);
      assert.match(logged, /unauthorized_client/);
      assert.match(logged, /invalid_client/);
      assert.ok(!logged.includes('bad secret'), 'upstream descriptions are not logged');
    });

    it('B53 a failing or hanging revocation does not block the local logout, and is logged', async () => {
      const app = await sec.startApp({ extras: { httpTimeoutMs: 300 } });
      try {
        for (const failure of ['500', 'hang'] as const) {
          const browser = new TestBrowser();
          await login(browser, app.url, 'bob');
          const before = logOf(app).entries.length;
          if (failure === '500') {
            sec.hostile.onRevoke = () => ({
              status: 500,
              body: '<h1>oops</h1>',
              contentType: 'text/html',
            });
          } else {
            sec.hostile.mode = 'hang';
          }
          try {
            const out = await browser.request(`${app.url}/logout`, { headers: SAME_ORIGIN });
            assert.equal(out.status, 302, failure);
            for (const name of SESSION_COOKIES) {
              assert.equal(findCookie(out.setCookies, name)?.maxAge, 0, `${failure}: ${name}`);
            }
            assert.equal(await claimsStatus(browser, app.url), 401);
            assert.match(logOf(app).text(before), /revocation failed/);
          } finally {
            sec.hostile.reset();
          }
        }
      } finally {
        await app.stop();
      }
    });

    it('flask-cognito-lib fault 9: a failed revocation at logout is logged, without the token', async () => {
      const log = logOf(sec.app);
      const browser = new TestBrowser();
      await login(browser, sec.app.url, 'alice');
      const before = log.entries.length;
      const revokesBefore = sec.hostile.requests.length;
      sec.emulator.setFault('revoke', { status: 503 });
      try {
        const response = await browser.request(`${sec.app.url}/logout`, { headers: SAME_ORIGIN });
        assert.equal(response.status, 302);
      } finally {
        sec.emulator.setFault('revoke', null);
      }
      const [revoke] = sec.hostile.requests
        .slice(revokesBefore)
        .filter((r) => r.path === '/oauth2/revoke');
      const refreshToken = revoke?.form.get('token') ?? '';
      assert.ok(refreshToken !== '', 'the revoke was attempted');
      assert.ok(log.warnings().some((w) => /revocation failed/.test(w.message)));
      assert.ok(!log.text(before).includes(refreshToken), 'no token in the log');
    });

    it('B55 with Secure cookies the transaction cookie is __Host- (Secure, Path=/, no Domain) and a tossed unprefixed copy is ignored', async () => {
      const app = await sec.startApp({
        env: { AWS_COGNITO_COOKIE_DOMAIN: 'example.test' },
        extras: { secureCookies: true },
      });
      try {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, app.url);
        assert.match(started.transactionCookieName, /^__Host-cognito_txn_[\w-]+$/);
        assert.match(started.transactionCookie, /; Path=\/;/);
        assert.match(started.transactionCookie, /; Secure/);
        assert.doesNotMatch(started.transactionCookie, /Domain=/);

        // A sibling subdomain can set an unprefixed cookie but never a __Host- one.
        const sealed = browser.cookie(app.url, started.transactionCookieName)!;
        const tossed = new TestBrowser();
        const unprefixed = started.transactionCookieName.replace(/^__Host-/, '');
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        const refused = await tossed.request(callback, {
          headers: { ...JSON_ACCEPT, cookie: `${unprefixed}=${sealed}` },
        });
        assert.equal(refused.status, 400);
        assert.equal(JSON.parse(refused.body).error, 'ERR_CALLBACK_NO_TRANSACTION');

        const done = await browser.request(callback);
        assert.equal(done.status, 302, 'the genuine __Host- transaction completes');
        for (const name of SESSION_COOKIES) {
          assert.match(findCookie(done.setCookies, name)!.header, /; Secure/, name);
        }
      } finally {
        await app.stop();
      }
    });

    it('B56 with SameSite=None (and Secure) the transaction cookie stays SameSite=Lax; token cookies are None', async () => {
      const app = await sec.startApp({
        env: { AWS_COGNITO_COOKIE_SAMESITE: 'None' },
        extras: { secureCookies: true },
      });
      try {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, app.url);
        assert.match(started.transactionCookie, /SameSite=Lax/);
        const done = await browser.request(await signInAt(browser, started.authorizeUrl, 'bob'));
        assert.equal(done.status, 302);
        for (const name of SESSION_COOKIES) {
          assert.match(findCookie(done.setCookies, name)!.header, /SameSite=None/, name);
        }
      } finally {
        await app.stop();
      }
    });

    it('B67 configuration asks for Secure cookies: an X-Forwarded-Proto of http does not undo it', async () => {
      const app = await sec.startApp({ extras: { secureCookies: true } });
      try {
        const start = await rawRequest(`${app.url}/login`, {
          headers: { 'x-forwarded-proto': 'http' },
        });
        const txn = (start.headers['set-cookie'] ?? []).find((c) => c.includes('cognito_txn_'));
        assert.match(txn ?? '', /^__Host-.*; Secure/);
      } finally {
        await app.stop();
      }
    });

    it('B58 a session too large for any cookie budget (450 groups) is logged with the advice to use a session store', async () => {
      const groups = Array.from(
        { length: 450 },
        (_, i) => `group-number-${String(i).padStart(3, '0')}`,
      );
      sec.emulator.addUser({ username: 'gigi', password: DEMO_PASSWORD, groups });
      const log = logOf(sec.app);
      const browser = new TestBrowser();
      const started = await beginLogin(browser, sec.app.url);
      const callback = await signInAt(browser, started.authorizeUrl, 'gigi');
      const before = log.entries.length;
      const response = await browser.request(callback, { headers: JSON_ACCEPT });
      assert.equal(response.status, 502);
      assert.match(log.text(before), /session store/);
    });

    it('B62 JWKS answering 500 is a 502; hanging past the timeout a 504; unreachable a 503 with Retry-After; each logged', async () => {
      const alice = new TestBrowser();
      await login(alice, sec.app.url, 'alice');
      const accessToken = alice.cookie(sec.app.url, 'cognito_access_token')!;
      const closed = createServer();
      const closedPort = await listenOn(closed);
      await new Promise((resolve) => closed.close(resolve));
      const jwksUri = sec.emulator.jwksUri;
      const unreachable: typeof fetch = (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        return url === jwksUri
          ? globalThis.fetch(`http://127.0.0.1:${closedPort}/jwks.json`, init)
          : globalThis.fetch(input, init);
      };
      const outages = [
        {
          label: 'HTTP 500',
          fault: { status: 500, body: 'Internal Server Error' },
          extras: {},
          status: 502,
          code: 'ERR_COGNITO_BAD_RESPONSE',
        },
        {
          label: 'hang',
          fault: { hang: true, times: 1 },
          extras: { httpTimeoutMs: 300 },
          status: 504,
          code: 'ERR_COGNITO_TIMEOUT',
        },
        {
          label: 'unreachable',
          fault: undefined,
          extras: { fetch: unreachable },
          status: 503,
          code: 'ERR_COGNITO_UNREACHABLE',
        },
      ] as const;
      for (const outage of outages) {
        const app = await freshApp({ extras: outage.extras });
        if (outage.fault !== undefined) sec.emulator.setFault('jwks', outage.fault);
        try {
          const response = await fetch(`${app.url}/claims`, {
            headers: { ...JSON_ACCEPT, cookie: `cognito_access_token=${accessToken}` },
          });
          assert.equal(response.status, outage.status, outage.label);
          assert.equal(JSON.parse(await response.text()).error, outage.code, outage.label);
          if (outage.status === 503)
            assert.ok(response.headers.get('retry-after'), 'Retry-After says when to try again');
          assert.match(logOf(app).text(), /JWKS fetch failed/, outage.label);
        } finally {
          sec.emulator.setFault('jwks', null);
          await app.stop();
        }
      }
    });

    it('B64 an exception thrown by app code is a 502 with the fixed message; neither the answer nor the log carries it', async () => {
      const alice = new TestBrowser();
      await login(alice, sec.app.url, 'alice');
      const accessToken = alice.cookie(sec.app.url, 'cognito_access_token')!;
      const throwing: ConformanceApp = await sec.startApp({
        extras: {
          redirectUrl: () => {
            throw new Error(`boom in /srv/app/secret-path with ${accessToken}`);
          },
        },
      });
      try {
        for (const accept of [JSON_ACCEPT, HTML_ACCEPT]) {
          const response = await fetch(`${throwing.url}/login`, {
            headers: accept,
            redirect: 'manual',
          });
          const body = await response.text();
          assert.equal(response.status, 502, accept.accept);
          assertFixedErrorAnswer(
            response,
            body,
            [accessToken.slice(0, 30), '/srv/app', 'boom'],
            `unexpected exception in app code (${accept.accept})`,
          );
        }
        assert.ok(!logOf(throwing).text().includes('boom'), 'not even the log carries it');
      } finally {
        await throwing.stop();
      }
    });

    it('B60 no token, code, state, nonce, verifier or secret reaches the guard log or the emulator log, even on failures that echo them', async () => {
      const log = logOf(sec.app);
      const logStart = log.entries.length;
      const servedStart = sec.served.length;
      const hostileStart = sec.hostile.requests.length;
      const secrets = new Set<string>([CLIENT_SECRET, SECRET_KEY]);
      const remember = (...values: (string | null | undefined)[]) => {
        for (const value of values) if (value) secrets.add(value);
      };

      // A good session, then a refresh that fails with Cognito echoing the refresh token (S53).
      const browser = new TestBrowser();
      const started = await beginLogin(browser, sec.app.url);
      const callback = new URL(await signInAt(browser, started.authorizeUrl, 'alice'));
      remember(started.state, started.nonce, callback.searchParams.get('code'));
      assert.equal((await browser.request(callback.href)).status, 302);
      for (const name of SESSION_COOKIES) remember(browser.cookie(sec.app.url, name));
      sec.hostile.onToken = (request) => ({
        status: 500,
        body: {
          error: 'server_error',
          error_description: `bad refresh_token ${request.form.get('refresh_token') ?? ''}`,
        },
      });
      assert.equal(
        (
          await browser.request(`${sec.app.url}/refresh`, {
            method: 'POST',
            headers: { origin: sec.app.url },
          })
        ).status,
        502,
      );
      // …or in the `error` member itself (token characters are legal there).
      for (const status of [500, 400]) {
        sec.hostile.onToken = (request) => ({
          status,
          body: { error: request.form.get('refresh_token') ?? '' },
        });
        const echoed = await browser.request(`${sec.app.url}/refresh`, {
          method: 'POST',
          headers: { origin: sec.app.url },
        });
        assert.ok(echoed.status >= 400, 'echoed.status >= 400');
      }
      sec.hostile.onToken = undefined;
      // (The 400 ended the session.) Sign in again, silently through the hosted-UI session.
      const again = await beginLogin(browser, sec.app.url);
      const callbackAgain = new URL(await signInAt(browser, again.authorizeUrl, 'alice'));
      remember(again.state, again.nonce, callbackAgain.searchParams.get('code'));
      assert.equal((await browser.request(callbackAgain.href)).status, 302);
      for (const name of SESSION_COOKIES) remember(browser.cookie(sec.app.url, name));

      // A callback where Cognito refuses our client and echoes the code.
      const second = new TestBrowser();
      const started2 = await beginLogin(second, sec.app.url);
      const callback2 = new URL(await signInAt(second, started2.authorizeUrl, 'bob'));
      remember(started2.state, started2.nonce, callback2.searchParams.get('code'));
      sec.hostile.onToken = (request) => ({
        status: 400,
        body: {
          error: 'invalid_client',
          error_description: `code ${request.form.get('code') ?? ''} secret ${CLIENT_SECRET}`,
        },
      });
      assert.equal((await second.request(callback2.href)).status, 502);
      sec.hostile.onToken = undefined;

      // A revocation that fails and echoes the token; a JWKS outage at a fresh instance.
      sec.hostile.onRevoke = (request) => ({
        status: 500,
        body: { error: 'server_error', error_description: request.form.get('token') ?? '' },
      });
      assert.equal(
        (await browser.request(`${sec.app.url}/logout`, { headers: SAME_ORIGIN })).status,
        302,
      );
      sec.hostile.onRevoke = undefined;
      const fresh = await sec.startApp({
        register: false,
        env: { AWS_COGNITO_USER_POOL_CLIENT_ID: sec.app.clientId },
      });
      sec.emulator.setFault('jwks', { status: 500, body: 'down' });
      try {
        const token = [...secrets].find((s) => s.startsWith('eyJ'))!;
        const outage = await fetch(`${fresh.url}/claims`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(outage.status, 502);
      } finally {
        sec.emulator.setFault('jwks', null);
        await fresh.stop();
      }

      // Everything the library sent or received on the wire is a secret too.
      for (const request of sec.hostile.requests.slice(hostileStart)) {
        remember(
          request.form.get('code'),
          request.form.get('code_verifier'),
          request.form.get('refresh_token'),
          request.form.get('token'),
        );
        if (request.answer?.startsWith('{"access_token"') === true) {
          const answer = JSON.parse(request.answer) as Record<string, string>;
          remember(answer.access_token, answer.id_token, answer.refresh_token);
        }
      }
      const logged = [log.text(logStart), JSON.stringify(sec.served.slice(servedStart))].join('\n');
      assert.ok(log.entries.length > logStart + 2, 'the failures were logged');
      for (const secret of secrets) {
        assert.ok(!logged.includes(secret), `a secret (${secret.length} chars) reached a log`);
        if (secret.split('.').length >= 3) {
          // Not even a signature or ciphertext fragment.
          for (const part of secret.split('.').filter((p) => p.length >= 20)) {
            assert.ok(!logged.includes(part.slice(0, 20)), 'a token fragment reached a log');
          }
        }
      }
      // The ID token's personal data stays out too.
      const idToken = [...secrets].find(
        (s) => s.startsWith('eyJ') && decodeJwt(s).payload.token_use === 'id',
      );
      assert.ok(idToken, 'an ID token was among the secrets');
      assert.ok(!logged.includes('alice@example.com'), 'the e-mail address is not logged');
    });

    it('flask-cognito-lib fault 16 (truthy-string booleans): AWS_COGNITO_DISABLED=yes/off/no/Flase is refused at startup', async () => {
      for (const value of ['yes', 'off', 'no', 'Flase']) {
        await assert.rejects(
          // Stopped at once if it wrongly starts, so a failure here cannot leave a server open.
          sec.startApp({ env: { AWS_COGNITO_DISABLED: value } }).then((app) => app.stop()),
          (error: unknown) =>
            error instanceof ConfigurationError &&
            error.problems.some((p) => p.startsWith('AWS_COGNITO_DISABLED')),
          `DISABLED=${value} is refused at startup`,
        );
      }
    });
  });
}
