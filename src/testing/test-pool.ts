/**
 * {@link startTestPool}: an emulator on a free port with the users, groups and app client a test
 * suite needs, and the environment to start the app with.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  DEMO_CONFIG,
  startEmulator,
  type EmulatorClient,
  type EmulatorConfig,
  type EmulatorGroup,
  type EmulatorHandle,
  type EmulatorResourceServer,
  type EmulatorSwitches,
  type EmulatorUser,
} from '../emulator/index.js';

/**
 * Options of {@link startTestPool}; every one has a default.
 *
 * @example
 * ```ts
 * const options: TestPoolOptions = {
 *   users: [{ username: 'ann', password: 'Secret-Passw0rd', groups: ['admin'] }],
 *   appUrl: 'http://127.0.0.1:3000',
 * };
 * ```
 */
export interface TestPoolOptions {
  /**
   * The pool's users. Default: the demo users `alice` (group `admin`), `bob` (group `editor`)
   * and `carol` (no group), all with the password `DEMO_PASSWORD` (`Passw0rd!`).
   */
  readonly users?: readonly EmulatorUser[];
  /** Groups with a description or precedence (groups named by users exist anyway). */
  readonly groups?: readonly EmulatorGroup[];
  /** More app clients besides the app's own (another app, a machine-to-machine client…). */
  readonly clients?: readonly EmulatorClient[];
  /** Resource servers and their custom scopes. */
  readonly resourceServers?: readonly EmulatorResourceServer[];
  /**
   * Settings of the app's own client over the defaults (`test-app`, a random secret, the scopes
   * `openid email profile phone aws.cognito.signin.user.admin`).
   */
  readonly appClient?: Partial<EmulatorClient>;
  /** Makes the app's client a public one, without a secret (default `false`). */
  readonly publicClient?: boolean;
  /**
   * The app's origin when it is known before the pool starts (a fixed port): `env` is then ready
   * to use. Default `http://localhost:3000`; for an app on a port chosen at start-up, use
   * {@link TestPool.envFor} once the port is known.
   */
  readonly appUrl?: string;
  /** The app's redirect-URL path (default `/postlogin`). */
  readonly callbackPath?: string;
  /** The app's sign-out-URL path (default `/postlogout`). */
  readonly logoutPath?: string;
  /** `SECRET_KEY` (default: 32 random bytes, base64url). */
  readonly secretKey?: string;
  /** More environment variables, over the ones the pool sets (`AWS_COGNITO_COOKIE_SAMESITE`…). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default `eu-west-1_TestPool`. */
  readonly userPoolId?: string;
  readonly switches?: Partial<EmulatorSwitches>;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** The emulator's clock in milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * A running test pool: the emulator, the app's client, and the app's environment.
 *
 * @example
 * ```ts
 * const pool = await startTestPool();
 * const env = pool.envFor('http://127.0.0.1:4123');
 * await pool.stop();
 * ```
 */
export interface TestPool {
  /** The running emulator, with its controls (`addUser`, `rotateKeys`, `setFault`…). */
  readonly emulator: EmulatorHandle;
  /** The app's client id (`AWS_COGNITO_USER_POOL_CLIENT_ID`). */
  readonly clientId: string;
  /** The app's client secret; `undefined` for a public client. */
  readonly clientSecret: string | undefined;
  /** `SECRET_KEY`. */
  readonly secretKey: string;
  /**
   * The app's environment for the `appUrl` option (default `http://localhost:3000`): what
   * `fromEnv(process.env)` reads, i.e. `AWS_REGION`, `AWS_COGNITO_USER_POOL_ID`,
   * `AWS_COGNITO_DOMAIN`, `AWS_COGNITO_ISSUER`, `AWS_COGNITO_USER_POOL_CLIENT_ID`,
   * `AWS_COGNITO_USER_POOL_CLIENT_SECRET`, `AWS_COGNITO_REDIRECT_URL`, `AWS_COGNITO_LOGOUT_URL`,
   * `AWS_COGNITO_SCOPES`, `AWS_COGNITO_REFRESH_FLOW_ENABLED`, `SECRET_KEY`.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * The app's environment for an app at `appUrl`, whose redirect and sign-out URLs are then
   * registered with the app's client (added to those already registered, so several apps can
   * share the pool).
   */
  envFor(appUrl: string): Readonly<Record<string, string>>;
  /** Stops the emulator. Idempotent. */
  stop(): Promise<void>;
}

const APP_CLIENT_ID = 'test-app';

function originOf(appUrl: string): string {
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch {
    throw new TypeError(
      `appUrl must be an absolute URL such as http://127.0.0.1:3000 (got ${appUrl})`,
    );
  }
  return url.origin;
}

/**
 * Starts a Cognito emulator for a test suite: a free port, the given users and groups, one app
 * client for the app under test, keys made before the port opens (so the first request never
 * meets a half-started pool). Give the app `pool.env` (or `pool.envFor(appUrl)`) and sign users
 * in with {@link signIn} or {@link sessionCookies}.
 *
 * @example
 * ```ts
 * import { startTestPool } from 'cognito-guard/testing';
 *
 * const pool = await startTestPool({ users: [{ username: 'ann', password: 'Secret-Passw0rd' }] });
 * Object.assign(process.env, pool.envFor('http://127.0.0.1:3000'));
 * // … start the app, run the tests …
 * await pool.stop();
 * ```
 */
export async function startTestPool(options: TestPoolOptions = {}): Promise<TestPool> {
  const secretKey = options.secretKey ?? randomBytes(32).toString('base64url');
  const callbackPath = options.callbackPath ?? '/postlogin';
  const logoutPath = options.logoutPath ?? '/postlogout';
  const firstAppUrl = originOf(options.appUrl ?? 'http://localhost:3000');
  const { clientSecret, ...clientSettings } = {
    clientId: APP_CLIENT_ID,
    clientSecret: randomBytes(24).toString('base64url'),
    callbackUrls: [],
    logoutUrls: [],
    allowedScopes: ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'],
    ...options.appClient,
  };
  const appClient: EmulatorClient =
    options.publicClient === true ? clientSettings : { ...clientSettings, clientSecret };
  const config: EmulatorConfig = {
    userPoolId: options.userPoolId ?? 'eu-west-1_TestPool',
    clients: [appClient, ...(options.clients ?? [])],
    users: options.users ?? DEMO_CONFIG.users,
    ...(options.groups === undefined ? {} : { groups: options.groups }),
    ...(options.resourceServers === undefined ? {} : { resourceServers: options.resourceServers }),
  };
  const emulator = await startEmulator({
    config,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    ...(options.switches === undefined ? {} : { switches: options.switches }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const registered = {
    callbackUrls: [...appClient.callbackUrls],
    logoutUrls: [...(appClient.logoutUrls ?? [])],
  };
  const envFor = (appUrl: string): Readonly<Record<string, string>> => {
    const origin = originOf(appUrl);
    const redirectUrl = `${origin}${callbackPath}`;
    const logoutUrl = `${origin}${logoutPath}`;
    if (!registered.callbackUrls.includes(redirectUrl)) registered.callbackUrls.push(redirectUrl);
    if (!registered.logoutUrls.includes(logoutUrl)) registered.logoutUrls.push(logoutUrl);
    emulator.addClient({
      ...appClient,
      callbackUrls: [...registered.callbackUrls],
      logoutUrls: [...registered.logoutUrls],
    });
    return Object.freeze({
      AWS_REGION: emulator.region,
      AWS_COGNITO_USER_POOL_ID: emulator.poolId,
      AWS_COGNITO_DOMAIN: emulator.domain,
      AWS_COGNITO_ISSUER: emulator.issuer,
      AWS_COGNITO_USER_POOL_CLIENT_ID: appClient.clientId,
      ...(appClient.clientSecret === undefined
        ? {}
        : { AWS_COGNITO_USER_POOL_CLIENT_SECRET: appClient.clientSecret }),
      AWS_COGNITO_REDIRECT_URL: redirectUrl,
      AWS_COGNITO_LOGOUT_URL: logoutUrl,
      AWS_COGNITO_SCOPES: 'openid email profile',
      AWS_COGNITO_REFRESH_FLOW_ENABLED: 'true',
      SECRET_KEY: secretKey,
      ...options.env,
    });
  };
  const env = envFor(firstAppUrl);
  return {
    emulator,
    clientId: appClient.clientId,
    clientSecret: appClient.clientSecret,
    secretKey,
    env,
    envFor,
    stop: () => emulator.stop(),
  };
}
