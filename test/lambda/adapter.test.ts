/**
 * The Lambda handlers, driven with events in each shape AWS sends (REST, HTTP API payload 1.0 and
 * 2.0, function URL, ALB with and without multi-value headers) against the emulator: a whole
 * sign-in (login → hosted page → callback → protected route → refresh → logout), several cookies
 * in each shape's own way, several Set-Cookie back in each shape's own way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { ConfigurationError, type CognitoGuardOptions } from '../../src/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import {
  cognitoGuard,
  type LambdaCognitoGuard,
  type LambdaHandler,
  type LambdaHttpEvent,
} from '../../src/lambda/index.js';
import { TestBrowser } from '../support/browser.js';
import { signInAt } from '../support/sign-in.js';
import { CLIENT_ID, guardOptions, registerClient } from '../support/pool.js';
import {
  ALB_EVENT,
  ALB_MULTI_VALUE_EVENT,
  FUNCTION_URL_EVENT,
  HTTP_API_V1_EVENT,
  HTTP_API_V2_EVENT,
  REST_API_EVENT,
} from '../fixtures/lambda/aws-events.js';
import { SESSION_COOKIES } from '../support/cookies.js';

/** The app's origin: only its URLs are configured; nothing listens there (events are built). */
const APP = 'http://127.0.0.1:9';

interface Call {
  readonly method?: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** `name=value` each. */
  readonly cookies?: readonly string[];
}

/** What the browser would receive: status, headers (lower-case), and each Set-Cookie. */
interface Received {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly setCookies: string[];
  readonly body: string;
}

/** An event shape: how a request becomes its event, and how its result reads back. */
interface Shape {
  readonly name: string;
  event(call: Call): LambdaHttpEvent;
  /** Reads a result, failing if it is not in this shape (a Set-Cookie where this shape has none…). */
  read(result: unknown): Received;
}

const lower = (headers: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

/** REST keeps the client's header spelling: send them capitalised. */
const capitalised = (headers: Record<string, string> = {}) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()),
      value,
    ]),
  );

/** A copy of a documented event without the fields a scenario sets itself. */
function omit<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(
    Object.entries(value).filter(([key]) => !(keys as readonly PropertyKey[]).includes(key)),
  ) as Omit<T, K>;
}

function asRecord(value: unknown): Record<string, unknown> {
  assert.equal(typeof value, 'object');
  return value as Record<string, unknown>;
}

function stringHeaders(value: unknown): Record<string, string> {
  const headers = asRecord(value ?? {});
  for (const [name, text] of Object.entries(headers)) {
    assert.equal(typeof text, 'string', `header ${name}`);
    assert.notEqual(name.toLowerCase(), 'set-cookie', 'Set-Cookie is never a single-value header');
  }
  return headers as Record<string, string>;
}

const V1_KEYS = ['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded'];

/** REST and HTTP API payload 1.0: Set-Cookie only in multiValueHeaders, no other key. */
function readV1(result: unknown): Received {
  const record = asRecord(result);
  for (const key of Object.keys(record)) assert.ok(V1_KEYS.includes(key), `unexpected key ${key}`);
  const multi = (record['multiValueHeaders'] ?? {}) as Record<string, string[]>;
  const headers = { ...stringHeaders(record['headers']) };
  for (const [name, values] of Object.entries(multi)) {
    if (name !== 'set-cookie') headers[name] = values.join(', ');
  }
  return {
    status: record['statusCode'] as number,
    headers,
    setCookies: multi['set-cookie'] ?? [],
    body: record['body'] as string,
  };
}

/** HTTP API payload 2.0 and function URLs: cookies in `cookies`, headers single-valued. */
function readV2(result: unknown): Received {
  const record = asRecord(result);
  assert.ok(!('multiValueHeaders' in record), 'payload 2.0 has no multiValueHeaders');
  const cookies = (record['cookies'] ?? []) as string[];
  assert.ok(Array.isArray(cookies));
  return {
    status: record['statusCode'] as number,
    headers: stringHeaders(record['headers']),
    setCookies: cookies,
    body: record['body'] as string,
  };
}

