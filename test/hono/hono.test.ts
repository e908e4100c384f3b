/**
 * `cognito-guard/hono` beyond the example app (which the conformance suite runs): Hono's own
 * in-process requests (`app.request()`), `c.get('cognito')`/`getIdentity(c)`, a callback that
 * continues to the app's handler (even one that answers with another server's response), and the
 * same app behind `hono/aws-lambda` with API Gateway HTTP API events (payload 2.0: cookies in the
 * `cookies` array both ways), against the emulator.
 */
/* eslint-disable @typescript-eslint/no-deprecated -- Hono 4's own Lambda adapter (`hono/aws-lambda`)
   names `@hono/aws-lambda` as its successor for Hono 5, which is not on the registry yet. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Hono } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { getRequestListener } from '@hono/node-server';
import {
  ConfigurationError,
  type CognitoGuardOptions,
  type CognitoIdentity,
} from '../../src/index.js';
import { cognitoGuard, getIdentity } from '../../src/hono/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { closeServer, freePort, listenOn } from '../support/http.js';
import { CLIENT_ID, DEMO_PASSWORD, guardOptions, registerClient } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { readForm, TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { cookieNames, SESSION_COOKIES } from '../support/cookies.js';

/** The app under test: the guard's middleware in Hono's idiom, and handlers that read it. */
function createApp(options: CognitoGuardOptions, emulator: EmulatorHandle): Hono {
  const app = new Hono();
  const auth = cognitoGuard(options);
  app.onError((error, c) =>
    c.json({ error: error instanceof ConfigurationError ? error.code : 'other' }, 500),
  );
  app.get('/login', auth.login());
  // No redirectTo: the route's own handler answers, with the identity and returnTo set.
  app.get('/postlogin', auth.callback(), (c) =>
    c.json(
      { username: getIdentity(c).claims.username, returnTo: c.get('cognitoReturnTo') ?? null },
      200,
      { 'cache-control': 'public, max-age=600' },
    ),
  );
  // Answers with another server's response (immutable headers): the session must still be set.
  app.post('/refresh', auth.refresh(), () =>
    fetch(`${emulator.url}/${emulator.poolId}/.well-known/openid-configuration`),
  );
  app.get('/claims', auth.required(), (c) => c.json({ username: getIdentity(c).claims.username }));
  app.get('/admin', auth.required({ groups: ['admin'] }), (c) => c.json(getIdentity(c).groups));
  app.get('/whoami', auth.optional(), (c) =>
    c.json({ username: c.get('cognito')?.claims.username }),
  );
  // A wiring mistake: getIdentity on a route without required().
  app.get('/unguarded', (c) => c.json({ username: getIdentity(c).claims.username }));
  return app;
}

