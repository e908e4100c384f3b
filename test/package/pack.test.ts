// The package as a user gets it: build and `npm pack` a staged copy of the repository, install the
// tarball into a fresh project, then import it as ESM, require it as CommonJS, type-check an ESM
// and a CommonJS TypeScript consumer, and run its bin. Nothing here reads the repository's own
// `dist/`, so a stale local build cannot hide a packaging fault.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { signIn, startTestPool } from '../../src/testing/index.js';
import { freePort } from '../support/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** What `npm pack` needs from the repository; everything else (tests, scripts…) stays behind. */
const STAGED = [
  'src',
  'docs',
  'examples',
  'scripts',
  'package.json',
  'tsup.config.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
];
const OPTIONAL_DOCS = ['SECURITY.md', 'LICENSE', 'CHANGELOG.md'];
const SUBPATHS = [
  'cognito-guard',
  'cognito-guard/express',
  'cognito-guard/fastify',
  'cognito-guard/emulator',
  'cognito-guard/testing',
  'cognito-guard/lambda',
  'cognito-guard/lambda/bridge',
  'cognito-guard/web',
  'cognito-guard/hono',
] as const;
/** The subpaths the main TypeScript consumer imports → their declaration file under dist/. */
const DECLARATIONS = [
  ['cognito-guard', 'index'],
  ['cognito-guard/express', 'express/index'],
  ['cognito-guard/fastify', 'fastify/index'],
  ['cognito-guard/emulator', 'emulator/index'],
  ['cognito-guard/web', 'web/index'],
  ['cognito-guard/hono', 'hono/index'],
  ['cognito-guard/testing', 'testing/index'],
  ['cognito-guard/redis', 'redis/index'],
] as const;

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; on failure the error carries its output, so a failing step explains itself. */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 90_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      // The runner sets NODE_ENV=test; installs and builds should behave as for a user.
      {
        cwd,
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, NODE_ENV: '' },
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/**
 * The runtime check shared by the ESM and CJS consumers (the caller prepends how `core`, `ex`,
 * `fa`, `em`, `web`, `hn`, `express`, `Fastify` and `Hono` are loaded; Web and Hono are driven
 * with Fetch `Request`s). It uses every subpath together: a guard built
 * with the core subpath handed to the Express and Fastify subpaths, tokens from the packaged
 * emulator, real HTTP on loopback.
 */
const RUNTIME_CHECK = `
async function check() {
  const results = {
    exports: {
      core: [typeof core.CognitoGuard, typeof core.fromEnv, typeof core.CognitoGuardError],
      express: [typeof ex.cognitoGuard],
      fastify: [typeof fa.cognitoGuard, typeof fa.cognitoApiGuard, typeof fa.getIdentity],
      emulator: [typeof em.startEmulator, typeof em.DEMO_CONFIG],
      web: [typeof web.cognitoGuard, typeof web.cognitoApiGuard, typeof web.withSession],
      hono: [typeof hn.cognitoGuard, typeof hn.cognitoApiGuard, typeof hn.getIdentity],
      testing: [typeof te.signIn, typeof te.sessionCookies, typeof te.startTestPool, typeof te.CookieJar],
    },
    sameGuardClass:
      ex.CognitoGuard === core.CognitoGuard &&
      fa.CognitoGuard === core.CognitoGuard &&
      web.CognitoGuard === core.CognitoGuard &&
      hn.CognitoGuard === core.CognitoGuard,
  };
  try {
    core.fromEnv({});
  } catch (error) {
    results.configError = {
      isConfigurationError: error instanceof core.ConfigurationError,
      isCognitoGuardError: error instanceof core.CognitoGuardError,
      code: error.code,
    };
  }
  const emulator = await em.startEmulator({ port: 0 });
  let server;
  let fastifyApp;
  try {
    const client = em.DEMO_CONFIG.clients[0];
    const guard = new core.CognitoGuard({
      region: emulator.region,
      userPoolId: emulator.poolId,
      domain: emulator.domain,
      issuer: emulator.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUrl: 'http://127.0.0.1:3000/postlogin',
      logoutUrl: 'http://127.0.0.1:3000/postlogout',
      secretKey: 'package-test-secret-package-test-secret-0123',
      logger: { warn: () => undefined },
    });
    const auth = ex.cognitoGuard(guard);
    const app = express();
    app.get('/me', auth.required(), (req, res) => {
      res.json({ sub: req.cognito.claims.sub, groups: req.cognito.groups });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    fastifyApp = Fastify();
    await fastifyApp.register(fa.cognitoGuard, { guard });
    fastifyApp.get('/me', { preHandler: fastifyApp.cognito.required() }, (request) => ({
      sub: fa.getIdentity(request).claims.sub,
      groups: request.cognito.groups,
    }));
    await fastifyApp.listen({ port: 0, host: '127.0.0.1' });
    const token = await emulator.mintToken({ use: 'access', clientId: client.clientId });
    for (const [name, port] of [
      ['express', server.address().port],
      ['fastify', fastifyApp.server.address().port],
    ]) {
      const url = 'http://127.0.0.1:' + port + '/me';
      const anonymous = await fetch(url, { headers: { accept: 'application/json' } });
      await anonymous.arrayBuffer();
      const signedIn = await fetch(url, { headers: { cookie: 'cognito_access_token=' + token } });
      results[name] = {
        anonymous: {
          status: anonymous.status,
          wwwAuthenticate: anonymous.headers.get('www-authenticate'),
        },
        signedIn: { status: signedIn.status, body: await signedIn.json() },
      };
    }
    results.expectedSub = emulator.users()[0].sub;

    const fetchRequest = (cookie) =>
      new Request('http://127.0.0.1:3000/me', {
        headers: cookie ? { cookie, accept: 'application/json' } : { accept: 'application/json' },
      });
    const protect = web.cognitoGuard(guard).required();
    const webAnonymous = await protect(fetchRequest());
    const webSignedIn = await protect(fetchRequest('cognito_access_token=' + token));
    results.web = {
      anonymous: webAnonymous instanceof Response ? webAnonymous.status : 'continued',
      sub: webSignedIn instanceof Response ? webSignedIn.status : webSignedIn.identity.claims.sub,
    };
    const honoApp = new Hono();
    honoApp.get('/me', hn.cognitoGuard(guard).required(), (c) =>
      c.json({ sub: hn.getIdentity(c).claims.sub }),
    );
    const honoAnonymous = await honoApp.request(fetchRequest());
    const honoSignedIn = await honoApp.request(fetchRequest('cognito_access_token=' + token));
    results.hono = {
      anonymous: honoAnonymous.status,
      signedIn: { status: honoSignedIn.status, body: await honoSignedIn.json() },
    };
    // The testing subpath with the core's guard instance and the emulator subpath's handle: a
    // session made without HTTP that the Express route accepts.
    const session = await te.sessionCookies(emulator, guard, 'alice');
    const viaTesting = await fetch('http://127.0.0.1:' + server.address().port + '/me', {
      headers: { cookie: session.cookie },
    });
    results.testing = {
      status: viaTesting.status,
      body: await viaTesting.json(),
      cookieNames: session.cookies.map((cookie) => cookie.name),
    };
  } finally {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    if (fastifyApp) await fastifyApp.close();
    await emulator.stop();
  }
  process.stdout.write(JSON.stringify(results) + '\\n');
}
check().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\\n');
  process.exitCode = 1;
});
`;

