/**
 * Security cases B61–B67 (availability, information leakage, scopes, proxy headers) against the
 * example app: oversized input, JWKS outages and garbage at a real emulator, what error bodies
 * reveal, scope checks, and X-Forwarded-* spoofing.
 */
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { cognitoGuard } from '../../src/express/index.js';
import {
  beginLogin,
  cookieHeader,
  decodeJwt,
  HTML_ACCEPT,
  JSON_ACCEPT,
  looksLikeStackTrace,
  rawRequest,
  sessionCookiesSet,
  signInAt,
  startApp,
  startSecurityStack,
  TestBrowser,
  type App,
  type SecurityStack,
} from './support.js';
import { EXPRESS_VERSIONS, listen, login } from '../support/stack.js';

/** Every message an error response may carry (src/core/errors.ts). */
const FIXED_MESSAGES = new Set([
  'Authentication is required to access this resource.',
  'Cognito group membership is required to access this resource.',
  'A required scope is missing for this resource.',
  'The sign-in could not be completed. Please start the sign-in again.',
  'Cross-site request refused.',
  'Refresh is not enabled.',
  'The session could not be refreshed. Please sign in again.',
  'The sign-in service is unavailable. Please try again shortly.',
]);

describe('availability, leakage, scopes, proxies (B61–B67)', () => {
  let sec: SecurityStack;
  let appUrl: string;
  /** A signed-in browser and its genuine access token. */
  let alice: TestBrowser;
  let accessToken: string;

  before(async () => {
    sec = await startSecurityStack();
    appUrl = sec.appUrl;
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
      expect: number[];
    }[] = [
      {
        label: '12 KB bearer token',
        path: '/claims',
        headers: { authorization: `Bearer ${junkJwt(12_000)}` },
        expect: [401],
      },
      {
        label: '12 KB access cookie',
        path: '/claims',
        headers: { cookie: `cognito_access_token=${junkJwt(12_000)}` },
        expect: [401],
      },
      {
        label: '20 KB bearer token',
        path: '/claims',
        headers: { authorization: `Bearer ${junkJwt(20_000)}` },
        expect: [431],
      },
      {
        label: '40 KB cookie header',
        path: '/claims',
        headers: { cookie: `a=${'x'.repeat(40_000)}` },
        expect: [431],
      },
      {
        label: 'Basic credentials',
        path: '/claims',
        headers: { authorization: 'Basic YWxpY2U6cGFzcw==' },
        expect: [401],
      },
      {
        label: 'Bearer with junk characters',
        path: '/claims',
        headers: { authorization: 'Bearer <script>' },
        expect: [401],
      },
      {
        label: 'Bearer and nothing else',
        path: '/claims',
        headers: { authorization: 'Bearer' },
        expect: [401],
      },
      {
        label: 'many tiny cookies',
        path: '/claims',
        headers: { cookie: Array.from({ length: 1000 }, (_, i) => `c${i}=1`).join('; ') },
        expect: [401],
      },
      {
        label: '9 KB refresh cookie',
        path: '/refresh',
        method: 'POST',
        headers: { cookie: `cognito_refresh_token=${'a.'.repeat(4).concat('x'.repeat(9000))}` },
        expect: [401],
      },
      {
        label: '10 KB state',
        path: `/postlogin?code=x&state=${'s'.repeat(10_000)}`,
        headers: {},
        expect: [400],
      },
      {
        label: '10 KB transaction cookie',
        path: '/postlogin?code=x&state=s',
        headers: { cookie: `cognito_txn_x=${'t'.repeat(10_000)}` },
        expect: [400],
      },
    ];
    for (const { label, path, method, headers, expect } of cases) {
      const response = await rawRequest(`${appUrl}${path}`, {
        ...(method === undefined ? {} : { method }),
        headers: { ...JSON_ACCEPT, ...headers },
      });
      assert.ok(expect.includes(response.status), `${label}: ${response.status}`);
      assert.ok(!looksLikeStackTrace(response.body), label);
    }
  });

  describe('B62 B63 JWKS outages and garbage, at an app instance with nothing cached', () => {
    /** A fresh instance (empty key cache) configured by `guard`. */
    async function freshApp(guard: Parameters<typeof startApp>[1] = {}): Promise<App> {
      return startApp(sec.emulator, {
        ...guard,
        guard: { domain: sec.hostile.url, ...guard.guard },
      });
    }
    async function presentAt(app: App): Promise<globalThis.Response> {
      return fetch(`${app.appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, cookie: `cognito_access_token=${accessToken}` },
      });
    }

    it('B62 JWKS answering 500 is a 502; hanging past the timeout a 504; unreachable a 503 with Retry-After — never a 200', async () => {
      const closed = createServer();
      const closedPort = await listen(closed);
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
          guard: {},
          status: 502,
          code: 'ERR_COGNITO_BAD_RESPONSE',
        },
        {
          label: 'hang',
          fault: { hang: true, times: 1 },
          guard: { httpTimeoutMs: 300 },
          status: 504,
          code: 'ERR_COGNITO_TIMEOUT',
        },
        {
          label: 'unreachable',
          fault: undefined,
          guard: { fetch: unreachable },
          status: 503,
          code: 'ERR_COGNITO_UNREACHABLE',
        },
      ] as const;
      for (const outage of outages) {
        const app = await freshApp({ guard: outage.guard });
        if (outage.fault !== undefined) sec.emulator.setFault('jwks', outage.fault);
        try {
          const response = await presentAt(app);
          assert.equal(response.status, outage.status, outage.label);
          const body = await response.text();
          assert.equal(JSON.parse(body).error, outage.code, outage.label);
          if (outage.status === 503)
            assert.ok(response.headers.get('retry-after'), "response.headers.get('retry-after')");
          assert.match(app.log.text(), /JWKS fetch failed/, outage.label);
        } finally {
          sec.emulator.setFault('jwks', null);
          await app.stop();
        }
      }
    });

    it('B62 a login at an instance that cannot get the JWKS fails closed (502, no session); an instance with cached keys keeps working', async () => {
      const app = await freshApp({
        register: { clientId: 'b62-login' },
        guard: { clientId: 'b62-login' },
      });
      sec.emulator.setFault('jwks', { status: 500, body: 'down' });
      try {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, app.appUrl);
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
        { label: 'truncated JSON', body: '{"keys":[{"kty":"RSA"', contentType: 'application/json' },
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
    const disabledRefresh = await startApp(sec.emulator, { guard: { refreshFlowEnabled: false } });
    const throwing = await startApp(sec.emulator, {
      guard: {
        redirectUrl: () => {
          throw new Error(`boom in /srv/app/secret-path with ${accessToken}`);
        },
      },
    }).catch(async (error: unknown) => {
      // Not started: the first app must not stay open (a server left open hangs the file).
      await disabledRefresh.stop();
      throw error;
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
          init: { headers: { cookie: cookieHeader(starter, appUrl) } },
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
              authorization: `Bearer ${await sec.emulator.mintToken({ use: 'access', username: 'carol', clientId: 'test-client' })}`,
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
          url: `${disabledRefresh.appUrl}/refresh`,
          init: { method: 'POST' },
          expect: 404,
        },
        { label: 'unexpected exception in app code', url: `${throwing.appUrl}/login`, expect: 502 },
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
            cookie = { cookie: cookieHeader(browser, appUrl) };
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
            assert.ok(!looksLikeStackTrace(body), probe.label);
            for (const secret of [
              accessToken.slice(0, 30),
              code,
              started.state,
              'Traceback',
              '/srv/app',
              'boom',
              'access_denied',
            ]) {
              assert.ok(
                !body.includes(secret),
                `${probe.label}: body contains ${secret.slice(0, 12)}…`,
              );
            }
            // Only the fixed, user-facing message: no operator detail, no upstream text.
            const message = /json/.test(response.headers.get('content-type') ?? '')
              ? (JSON.parse(body) as { message: string }).message
              : /<main><h1>[^<]*<\/h1><p>([^<]*)<\/p>/.exec(body)?.[1];
            assert.ok(
              FIXED_MESSAGES.has(message ?? ''),
              `${probe.label}: ${message ?? body.slice(0, 80)}`,
            );
            assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
            assert.match(
              response.headers.get('content-type') ?? '',
              /^(application\/json|text\/html)/,
            );
          } finally {
            sec.hostile.onToken = undefined;
          }
        }
      }
      assert.ok(!throwing.log.text().includes('boom'), 'not even the log carries the message');
    } finally {
      await disabledRefresh.stop();
      await throwing.stop();
    }
  });

  it('B66 required scopes are checked exactly; a scope Cognito silently dropped is 403 insufficient_scope', async () => {
    const app = await startApp(sec.emulator, {
      register: { clientId: 'b66-scopes', allowedScopes: ['openid', 'email', 'profile'] },
      guard: { clientId: 'b66-scopes', scopes: ['openid', 'email', 'profile', 'phone'] },
      extend: (express, options) => {
        const auth = cognitoGuard(options);
        const routes: Record<string, string[]> = {
          phone: ['phone'],
          openid: ['openid'],
          open: ['open'],
          both: ['openid', 'email'],
          admin: ['aws.cognito.signin.user.admin'],
        };
        for (const [name, scopes] of Object.entries(routes)) {
          express.get(
            `/scoped/${name}`,
            auth.required({ scopes }),
            (_req: Request, res: Response) => {
              res.json({ ok: true });
            },
          );
        }
      },
    });
    try {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, app.appUrl);
      assert.equal(
        new URL(started.authorizeUrl).searchParams.get('scope'),
        'openid email profile phone',
      );
      assert.equal(
        (await browser.request(await signInAt(browser, started.authorizeUrl, 'bob'))).status,
        302,
      );
      const granted = decodeJwt(browser.cookie(app.appUrl, 'cognito_access_token')!).payload.scope;
      assert.equal(
        granted,
        'openid email profile',
        'precondition: Cognito dropped phone without saying so',
      );

      const expect: Record<string, number> = {
        phone: 403,
        openid: 200,
        open: 403,
        both: 200,
        admin: 403,
      };
      for (const [name, status] of Object.entries(expect)) {
        const response = await browser.request(`${app.appUrl}/scoped/${name}`, {
          headers: JSON_ACCEPT,
        });
        assert.equal(response.status, status, name);
        if (status === 403) {
          assert.equal(
            response.headers.get('www-authenticate'),
            'Bearer realm="cognito-guard", error="insufficient_scope"',
          );
          assert.equal(JSON.parse(response.body).error, 'ERR_SCOPE_REQUIRED');
        }
      }
    } finally {
      await app.stop();
    }
  });

  for (const version of EXPRESS_VERSIONS) {
    it(`B67 X-Forwarded-Proto/Host/For are ignored: they decide neither Secure cookies, redirect_uri, logout_uri nor the same-origin check (${version})`, async () => {
      const app = await startApp(sec.emulator, {
        express: version,
        register: { clientId: `b67-${version}` },
        guard: { clientId: `b67-${version}` },
      });
      const secure = await startApp(sec.emulator, {
        express: version,
        guard: { clientId: `b67-${version}`, secureCookies: true },
      }).catch(async (error: unknown) => {
        await app.stop();
        throw error;
      });
      const forwarded = {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-for': '10.0.0.1',
        forwarded: 'for=10.0.0.1;host=evil.example;proto=https',
      };
      try {
        const start = await rawRequest(`${app.appUrl}/login`, { headers: forwarded });
        const authorize = new URL(start.headers.location!);
        assert.equal(authorize.searchParams.get('redirect_uri'), `${app.appUrl}/postlogin`);
        const txn = (start.headers['set-cookie'] ?? []).find((c) => c.includes('cognito_txn_'))!;
        assert.ok(
          !txn.startsWith('__Host-') && !txn.includes('Secure'),
          'https claimed by a header is not trusted',
        );
        // And the reverse: configuration asks for Secure, a plain-http hop does not undo it.
        const secureStart = await rawRequest(`${secure.appUrl}/login`, {
          headers: { 'x-forwarded-proto': 'http' },
        });
        const secureTxn = (secureStart.headers['set-cookie'] ?? []).find((c) =>
          c.includes('cognito_txn_'),
        )!;
        assert.match(secureTxn, /^__Host-.*; Secure/);

        const logout = await rawRequest(`${app.appUrl}/logout`, {
          headers: { ...forwarded, 'sec-fetch-site': 'same-origin' },
        });
        assert.equal(
          new URL(logout.headers.location!).searchParams.get('logout_uri'),
          `${app.appUrl}/postlogout`,
        );

        const browser = new TestBrowser();
        await login(browser, app.appUrl, 'bob');
        const cookie = [...browser.cookiesFor(app.appUrl)].map(([n, v]) => `${n}=${v}`).join('; ');
        const host = new URL(app.appUrl).host;
        for (const origin of ['https://evil.example', `https://${host}`]) {
          const refresh = await rawRequest(`${app.appUrl}/refresh`, {
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
        const sameOrigin = await rawRequest(`${app.appUrl}/refresh`, {
          method: 'POST',
          headers: { ...forwarded, origin: app.appUrl, cookie },
        });
        assert.equal(sameOrigin.status, 303, 'control: our own origin');
      } finally {
        await app.stop();
        await secure.stop();
      }
    });
  }
});