function v1Event(base: APIGatewayProxyEvent, stage: string, spell: typeof lower) {
  return (call: Call): APIGatewayProxyEvent => {
    const headers = spell(call.headers);
    const multi: Record<string, string[]> = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, [value]]),
    );
    const cookies = call.cookies ?? [];
    const cookieName = spell({ cookie: '' }) === lower({ cookie: '' }) ? 'cookie' : 'Cookie';
    if (cookies.length > 0) {
      // As HTTP/2 browsers send them: the cookies split over two Cookie headers.
      const half = Math.ceil(cookies.length / 2);
      const crumbs = [cookies.slice(0, half), cookies.slice(half)]
        .filter((part) => part.length > 0)
        .map((part) => part.join('; '));
      multi[cookieName] = crumbs;
      headers[cookieName] = crumbs.at(-1)!; // `headers` keeps the last value of a repeated header
    }
    const query = call.query ?? {};
    const hasQuery = Object.keys(query).length > 0;
    return {
      ...base,
      httpMethod: call.method ?? 'GET',
      path: call.path,
      resource: '/{proxy+}',
      headers,
      multiValueHeaders: multi,
      queryStringParameters: hasQuery ? query : null,
      multiValueQueryStringParameters: hasQuery
        ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
        : null,
      requestContext: {
        ...base.requestContext,
        httpMethod: call.method ?? 'GET',
        path: stage === '' ? call.path : `/${stage}${call.path}`,
        stage: stage === '' ? '$default' : stage,
      },
      body: null,
    };
  };
}

function v2Event(base: APIGatewayProxyEventV2) {
  return (call: Call): APIGatewayProxyEventV2 => {
    const rest = omit(base, ['cookies', 'queryStringParameters', 'body']);
    const query = new URLSearchParams(call.query ?? {}).toString();
    const event: APIGatewayProxyEventV2 = {
      ...rest,
      rawPath: call.path,
      rawQueryString: query,
      headers: lower(call.headers),
      requestContext: {
        ...base.requestContext,
        http: { ...base.requestContext.http, method: call.method ?? 'GET', path: call.path },
      },
    };
    if (call.cookies !== undefined && call.cookies.length > 0) event.cookies = [...call.cookies];
    if (query !== '' && call.query !== undefined) event.queryStringParameters = call.query;
    return event;
  };
}

/** ALB passes the query on as sent: encoded. */
const encodedQuery = (query: Record<string, string> = {}) =>
  Object.fromEntries(
    Object.entries(query).map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]),
  );

const SHAPES: readonly Shape[] = [
  {
    name: 'REST API (stage prod)',
    event: v1Event(REST_API_EVENT, 'prod', capitalised),
    read: readV1,
  },
  { name: 'HTTP API payload 1.0', event: v1Event(HTTP_API_V1_EVENT, '', lower), read: readV1 },
  { name: 'HTTP API payload 2.0', event: v2Event(HTTP_API_V2_EVENT), read: readV2 },
  { name: 'function URL', event: v2Event(FUNCTION_URL_EVENT), read: readV2 },
  {
    name: 'ALB, multi-value headers',
    event: (call): ALBEvent => {
      const base = omit(ALB_MULTI_VALUE_EVENT, ['multiValueQueryStringParameters']);
      const multi = Object.fromEntries(
        Object.entries(lower(call.headers)).map(([name, value]) => [name, [value]]),
      );
      // Each cookie in its own Cookie header.
      if (call.cookies !== undefined && call.cookies.length > 0)
        multi['cookie'] = [...call.cookies];
      const query = encodedQuery(call.query);
      return {
        ...base,
        httpMethod: call.method ?? 'GET',
        path: call.path,
        multiValueHeaders: multi,
        multiValueQueryStringParameters: Object.fromEntries(
          Object.entries(query).map(([k, v]) => [k, [v]]),
        ),
        body: null,
      };
    },
    read: (result) => {
      const record = asRecord(result);
      assert.ok(!('headers' in record), 'multi-value mode answers in multiValueHeaders only');
      assert.ok(!('cookies' in record));
      const status = record['statusCode'] as number;
      assert.match(record['statusDescription'] as string, new RegExp(`^${status} \\S`));
      const multi = record['multiValueHeaders'] as Record<string, string[]>;
      const headers: Record<string, string> = {};
      for (const [name, values] of Object.entries(multi)) {
        if (name !== 'set-cookie') headers[name] = values.join(', ');
      }
      return {
        status,
        headers,
        setCookies: multi['set-cookie'] ?? [],
        body: record['body'] as string,
      };
    },
  },
];

