/**
 * What only the Fastify adapter has to get right (the shared behaviour is in test/conformance):
 * plugin encapsulation, registration-time errors, the guard as every kind of hook, the
 * promise-free path of a warm cache, a reply that was sent while a token was being verified,
 * and failures that must come out as the library's answer rather than Fastify's 500.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyReply, type FastifyRequest, type RouteHandlerMethod } from 'fastify';
import {
  CognitoGuard,
  ConfigurationError,
  type GuardResult,
  type IncomingRequest,
  type Protector,
  type ProtectOptions,
  type Requirement,
} from '../../src/index.js';
import { cognitoGuard, getIdentity } from '../../src/fastify/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { guardOptions, registerClient } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { cookieNames, SESSION_COOKIES } from '../support/cookies.js';
import { deferred } from '../support/async.js';
import { type FastifyUnderTest, startFastify } from '../support/fastify.js';

describe('the Fastify plugin', () => {
  let emulator: EmulatorHandle;
  const running: FastifyUnderTest[] = [];
  const start = async (...args: Parameters<typeof startFastify>) => {
    const app = await startFastify(...args);
    running.push(app);
    return app;
  };

  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(async () => {
    for (const app of running) await app.stop();
    await emulator.stop();
  });

  const token = (username: string, clientId = 'test-client') =>
    emulator.mintToken({ use: 'access', username, clientId });
  const get = async (url: string, accessToken?: string) => {
    const response = await fetch(url, {
      headers: {
        ...JSON_ACCEPT,
        ...(accessToken === undefined ? {} : { cookie: `cognito_access_token=${accessToken}` }),
      },
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };

  it('decorates only the context it is registered in (and its children): siblings and the root stay untouched', async () => {
    const site = await start(emulator, async (app, options) => {
      app.get('/public', (request) => ({
        decorated: app.hasDecorator('cognito'),
        requestDecorated: app.hasRequestDecorator('cognito'),
        cognito: request.cognito ?? null,
      }));
      await app.register(async (members) => {
        await members.register(cognitoGuard, { guard: options });
        // One hook protects every route of this plugin, and nothing outside it.
        members.addHook('onRequest', members.cognito.required());
        members.get('/members/me', (request) => ({ user: getIdentity(request).claims.username }));
        await members.register((nested, _options, done) => {
          nested.get('/members/nested', (request) => ({
            user: getIdentity(request).claims.username,
            decorated: nested.hasDecorator('cognito'),
          }));
          done();
        });
      });
      await app.register((sibling, _options, done) => {
        sibling.get('/sibling', () => ({
          decorated: sibling.hasDecorator('cognito'),
          requestDecorated: sibling.hasRequestDecorator('cognito'),
        }));
        done();
      });
    });
    const alice = await token('alice');
    assert.deepEqual(JSON.parse((await get(`${site.url}/public`, alice)).body), {
      decorated: false,
      requestDecorated: false,
      cognito: null,
    });
    assert.deepEqual(JSON.parse((await get(`${site.url}/sibling`, alice)).body), {
      decorated: false,
      requestDecorated: false,
    });
    const anonymous = await get(`${site.url}/members/me`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.deepEqual(JSON.parse((await get(`${site.url}/members/me`, alice)).body), {
      user: 'alice',
    });
    assert.equal((await get(`${site.url}/members/nested`)).status, 401);
    assert.deepEqual(JSON.parse((await get(`${site.url}/members/nested`, alice)).body), {
      user: 'alice',
      decorated: true,
    });
  });

  it('sibling contexts can each register their own guard (two app clients), and each trusts only its own', async () => {
    const site = await start(emulator, async (app, options, url) => {
      registerClient(emulator, url, { clientId: 'client-b' });
      for (const [prefix, clientId] of [
        ['/a', 'test-client'],
        ['/b', 'client-b'],
      ] as const) {
        await app.register(
          async (scope) => {
            await scope.register(cognitoGuard, { guard: { ...options, clientId } });
            scope.get('/me', { preHandler: scope.cognito.required() }, (request) => ({
              client: getIdentity(request).claims.client_id,
            }));
          },
          { prefix },
        );
      }
    });
    const forA = await token('bob', 'test-client');
    const forB = await token('bob', 'client-b');
    assert.deepEqual(JSON.parse((await get(`${site.url}/a/me`, forA)).body), {
      client: 'test-client',
    });
    assert.equal((await get(`${site.url}/b/me`, forA)).status, 401);
    assert.deepEqual(JSON.parse((await get(`${site.url}/b/me`, forB)).body), {
      client: 'client-b',
    });
    assert.equal((await get(`${site.url}/a/me`, forB)).status, 401);
  });

  it('reports configuration problems when the plugin is registered and routes are declared, not per request', async () => {
    const options = guardOptions(emulator, 'http://127.0.0.1:3000');
    const bad = Fastify();
    const twice = Fastify();
    try {
      await assert.rejects(
        async () => {
          await bad.register(cognitoGuard, {
            guard: { ...options, region: 'nowhere', clientId: '' },
          });
        },
        (error: unknown) =>
          error instanceof ConfigurationError &&
          error.problems.some((problem) => problem.includes('region')) &&
          error.problems.some((problem) => problem.includes('clientId')),
      );

      await twice.register(cognitoGuard, { guard: options });
      const auth = twice.cognito;
      // From plain JavaScript, `group` would otherwise let every signed-in user in.
      assert.throws(
        () => auth.required({ group: ['admin'] } as Requirement),
        (error: unknown) => error instanceof ConfigurationError && /group/.test(error.message),
      );
      assert.throws(
        () => auth.required({ groups: 'admin' } as unknown as Requirement),
        ConfigurationError,
      );
      assert.throws(
        () => auth.callback({ redirectTo: 'https://elsewhere.example/' }),
        ConfigurationError,
      );
      // A second registration in the same context would silently replace the first guard.
      await assert.rejects(
        async () => {
          await twice.register(cognitoGuard, { guard: options });
        },
        { code: 'FST_ERR_DEC_ALREADY_PRESENT' },
      );
    } finally {
      await bad.close().catch(() => undefined);
      await twice.close().catch(() => undefined);
    }
  });

  it('works as a route onRequest or preHandler hook, as a context hook, and between other (async) hooks', async () => {
    const ran: string[] = [];
    const site = await start(emulator, async (app, options) => {
      await app.register(cognitoGuard, { guard: options });
      const admins = app.cognito.required({ groups: ['admin'] });
      const answer = (route: string) => (request: FastifyRequest) => {
        ran.push(route);
        return { route, user: getIdentity(request).claims.username };
      };
      app.get('/on-request', { onRequest: admins }, answer('on-request'));
      app.get('/pre-handler', { preHandler: admins }, answer('pre-handler'));
      for (const hook of ['onRequest', 'preHandler'] as const) {
        await app.register((scope, _options, done) => {
          scope.addHook(hook, admins);
          scope.get(`/scoped/${hook}`, answer(`scoped/${hook}`));
          done();
        });
      }
      let seenAfter: string | undefined;
      app.get(
        '/mixed',
        {
          onRequest: [
            async () => {
              ran.push('async hook before');
              await Promise.resolve();
            },
          ],
          preHandler: [
            admins,
            async (request) => {
              seenAfter = request.cognito?.claims.username;
              await Promise.resolve();
            },
          ],
        },
        (request) => ({
          route: 'mixed',
          user: getIdentity(request).claims.username,
          seenAfter: seenAfter ?? null,
        }),
      );
    });
    const [alice, carol] = await Promise.all([token('alice'), token('carol')]);
    for (const route of [
      'on-request',
      'pre-handler',
      'scoped/onRequest',
      'scoped/preHandler',
      'mixed',
    ]) {
      ran.length = 0;
      const anonymous = await get(`${site.url}/${route}`);
      assert.equal(anonymous.status, 401, route);
      assert.equal(JSON.parse(anonymous.body).error, 'ERR_AUTHENTICATION_REQUIRED');
      const forbidden = await get(`${site.url}/${route}`, carol);
      assert.equal(forbidden.status, 403, route);
      // A refusing hook ends the request: no later hook, no handler.
      assert.deepEqual(
        ran.filter((step) => step !== 'async hook before'),
        [],
        `${route}: nothing ran after a refusal`,
      );
      const allowed = await get(`${site.url}/${route}`, alice);
      assert.equal(allowed.status, 200, route);
      const body = JSON.parse(allowed.body);
      assert.equal(body.user, 'alice');
      if (route === 'mixed')
        assert.equal(body.seenAfter, 'alice', 'a later hook sees the identity');
    }
  });

  it('answers a warm-cache request without going through a promise: the next hook runs in the same tick', async () => {
    // A hook before the guard queues a microtask; the hook after it records whether that
    // microtask has run. It has only if the guard waited on a promise in between.
    const microtaskRan = new WeakMap<FastifyRequest, () => boolean>();
    const site = await start(emulator, async (app, options) => {
      await app.register(cognitoGuard, { guard: options });
      let between = false;
      app.get(
        '/probe',
        {
          onRequest: [
            (request, _reply, done) => {
              let ran = false;
              queueMicrotask(() => {
                ran = true;
              });
              microtaskRan.set(request, () => ran);
              done();
            },
            app.cognito.required(),
            (request, _reply, done) => {
              between = microtaskRan.get(request)?.() ?? true;
              done();
            },
          ],
        },
        () => ({ awaited: between }),
      );
    });
    const alice = await token('alice');
    const first = await get(`${site.url}/probe`, alice);
    assert.deepEqual(JSON.parse(first.body), { awaited: true }, 'a new token is verified first');
    for (let round = 0; round < 3; round += 1) {
      const warm = await get(`${site.url}/probe`, alice);
      assert.deepEqual(JSON.parse(warm.body), { awaited: false }, `round ${round}`);
    }
  });

  for (const outcome of ['continue', 'refuse'] as const) {
    it(`drops an answer (${outcome}) that arrives after another hook already replied: nothing is sent twice, the handler never runs`, async () => {
      const jwksRequested = deferred();
      const releaseJwks = deferred();
      const settled: Promise<unknown>[] = [];
      const held: { reply?: FastifyReply } = {};
      let handlerRuns = 0;

      // The real guard, observed: the promise of each verification is kept for the test to await.
      class ObservedGuard extends CognitoGuard {
        override protector(requirement?: Requirement, options?: ProtectOptions): Protector {
          const protect = super.protector(requirement, options);
          return (request: IncomingRequest) => {
            const result = protect(request);
            if (result instanceof Promise) settled.push(result);
            return result;
          };
        }
      }
      const site = await start(
        emulator,
        async (app, options) => {
          await app.register(cognitoGuard, { guard: new ObservedGuard(options) });
          app.get(
            '/slow',
            {
              onRequest: [
                // Like a request-timeout plugin: it lets the request go on, and may answer later.
                (_request, reply, done) => {
                  held.reply = reply;
                  done();
                },
                app.cognito.required({ groups: ['admin'] }),
              ],
            },
            () => {
              handlerRuns += 1;
              return { late: true };
            },
          );
        },
        {
          guard: {
            // The key set is held back until the test releases it.
            fetch: async (input, init) => {
              if (String(input instanceof Request ? input.url : input).endsWith('jwks.json')) {
                jwksRequested.resolve();
                await releaseJwks.promise;
              }
              return fetch(input, init);
            },
          },
        },
      );
      const accessToken = await token(outcome === 'continue' ? 'alice' : 'carol');
      const pending = get(`${site.url}/slow`, accessToken);
      await jwksRequested.promise;
      void held.reply!.code(503).send({ error: 'timed out' });
      const answered = await pending;
      assert.equal(answered.status, 503);
      assert.deepEqual(JSON.parse(answered.body), { error: 'timed out' });

      releaseJwks.resolve();
      const result = (await settled[0]) as GuardResult;
      assert.equal(result.action, outcome === 'continue' ? 'continue' : 'respond');
      // The adapter's reaction ran before this one (same promise, registered first).
      assert.equal(handlerRuns, 0, 'the handler of a request already answered never runs');
      assert.deepEqual(
        site.warnings.map((line) => line.err?.code ?? line.msg),
        [],
        'Fastify logged no second reply',
      );
      // The app is unharmed: the same request now passes (or is refused) at once.
      const again = await get(`${site.url}/slow`, accessToken);
      assert.equal(again.status, outcome === 'continue' ? 200 : 403);
    });
  }

  it('a failure inside a flow or a guard is the library answer (502, no detail), never Fastify’s 500 with the error text', async () => {
    class BrokenGuard extends CognitoGuard {
      override logout(): Promise<never> {
        return Promise.reject(new Error('internal detail that must not leak'));
      }
      override protector(): Protector {
        return () => Promise.reject(new Error('internal detail that must not leak'));
      }
    }
    const warned: string[] = [];
    const site = await start(emulator, async (app, options) => {
      const guard = new BrokenGuard({
        ...options,
        logger: { warn: (message) => warned.push(message) },
      });
      await app.register(cognitoGuard, { guard });
      app.get('/logout', app.cognito.logout());
      app.get('/guarded', { onRequest: app.cognito.required() }, () => ({ reached: true }));
    });
    for (const [path, accept] of [
      ['/logout', 'text/html'],
      ['/guarded', 'application/json'],
    ] as const) {
      const response = await fetch(`${site.url}${path}`, { headers: { accept } });
      const body = await response.text();
      assert.equal(response.status, 502, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(accept.split('/')[1]!));
      assert.doesNotMatch(body, /internal detail/);
      assert.doesNotMatch(body, /reached/);
    }
    assert.deepEqual(warned, ['unexpected failure', 'unexpected failure']);
    assert.deepEqual(site.warnings, [], 'Fastify saw no error');
  });

  it("a login options function that throws is the library's fixed 502, never Fastify's 500 with the error text", async () => {
    const warned: string[] = [];
    const site = await start(emulator, async (app, options) => {
      await app.register(cognitoGuard, {
        guard: { ...options, logger: { warn: (message) => warned.push(message) } },
      });
      app.get(
        '/login',
        app.cognito.login(() => {
          throw new Error('internal detail that must not leak');
        }),
      );
    });
    for (const accept of ['text/html', 'application/json']) {
      const response = await fetch(`${site.url}/login`, {
        headers: { accept },
        redirect: 'manual',
      });
      const body = await response.text();
      assert.equal(response.status, 502, accept);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(accept.split('/')[1]!));
      assert.doesNotMatch(body, /internal detail/);
      assert.deepEqual(response.headers.getSetCookie(), [], 'no transaction was started');
    }
    assert.deepEqual(warned, ['unexpected failure', 'unexpected failure']);
    assert.deepEqual(site.warnings, [], 'Fastify saw no error');
  });

  it('callback() without redirectTo is a preHandler hook: the handler gets the identity and returnTo, the response the session cookies', async () => {
    const site = await start(emulator, async (app, options) => {
      await app.register(cognitoGuard, { guard: options });
      app.get('/login', app.cognito.login());
      app.get('/postlogin', { preHandler: app.cognito.callback() }, (request) => ({
        welcome: getIdentity(request).claims.username,
        returnTo: request.cognitoReturnTo ?? null,
      }));
    });
    const browser = new TestBrowser();
    const callback = await login(browser, site.url, 'bob', undefined, '/login?returnTo=/reports');
    assert.equal(callback.status, 200);
    assert.deepEqual(JSON.parse(callback.body), { welcome: 'bob', returnTo: '/reports' });
    assert.equal(callback.headers.get('cache-control'), 'no-store');
    const names = cookieNames(callback.setCookies);
    for (const name of SESSION_COOKIES) {
      assert.ok(names.includes(name), `${name} is set`);
    }
  });

  it('callback() without redirectTo mounted as a route handler answers (502, logged as a wiring mistake) instead of hanging', async () => {
    const warned: string[] = [];
    const site = await start(emulator, async (app, options) => {
      await app.register(cognitoGuard, {
        guard: { ...options, logger: { warn: (message) => warned.push(message) } },
      });
      app.get('/login', app.cognito.login());
      // Only plain JavaScript (or a cast) can do this: the types make it a hook.
      app.get('/postlogin', app.cognito.callback() as unknown as RouteHandlerMethod);
    });
    const browser = new TestBrowser();
    const callback = await login(browser, site.url, 'carol');
    assert.equal(callback.status, 502);
    assert.ok(warned.some((message) => message.includes('preHandler')));
  });

  it('getIdentity() reads the identity on a guarded route and refuses, as a wiring mistake, where there is none', () => {
    assert.throws(() => getIdentity({ cognito: undefined }), ConfigurationError);
    const identity = { claims: { username: 'x' } } as unknown as NonNullable<
      FastifyRequest['cognito']
    >;
    assert.equal(getIdentity({ cognito: identity }), identity);
  });
});