const ESM_CONSUMER = `import * as core from 'cognito-guard';
import * as ex from 'cognito-guard/express';
import * as fa from 'cognito-guard/fastify';
import * as em from 'cognito-guard/emulator';
import * as web from 'cognito-guard/web';
import * as hn from 'cognito-guard/hono';
import * as te from 'cognito-guard/testing';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
${RUNTIME_CHECK}`;

const CJS_CONSUMER = `'use strict';
const core = require('cognito-guard');
const ex = require('cognito-guard/express');
const fa = require('cognito-guard/fastify');
const em = require('cognito-guard/emulator');
const web = require('cognito-guard/web');
const hn = require('cognito-guard/hono');
const te = require('cognito-guard/testing');
const express = require('express');
const Fastify = require('fastify');
const { Hono } = require('hono');
${RUNTIME_CHECK}`;

/**
 * A typed consumer of the public API. It only type-checks if the `req.cognito` augmentation
 * reaches Express's `Request`, the `request.cognito` and `fastify.cognito` augmentations reach
 * Fastify's types, `c.get('cognito')` is typed through Hono's `ContextVariableMap`, a Web
 * protector's continue result is not a `Response`, and `CognitoGuardError['code']` is a closed
 * union that `switch` narrows; the
 * `@ts-expect-error` lines fail the check if any of these protections disappears.
 */
