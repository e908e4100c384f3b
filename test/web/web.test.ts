/**
 * `cognito-guard/web` on Node: the parts the conformance suite does not reach through the example
 * app — an app's own response taking the session (mutable or not), continuations, the request
 * view, the synchronous cache-answered path, and wiring mistakes refused at declaration. The app
 * is served over real HTTP (a Fetch handler behind Node's server, as Bun or Deno would serve it),
 * against the emulator.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getRequestListener } from '@hono/node-server';
import { ConfigurationError, type CognitoGuardOptions } from '../../src/index.js';
import {
  cognitoGuard,
  toResponse,
  withSession,
  WebRequest,
  type ContinueResult,
  type WebHandler,
} from '../../src/web/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { closeServer, freePort, listenOn } from '../support/http.js';
import { guardOptions, registerClient } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { createServer, type Server } from 'node:http';
import { cookieNames, SESSION_COOKIES } from '../support/cookies.js';

/** Serves a Fetch handler on 127.0.0.1 with Node's HTTP server. */
async function serve(handler: WebHandler, port: number): Promise<Server> {
  const listener = getRequestListener(handler);
  const server = createServer((req, res) => {
    void listener(req, res);
  });
  await listenOn(server, port);
  return server;
}

describe('cognito-guard/web over HTTP', () => {
  let emulator: EmulatorHandle;
  let server: Server;
  let appUrl: string;
  let options: CognitoGuardOptions;
  /** How the callback's continuation answers: the app's own JSON, or an immutable redirect. */
  let callbackAnswer: 'json' | 'redirect' = 'json';

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    registerClient(emulator, appUrl);
    options = guardOptions(emulator, appUrl);
    const auth = cognitoGuard(options);
    const signedIn = auth.required();
    const routes: Record<string, WebHandler> = {
      'GET /login': auth.login(),
      'GET /postlogin': auth.callback({}, (request, result) =>
        callbackAnswer === 'json'
          ? Response.json(
              { username: result.identity?.claims.username, returnTo: result.returnTo ?? null },
              { headers: { 'cache-control': 'public, max-age=600' } },
            )
          : Response.redirect(new URL(result.returnTo ?? '/claims', request.url), 302),
      ),
      // A response straight from fetch() has immutable headers: the session must still reach
      // the browser.
      'POST /refresh': auth.refresh(() =>
        fetch(`${emulator.url}/${emulator.poolId}/.well-known/openid-configuration`),
      ),
      'GET /claims': async (request) => {
        const result = await signedIn(request);
        if (result instanceof Response) return result;
        return withSession(result, Response.json({ username: result.identity?.claims.username }));
      },
    };
    server = await serve((request) => {
      const route = routes[`${request.method} ${new URL(request.url).pathname}`];
      return route === undefined
        ? Promise.resolve(new Response(null, { status: 404 }))
        : route(request);
    }, port);
  });
  after(async () => {
    await closeServer(server);
    await emulator.stop();
  });

  it("callback(options, then): the app's own response carries the session, each cookie its own Set-Cookie, never cacheable", async () => {
    callbackAnswer = 'json';
    const browser = new TestBrowser();
    const callback = await login(browser, appUrl, 'alice', undefined, '/login?returnTo=/reports');
    assert.equal(callback.status, 200);
    assert.deepEqual(JSON.parse(callback.body), { username: 'alice', returnTo: '/reports' });
    for (const name of SESSION_COOKIES) {
      assert.ok(cookieNames(callback.setCookies).includes(name), `${name} was set`);
    }
    for (const cookie of callback.setCookies) {
      assert.equal(cookie.match(/HttpOnly/g)?.length, 1, 'one cookie per Set-Cookie header');
    }
    assert.equal(callback.headers.get('cache-control'), 'no-store', "overrides the app's caching");
    assert.equal((await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT })).status, 200);
  });

  it("a continuation answering with another server's response (immutable headers) still sets the session", async () => {
    callbackAnswer = 'redirect';
    const browser = new TestBrowser();
    const callback = await login(browser, appUrl, 'bob', undefined, '/login?returnTo=/reports');
    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${appUrl}/reports`);
    for (const name of SESSION_COOKIES) {
      assert.ok(cookieNames(callback.setCookies).includes(name), `${name} was set`);
    }
    const claims = await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT });
    assert.deepEqual(JSON.parse(claims.body), { username: 'bob' });

    const oldAccess = browser.cookie(appUrl, 'cognito_access_token');
    const refreshed = await browser.request(`${appUrl}/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 200);
    assert.equal(JSON.parse(refreshed.body).issuer, emulator.issuer, 'the proxied body');
    assert.ok(cookieNames(refreshed.setCookies).includes('cognito_access_token'));
    assert.notEqual(browser.cookie(appUrl, 'cognito_access_token'), oldAccess, 'new tokens');
    assert.equal((await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT })).status, 200);
  });

  it('a protector answers without a promise once the tokens are verified (the hot path)', async () => {
    const browser = new TestBrowser();
    await login(browser, appUrl, 'carol');
    const cookie = ['cognito_access_token', 'cognito_id_token']
      .map((name) => `${name}=${browser.cookie(appUrl, name)!}`)
      .join('; ');
    const protect = cognitoGuard({ ...options, logger: { warn: () => undefined } }).required();
    const request = () => new Request(`${appUrl}/claims`, { headers: { cookie } });
    const first = protect(request());
    assert.ok(first instanceof Promise, 'the first sight of a token verifies it');
    const verified = await first;
    assert.ok(!(verified instanceof Response));
    const second = protect(request());
    assert.ok(!(second instanceof Promise), 'a cached token is answered synchronously');
    assert.ok(!(second instanceof Response));
    assert.equal(second.identity?.claims.username, 'carol');
    const anonymous = await protect(new Request(`${appUrl}/claims`, { headers: JSON_ACCEPT }));
    assert.ok(anonymous instanceof Response);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  });
});

