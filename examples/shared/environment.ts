/**
 * What every example's entry point (`npm run example:<framework>`) shares: read `PORT` and the
 * `AWS_COGNITO_*` environment, and — when no Cognito pool is configured (`AWS_COGNITO_DOMAIN`
 * unset) — start the bundled emulator with the demo pool and fill in the environment for it, so
 * the whole flow works offline with no AWS account.
 */
import { randomBytes } from 'node:crypto';
import { ConfigurationError } from 'cognito-guard';
import {
  DEMO_CONFIG,
  DEMO_PASSWORD,
  startEmulator,
  type EmulatorHandle,
} from 'cognito-guard/emulator';

/** The environment an example runs with, and the emulator it started (if any). */
export interface ExampleEnvironment {
  /** `PORT`, default 3000 (the port the demo client registers). */
  readonly port: number;
  /** `process.env`, completed for the emulator when it was started. */
  readonly env: Record<string, string | undefined>;
  /** The bundled emulator, when no pool was configured. */
  readonly emulator: EmulatorHandle | undefined;
  /** Prints where the app runs and, with the emulator, how to sign in. */
  printBanner(framework: string): void;
  /** Stops the emulator (if any). */
  stop(): Promise<void>;
}

/**
 * Reads the environment and starts the emulator when no pool is configured.
 *
 * @example
 * ```ts
 * const { port, env, printBanner } = await exampleEnvironment();
 * ```
 */
export async function exampleEnvironment(): Promise<ExampleEnvironment> {
  const port = Number(process.env['PORT'] ?? 3000);
  const env: Record<string, string | undefined> = { ...process.env };
  let emulator: EmulatorHandle | undefined;

  if (env['AWS_COGNITO_DOMAIN'] === undefined || env['AWS_COGNITO_DOMAIN'] === '') {
    emulator = await startEmulator({
      port: Number(env['EMULATOR_PORT'] ?? 9229),
      host: '127.0.0.1',
    });
    const [demoClient] = DEMO_CONFIG.clients;
    if (demoClient === undefined) throw new Error('the demo pool has no client');
    const appOrigin = `http://localhost:${port}`;
    if (port !== 3000) {
      // The demo client registers port 3000; register this port's URLs too.
      emulator.addClient({
        ...demoClient,
        callbackUrls: [...demoClient.callbackUrls, `${appOrigin}/postlogin`],
        logoutUrls: [...(demoClient.logoutUrls ?? []), `${appOrigin}/postlogout`],
      });
    }
    Object.assign(env, {
      AWS_REGION: emulator.region,
      AWS_COGNITO_USER_POOL_ID: emulator.poolId,
      AWS_COGNITO_DOMAIN: emulator.domain,
      AWS_COGNITO_ISSUER: emulator.issuer,
      AWS_COGNITO_USER_POOL_CLIENT_ID: demoClient.clientId,
      AWS_COGNITO_USER_POOL_CLIENT_SECRET: demoClient.clientSecret,
      AWS_COGNITO_REDIRECT_URL: `${appOrigin}/postlogin`,
      AWS_COGNITO_LOGOUT_URL: `${appOrigin}/postlogout`,
      // aws.cognito.signin.user.admin lets POST /logout/everywhere call Cognito's GlobalSignOut.
      AWS_COGNITO_SCOPES:
        env['AWS_COGNITO_SCOPES'] ?? 'openid email profile aws.cognito.signin.user.admin',
      AWS_COGNITO_REFRESH_FLOW_ENABLED: env['AWS_COGNITO_REFRESH_FLOW_ENABLED'] ?? 'true',
      // A fresh secret per run is fine for a demo; set SECRET_KEY to keep sessions across restarts.
      SECRET_KEY: env['SECRET_KEY'] ?? randomBytes(32).toString('base64url'),
    });
  }

  await loadSessionStore(env['AWS_COGNITO_SESSION_STORE']);

  return {
    port,
    env,
    emulator,
    printBanner: (framework) => {
      console.log(`Example app (${framework}): http://localhost:${port}/`);
      console.log(
        env['AWS_COGNITO_SESSION_STORE']
          ? 'Sessions: in the session store'
          : 'Sessions: in cookies',
      );
      if (emulator === undefined) return;
      console.log(`Cognito emulator: ${emulator.domain} (issuer ${emulator.issuer})`);
      console.log(`Log in with one of (password ${DEMO_PASSWORD}):`);
      for (const user of DEMO_CONFIG.users) {
        const groups = user.groups?.length ? `groups: ${user.groups.join(', ')}` : 'no group';
        console.log(`  ${user.username.padEnd(6)} ${groups}`);
      }
    },
    stop: async () => {
      await emulator?.stop();
    },
  };
}

/**
 * Makes `AWS_COGNITO_SESSION_STORE=redis://…` (or `rediss://…`) work: imports
 * `cognito-guard/redis`, which registers those schemes — only for a Redis URL, so the examples
 * never need the `redis` package otherwise.
 *
 * @example
 * ```ts
 * await loadSessionStore(process.env['AWS_COGNITO_SESSION_STORE']);
 * ```
 */
export async function loadSessionStore(url: string | undefined): Promise<void> {
  if (url !== undefined && /^rediss?:/i.test(url)) await import('cognito-guard/redis');
}

/**
 * Stops `close` and the emulator on SIGINT/SIGTERM, then exits.
 *
 * @example
 * ```ts
 * stopOnSignals(() => server.close(), environment);
 * ```
 */
export function stopOnSignals(
  close: () => void | Promise<void>,
  environment: ExampleEnvironment,
): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.resolve(close())
      .then(() => environment.stop())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Runs an example's server the way every `npm run example:<framework>` does: reads the
 * environment (starting the emulator when no pool is configured), calls `start`, prints where the
 * app runs and how to sign in, and stops everything on SIGINT/SIGTERM. A configuration problem is
 * printed as the one `ConfigurationError` naming every problem, and the process exits 1.
 *
 * @param start - starts the app; resolves with the function that stops it.
 * @example
 * ```ts
 * await runExample('Express', async ({ env, port }) => {
 *   const server = createExampleApp(fromEnv(env)).listen(port);
 *   return () => server.close();
 * });
 * ```
 */
export async function runExample(
  framework: string,
  start: (environment: ExampleEnvironment) => Promise<() => void | Promise<void>>,
): Promise<void> {
  const environment = await exampleEnvironment();
  let close: () => void | Promise<void>;
  try {
    close = await start(environment);
  } catch (error) {
    await environment.stop();
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  environment.printBanner(framework);
  stopOnSignals(close, environment);
}