const TS_CONSUMER = `import express from 'express';
import type { Request, Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  CognitoGuard,
  CognitoGuardError,
  ConfigurationError,
  fromEnv,
  type CognitoGuardErrorCode,
  type CognitoGuardOptions,
  type CognitoIdentity,
} from 'cognito-guard';
import { cognitoGuard, getIdentity, type ExpressCognitoGuard } from 'cognito-guard/express';
import {
  cognitoGuard as fastifyGuard,
  getIdentity as fastifyIdentity,
  type FastifyCognitoGuard,
} from 'cognito-guard/fastify';
import { DEMO_CONFIG, startEmulator, type EmulatorHandle } from 'cognito-guard/emulator';
import {
  redisSessionStore,
  RedisSessionStore,
  type RedisSessionStoreOptions,
} from 'cognito-guard/redis';
import { createClient } from 'redis';

export function sessionsOnRedis(options: CognitoGuardOptions): CognitoGuard[] {
  const settings: RedisSessionStoreOptions = { keyPrefix: 'shop:', timeoutMs: 1000 };
  const store: RedisSessionStore = redisSessionStore('redis://127.0.0.1:6379/0', settings);
  const mine = redisSessionStore(createClient({ url: 'redis://127.0.0.1:6379' }));
  // @ts-expect-error -- a store is built from a URL or a node-redis client, nothing else
  redisSessionStore(6379);
  return [
    new CognitoGuard({ ...options, sessionStore: store }),
    new CognitoGuard({ ...options, sessionStore: mine }),
    new CognitoGuard({ ...options, sessionStore: 'redis://127.0.0.1:6379/0' }),
  ];
}
import * as web from 'cognito-guard/web';
import * as hn from 'cognito-guard/hono';
import { Hono } from 'hono';

export function webHandler(options: CognitoGuardOptions): web.WebHandler {
  // (Request and Response are Express's names in this file; the Fetch ones are globalThis's.)
  const auth: web.WebCognitoGuard = web.cognitoGuard(options);
  const admins: web.WebProtector = auth.required({ groups: ['admin'] });
  return async (request) => {
    const result = await admins(request);
    if (result instanceof globalThis.Response) return result;
    const identity: CognitoIdentity | undefined = result.identity;
    // @ts-expect-error -- a continue result is not a Response: it must go through withSession
    const wrong: globalThis.Response = result;
    return web.withSession(result, globalThis.Response.json({ sub: identity?.claims.sub, wrong }));
  };
}

export function honoApp(options: CognitoGuardOptions): Hono {
  const app = new Hono();
  const auth: hn.HonoCognitoGuard = hn.cognitoGuard(options);
  app.get('/admin', auth.required({ groups: ['admin'] }), (c) => {
    // The augmentation types c.get('cognito') on any Hono app.
    const identity: CognitoIdentity | undefined = c.get('cognito');
    const required: CognitoIdentity = hn.getIdentity(c);
    // @ts-expect-error -- typed as an identity, not a string
    const wrong: string = c.get('cognito');
    return c.json({ sub: identity?.claims.sub, groups: required.groups, wrong });
  });
  return app;
}

import {
  CookieJar,
  SignInError,
  sessionCookies,
  signIn,
  startTestPool,
  type TestCookie,
  type TestSession,
} from 'cognito-guard/testing';

export async function withTestPool(appUrl: string): Promise<string> {
  const pool = await startTestPool({ users: [{ username: 'ann', password: 'Secret-Passw0rd' }] });
  try {
    const env: Readonly<Record<string, string>> = pool.envFor(appUrl);
    const fast: TestSession = await sessionCookies(pool, fromEnv(env), 'ann');
    const cookies: readonly TestCookie[] = fast.cookies;
    const sameSite: 'Strict' | 'Lax' | 'None' | undefined = cookies[0]?.sameSite;
    // @ts-expect-error -- Playwright's sameSite values are capitalised
    const lower: 'lax' | undefined = cookies[0]?.sameSite;
    const jar: CookieJar = fast.jar;
    const real = await signIn(appUrl, { username: 'ann', password: 'Secret-Passw0rd', jar });
    const response: globalThis.Response = await jar.fetch(appUrl + '/claims');
    return real.cookie + String(real.callback.status) + String(sameSite) + String(lower) + String(response.status);
  } catch (error) {
    return error instanceof SignInError ? error.message : 'other';
  } finally {
    await pool.stop();
  }
}

export async function createFastifyApp(options: CognitoGuardOptions): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyGuard, { guard: options });
  const auth: FastifyCognitoGuard = app.cognito;
  app.get('/login', auth.login());
  app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
  app.post('/refresh', { preHandler: auth.refresh() }, (_request, reply) => reply.redirect('/', 303));
  app.get('/admin', { onRequest: auth.required({ groups: ['admin'] }) }, (request) => {
    const identity: CognitoIdentity | undefined = request.cognito;
    const returnTo: string | undefined = request.cognitoReturnTo;
    const required: CognitoIdentity = fastifyIdentity(request);
    // @ts-expect-error -- the augmentation types request.cognito; it is not a string
    const wrong: string = request.cognito;
    return { sub: identity?.claims.sub, groups: required.groups, returnTo, wrong };
  });
  // @ts-expect-error -- refresh() continues to a handler: it is a hook, not a route handler
  app.post('/refresh-alone', auth.refresh());
  return app;
}

export function createApp(options: CognitoGuardOptions): express.Express {
  const app = express();
  const auth: ExpressCognitoGuard = cognitoGuard(new CognitoGuard(options));
  app.get('/admin', auth.required({ groups: ['admin'] }), (req: Request, res: Response) => {
    const identity: CognitoIdentity | undefined = req.cognito;
    const returnTo: string | undefined = req.cognitoReturnTo;
    // getIdentity reads a required identity without \`?.\`.
    const required: CognitoIdentity = getIdentity(req);
    // @ts-expect-error -- the augmentation types req.cognito; it is not a string
    const wrong: string = req.cognito;
    res.json({ sub: identity?.claims.sub, groups: required.groups, returnTo, wrong });
  });
  return app;
}

export function describeError(error: unknown): string {
  if (!(error instanceof CognitoGuardError)) return 'not ours';
  switch (error.code) {
    case 'ERR_CONFIGURATION': {
      const narrowed: 'ERR_CONFIGURATION' = error.code;
      return error instanceof ConfigurationError ? error.problems.join('; ') : narrowed;
    }
    case 'ERR_GROUP_REQUIRED':
      return 'forbidden ' + String(error.status);
    // @ts-expect-error -- 'code' is a closed union, so an unknown code does not compare
    case 'ERR_NOT_A_CODE':
      return 'impossible';
    default: {
      const rest: Exclude<CognitoGuardErrorCode, 'ERR_CONFIGURATION' | 'ERR_GROUP_REQUIRED'> =
        error.code;
      return rest;
    }
  }
}

export async function withEmulator(): Promise<string> {
  const emulator: EmulatorHandle = await startEmulator({ port: 0 });
  try {
    const token: string = await emulator.mintToken({ use: 'access' });
    const clientId: string | undefined = DEMO_CONFIG.clients[0]?.clientId;
    return token + String(clientId) + describeError(safeFromEnv());
  } finally {
    await emulator.stop();
  }
}

function safeFromEnv(): unknown {
  try {
    return fromEnv(process.env);
  } catch (error) {
    return error;
  }
}
`;

/**
 * The Lambda subpaths together (the caller prepends how `core`, `lb`, `bridge` and `em` are
 * loaded): a guard from the core subpath handed to the Lambda adapter, its handler served through
 * the packaged HTTP API bridge, tokens from the packaged emulator.
 */
const LAMBDA_RUNTIME_CHECK = `
async function check() {
  const results = {
    exports: [typeof lb.cognitoGuard, typeof lb.cognitoApiGuard, typeof bridge.serveLambda],
    sameGuardClass: lb.CognitoGuard === core.CognitoGuard,
  };
  const emulator = await em.startEmulator({ port: 0 });
  let served;
  try {
    const client = em.DEMO_CONFIG.clients[0];
    const auth = lb.cognitoGuard(new core.CognitoGuard({
      region: emulator.region,
      userPoolId: emulator.poolId,
      domain: emulator.domain,
      issuer: emulator.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUrl: 'http://127.0.0.1:3000/postlogin',
      logoutUrl: 'http://127.0.0.1:3000/postlogout',
      secretKey: 'package-test-secret-package-test-secret-0123',
      logger: { warn: () => undefined },
    }));
    const handler = auth.required((event, identity) => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: ['a=1', 'b=2'],
      body: JSON.stringify({ sub: identity.claims.sub, path: event.rawPath }),
    }));
    served = await bridge.serveLambda(handler);
    const anonymous = await fetch(served.url + '/me', { headers: { accept: 'application/json' } });
    await anonymous.arrayBuffer();
    results.anonymous = anonymous.status;
    const token = await emulator.mintToken({ use: 'access', clientId: client.clientId });
    const signedIn = await fetch(served.url + '/me', {
      headers: { cookie: 'cognito_access_token=' + token },
    });
    results.signedIn = {
      status: signedIn.status,
      body: await signedIn.json(),
      setCookies: signedIn.headers.getSetCookie(),
    };
    results.expectedSub = emulator.users()[0].sub;
  } finally {
    if (served) await served.close();
    await emulator.stop();
  }
  process.stdout.write(JSON.stringify(results) + '\\n');
}
check().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\\n');
  process.exitCode = 1;
});
`;

