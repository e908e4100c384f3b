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
 * Adapters that run the app in this process (`inProcess: true`) also accept extras no
 * environment variable can carry (a logger, a fetch, a clock, a timeout, Secure cookies on a
 * plain-http loopback app), and their app's log is captured. A test that needs one of those is
 * generated only for those adapters (`IN_PROCESS_ADAPTERS`), and its file says so; a test that
 * only partly needs them checks from outside what it can for the others.
 */
import express5 from 'express';
import express4 from 'express4';
import type { Express } from 'express';
import { fromEnv, type CognitoGuardOptions } from '../../src/index.js';
import { type EmulatorClient, type EmulatorHandle } from '../../src/emulator/index.js';
import { getRequestListener } from '@hono/node-server';
import { createExampleApp } from '../../examples/express/app.js';
import { createExampleApp as createFastifyExampleApp } from '../../examples/fastify/app.js';
import { createExampleHandler } from '../../examples/lambda/app.js';
import { loadSessionStore } from '../../examples/shared/environment.js';
import { serveLambda } from '../../src/lambda/bridge.js';
import { createExampleApp as createHonoApp } from '../../examples/hono/app.js';
import { startWorker } from '../../examples/workers/workerd.js';
import { startNextApp } from '../next/apps.js';
import { freePort, serve } from './http.js';
import { captureLogger, type CapturedLog } from './logs.js';
import { CLIENT_ID, CLIENT_SECRET, registerClient, SECRET_KEY } from './pool.js';

/**
 * Guard options that only an in-process app can take: functions cannot cross into workerd, and
 * no environment variable sets these (`secureCookies` follows the redirect URL's scheme there).
 */
export type InProcessExtras = Partial<
  Pick<
    CognitoGuardOptions,
    'logger' | 'fetch' | 'now' | 'httpTimeoutMs' | 'secureCookies' | 'redirectUrl'
  >
>;

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
   * 10,240 bytes, refused with 431 before the function runs). Tests that send deliberately huge
   * URLs or headers expect that refusal past it.
   */
  readonly requestHeadQuotaBytes?: number;
  /**
   * The server's own limit on the request line plus headers, past which it answers 431 before
   * the app runs (Node's default `maxHeaderSize`, 16 KiB); undefined where it is larger than any
   * request the suite sends (workerd). A platform quota below it is `requestHeadQuotaBytes`.
   */
  readonly requestHeadLimitBytes?: number;
  /**
   * The status the server in front of the app answers a request line in absolute form
   * (`GET http://host/path`) with when it refuses it before the app runs; default 400.
   */
  readonly absoluteFormRefusal?: number;
  /**
   * Whether the server may reset the connection instead of answering 431 when a request head is
   * over its own limit (Fastify's client-error handler destroys the socket right after writing
   * its 431, so a client still sending the head may see only the reset).
   */
  readonly headOverflowMayReset?: boolean;
  /**
   * Where sessions in Redis are tested for an app in another process that can reach Redis (the
   * session-store suite needs an in-process clock, and refuses Redis for the other ones, which
   * run in workerd): `test/next/next-app.test.ts` for Next.js on the Node.js runtime.
   */
  readonly redisSessionsTestedIn?: string;
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

/** Node's default limit on a request's line and headers (`--max-http-header-size`). */
const NODE_HEAD_LIMIT_BYTES = 16 * 1024;

function expressAdapter(name: string, create: () => Express): AdapterUnderTest {
  return {
    name,
    inProcess: true,
    requestHeadLimitBytes: NODE_HEAD_LIMIT_BYTES,
    start: async (env, port, extras) => {
      const app = createExampleApp({ ...fromEnv(env), ...extras }, create);
      const served = await serve(app, port);
      return {
        url: served.url,
        stop: async () => {
          await served.stop();
          // As the example's server.ts does at shutdown: release a session store's connections.
          await app.cognito.guard.close();
        },
      };
    },
  };
}