const ALB_SINGLE: Shape = {
  name: 'ALB, single-value headers',
  event: (call): ALBEvent => {
    const base = omit(ALB_EVENT, ['queryStringParameters']);
    const headers = lower(call.headers);
    if (call.cookies !== undefined && call.cookies.length > 0) {
      headers['cookie'] = call.cookies.join('; ');
    }
    return {
      ...base,
      httpMethod: call.method ?? 'GET',
      path: call.path,
      headers,
      queryStringParameters: encodedQuery(call.query),
      body: null,
    };
  },
  read: (result) => {
    const record = asRecord(result);
    assert.ok(!('multiValueHeaders' in record), 'single-value mode answers in headers only');
    assert.ok(!('cookies' in record));
    const headers = { ...(record['headers'] as Record<string, string>) };
    const setCookie = headers['set-cookie'];
    delete headers['set-cookie'];
    return {
      status: record['statusCode'] as number,
      headers,
      setCookies: setCookie === undefined ? [] : [setCookie],
      body: record['body'] as string,
    };
  },
};

/** Each Set-Cookie holds one cookie: a second `name=` after a comma means two were joined. */
function assertOneCookieEach(setCookies: readonly string[]): void {
  for (const header of setCookies) {
    assert.doesNotMatch(header, /,\s*[A-Za-z_][\w-]*=/, `joined Set-Cookie: ${header}`);
  }
}

/** `name=value` of each Set-Cookie that sets (not deletes) a cookie. */
function setPairs(setCookies: readonly string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const header of setCookies) {
    if (/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(header)) continue;
    const [pair = ''] = header.split(';');
    const mark = pair.indexOf('=');
    pairs.set(pair.slice(0, mark), pair.slice(mark + 1));
  }
  return pairs;
}

const invoke = (handler: LambdaHandler, shape: Shape, call: Call) =>
  handler(shape.event(call), undefined).then((result) => shape.read(result));

