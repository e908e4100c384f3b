/**
 * The Next.js proxy (and the route-handler wrappers) in-process, against a real emulator: what
 * the proxy hands Next.js — the answer for the browser, and the request headers for the page —
 * with real tokens, real refreshes and real cookies. The same code under `next start`, on both
 * runtimes, is in next-app.test.ts.
 *
 * Next.js applies a proxy's `NextResponse.next({ request: { headers } })` through the
 * `x-middleware-override-headers` and `x-middleware-request-<name>` headers of the proxy's
 * response: those are what these tests read to see the request the page will get.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NextRequest } from 'next/server';
import { decodeJwt } from 'jose';
import {
  CognitoGuard,
  ConfigurationError,
  fromEnv,
  type CognitoGuardOptions,
} from '../../src/index.js';
import { cognitoApiGuard, cognitoGuard, type CognitoProxy } from '../../src/next/index.js';
import { sessionCookies, startTestPool, type TestPool } from '../../src/testing/index.js';
import { JSON_ACCEPT } from '../support/browser.js';

const APP = 'http://127.0.0.1:3000';
/** A guard clock 70 s ahead: two-minute tokens are 50 s from expiry, inside the refresh margin. */
const SEVENTY_SECONDS_LATER = { now: () => Date.now() + 70_000 } as const;
const HTML = { accept: 'text/html' } as const;

/** The request headers Next.js passes on to the page, as the proxy set them (`undefined`: unchanged). */
function forwardedHeaders(response: Response): Map<string, string> | undefined {
  const names = response.headers.get('x-middleware-override-headers');
  if (names === null) return undefined;
  return new Map(
    names
      .split(',')
      .map((name) => [name, response.headers.get(`x-middleware-request-${name}`) ?? '']),
  );
}

/** A cookie's value from a Cookie header. */
function cookieIn(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split('; ')) {
    const equals = pair.indexOf('=');
    if (pair.slice(0, equals) === name) return pair.slice(equals + 1);
  }
  return undefined;
}

/** A cookie's value from a response's Set-Cookie headers. */
function setCookieValue(response: Response, name: string): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header?.slice(name.length + 1, header.indexOf(';'));
}

function request(path: string, headers: Record<string, string> = {}): NextRequest {
  return new NextRequest(`${APP}${path}`, { headers });
}

