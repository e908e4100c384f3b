/**
 * The conformance harness: every adapter's example app (the same app, route for route), started
 * on a loopback port from the same environment variables a user sets, against the emulator.
 *
 * A conformance test is written once and runs for every entry of {@link ADAPTERS}:
 *
 * ```ts
 * for (const adapter of ADAPTERS) {
 *   describe(`logout (${adapter.name})`, () => { … startConformanceApp(adapter, pool) … });
 * }
 * ```
 *
 * Adapters that run the app in this process also accept `inProcess` extras (a logger, a fetch, a
 * clock); a test that needs them checks `adapter.inProcess`, and where it is false checks what it
 * can still see from outside and says in its output what it could not check (a skip would fail CI).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import type { Express } from 'express';
import { fromEnv, type CognitoGuardOptions } from '../../src/index.js';
import { type EmulatorClient, type EmulatorHandle } from '../../src/emulator/index.js';
import { getRequestListener } from '@hono/node-server';
import { createExampleApp } from '../../examples/express/app.js';
import { createExampleApp as createFastifyExampleApp } from '../../examples/fastify/app.js';
import { createExampleHandler } from '../../examples/lambda/app.js';
import { serveLambda } from '../../src/lambda/bridge.js';
import { createExampleApp as createHonoApp } from '../../examples/hono/app.js';
import { startWorker } from '../../examples/workers/workerd.js';
import { startNextApp } from '../next/apps.js';
import { CLIENT_ID, CLIENT_SECRET, registerClient, SECRET_KEY } from '../support/stack.js';

/** Guard options that only an in-process app can take (functions cannot cross into workerd). */
export type InProcessExtras = Partial<Pick<CognitoGuardOptions, 'logger' | 'fetch' | 'now'>>;

/** A running example app. */
export interface AppUnderTest {
  /** `http://127.0.0.1:{port}` */
  readonly url: string;
  stop(): Promise<void>;
}

/** One adapter, as the conformance suite drives it. */
export interface AdapterUnderTest {
  /** Shown in test names: `express5`, `fastify`, `hono`, `lambda`, `workerd`… */
  readonly name: string;
  /** Whether {@link AdapterUnderTest.start} honours `extras` (the app runs in this process). */
  readonly inProcess: boolean;
  /**
   * The platform's quota on the request line plus header values, when it has one (API Gateway:
   * 10,240 bytes, refused before the function runs). Tests that send deliberately huge URLs
   * beside a full Cookie header stay within it there.
   */
  readonly requestHeadQuotaBytes?: number;
  /**
   * The status the server in front of the app answers a request line in absolute form
   * (`GET http://host/path`) with when it refuses it before the app runs; default 400.
   */
  readonly absoluteFormRefusal?: number;
  /**
   * Starts the adapter's example app on `port` (127.0.0.1), configured by `env` exactly as the
   * example's own entry point would be.
   */
  start(
    env: Readonly<Record<string, string>>,
    port: number,
    extras: InProcessExtras,
  ): Promise<AppUnderTest>;
}

/** Listens on 127.0.0.1:`port` (0 for any) and resolves with the bound port. */
export async function listenOn(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it holds. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** A free loopback port (bound and released; loopback ports are not reused that fast). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOn(server);
  await closeServer(server);
  return port;
}