describe('Lambda handlers over every event shape', () => {
  let emulator: EmulatorHandle;
  let options: CognitoGuardOptions;
  let auth: LambdaCognitoGuard;
  const warnings: { message: string; detail: unknown }[] = [];
  let routes: Record<string, LambdaHandler>;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    registerClient(emulator, APP);
    options = guardOptions(emulator, APP, {
      logger: { warn: (message, detail) => warnings.push({ message, detail }) },
    });
    auth = cognitoGuard(options);
    routes = {
      login: auth.login(),
      callback: auth.callback({ redirectTo: '/claims' }),
      claims: auth.required((_event, identity) => ({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: identity?.claims.username,
          email: identity?.userInfo?.email,
        }),
      })),
      admin: auth.required({ groups: ['admin'] }, () => ({ statusCode: 200, body: 'admin' })),
      refresh: auth.refresh(() => ({
        statusCode: 303,
        headers: { location: '/claims' },
        cookies: ['refreshed-at=now; Path=/'],
      })),
      logout: auth.logout(),
    };
  });
  after(async () => {
    await emulator.stop();
  });

  for (const shape of SHAPES) {
    it(`${shape.name}: a whole sign-in, several cookies in, several Set-Cookie out`, async () => {
      const other = ['theme=dark', 'lang=en'];
      const login = await invoke(routes['login']!, shape, {
        path: '/login',
        query: { returnTo: '/admin?tab=1' },
      });
      assert.equal(login.status, 302);
      assert.ok(login.headers['location']!.startsWith(`${emulator.domain}/oauth2/authorize?`));
      assert.equal(login.setCookies.length, 1);
      const [transaction] = [...setPairs(login.setCookies)];
      assert.match(transaction![0], /^cognito_txn_/);

      const callbackUrl = new URL(
        await signInAt(new TestBrowser(), login.headers['location']!, 'alice', {
          loginPage: 'required',
        }),
      );
      assert.equal(`${callbackUrl.origin}${callbackUrl.pathname}`, `${APP}/postlogin`);
      const callback = await invoke(routes['callback']!, shape, {
        path: '/postlogin',
        query: Object.fromEntries(callbackUrl.searchParams),
        cookies: [other[0]!, `${transaction![0]}=${transaction![1]}`, other[1]!],
      });
      assert.equal(callback.status, 302, callback.body);
      // The returnTo of the login survived the trip through this shape's query parameters.
      assert.equal(callback.headers['location'], '/admin?tab=1');
      assertOneCookieEach(callback.setCookies);
      const session = setPairs(callback.setCookies);
      for (const name of SESSION_COOKIES) {
        assert.ok(session.has(name), `${name} set`);
      }
      assert.ok(
        callback.setCookies.some((header) => header.startsWith(`${transaction![0]}=;`)),
        'the transaction cookie is deleted in its own Set-Cookie',
      );
      const cookies = [other[0]!, ...[...session].map(([n, v]) => `${n}=${v}`), other[1]!];

      const claims = await invoke(routes['claims']!, shape, {
        path: '/claims',
        headers: { accept: 'application/json' },
        cookies,
      });
      assert.equal(claims.status, 200, claims.body);
      // The ID token came in another cookie than the access token, and was read too.
      assert.deepEqual(JSON.parse(claims.body), { username: 'alice', email: 'alice@example.com' });
      assert.equal(
        (await invoke(routes['admin']!, shape, { path: '/admin', cookies })).status,
        200,
      );

      const refreshed = await invoke(routes['refresh']!, shape, {
        method: 'POST',
        path: '/refresh',
        headers: { 'sec-fetch-site': 'same-origin', origin: APP },
        cookies,
      });
      assert.equal(refreshed.status, 303, refreshed.body);
      assert.equal(refreshed.headers['location'], '/claims');
      assert.equal(refreshed.headers['cache-control'], 'no-store', "the guard's header is kept");
      assertOneCookieEach(refreshed.setCookies);
      const renewed = setPairs(refreshed.setCookies);
      assert.ok(renewed.has('cognito_access_token') && renewed.has('cognito_id_token'));
      assert.equal(renewed.get('refreshed-at'), 'now', "the app's own cookie is added");

      const logout = await invoke(routes['logout']!, shape, {
        path: '/logout',
        headers: { 'sec-fetch-site': 'same-origin' },
        cookies,
      });
      assert.equal(logout.status, 302, logout.body);
      assert.ok(logout.headers['location']!.startsWith(`${emulator.domain}/logout?`));
      assertOneCookieEach(logout.setCookies);
      const deleted = logout.setCookies.map((header) => header.split('=')[0]);
      for (const name of SESSION_COOKIES) {
        assert.ok(deleted.includes(name), `${name} deleted`);
      }
    });

    it(`${shape.name}: no session is a 401 with its challenge; another user's groups a 403`, async () => {
      const anonymous = await invoke(routes['claims']!, shape, {
        path: '/claims',
        headers: { accept: 'application/json' },
        cookies: ['theme=dark'],
      });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers['www-authenticate'] ?? '', /^Bearer realm=/);
      const token = await emulator.mintToken({
        use: 'access',
        clientId: CLIENT_ID,
        username: 'bob',
      });
      const forbidden = await invoke(routes['admin']!, shape, {
        path: '/admin',
        headers: { accept: 'application/json' },
        cookies: [`cognito_access_token=${token}`],
      });
      assert.equal(forbidden.status, 403);
    });
  }

  it('ALB without multi-value headers: one Set-Cookie works; a sign-in needing several is refused (502) with a warning naming the fix', async () => {
    const login = await invoke(routes['login']!, ALB_SINGLE, { path: '/login' });
    assert.equal(login.status, 302);
    assert.equal(login.setCookies.length, 1);
    const [transaction] = [...setPairs(login.setCookies)];
    const callbackUrl = new URL(
      await signInAt(new TestBrowser(), login.headers['location']!, 'alice', {
        loginPage: 'required',
      }),
    );
    warnings.length = 0;
    const callback = await invoke(routes['callback']!, ALB_SINGLE, {
      path: '/postlogin',
      query: Object.fromEntries(callbackUrl.searchParams),
      cookies: [`${transaction![0]}=${transaction![1]}`],
    });
    assert.equal(callback.status, 502);
    assert.deepEqual(callback.setCookies, [], 'no half session');
    assert.ok(
      warnings.some((w) => /lambda\.multi_value_headers\.enabled/.test(w.message)),
      JSON.stringify(warnings),
    );
    // A signed-in browser's cookies arrive in one Cookie header, and are all read.
    const access = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'alice',
    });
    const id = await emulator.mintToken({ use: 'id', clientId: CLIENT_ID, username: 'alice' });
    const claims = await invoke(routes['claims']!, ALB_SINGLE, {
      path: '/claims',
      cookies: ['theme=dark', `cognito_access_token=${access}`, `cognito_id_token=${id}`],
    });
    assert.equal(claims.status, 200, claims.body);
    assert.equal(JSON.parse(claims.body).email, 'alice@example.com');
  });
});