describe('cognito-guard/next proxy (in-process, real emulator)', () => {
  let pool: TestPool;
  let options: CognitoGuardOptions;

  before(async () => {
    // Two-minute tokens: a guard whose clock runs 70 s ahead sees them within the refresh margin
    // (60 s, at most half the lifetime) from the start.
    pool = await startTestPool({
      appUrl: APP,
      appClient: { accessTokenValiditySeconds: 120, idTokenValiditySeconds: 120 },
    });
    options = { ...fromEnv(pool.env), logger: { warn: () => undefined } };
  });
  after(async () => {
    await pool.stop();
  });

  /** A proxy over the example's paths, with `overrides` over the pool's options. */
  const proxyWith = (overrides: Partial<CognitoGuardOptions> = {}): CognitoProxy =>
    cognitoGuard({ ...options, ...overrides }).proxy([
      { path: '/claims' },
      { path: '/admin', groups: ['admin'] },
      { path: '/edit', groups: ['admin', 'editor'], anyGroup: true },
      { path: '/profile', redirectToLogin: true },
      { path: '/whoami', optional: true },
      { path: /^\/reports\/\d+$/, groups: ['admin'] },
    ]);

  it('a refreshed session: new cookies for the browser, and the same cookies on the request that goes on to the page', async () => {
    // Every access token is within the refresh margin: the first request refreshes.
    const proxy = proxyWith(SEVENTY_SECONDS_LATER);
    const session = await sessionCookies(pool, options, 'alice');
    const oldAccess = cookieIn(session.cookie, 'cognito_access_token');
    const response = await proxy(
      request('/profile', { cookie: `theme=dark; ${session.cookie}`, ...HTML }),
    );

    assert.equal(response.headers.get('x-middleware-next'), '1', 'the page renders');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const newAccess = setCookieValue(response, 'cognito_access_token');
    assert.ok(newAccess !== undefined && newAccess !== oldAccess, 'a new access token is set');
    assert.equal(decodeJwt(newAccess).username, 'alice');

    const forwarded = forwardedHeaders(response);
    assert.ok(forwarded !== undefined, 'the request headers are overridden');
    const cookie = forwarded.get('cookie');
    assert.equal(
      cookieIn(cookie, 'cognito_access_token'),
      newAccess,
      'the page sees the new token',
    );
    assert.equal(
      cookieIn(cookie, 'cognito_id_token'),
      setCookieValue(response, 'cognito_id_token'),
    );
    assert.equal(cookieIn(cookie, 'theme'), 'dark', "the app's own cookies pass unchanged");
    assert.equal(forwarded.get('accept'), 'text/html', 'other request headers pass unchanged');
  });

  it('an optional path refreshes too, so a page that only greets signed-in users sees fresh tokens', async () => {
    const proxy = proxyWith(SEVENTY_SECONDS_LATER);
    const session = await sessionCookies(pool, options, 'bob');
    const response = await proxy(request('/whoami', { cookie: session.cookie, ...JSON_ACCEPT }));
    const newAccess = setCookieValue(response, 'cognito_access_token');
    assert.ok(newAccess !== undefined);
    assert.equal(
      cookieIn(forwardedHeaders(response)?.get('cookie'), 'cognito_access_token'),
      newAccess,
    );

    const anonymous = await proxy(request('/whoami', JSON_ACCEPT));
    assert.equal(anonymous.headers.get('x-middleware-next'), '1');
    assert.equal(forwardedHeaders(anonymous), undefined);
  });

  it('a valid session passes untouched (no cookie, no header override), answered without a promise once verified', async () => {
    const proxy = proxyWith({ autoRefreshMarginSeconds: 0 });
    const session = await sessionCookies(pool, options, 'alice');
    const first = await proxy(request('/admin', { cookie: session.cookie, ...JSON_ACCEPT }));
    assert.equal(first.headers.get('x-middleware-next'), '1');
    assert.deepEqual(first.headers.getSetCookie(), []);
    assert.equal(forwardedHeaders(first), undefined);

    const cached = proxy(request('/admin', { cookie: session.cookie, ...JSON_ACCEPT }));
    assert.ok(!(cached instanceof Promise), 'the verified-token cache answers synchronously');
    assert.equal(cached.headers.get('x-middleware-next'), '1');
  });

  it('refuses as the core does: 401 for API callers, a redirect to login with returnTo for pages, 403 without the group', async () => {
    const proxy = proxyWith();
    const api = await proxy(request('/claims', JSON_ACCEPT));
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { error: string }).error, 'ERR_AUTHENTICATION_REQUIRED');
    assert.equal(api.headers.get('x-middleware-next'), null, 'the route does not run');

    const page = await proxy(request('/profile?tab=groups', HTML));
    assert.ok([302, 303, 307].includes(page.status), `a redirect (got ${page.status})`);
    // Absolute on the request's own host for Next.js's parser (which writes 127.0.0.1 as
    // localhost); Next.js answers the browser with the path alone (next-app.test.ts).
    const location = new URL(page.headers.get('location') ?? '');
    assert.equal(location.host, request('/').nextUrl.host);
    assert.equal(
      `${location.pathname}${location.search}`,
      '/login?returnTo=%2Fprofile%3Ftab%3Dgroups',
    );
    const notAPage = await proxy(request('/profile', JSON_ACCEPT));
    assert.equal(notAPage.status, 401, 'fetch() callers of a page still get 401');

    const carol = await sessionCookies(pool, options, 'carol');
    const forbidden = await proxy(request('/admin', { cookie: carol.cookie, ...JSON_ACCEPT }));
    assert.equal(forbidden.status, 403);
    const bob = await sessionCookies(pool, options, 'bob');
    const editor = await proxy(request('/edit', { cookie: bob.cookie, ...JSON_ACCEPT }));
    assert.equal(editor.headers.get('x-middleware-next'), '1', 'any one of the groups is enough');
  });

  it('a prefix covers its subpaths, not its lookalikes; an encoded letter is decoded before matching; a RegExp is tested against the path', async () => {
    const proxy = proxyWith();
    for (const path of ['/admin', '/admin/users', '/%61dmin', '/adm%69n/users', '/reports/42']) {
      const response = await proxy(request(path, JSON_ACCEPT));
      assert.equal(response.status, 401, `${path} is protected`);
    }
    for (const path of ['/administrator', '/', '/claimsx', '/reports/42/x', '/adm%zzin']) {
      const response = await proxy(request(path, JSON_ACCEPT));
      assert.equal(response.headers.get('x-middleware-next'), '1', `${path} passes`);
    }
  });

  it('a malformed path list is refused when the proxy is declared, naming every problem', () => {
    const auth = cognitoGuard(options);
    assert.throws(
      () =>
        auth.proxy([
          { path: '/admin', group: ['admin'] } as never,
          { path: 'claims' },
          { path: '/edit/' },
          { path: '/whoami', optional: true, groups: ['admin'] },
        ]),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.length === 4 &&
        error.problems[0] === 'proxy path 0: unknown key "group"',
    );
  });

  it('configuration is read at the first request, not when the module loads; a bad one is thrown there, every time', () => {
    let reads = 0;
    const auth = cognitoGuard(() => {
      reads += 1;
      return { ...options, secretKey: '' };
    });
    const proxy = auth.proxy([{ path: '/claims' }]);
    assert.equal(reads, 0, 'declaring the proxy reads nothing');
    assert.throws(() => proxy(request('/claims')), ConfigurationError);
    assert.throws(() => proxy(request('/claims')), ConfigurationError);
    assert.equal(reads, 2);
  });

  it('on the Edge runtime, a session store is refused with an error that names the runtime; cookie sessions work', async () => {
    const global = globalThis as { EdgeRuntime?: string };
    global.EdgeRuntime = 'edge-runtime';
    try {
      const stored = cognitoGuard({ ...options, sessionStore: 'redis://127.0.0.1:6379' });
      assert.throws(
        () => stored.proxy([{ path: '/claims' }])(request('/claims')),
        (error: unknown) =>
          error instanceof ConfigurationError &&
          /needs the Node\.js runtime, and this is the Edge runtime: use proxy\.ts/.test(
            error.message,
          ),
      );
      const memory = cognitoGuard({ ...options, sessionStore: 'memory' });
      assert.throws(() => memory.guard, /needs the Node\.js runtime/);
      const cookies = cognitoGuard(options).proxy([{ path: '/claims' }]);
      assert.equal((await cookies(request('/claims', JSON_ACCEPT))).status, 401);
    } finally {
      delete global.EdgeRuntime;
    }
  });

  it('AWS_COGNITO_SESSION_STORE=memory: one store per process, so guards of separate module graphs (proxy, route handlers, pages) share the sessions', async () => {
    const signIn = cognitoGuard({ ...options, sessionStore: 'memory' });
    const proxy = cognitoGuard({ ...options, sessionStore: 'memory' }).proxy([{ path: '/claims' }]);
    assert.equal(
      signIn.guard.options.sessionStore,
      cognitoGuard({ ...options, sessionStore: 'memory' }).guard.options.sessionStore,
    );
    const session = await sessionCookies(pool, signIn.guard, 'alice');
    assert.match(session.cookie, /^cognito_session=/);
    const response = await proxy(request('/claims', { cookie: session.cookie, ...JSON_ACCEPT }));
    assert.equal(response.headers.get('x-middleware-next'), '1');
  });

  it("AWS_COGNITO_SESSION_STORE=memory is spelled as the core spells it: ' memory ' is refused as the core refuses it", () => {
    for (const spelling of [' memory ', 'memory: ']) {
      assert.throws(
        () => new CognitoGuard({ ...options, sessionStore: spelling }),
        ConfigurationError,
        `the core refuses ${JSON.stringify(spelling)}`,
      );
      assert.throws(
        () => cognitoGuard({ ...options, sessionStore: spelling }).guard,
        ConfigurationError,
        JSON.stringify(spelling),
      );
    }
  });

  it("the process's memory store keeps time on the clock of the guard that creates it, as the core's does", async () => {
    // The store is kept on the global object (an earlier test may have created it): start afresh.
    const shared = globalThis as unknown as Record<symbol, unknown>;
    const slot = Symbol.for('cognito-guard/next: memory session store');
    const before = shared[slot];
    shared[slot] = undefined;
    try {
      const clock = { offsetMs: 0 };
      const auth = cognitoGuard({
        ...options,
        sessionStore: 'memory',
        now: () => Date.now() + clock.offsetMs,
      });
      const store = auth.guard.options.sessionStore!;
      const key = { user: 'u'.repeat(22), id: 'i'.repeat(43) };
      await store.set(key, 'session', 60);
      assert.equal(await store.get(key), 'session');
      clock.offsetMs = 61_000;
      assert.equal(await store.get(key), undefined, "expired on the guard's clock");
    } finally {
      shared[slot] = before;
    }
  });
});