/** Serves a Node request listener as an {@link AppUnderTest}. */
export async function serveListener(
  listener: RequestListener,
  port: number,
): Promise<AppUnderTest> {
  const server = createServer(listener);
  await listenOn(server, port);
  return { url: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}

function expressAdapter(name: string, create: () => Express): AdapterUnderTest {
  return {
    name,
    inProcess: true,
    start: (env, port, extras) =>
      serveListener(createExampleApp({ ...fromEnv(env), ...extras }, create), port),
  };
}

const fastifyAdapter: AdapterUnderTest = {
  name: 'fastify',
  inProcess: true,
  start: async (env, port, extras) => {
    const app = await createFastifyExampleApp({ ...fromEnv(env), ...extras });
    await app.listen({ port, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${port}`, stop: () => app.close() };
  },
};

/** The Lambda example behind the local API Gateway HTTP API bridge (payload format 2.0). */
const lambdaAdapter: AdapterUnderTest = {
  name: 'lambda',
  inProcess: true,
  requestHeadQuotaBytes: 10_240,
  start: async (env, port, extras) => {
    const handler = createExampleHandler({ ...fromEnv(env), ...extras });
    const bridge = await serveLambda(handler, { port, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${port}`, stop: () => bridge.close() };
  },
};

/** Hono's example app on Node, through `@hono/node-server` (as `npm run example:hono` serves it). */
const honoAdapter: AdapterUnderTest = {
  name: 'hono',
  inProcess: true,
  start: (env, port, extras) => {
    const listener = getRequestListener(createHonoApp({ ...fromEnv(env), ...extras }).fetch);
    // The listener settles its own errors (a 500 from @hono/node-server, never a rejection).
    return serveListener((req, res) => {
      void listener(req, res);
    }, port);
  },
};

/**
 * An example as a Cloudflare Worker, in workerd: another process, configured by its environment
 * bindings alone. `workerd` is the Fetch-API (`cognito-guard/web`) example, `hono-workerd` the
 * Hono one.
 */
function workerdAdapter(name: string, worker: 'web' | 'hono'): AdapterUnderTest {
  return {
    name,
    inProcess: false,
    // workerd's HTTP server takes only origin-form request lines on a plain socket: it answers
    // 500 itself, without running the Worker (on Cloudflare, the edge parses HTTP instead).
    absoluteFormRefusal: 500,
    start: (env, port) => startWorker({ env, port, worker }),
  };
}

/**
 * The Next.js example under `next start`: another process, configured by its environment at
 * request time. It is built once (`next build`, ~10–20 s) and the build is reused while its
 * sources are unchanged, by every test file that starts it.
 */
const nextAdapter: AdapterUnderTest = {
  name: 'next',
  inProcess: false,
  // `next start` answers a request line in absolute form (`GET http://evil.example/x`) itself,
  // before the proxy or any route runs: a 308 to that URL (seen with Next.js 16.4). Browsers
  // never send that form to an origin server; a forward proxy in front of Next.js could.
  absoluteFormRefusal: 308,
  start: async (env, port) => {
    const app = await startNextApp('proxy', env, port);
    return { url: app.url, stop: () => app.stop() };
  },
};

/**
 * Every adapter the conformance suite runs against; `COGNITO_GUARD_ADAPTERS=next,hono` narrows a
 * local run to some of them (CI runs them all).
 */
export const ADAPTERS: readonly AdapterUnderTest[] = selected([
  expressAdapter('express5', () => express5()),
  expressAdapter('express4', () => express4() as unknown as Express),
  fastifyAdapter,
  lambdaAdapter,
  honoAdapter,
  workerdAdapter('workerd', 'web'),
  workerdAdapter('hono-workerd', 'hono'),
  nextAdapter,
]);

function selected(all: readonly AdapterUnderTest[]): readonly AdapterUnderTest[] {
  const names = (process.env.COGNITO_GUARD_ADAPTERS ?? '').split(',').filter((name) => name !== '');
  if (names.length === 0) return all;
  const unknown = names.filter((name) => !all.some((adapter) => adapter.name === name));
  if (unknown.length > 0)
    throw new Error(`COGNITO_GUARD_ADAPTERS: no adapter ${unknown.join(', ')}`);
  return all.filter((adapter) => names.includes(adapter.name));
}

/** The environment of an app at `appUrl` using `emulator` (as `npm start` would build it). */
export function conformanceEnv(
  emulator: EmulatorHandle,
  appUrl: string,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    AWS_REGION: emulator.region,
    AWS_COGNITO_USER_POOL_ID: emulator.poolId,
    AWS_COGNITO_DOMAIN: emulator.domain,
    AWS_COGNITO_ISSUER: emulator.issuer,
    AWS_COGNITO_USER_POOL_CLIENT_ID: CLIENT_ID,
    AWS_COGNITO_USER_POOL_CLIENT_SECRET: CLIENT_SECRET,
    AWS_COGNITO_REDIRECT_URL: `${appUrl}/postlogin`,
    AWS_COGNITO_LOGOUT_URL: `${appUrl}/postlogout`,
    AWS_COGNITO_SCOPES: 'openid email profile',
    AWS_COGNITO_REFRESH_FLOW_ENABLED: 'true',
    SECRET_KEY,
    NODE_ENV: 'test',
    ...overrides,
  };
}

/** What {@link startConformanceApp} may change. */
export interface ConformanceAppOptions {
  /** The port to listen on; default a free one. */
  readonly port?: number;
  /** Environment overrides (`AWS_COGNITO_COOKIE_SAMESITE: 'Strict'`…). */
  readonly env?: Readonly<Record<string, string>>;
  /** Emulator app-client overrides; the client is registered for the app's URLs. */
  readonly client?: Partial<EmulatorClient>;
  /** In-process extras (a logger, a fetch, a clock); ignored by out-of-process adapters. */
  readonly extras?: InProcessExtras;
}

/** A started app, with what it was configured with. */
export interface ConformanceApp extends AppUnderTest {
  readonly env: Readonly<Record<string, string>>;
}

/** Registers an app client for a fresh port, and starts `adapter`'s example app there. */
export async function startConformanceApp(
  adapter: AdapterUnderTest,
  emulator: EmulatorHandle,
  options: ConformanceAppOptions = {},
): Promise<ConformanceApp> {
  const port = options.port ?? (await freePort());
  const appUrl = `http://127.0.0.1:${port}`;
  // One app client per app, so apps sharing an emulator do not replace each other's callback URLs.
  const env = conformanceEnv(emulator, appUrl, {
    AWS_COGNITO_USER_POOL_CLIENT_ID: `conformance-${port}`,
    ...options.env,
  });
  registerClient(emulator, appUrl, {
    clientId: env['AWS_COGNITO_USER_POOL_CLIENT_ID'] ?? CLIENT_ID,
    ...(env['AWS_COGNITO_USER_POOL_CLIENT_SECRET'] === undefined
      ? {}
      : { clientSecret: env['AWS_COGNITO_USER_POOL_CLIENT_SECRET'] }),
    ...options.client,
  });
  const app = await adapter.start(env, port, {
    logger: { warn: () => undefined },
    ...options.extras,
  });
  return { ...app, env };
}