const LAMBDA_ESM_CONSUMER = `import * as core from 'cognito-guard';
import * as lb from 'cognito-guard/lambda';
import * as bridge from 'cognito-guard/lambda/bridge';
import * as em from 'cognito-guard/emulator';
${LAMBDA_RUNTIME_CHECK}`;

const LAMBDA_CJS_CONSUMER = `'use strict';
const core = require('cognito-guard');
const lb = require('cognito-guard/lambda');
const bridge = require('cognito-guard/lambda/bridge');
const em = require('cognito-guard/emulator');
${LAMBDA_RUNTIME_CHECK}`;

/**
 * A Lambda consumer typed with our own event and result types only: it must type-check (without
 * skipLibCheck) where `@types/aws-lambda` is not installed.
 */
const LAMBDA_TS_CONSUMER = `import { fromEnv } from 'cognito-guard';
import {
  cognitoGuard,
  type ApiGatewayV1Event,
  type ApiGatewayV2Event,
  type ApiGatewayV2Result,
  type LambdaHandler,
} from 'cognito-guard/lambda';
import { serveLambda, type HttpApiEvent } from 'cognito-guard/lambda/bridge';

const auth = cognitoGuard(fromEnv(process.env));
export const me: LambdaHandler<ApiGatewayV2Event> = auth.required((event, identity) => ({
  statusCode: 200,
  cookies: ['theme=dark; Path=/'],
  body: event.rawPath + String(identity?.claims.sub),
}));
export const rest: LambdaHandler<ApiGatewayV1Event> = auth.required(
  { groups: ['admin'] },
  (event) => ({ statusCode: 200, body: event.path }),
);
export async function call(event: HttpApiEvent): Promise<string> {
  const result: ApiGatewayV2Result = await me(event, undefined);
  // @ts-expect-error -- a REST handler does not take payload 2.0 events
  const mixedUp: LambdaHandler<ApiGatewayV2Event> = rest;
  const served = await serveLambda(me);
  await served.close();
  return String(result.cookies?.length) + String(mixedUp);
}
`;

/**
 * The same adapter typed with \`@types/aws-lambda\`: its handler types take ours in both directions,
 * and a handler for one event shape is refused where another is expected.
 */
const LAMBDA_AWS_TYPES_CONSUMER = `import type {
  ALBHandler,
  APIGatewayProxyEventV2,
  APIGatewayProxyHandler,
  APIGatewayProxyHandlerV2,
  Context,
} from 'aws-lambda';
import { fromEnv } from 'cognito-guard';
import { cognitoGuard } from 'cognito-guard/lambda';
import { serveLambda } from 'cognito-guard/lambda/bridge';

const auth = cognitoGuard(fromEnv(process.env));
export const v2: APIGatewayProxyHandlerV2 = auth.required((event, identity) => ({
  statusCode: 200,
  body: event.requestContext.http.path + String(identity?.groups.length),
}));
export const rest: APIGatewayProxyHandler = auth.required({ groups: ['admin'] }, (event) => ({
  statusCode: 200,
  body: event.requestContext.stage,
}));
export const alb: ALBHandler = auth.login();
// @ts-expect-error -- a handler for payload 2.0 events is not a REST handler
export const mixedUp: APIGatewayProxyHandler = auth.required((event: APIGatewayProxyEventV2) => ({
  statusCode: 200,
  body: event.rawPath,
}));
export async function local(): Promise<void> {
  const typed = async (event: APIGatewayProxyEventV2, context: Context) => ({
    statusCode: 200,
    body: event.rawPath + context.awsRequestId,
  });
  await (await serveLambda(typed)).close();
  await (await serveLambda(v2)).close();
}
`;

/**
 * The Next.js adapter through CommonJS (plain Node loads `next/server` that way; the ESM build
 * names Next.js's bare subpaths, which only a bundler resolves, so it is checked by building a
 * Next.js app below): a guard from the core subpath handed to the proxy, which refuses an
 * anonymous request and lets a signed-in one go on to the page.
 */
const NEXT_CJS_CONSUMER = `'use strict';
const core = require('cognito-guard');
const nx = require('cognito-guard/next');
const em = require('cognito-guard/emulator');
const { NextRequest } = require('next/server');
async function check() {
  const results = {
    exports: [typeof nx.cognitoGuard, typeof nx.cognitoApiGuard, typeof nx.getIdentity, typeof nx.requireIdentity],
    sameGuardClass: nx.CognitoGuard === core.CognitoGuard,
  };
  const emulator = await em.startEmulator({ port: 0 });
  try {
    const client = em.DEMO_CONFIG.clients[0];
    const guard = new core.CognitoGuard({
      region: emulator.region,
      userPoolId: emulator.poolId,
      domain: emulator.domain,
      issuer: emulator.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUrl: 'http://127.0.0.1:3000/postlogin',
      logoutUrl: 'http://127.0.0.1:3000/postlogout',
      secretKey: 'package-test-secret-package-test-secret-0123',
      logger: { warn: () => undefined },
    });
    const proxy = nx.cognitoGuard(guard).proxy([{ path: '/admin', groups: ['admin'] }]);
    const request = (cookie) =>
      new NextRequest('http://127.0.0.1:3000/admin', {
        headers: cookie ? { cookie, accept: 'application/json' } : { accept: 'application/json' },
      });
    const token = await emulator.mintToken({ use: 'access', clientId: client.clientId });
    results.anonymous = (await proxy(request())).status;
    results.signedIn = (await proxy(request('cognito_access_token=' + token))).headers.get('x-middleware-next');
  } finally {
    await emulator.stop();
  }
  process.stdout.write(JSON.stringify(results) + '\\n');
}
check().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\\n');
  process.exitCode = 1;
});
`;

/**
 * A typed Next.js consumer: route handlers, the proxy, and the identity of a Server Component.
 * The `@ts-expect-error` lines fail the check if a protection of the types disappears.
 */