const fastifyAdapter: AdapterUnderTest = {
  name: 'fastify',
  inProcess: true,
  requestHeadLimitBytes: NODE_HEAD_LIMIT_BYTES,
  headOverflowMayReset: true,
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
  requestHeadLimitBytes: NODE_HEAD_LIMIT_BYTES,
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
  requestHeadLimitBytes: NODE_HEAD_LIMIT_BYTES,
  start: (env, port, extras) => {
    const listener = getRequestListener(createHonoApp({ ...fromEnv(env), ...extras }).fetch);
    // The listener settles its own errors (a 500 from @hono/node-server, never a rejection).
    return serve((req, res) => {
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
  requestHeadLimitBytes: NODE_HEAD_LIMIT_BYTES,
  // `next start` answers a request line in absolute form (`GET http://evil.example/x`) itself,
  // before the proxy or any route runs: a 308 to that URL (seen with Next.js 16.4). Browsers
  // never send that form to an origin server; a forward proxy in front of Next.js could.
  absoluteFormRefusal: 308,
  redisSessionsTestedIn: 'test/next/next-app.test.ts',
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
  /**
   * Environment overrides (`AWS_COGNITO_COOKIE_SAMESITE: 'Strict'`…), or a function of the app's
   * URL that returns them; an empty value unsets a variable (`AWS_COGNITO_USER_POOL_CLIENT_SECRET:
   * ''` makes a public client).
   */
  readonly env?: Readonly<Record<string, string>> | ((appUrl: string) => Record<string, string>);
  /**
   * Emulator app-client overrides (or a function of the app's URL that returns them); the client
   * is registered for the app's URLs.
   */
  readonly client?: Partial<EmulatorClient> | ((appUrl: string) => Partial<EmulatorClient>);
  /** Register no app client (the test registers its own, or wants none). */
  readonly register?: false;
  /**
   * In-process extras (a logger, a fetch, a clock…). Refused for an adapter in another process,
   * where they could not apply: a test that needs them runs on `IN_PROCESS_ADAPTERS` only.
   */
  readonly extras?: InProcessExtras;
}

/** A started app, with what it was configured with. */
export interface ConformanceApp extends AppUnderTest {
  readonly env: Readonly<Record<string, string>>;
  /** Its app client id (`AWS_COGNITO_USER_POOL_CLIENT_ID`). */
  readonly clientId: string;
  /**
   * What its guard logged, for an in-process app not given its own `logger` extra; `undefined`
   * for an app in another process (its log stays there).
   */
  readonly log: CapturedLog | undefined;
}

/** Whether `error` says the port was taken (Node: EADDRINUSE; Miniflare: ERR_ADDRESS_IN_USE). */
function isPortInUse(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' || code === 'ERR_ADDRESS_IN_USE';
}

/**
 * Registers an app client for a fresh port (its id `conformance-{port}`, so apps sharing an
 * emulator do not replace each other's callback URLs), and starts `adapter`'s example app there.
 *
 * The app's URLs name its port, so the port is chosen before the app binds it; another socket of
 * this machine (a client's outgoing connection, another test file's server) can take it in the
 * meantime. Then it starts again on another free port, a few times, unless the port was given.
 */
export async function startConformanceApp(
  adapter: AdapterUnderTest,
  emulator: EmulatorHandle,
  options: ConformanceAppOptions = {},
): Promise<ConformanceApp> {
  if (!adapter.inProcess && Object.keys(options.extras ?? {}).length > 0) {
    throw new Error(`${adapter.name} runs in another process: it cannot take in-process extras`);
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnPort(adapter, emulator, options.port ?? (await freePort()), options);
    } catch (error) {
      if (options.port !== undefined || attempt === 5 || !isPortInUse(error)) throw error;
    }
  }
}

async function startOnPort(
  adapter: AdapterUnderTest,
  emulator: EmulatorHandle,
  port: number,
  options: ConformanceAppOptions,
): Promise<ConformanceApp> {
  const appUrl = `http://127.0.0.1:${port}`;
  const env = conformanceEnv(emulator, appUrl, {
    AWS_COGNITO_USER_POOL_CLIENT_ID: `conformance-${port}`,
    ...(typeof options.env === 'function' ? options.env(appUrl) : options.env),
  });
  const client = typeof options.client === 'function' ? options.client(appUrl) : options.client;
  const clientId = env['AWS_COGNITO_USER_POOL_CLIENT_ID'] ?? CLIENT_ID;
  const clientSecret = env['AWS_COGNITO_USER_POOL_CLIENT_SECRET'] ?? '';
  if (options.register !== false) {
    registerClient(
      emulator,
      appUrl,
      { clientId, ...(clientSecret === '' ? {} : { clientSecret }), ...client },
      { publicClient: clientSecret === '' },
    );
  }
  const log =
    adapter.inProcess && options.extras?.logger === undefined ? captureLogger() : undefined;
  // As every example's entry point does: `cognito-guard/redis` for a Redis URL.
  await loadSessionStore(env['AWS_COGNITO_SESSION_STORE']);
  const app = await adapter.start(env, port, {
    logger: log?.logger ?? { warn: () => undefined },
    ...options.extras,
  });
  return { ...app, env, clientId, log };
}

/** The log of an in-process app; throws for an app whose log lives in another process. */
export function logOf(app: ConformanceApp): CapturedLog {
  if (app.log === undefined) throw new Error('this app logs in another process');
  return app.log;
}

/** The adapters whose app runs in this process and takes {@link InProcessExtras}. */
export const IN_PROCESS_ADAPTERS: readonly AdapterUnderTest[] = ADAPTERS.filter(
  (adapter) => adapter.inProcess,
);