describe('cognito-guard/hono', () => {
  let emulator: EmulatorHandle;
  let server: Server;
  let appUrl: string;
  let app: Hono;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    registerClient(emulator, appUrl);
    app = createApp(guardOptions(emulator, appUrl), emulator);
    const listener = getRequestListener(app.fetch);
    server = createServer((req, res) => {
      void listener(req, res);
    });
    await listenOn(server, port);
  });
  after(async () => {
    await closeServer(server);
    await emulator.stop();
  });

  it("app.request(): c.get('cognito') is the verified identity; 401, 403 and optional() as for every adapter", async () => {
    const alice = await emulator.mintToken({ use: 'access', clientId: CLIENT_ID });
    const carol = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'carol',
    });
    const get = (path: string, token?: string) =>
      app.request(path, {
        headers: { ...JSON_ACCEPT, ...(token ? { cookie: `cognito_access_token=${token}` } : {}) },
      });
    const anonymous = await get('/claims');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.deepEqual(await (await get('/claims', alice)).json(), { username: 'alice' });
    assert.deepEqual(await (await get('/admin', alice)).json(), ['admin']);
    assert.equal((await get('/admin', carol)).status, 403);
    assert.deepEqual(await (await get('/whoami', carol)).json(), { username: 'carol' });
    assert.deepEqual(await (await get('/whoami')).json(), {});
  });

  it('getIdentity(c) on a route without required() is a wiring error, not an anonymous identity', async () => {
    const token = await emulator.mintToken({ use: 'access', clientId: CLIENT_ID });
    const response = await app.request('/unguarded', {
      headers: { cookie: `cognito_access_token=${token}` },
    });
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: 'ERR_CONFIGURATION' });
  });

  it("callback() without redirectTo: the route's handler answers with the identity and returnTo, and its response carries the session", async () => {
    const browser = new TestBrowser();
    const callback = await login(browser, appUrl, 'bob', undefined, '/login?returnTo=/reports');
    assert.equal(callback.status, 200);
    assert.deepEqual(JSON.parse(callback.body), { username: 'bob', returnTo: '/reports' });
    for (const name of SESSION_COOKIES) {
      assert.ok(cookieNames(callback.setCookies).includes(name), `${name} was set`);
    }
    for (const cookie of callback.setCookies) {
      assert.equal(cookie.match(/HttpOnly/g)?.length, 1, 'one cookie per Set-Cookie header');
    }
    assert.equal(callback.headers.get('cache-control'), 'no-store', "overrides the app's caching");

    const before = browser.cookie(appUrl, 'cognito_access_token');
    const refreshed = await browser.request(`${appUrl}/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 200);
    assert.equal(JSON.parse(refreshed.body).issuer, emulator.issuer, 'the proxied body');
    assert.ok(cookieNames(refreshed.setCookies).includes('cognito_access_token'));
    assert.notEqual(browser.cookie(appUrl, 'cognito_access_token'), before, 'new tokens');
    const claims = await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT });
    assert.deepEqual(JSON.parse(claims.body), { username: 'bob' });
  });
});

describe('cognito-guard/hono on AWS Lambda (hono/aws-lambda, API Gateway HTTP API payload 2.0)', () => {
  const APP_URL = 'https://app.example.com';
  let emulator: EmulatorHandle;
  let lambda: ReturnType<typeof handle>;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    registerClient(emulator, APP_URL);
    lambda = handle(createApp(guardOptions(emulator, APP_URL), emulator));
  });
  after(async () => {
    await emulator.stop();
  });

  /** An HTTP API (payload 2.0) event, with cookies in `cookies` as API Gateway sends them. */
  function event(path: string, query: string, cookies: readonly string[]): LambdaEvent {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: query,
      cookies: [...cookies],
      headers: { host: 'app.example.com', accept: 'application/json' },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        authentication: null,
        authorizer: {},
        domainName: 'app.example.com',
        domainPrefix: 'app',
        http: {
          method: 'GET',
          path,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test',
        },
        requestId: 'request',
        routeKey: '$default',
        stage: '$default',
        time: '30/Nov/2026:00:00:00 +0000',
        timeEpoch: 0,
      },
    };
  }

  /** `name=value` pairs of Set-Cookie values (what a browser sends back). */
  const jar = (setCookies: readonly string[]) =>
    setCookies.map((cookie) => cookie.slice(0, cookie.indexOf(';')));

  it('signs in and serves a protected route, with several cookies in and out of the `cookies` arrays', async () => {
    const started = await lambda(event('/login', 'returnTo=%2Freports', []));
    assert.equal(started.statusCode, 302);
    assert.equal(started.cookies?.length, 1, 'the transaction cookie, in `cookies`');
    const authorize = (started.headers as Record<string, string>)['location']!;

    // The hosted login page, as a browser would fill it in.
    const browser = new TestBrowser();
    const page = await browser.follow(authorize);
    const form = readForm(page.body, page.url);
    const submitted = await browser.request(form.action, {
      form: { ...form.fields, username: 'alice', password: DEMO_PASSWORD },
    });
    const callbackUrl = new URL(submitted.location!);
    assert.equal(callbackUrl.origin + callbackUrl.pathname, `${APP_URL}/postlogin`);

    const callback = await lambda(
      event('/postlogin', callbackUrl.search.slice(1), [
        'theme=dark',
        ...jar(started.cookies ?? []),
        'analytics=1',
      ]),
    );
    assert.equal(callback.statusCode, 200);
    assert.deepEqual(JSON.parse(callback.body), { username: 'alice', returnTo: '/reports' });
    for (const name of SESSION_COOKIES) {
      assert.ok(cookieNames(callback.cookies ?? []).includes(name), `${name} in \`cookies\``);
    }
    assert.ok(
      !Object.keys(callback.headers).some((name) => name.toLowerCase() === 'set-cookie'),
      'no joined Set-Cookie header',
    );

    const claims = await lambda(event('/claims', '', ['theme=dark', ...jar(callback.cookies!)]));
    assert.equal(claims.statusCode, 200);
    assert.deepEqual(JSON.parse(claims.body), { username: 'alice' });
    const anonymous = await lambda(event('/claims', '', ['theme=dark']));
    assert.equal(anonymous.statusCode, 401);
  });
});

/**
 * Type-level checks (run by `npm run lint`'s tsc): `c.get('cognito')` is typed through
 * `ContextVariableMap` on any Hono app, without declaring the variable in the app's `Env`.
 */
export function typedVariables(app: Hono): void {
  app.get('/typed', (c) => {
    const identity: CognitoIdentity | undefined = c.get('cognito');
    const returnTo: string | undefined = c.get('cognitoReturnTo');
    // @ts-expect-error -- the identity may be absent: a route must check it or use getIdentity(c)
    const present: CognitoIdentity = c.get('cognito');
    // @ts-expect-error -- typed as an identity, not a string
    const wrong: string = c.get('cognito');
    return c.json({ sub: identity?.claims.sub, returnTo, present, wrong });
  });
}
