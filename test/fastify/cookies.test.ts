/**
 * The adapter reads the raw Cookie header and sends every Set-Cookie itself, so it must work
 * with `@fastify/cookie` registered and without it, and never fight the app's own cookies: on
 * every path (a redirect the guard answers, a handler that runs after the guard, a refusal) the
 * guard's cookies and the app's arrive as separate Set-Cookie headers, none lost, none joined.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseSetCookie } from 'cookie';
import { cognitoGuard } from '../../src/fastify/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import type { CognitoGuardOptions } from '../../src/index.js';
import { login } from '../support/sign-in.js';
import { type BrowserResponse, TestBrowser } from '../support/browser.js';
import { cookieNames, SESSION_COOKIES } from '../support/cookies.js';
import { type FastifyUnderTest, startFastify } from '../support/fastify.js';

interface Mode {
  readonly name: string;
  /** Registers what the app uses for cookies (or nothing). */
  setup(app: FastifyInstance): Promise<void>;
  /** Sets one of the app's own cookies, the way an app in this mode does. */
  setCookie(reply: FastifyReply, name: string, value: string): void;
}

const MODES: readonly Mode[] = [
  {
    name: 'with @fastify/cookie',
    setup: async (app) => {
      await app.register(fastifyCookie);
    },
    setCookie: (reply, name, value) => {
      void reply.setCookie(name, value, { path: '/', httpOnly: true });
    },
  },
  {
    name: 'without @fastify/cookie',
    setup: async () => {
      // Nothing registered: the app writes its own Set-Cookie headers.
    },
    setCookie: (reply, name, value) => {
      void reply.header('set-cookie', `${name}=${value}; Path=/; HttpOnly`);
    },
  },
];

/** Every Set-Cookie header holds exactly one cookie (nothing joined with a comma). */
function assertSeparate(response: BrowserResponse, expected: readonly string[]): void {
  const names = cookieNames(response.setCookies);
  for (const name of expected) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  for (const header of response.setCookies) {
    const parsed = parseSetCookie(header);
    assert.ok(parsed.name !== '', header.slice(0, 40));
    // A second cookie folded into one header would show up as `, name=` after the first.
    assert.doesNotMatch(header, /, *[\w-]+=/, `one cookie per header: ${parsed.name}`);
  }
}

for (const mode of MODES) {
  describe(`cookies ${mode.name}`, () => {
    let emulator: EmulatorHandle;
    let site: FastifyUnderTest;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      site = await startFastify(emulator, async (app: FastifyInstance, options) => {
        await mode.setup(app);
        await buildApp(app, options, mode);
      });
    });
    after(async () => {
      await site.stop();
      await emulator.stop();
    });

    it("keeps the guard's cookies and the app's apart through login, a protected page, refresh and logout", async () => {
      const browser = new TestBrowser();
      // Login: the guard answers the redirect, after an app hook set a cookie.
      const started = await browser.request(`${site.url}/login`);
      assert.equal(started.status, 302);
      assertSeparate(started, ['theme']);
      assert.ok(
        cookieNames(started.setCookies).some((name) => name.includes('cognito_txn_')),
        'the login transaction cookie is set',
      );

      // Callback: the guard's redirect carries the three session cookies and the app's.
      const callback = await login(browser, site.url, 'alice');
      assert.equal(callback.status, 302);
      assertSeparate(callback, [...SESSION_COOKIES, 'theme']);
      for (const header of callback.setCookies.filter((value) => value.startsWith('cognito_'))) {
        assert.match(header, /; HttpOnly/i, 'session cookies stay HttpOnly');
      }

      // A protected page: the handler runs after the guard and adds a cookie of its own; the
      // app still reads the request's cookies its usual way.
      const claims = await browser.request(`${site.url}/claims`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(claims.status, 200);
      assertSeparate(claims, ['theme', 'visited']);
      assert.deepEqual(JSON.parse(claims.body), {
        username: 'alice',
        theme: mode.name.startsWith('with ') ? 'dark' : null,
      });

      // Refresh: the guard continues with new session cookies, the handler adds one and redirects.
      const refreshed = await browser.request(`${site.url}/refresh`, {
        method: 'POST',
        headers: { 'sec-fetch-site': 'same-origin', origin: site.url },
      });
      assert.equal(refreshed.status, 303);
      assertSeparate(refreshed, ['cognito_access_token', 'cognito_id_token', 'theme', 'refreshed']);
      assert.equal(refreshed.headers.get('cache-control'), 'no-store');

      // Logout: the guard clears every session cookie beside the app's.
      const loggedOut = await browser.request(`${site.url}/logout`, {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(loggedOut.status, 302);
      assertSeparate(loggedOut, [...SESSION_COOKIES, 'theme']);
      for (const name of SESSION_COOKIES)
        assert.equal(browser.cookie(site.url, name), undefined, name);
      assert.equal(browser.cookie(site.url, 'theme'), 'dark');
    });

    it('a refusal from the guard keeps the cookie an earlier app hook set', async () => {
      const response = await fetch(`${site.url}/claims`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(response.status, 401);
      assert.deepEqual(cookieNames(response.headers.getSetCookie()), ['theme']);
    });
  });
}

async function buildApp(
  app: FastifyInstance,
  options: CognitoGuardOptions,
  mode: Mode,
): Promise<void> {
  await app.register(cognitoGuard, { guard: options });
  const auth = app.cognito;
  // An app-wide hook that sets a cookie on every response, before any guard runs.
  app.addHook('onRequest', (_request, reply, done) => {
    mode.setCookie(reply, 'theme', 'dark');
    done();
  });
  app.get('/login', auth.login());
  app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
  app.get('/claims', { preHandler: auth.required() }, (request, reply) => {
    mode.setCookie(reply, 'visited', '1');
    const parsed = (request as { cookies?: Record<string, string | undefined> }).cookies;
    return { username: request.cognito?.claims.username, theme: parsed?.['theme'] ?? null };
  });
  app.post('/refresh', { preHandler: auth.refresh() }, (_request, reply) => {
    mode.setCookie(reply, 'refreshed', '1');
    return reply.redirect('/claims', 303);
  });
  app.get('/logout', auth.logout());
}