const NEXT_TS_CONSUMER = `import {
  cognitoApiGuard,
  cognitoGuard,
  getIdentity,
  requireIdentity,
  type CognitoProxy,
  type NextCognitoGuard,
  type ProtectedPath,
  type RouteHandler,
} from 'cognito-guard/next';
import type { CognitoIdentity } from 'cognito-guard';

export const auth: NextCognitoGuard = cognitoGuard();
export const GET: RouteHandler = auth.login();
export const callback: RouteHandler = auth.callback({ redirectTo: '/profile' });
export const me: RouteHandler = cognitoApiGuard().protect({ scopes: ['email'] }, (_request, identity) =>
  Response.json({ sub: identity?.claims.sub }),
);
const paths: readonly ProtectedPath[] = [
  { path: '/admin', groups: ['admin'], redirectToLogin: true },
  { path: /^\\/reports\\/\\d+$/, scopes: ['reports/read'] },
  { path: '/', optional: true },
  // @ts-expect-error -- a misspelt requirement is not a protected path
  { path: '/edit', group: ['editor'] },
];
export const proxy: CognitoProxy = auth.proxy(paths);

export async function Profile(): Promise<string> {
  const maybe: CognitoIdentity | undefined = await getIdentity();
  const identity: CognitoIdentity = await requireIdentity({ groups: ['admin'], returnTo: '/profile' });
  // @ts-expect-error -- getIdentity() may find no one signed in
  const sure: CognitoIdentity = await auth.getIdentity();
  return identity.groups.join(', ') + String(maybe?.claims.sub) + String(sure);
}
`;

/**
 * A Next.js 16 app as create-next-app makes one (Cache Components on, bundler resolution), built
 * from the installed package: the quick start of docs/next.md, minus the fonts (no network).
 */
const NEXT_APP: Readonly<Record<string, string>> = {
  'next.config.mjs': `import { fileURLToPath } from 'node:url';
// node_modules is one folder up (the consumer project's).
export default {
  turbopack: { root: fileURLToPath(new URL('..', import.meta.url)) },
  cacheComponents: true,
  experimental: { authInterrupts: true },
  // Its types are checked by the consumer checks above; this saves the build's own tsc run.
  typescript: { ignoreBuildErrors: true },
};
`,
  'tsconfig.json': `{
  "compilerOptions": {
    "target": "ES2017",
    "lib": ["dom", "dom.iterable", "esnext"],
    "allowJs": true,
    "skipLibCheck": true,
    "strict": true,
    "noEmit": true,
    "esModuleInterop": true,
    "module": "esnext",
    "moduleResolution": "bundler",
    "resolveJsonModule": true,
    "isolatedModules": true,
    "jsx": "react-jsx",
    "incremental": true,
    "plugins": [{ "name": "next" }],
    "paths": { "@/*": ["./*"] }
  },
  "include": ["next-env.d.ts", "**/*.ts", "**/*.tsx", ".next/types/**/*.ts", ".next/dev/types/**/*.ts", "**/*.mts"],
  "exclude": ["node_modules"]
}
`,
  'lib/auth.ts': `import { cognitoGuard } from 'cognito-guard/next';
export const auth = cognitoGuard();
`,
  'proxy.ts': `import { auth } from '@/lib/auth';
export const proxy = auth.proxy([{ path: '/profile', redirectToLogin: true }]);
export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
`,
  'app/layout.tsx': `export default function RootLayout({ children }: LayoutProps<'/'>) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`,
  'app/login/route.ts': `import { auth } from '@/lib/auth';
export const GET = auth.login();
`,
  'app/postlogin/route.ts': `import { auth } from '@/lib/auth';
export const GET = auth.callback({ redirectTo: '/profile' });
`,
  'app/profile/page.tsx': `import { Suspense } from 'react';
import { auth } from '@/lib/auth';

export default function Profile() {
  return (
    <main>
      <Suspense fallback={<p>Loading…</p>}>
        <SignedInUser />
      </Suspense>
    </main>
  );
}

async function SignedInUser() {
  const { claims, groups } = await auth.requireIdentity({ returnTo: '/profile' });
  return <h1>{\`Signed in as \${claims.username} (\${groups.join(', ')})\`}</h1>;
}
`,
  'app/team/page.tsx': `import { Suspense } from 'react';
import { requireIdentity } from 'cognito-guard/next';

export default function Team() {
  return (
    <Suspense fallback={<p>Loading…</p>}>
      <Admins />
    </Suspense>
  );
}

async function Admins() {
  const { claims } = await requireIdentity({ groups: ['admin'], returnTo: '/team' });
  return <p>{\`Team of \${claims.username}\`}</p>;
}
`,
};

interface Exports {
  readonly [subpath: string]: string | Exports;
}

/** Every file path an `exports` map points at, with the condition order of each object. */
function exportTargets(value: string | Exports, orders: string[][]): string[] {
  if (typeof value === 'string') return [value];
  orders.push(Object.keys(value));
  return Object.values(value).flatMap((inner) => exportTargets(inner, orders));
}