describe('cognito-guard/web building blocks', () => {
  const options: CognitoGuardOptions = {
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_example',
    domain: 'https://auth.example.com',
    clientId: 'client',
    redirectUrl: 'https://app.example.com/postlogin',
    logoutUrl: 'https://app.example.com/postlogout',
    secretKey: 'web-adapter-test-secret-web-adapter-test-secret',
    logger: { warn: () => undefined },
  };
  const session: ContinueResult = {
    action: 'continue',
    identity: undefined,
    headers: { 'cache-control': 'no-store' },
    setCookies: ['a=1; Path=/; HttpOnly', 'b=2; Path=/; HttpOnly', 'c=3; Path=/; HttpOnly'],
  };

  it('the request view gives the core the path and query, never the host or a fragment', () => {
    const view = (url: string) => new WebRequest(new Request(url)).url;
    assert.equal(view('https://evil.example:8443/logout?x=1&y=%2F'), '/logout?x=1&y=%2F');
    assert.equal(view('http://app.example'), '/');
    assert.equal(
      view('http://app.example/login?returnTo=/reports#top'),
      '/login?returnTo=/reports',
    );
    const headers = new WebRequest(
      new Request('http://app.example/', { headers: { 'X-Test': 'yes' } }),
    );
    assert.equal(headers.header('x-test'), 'yes');
    assert.equal(headers.header('authorization'), undefined);
  });

  it('toResponse and withSession keep every cookie its own Set-Cookie header', () => {
    const response = toResponse({
      status: 302,
      headers: { location: '/claims' },
      setCookies: session.setCookies,
    });
    assert.equal(response.status, 302);
    assert.deepEqual(response.headers.getSetCookie(), session.setCookies);
    const own = new Response('ok', { headers: { 'set-cookie': 'theme=dark; Path=/' } });
    const decorated = withSession(session, own);
    assert.equal(decorated, own, 'mutable headers are changed in place');
    assert.deepEqual(decorated.headers.getSetCookie(), [
      'theme=dark; Path=/',
      ...session.setCookies,
    ]);
    assert.equal(decorated.headers.get('cache-control'), 'no-store');
  });

  it('withSession copies a response whose headers are immutable, keeping status, headers and body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-upstream': 'yes' }).end('hello');
    });
    const port = await listenOn(server);
    let upstream: Response;
    try {
      upstream = await fetch(`http://127.0.0.1:${port}/`);
    } finally {
      await closeServer(server);
    }
    assert.throws(() => {
      upstream.headers.set('x', 'y');
    }, TypeError);
    const copy = withSession(session, upstream);
    assert.notEqual(copy, upstream);
    assert.equal(copy.status, 201);
    assert.equal(copy.headers.get('x-upstream'), 'yes');
    assert.deepEqual(copy.headers.getSetCookie(), session.setCookies);
    assert.equal(copy.headers.get('cache-control'), 'no-store');
    assert.equal(await copy.text(), 'hello');
    const redirect = Response.redirect('https://app.example.com/claims', 303);
    const nothing: ContinueResult = { ...session, headers: {}, setCookies: [] };
    assert.equal(withSession(nothing, redirect), redirect, 'nothing to add: the same response');
  });
  it('callback() needs exactly one of redirectTo and a continuation, checked at declaration', () => {
    const auth = cognitoGuard(options);
    assert.throws(() => auth.callback(), ConfigurationError);
    assert.throws(
      () => auth.callback({ redirectTo: '/claims' }, () => new Response()),
      ConfigurationError,
    );
    assert.throws(() => auth.callback({ redirectTo: 'https://evil.example/' }), ConfigurationError);
    assert.doesNotThrow(() => auth.callback({ redirectTo: '/claims' }));
    assert.doesNotThrow(() => auth.callback({}, () => new Response()));
    assert.throws(() => auth.required({ group: ['admin'] } as never), ConfigurationError);
  });
});