describe('protect(event) and protector(requirement) for handlers of your own', () => {
  let emulator: EmulatorHandle;
  let auth: LambdaCognitoGuard;
  const shape = SHAPES.find((s) => s.name === 'HTTP API payload 2.0')!;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    registerClient(emulator, APP);
    auth = cognitoGuard(guardOptions(emulator, APP));
  });
  after(async () => {
    await emulator.stop();
  });

  it('refuses with a ready result in the event shape; grants with the identity, answered through respond()', async () => {
    const refused = await auth.protect(
      shape.event({ path: '/me', headers: { accept: 'application/json' } }),
    );
    assert.equal(refused.granted, false);
    assert.equal(shape.read(refused.result).status, 401);

    const token = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'alice',
    });
    const event = shape.event({ path: '/me', cookies: [`cognito_access_token=${token}`] });
    const admins = auth.protector({ groups: ['admin'] });
    const granted = await admins(event);
    assert.equal(granted.granted, true);
    assert.equal(granted.identity?.claims.username, 'alice');
    const answered = shape.read(
      granted.respond({ statusCode: 200, cookies: ['a=1', 'b=2'], body: 'hi' }),
    );
    assert.deepEqual(
      [answered.status, answered.setCookies, answered.body],
      [200, ['a=1', 'b=2'], 'hi'],
    );

    const bobToken = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'bob',
    });
    const bob = await admins(
      shape.event({ path: '/me', cookies: [`cognito_access_token=${bobToken}`] }),
    );
    assert.equal(bob.granted ? 200 : shape.read(bob.result).status, 403);
  });

  it('answers from the verified-token cache without a promise once the tokens are known', async () => {
    const token = await emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'carol',
    });
    const event = shape.event({ path: '/me', cookies: [`cognito_access_token=${token}`] });
    const first = auth.protect(event);
    assert.ok(first instanceof Promise, 'the first sight of a token verifies it');
    assert.equal((await first).granted, true);
    const second = auth.protect(event);
    assert.ok(!(second instanceof Promise), 'a known token is answered synchronously');
    assert.equal(second.granted, true);
  });

  it('a callback without redirectTo hands the identity and returnTo to its handler, whose answer keeps the session cookies', async () => {
    const callback = auth.callback({}, (_event, identity, _context, returnTo) => ({
      statusCode: 200,
      body: JSON.stringify({ user: identity?.claims.username, returnTo }),
    }));
    const login = shape.read(
      await auth.login()(shape.event({ path: '/login', query: { returnTo: '/x' } }), undefined),
    );
    const [transaction] = [...setPairs(login.setCookies)];
    const callbackUrl = new URL(
      await signInAt(new TestBrowser(), login.headers['location']!, 'bob', {
        loginPage: 'required',
      }),
    );
    const done = shape.read(
      await callback(
        shape.event({
          path: '/postlogin',
          query: Object.fromEntries(callbackUrl.searchParams),
          cookies: [`${transaction![0]}=${transaction![1]}`],
        }),
        undefined,
      ),
    );
    assert.equal(done.status, 200);
    assert.deepEqual(JSON.parse(done.body), { user: 'bob', returnTo: '/x' });
    assert.ok(setPairs(done.setCookies).has('cognito_access_token'));
    assert.equal(done.headers['cache-control'], 'no-store');
  });

  it("a login options function that throws is the library's fixed 502 in the event's shape, never a failed invocation", async () => {
    const login = auth.login(() => {
      throw new Error('internal detail that must not leak');
    });
    for (const accept of ['text/html', 'application/json']) {
      const result = shape.read(
        await login(shape.event({ path: '/login', headers: { accept } }), undefined),
      );
      assert.equal(result.status, 502, accept);
      assert.match(result.headers['content-type'] ?? '', new RegExp(accept.split('/')[1]!));
      assert.doesNotMatch(result.body, /internal detail/);
      assert.deepEqual(result.setCookies, [], 'no transaction was started');
    }
  });

  it('an event that is not an HTTP event (another trigger, a hand-made invoke) is refused with 401, never thrown', async () => {
    const handler = auth.required(() => ({ statusCode: 200, body: 'secret' }));
    for (const event of [
      { Records: [] },
      { rawPath: '/x' },
      { rawPath: '/x', requestContext: {} },
      null,
    ]) {
      const result = (await handler(event as never, undefined)) as {
        statusCode: number;
        body: string;
      };
      assert.equal(result.statusCode, 401, JSON.stringify(event));
      assert.notEqual(result.body, 'secret');
    }
  });

  it('callback() needs exactly one of redirectTo and a handler, as the web and Next.js adapters do', () => {
    const handler = () => ({ statusCode: 200 });
    assert.throws(() => auth.callback(), ConfigurationError);
    assert.throws(
      () => auth.callback({ redirectTo: '/claims' }, handler),
      (error: unknown) =>
        error instanceof ConfigurationError && /exactly one/.test(error.problems.join('\n')),
    );
    assert.doesNotThrow(() => auth.callback({ redirectTo: '/claims' }));
    assert.doesNotThrow(() => auth.callback({}, handler));
  });

  it('wiring mistakes are refused when the handler is declared, not per request', () => {
    assert.throws(() => auth.callback({}), ConfigurationError);
    assert.throws(
      () => (auth.required as (r: object) => unknown)({ groups: ['admin'] }),
      ConfigurationError,
    );
    assert.throws(
      () => auth.required({ group: ['admin'] } as never, () => ({ statusCode: 200 })),
      ConfigurationError,
    );
  });
});