describe('the packed tarball', { timeout: 240_000 }, () => {
  let work = '';
  let app = '';
  let entries: string[] = [];
  let tarball = '';

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cognito-guard-pack-'));
    const stage = join(work, 'stage');
    await mkdir(stage);
    for (const name of [...STAGED, ...OPTIONAL_DOCS.filter((doc) => existsSync(join(ROOT, doc)))])
      await cp(join(ROOT, name), join(stage, name), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
    // `prepack` runs the build, as it does before a publish.
    await run('npm', ['pack', '--pack-destination', work], stage);
    const tarballs = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
    assert.equal(tarballs.length, 1, `expected one tarball, found ${tarballs.join(', ')}`);
    tarball = join(work, tarballs[0]!);
    entries = (await run('tar', ['-tzf', tarball], work)).stdout.split('\n').filter(Boolean);

    app = join(work, 'app');
    await mkdir(join(app, 'esm'), { recursive: true });
    await writeFile(join(app, 'package.json'), '{"name":"consumer","private":true}\n');
    await writeFile(join(app, 'esm', 'package.json'), '{"type":"module"}\n');
    // The versions the repository itself uses, so the warm npm cache serves them offline.
    const peers = await Promise.all(
      [
        'express',
        '@types/express',
        '@types/node',
        'fastify',
        'hono',
        'redis',
        'next',
        'react',
        'react-dom',
        // What create-next-app installs beside them: Next.js refuses a TypeScript app without
        // them under CI (elsewhere it installs them itself, mid-build).
        'typescript',
        '@types/react',
      ].map(async (name) => `${name}@${await installedVersion(name)}`),
    );
    await run(
      'npm',
      ['install', tarball, ...peers, '--prefer-offline', '--no-audit', '--no-fund'],
      app,
    );
  });

  after(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('holds dist, the examples, README and package.json, and no sources or tests', () => {
    const files = entries.map((entry) => entry.replace(/^package\//, ''));
    for (const required of ['package.json', 'README.md', 'dist/cli/main.js']) {
      assert.ok(files.includes(required), `${required} is missing from the tarball`);
    }
    for (const doc of OPTIONAL_DOCS.filter((name) => existsSync(join(ROOT, name)))) {
      assert.ok(files.includes(doc), `${doc} is missing from the tarball`);
    }
    for (const base of [
      'dist/index',
      'dist/express/index',
      'dist/fastify/index',
      'dist/emulator/index',
      'dist/testing/index',
      'dist/lambda/index',
      'dist/lambda/bridge',
      'dist/web/index',
      'dist/hono/index',
      'dist/next/index',
      'dist/redis/index',
    ]) {
      for (const extension of ['.js', '.cjs', '.d.ts', '.d.cts']) {
        assert.ok(files.includes(base + extension), `${base}${extension} is missing`);
      }
    }
    const stray = files.filter(
      (file) =>
        !/^(dist|docs|examples)\//.test(file) &&
        !/^(package\.json|[A-Z]+[\w-]*\.md|LICENSE)$/.test(file),
    );
    assert.deepEqual(stray, [], 'only dist/, docs/, examples/, docs and package.json are packed');
    assert.ok(!files.some((file) => /^(src|test|bench|scripts)\//.test(file)));
    // What running the examples writes beside them (Vitest's cache, a Next.js build) stays out.
    const generated = files.filter((file) => /(^|\/)(node_modules|\.next|\.vite)\//.test(file));
    assert.deepEqual(generated, [], 'no build output or cache of the examples is packed');
    // The README links the example app and the testing guide in the published package.
    assert.ok(files.includes('examples/express/app.ts'));
    assert.ok(files.includes('docs/testing.md'));
  });

  it('points every export at a packed file, with types first in each condition', async () => {
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules', 'cognito-guard', 'package.json'), 'utf8'),
    ) as { exports: Exports; bin: Record<string, string>; main: string; types: string };
    const orders: string[][] = [];
    const targets = [
      ...exportTargets(manifest.exports, orders),
      ...Object.values(manifest.bin),
      manifest.main,
      manifest.types,
    ];
    for (const target of targets) {
      assert.ok(
        entries.includes(`package/${target.replace(/^\.\//, '')}`),
        `${target} is not in the tarball`,
      );
    }
    for (const order of orders.filter((keys) => keys.includes('types'))) {
      assert.equal(order[0], 'types', `"types" must come first in {${order.join(', ')}}`);
    }
    for (const subpath of [
      '.',
      './express',
      './fastify',
      './emulator',
      './testing',
      './lambda',
      './lambda/bridge',
      './web',
      './hono',
      './next',
      './redis',
    ]) {
      assert.ok(subpath in manifest.exports, `exports lacks ${subpath}`);
    }
  });

  for (const [format, file, source] of [
    ['ESM import', 'esm/consumer.mjs', ESM_CONSUMER],
    ['CommonJS require', 'consumer.cjs', CJS_CONSUMER],
  ] as const) {
    it(`loads every subpath with ${format} and protects an Express, a Fastify, a Fetch and a Hono route`, async () => {
      await writeFile(join(app, file), source);
      const { stdout, stderr } = await run(process.execPath, [file], app, 30_000);
      const results = JSON.parse(stdout);
      assert.deepEqual(results.exports, {
        core: ['function', 'function', 'function'],
        express: ['function'],
        fastify: ['function', 'function', 'function'],
        emulator: ['function', 'object'],
        web: ['function', 'function', 'function'],
        hono: ['function', 'function', 'function'],
        testing: ['function', 'function', 'function', 'function'],
      });
      assert.equal(results.testing.status, 200);
      assert.equal(results.testing.body.sub, results.expectedSub);
      assert.deepEqual(results.testing.cookieNames, ['cognito_access_token', 'cognito_id_token']);
      // One copy of the core per format: a guard or error from one subpath is the other's class.
      assert.equal(results.sameGuardClass, true);
      assert.deepEqual(results.configError, {
        isConfigurationError: true,
        isCognitoGuardError: true,
        code: 'ERR_CONFIGURATION',
      });
      for (const framework of ['express', 'fastify']) {
        const { anonymous, signedIn } = results[framework];
        assert.equal(anonymous.status, 401, framework);
        assert.match(anonymous.wwwAuthenticate ?? '', /^Bearer/, framework);
        assert.equal(signedIn.status, 200, framework);
        assert.equal(signedIn.body.sub, results.expectedSub, framework);
        assert.deepEqual(signedIn.body.groups, ['admin'], framework);
      }
      assert.deepEqual(results.web, { anonymous: 401, sub: results.expectedSub });
      assert.deepEqual(results.hono, {
        anonymous: 401,
        signedIn: { status: 200, body: { sub: results.expectedSub } },
      });
      // require(esm) of jose/oauth4webapi from node_modules must not warn users on Node ≥ 20.19.
      assert.equal(stderr, '');
    });
  }

  for (const [kind, dir] of [
    ['an ESM ("type": "module")', 'esm'],
    ['a CommonJS', '.'],
  ] as const) {
    it(`type-checks ${kind} TypeScript consumer under --module nodenext`, async () => {
      const cwd = join(app, dir);
      await writeFile(join(cwd, 'consumer.ts'), TS_CONSUMER);
      const { stdout } = await run(
        process.execPath,
        [
          TSC,
          '--strict',
          '--noEmit',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--traceResolution',
          'consumer.ts',
        ],
        cwd,
        60_000,
      );
      // The check must have used our declarations for this module format, not skipped them.
      const declaration = dir === 'esm' ? 'd.ts' : 'd.cts';
      for (const [subpath, file] of DECLARATIONS) {
        assert.ok(
          stdout.includes(
            `Module name '${subpath}' was successfully resolved to '${join(app, 'node_modules', 'cognito-guard', 'dist', `${file}.${declaration}`)}'`,
          ),
          `${subpath} did not resolve to dist/${file}.${declaration}`,
        );
      }
    });
  }

  it('type-checks a TypeScript consumer with "module": "commonjs" (node10 resolution, through typesVersions)', async () => {
    const cwd = join(app, 'node10');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, 'consumer.ts'), TS_CONSUMER);
    const { stdout } = await run(
      process.execPath,
      [
        TSC,
        '--strict',
        '--noEmit',
        '--module',
        'commonjs',
        '--esModuleInterop',
        '--skipLibCheck',
        '--traceResolution',
        'consumer.ts',
      ],
      cwd,
      60_000,
    );
    for (const [subpath, file] of DECLARATIONS) {
      assert.ok(
        stdout.includes(
          `Module name '${subpath}' was successfully resolved to '${join(app, 'node_modules', 'cognito-guard', 'dist', `${file}.d.ts`)}'`,
        ),
        `${subpath} did not resolve to dist/${file}.d.ts under node10 resolution`,
      );
    }
  });

  for (const [format, file, source] of [
    ['ESM import', 'esm/lambda-consumer.mjs', LAMBDA_ESM_CONSUMER],
    ['CommonJS require', 'lambda-consumer.cjs', LAMBDA_CJS_CONSUMER],
  ] as const) {
    it(`loads /lambda and /lambda/bridge with ${format} and serves a protected handler`, async () => {
      await writeFile(join(app, file), source);
      const { stdout, stderr } = await run(process.execPath, [file], app, 30_000);
      const results = JSON.parse(stdout);
      assert.deepEqual(results.exports, ['function', 'function', 'function']);
      assert.equal(results.sameGuardClass, true, 'one copy of the core');
      assert.equal(results.anonymous, 401);
      assert.equal(results.signedIn.status, 200);
      assert.deepEqual(results.signedIn.body, { sub: results.expectedSub, path: '/me' });
      assert.deepEqual(results.signedIn.setCookies, ['a=1', 'b=2']);
      assert.equal(stderr, '');
    });
  }

  for (const [kind, dir, module] of [
    ['an ESM', 'esm', 'nodenext'],
    ['a CommonJS', '.', 'nodenext'],
    ['a "module": "commonjs" (node10, through typesVersions)', 'node10-lambda', 'commonjs'],
  ] as const) {
    it(`type-checks ${kind} Lambda consumer without @types/aws-lambda installed`, async () => {
      const cwd = join(app, dir);
      await mkdir(cwd, { recursive: true });
      await writeFile(join(cwd, 'lambda-consumer.ts'), LAMBDA_TS_CONSUMER);
      const moduleArgs =
        module === 'nodenext'
          ? ['--module', 'nodenext', '--moduleResolution', 'nodenext']
          : ['--module', 'commonjs', '--esModuleInterop', '--skipLibCheck'];
      const { stdout } = await run(
        process.execPath,
        [TSC, '--strict', '--noEmit', ...moduleArgs, '--traceResolution', 'lambda-consumer.ts'],
        cwd,
        60_000,
      );
      assert.ok(!existsSync(join(app, 'node_modules', '@types', 'aws-lambda')));
      const declaration = dir === 'esm' ? 'd.ts' : module === 'commonjs' ? 'd.ts' : 'd.cts';
      for (const [subpath, file] of [
        ['cognito-guard/lambda', 'lambda/index'],
        ['cognito-guard/lambda/bridge', 'lambda/bridge'],
      ] as const) {
        assert.ok(
          stdout.includes(
            `Module name '${subpath}' was successfully resolved to '${join(app, 'node_modules', 'cognito-guard', 'dist', `${file}.${declaration}`)}'`,
          ),
          `${subpath} did not resolve to dist/${file}.${declaration}`,
        );
      }
      assert.doesNotMatch(stdout, /Resolving module 'aws-lambda'/, 'our types never need it');
    });
  }

  it('type-checks a Lambda consumer typed with @types/aws-lambda (its handler types accept ours)', async () => {
    const cwd = join(app, 'aws-types', 'esm');
    await mkdir(cwd, { recursive: true });
    await writeFile(
      join(app, 'aws-types', 'package.json'),
      '{"name":"aws-types","private":true}\n',
    );
    await writeFile(join(cwd, 'package.json'), '{"type":"module"}\n');
    await run(
      'npm',
      [
        'install',
        `@types/aws-lambda@${await installedVersion('@types/aws-lambda')}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
      join(app, 'aws-types'),
    );
    await writeFile(join(cwd, 'consumer.ts'), LAMBDA_AWS_TYPES_CONSUMER);
    await run(
      process.execPath,
      [
        TSC,
        '--strict',
        '--noEmit',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        'consumer.ts',
      ],
      cwd,
      60_000,
    );
  });

  it('loads /next with CommonJS require and protects a path in the proxy', async () => {
    await writeFile(join(app, 'next-consumer.cjs'), NEXT_CJS_CONSUMER);
    const { stdout, stderr } = await run(process.execPath, ['next-consumer.cjs'], app, 30_000);
    assert.deepEqual(JSON.parse(stdout), {
      exports: ['function', 'function', 'function', 'function'],
      sameGuardClass: true,
      anonymous: 401,
      signedIn: '1',
    });
    assert.equal(stderr, '');
  });

  for (const [kind, dir, moduleArgs] of [
    [
      "bundler resolution (create-next-app's)",
      'next-bundler',
      ['--module', 'esnext', '--moduleResolution', 'bundler'],
    ],
    ['nodenext, ESM', 'esm', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
  ] as const) {
    it(`type-checks a Next.js consumer under ${kind}`, async () => {
      const cwd = join(app, dir);
      await mkdir(cwd, { recursive: true });
      await writeFile(join(cwd, 'next-consumer.ts'), NEXT_TS_CONSUMER);
      const { stdout } = await run(
        process.execPath,
        // Next.js's own declarations are checked by Next.js (create-next-app sets skipLibCheck).
        [
          TSC,
          '--strict',
          '--noEmit',
          '--skipLibCheck',
          ...moduleArgs,
          '--traceResolution',
          'next-consumer.ts',
        ],
        cwd,
        60_000,
      );
      assert.match(
        stdout,
        /Module name 'cognito-guard\/next' was successfully resolved to '[^']*\/dist\/next\/index\.d\.c?ts'/,
      );
    });
  }

  it('builds a Next.js app (Cache Components on) from the packed ESM files, and signs in on it', async () => {
    const project = join(app, 'next-app');
    for (const [path, text] of Object.entries(NEXT_APP)) {
      await mkdir(join(project, path, '..'), { recursive: true });
      await writeFile(join(project, path), text);
    }
    const nextBin = join(app, 'node_modules', 'next', 'dist', 'bin', 'next');
    // No configuration at build time: it is read when the server runs.
    await run(process.execPath, [nextBin, 'build'], project, 180_000);

    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const pool = await startTestPool({
      appUrl,
      appClient: { callbackUrls: [`${appUrl}/postlogin`] },
    });
    const server = spawn(
      process.execPath,
      [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'],
      {
        cwd: project,
        env: { ...process.env, ...pool.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes('Ready') && Date.now() < deadline && server.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const signedOut = await fetch(`${appUrl}/profile`, {
        headers: { accept: 'text/html' },
        redirect: 'manual',
      });
      assert.equal(signedOut.headers.get('location'), '/login?returnTo=%2Fprofile', output);
      const alice = await signIn(appUrl, {
        username: 'alice',
        password: 'Passw0rd!',
        returnTo: '/profile',
      });
      assert.equal(alice.callback.location, `${appUrl}/profile`);
      const profile = await fetch(`${appUrl}/profile`, { headers: { cookie: alice.cookie } });
      assert.ok((await profile.text()).includes('Signed in as alice (admin)'), output);
      const carol = await signIn(appUrl, { username: 'carol', password: 'Passw0rd!' });
      const team = await fetch(`${appUrl}/team`, { headers: { cookie: carol.cookie } });
      assert.ok(!(await team.text()).includes('Team of'), 'carol is not in group admin');
      assert.doesNotMatch(output, /unexpected failure|Error:/, 'the server logged no error');
    } finally {
      server.kill('SIGKILL');
      await pool.stop();
    }
  });

  for (const [format, file, load] of [
    [
      'ESM import',
      'esm/redis.mjs',
      "import * as core from 'cognito-guard';\nimport * as rd from 'cognito-guard/redis';",
    ],
    [
      'CommonJS require',
      'redis.cjs',
      "const core = require('cognito-guard');\nconst rd = require('cognito-guard/redis');",
    ],
  ] as const) {
    it(`loads cognito-guard/redis with ${format}: AWS_COGNITO_SESSION_STORE=redis://… builds its store`, async () => {
      // The subpath registers redis: with the core of the same format; a guard configured by URL
      // then keeps sessions in Redis (lazily connected: nothing listens on port 1).
      await writeFile(
        join(app, file),
        `${load}
const guard = new core.CognitoGuard({
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_abcdef',
  domain: 'https://auth.example.com',
  clientId: 'client',
  redirectUrl: 'https://app.example.com/postlogin',
  logoutUrl: 'https://app.example.com/postlogout',
  secretKey: 'package-test-secret-package-test-secret-0123',
  sessionStore: 'redis://127.0.0.1:1/0',
});
const result = {
  factory: typeof rd.redisSessionStore,
  registered: guard.options.sessionStore instanceof rd.RedisSessionStore,
};
guard.close().then(() => process.stdout.write(JSON.stringify(result) + '\\n'));
`,
      );
      const { stdout, stderr } = await run(process.execPath, [file], app, 30_000);
      assert.deepEqual(JSON.parse(stdout), { factory: 'function', registered: true });
      assert.equal(stderr, '');
    });
  }

  it('keeps every declaration in a file named after its module (no hashed chunks)', () => {
    const declarations = entries.filter((entry) => /\.d\.c?ts$/.test(entry));
    assert.ok(declarations.length > 10);
    const hashed = declarations.filter((entry) => /-[A-Za-z0-9_-]{8}\.d\.c?ts$/.test(entry));
    assert.deepEqual(hashed, []);
    assert.ok(declarations.includes('package/dist/core/options.d.ts'));
  });

  it('runs `npx cognito-guard --help` from the installed package', async () => {
    // `--` keeps npx from taking --help for itself; `--no` forbids a download.
    const { stdout } = await run('npx', ['--no', '--', 'cognito-guard', '--help'], app, 30_000);
    assert.match(stdout, /^Usage:\n {2}cognito-guard emulator /);
    assert.match(stdout, /cognito-guard emulator rotate-keys/);
  });

  it('loads without the optional framework peers installed', async () => {
    // Frameworks are optional peers: an app on another framework installs only this package, and
    // every subpath (the adapters use their framework's types only) must still load.
    const bare = join(work, 'bare');
    await mkdir(bare);
    await writeFile(join(bare, 'package.json'), '{"name":"bare","private":true,"type":"module"}\n');
    await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], bare);
    for (const peer of ['express', 'fastify', 'hono', 'next']) {
      assert.ok(!existsSync(join(bare, 'node_modules', peer)), `${peer} was installed`);
    }
    const script = SUBPATHS.map(
      (subpath) => `console.log(Object.keys(await import('${subpath}')).length);`,
    ).join('\n');
    const { stdout, stderr } = await run(
      process.execPath,
      ['--input-type=module', '-e', script],
      bare,
      30_000,
    );
    assert.equal(stderr, '');
    const counts = stdout.trim().split('\n').map(Number);
    assert.equal(counts.length, SUBPATHS.length);
    assert.ok(
      counts.every((count) => count > 0),
      `a subpath exported nothing: ${stdout}`,
    );
    // The Next.js adapter is the one subpath that needs its framework to load: it says so.
    await assert.rejects(
      run(
        process.execPath,
        ['--input-type=module', '-e', "await import('cognito-guard/next')"],
        bare,
      ),
      /Cannot find (package|module) 'next/,
    );
  });
});