describe('cognito-guard/next route handlers (in-process, real emulator)', () => {
  let pool: TestPool;
  let options: CognitoGuardOptions;

  before(async () => {
    pool = await startTestPool({
      appUrl: APP,
      appClient: { accessTokenValiditySeconds: 120, idTokenValiditySeconds: 120 },
    });
    options = { ...fromEnv(pool.env), logger: { warn: () => undefined } };
  });
  after(async () => {
    await pool.stop();
  });

  it('login() redirects to Cognito with a transaction cookie; callback() takes redirectTo or a function, exactly one', async () => {
    const auth = cognitoGuard(new CognitoGuard(options));
    const response = await auth.login()(new Request(`${APP}/login?returnTo=/profile`));
    assert.equal(response.status, 302);
    assert.ok(
      response.headers.get('location')?.startsWith(`${pool.emulator.domain}/oauth2/authorize?`),
    );
    assert.equal(
      response.headers.getSetCookie().filter((c) => c.startsWith('cognito_txn_')).length,
      1,
    );
    assert.throws(() => auth.callback(), ConfigurationError);
    assert.throws(
      () => auth.callback({ redirectTo: '/claims' }, () => new Response()),
      ConfigurationError,
    );
  });

  it("protect(): the handler runs with the identity; a refresh puts its cookies on the handler's response; 401 without a session", async () => {
    const auth = cognitoGuard({ ...options, ...SEVENTY_SECONDS_LATER });
    const handler = auth.protect({ groups: ['admin'] }, (_request, identity) =>
      Response.json({ user: identity?.claims.username }),
    );
    const session = await sessionCookies(pool, options, 'alice');
    const response = await handler(
      new Request(`${APP}/reports`, { headers: { cookie: session.cookie } }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { user: 'alice' });
    assert.ok(setCookieValue(response, 'cognito_access_token') !== undefined, 'refreshed');
    assert.equal(response.headers.get('cache-control'), 'no-store');

    const anonymous = await handler(new Request(`${APP}/reports`, { headers: JSON_ACCEPT }));
    assert.equal(anonymous.status, 401);
    const carol = await sessionCookies(pool, options, 'carol');
    const refused = await handler(
      new Request(`${APP}/reports`, { headers: { cookie: carol.cookie } }),
    );
    assert.equal(refused.status, 403);
  });

  it('cognitoApiGuard().protect(): a Bearer access token with the scope; cookies are not read', async () => {
    const api = cognitoApiGuard({
      region: options.region,
      userPoolId: options.userPoolId,
      clientId: options.clientId,
      issuer: options.issuer,
    });
    const handler = api.protect({ scopes: ['email'] }, (_request, identity) =>
      Response.json({ sub: identity?.claims.sub }),
    );
    const session = await sessionCookies(pool, options, 'bob');
    const access = cookieIn(session.cookie, 'cognito_access_token');
    assert.ok(access !== undefined);
    const ok = await handler(
      new Request(`${APP}/api/me`, { headers: { authorization: `Bearer ${access}` } }),
    );
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { sub: string }).sub, decodeJwt(access).sub);
    const cookieOnly = await handler(
      new Request(`${APP}/api/me`, { headers: { cookie: session.cookie } }),
    );
    assert.equal(cookieOnly.status, 401);
    assert.match(cookieOnly.headers.get('www-authenticate') ?? '', /^Bearer /);
  });
});
