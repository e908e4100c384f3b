/**
 * The Cognito side of a test: the app client's id and secrets every suite uses, registering an
 * app's callback and sign-out URLs with the emulator, guard options for an app, and an emulator
 * that keeps a log of what it served (to count JWKS downloads, code exchanges, revocations).
 *
 * @example
 * ```ts
 * const pool = await startRecordingEmulator();
 * registerClient(pool.emulator, appUrl);
 * const guard = new CognitoGuard(guardOptions(pool.emulator, appUrl));
 * assert.equal(pool.count('/oauth2/token'), 0);
 * ```
 */
import type { CognitoGuardOptions } from '../../src/index.js';
import {
  DEMO_PASSWORD,
  startEmulator,
  type EmulatorClient,
  type EmulatorHandle,
  type RequestLogEntry,
  type StartEmulatorOptions,
} from '../../src/emulator/index.js';

export { DEMO_PASSWORD };
/** `SECRET_KEY` of every test app (the cookie keys derive from it). */
export const SECRET_KEY = 'test-secret-key-test-secret-key-0123456789';
/** The default app client. */
export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-client-secret';

/** What {@link registerClient} may change beyond the emulator client's own settings. */
export interface RegisterOptions {
  /** Registers a public client (no secret: Cognito then refuses any client authentication). */
  readonly publicClient?: boolean;
}

/**
 * Registers (or replaces) an app client whose callback and sign-out URLs are the ones of an app
 * at `appUrl` (`/postlogin`, `/postlogout`).
 */
export function registerClient(
  emulator: EmulatorHandle,
  appUrl: string,
  overrides: Partial<EmulatorClient> = {},
  options: RegisterOptions = {},
): void {
  const { clientSecret, ...client } = {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrls: [`${appUrl}/postlogin`],
    logoutUrls: [`${appUrl}/postlogout`],
    allowedScopes: ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'],
    ...overrides,
  };
  emulator.addClient(options.publicClient === true ? client : { ...client, clientSecret });
}

/** Guard options for an app at `appUrl` using `emulator` (quiet logger, refresh flow on). */
export function guardOptions(
  emulator: EmulatorHandle,
  appUrl: string,
  overrides: Partial<CognitoGuardOptions> = {},
): CognitoGuardOptions {
  return {
    region: emulator.region,
    userPoolId: emulator.poolId,
    domain: emulator.domain,
    issuer: emulator.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUrl: `${appUrl}/postlogin`,
    logoutUrl: `${appUrl}/postlogout`,
    secretKey: SECRET_KEY,
    scopes: ['openid', 'email', 'profile'],
    refreshFlowEnabled: true,
    logger: { warn: () => undefined },
    ...overrides,
  };
}

/** An emulator that keeps a log of the requests it served. */
export interface RecordingEmulator {
  readonly emulator: EmulatorHandle;
  /** What it served, oldest first (paths with secrets masked, as its own log shows them). */
  readonly served: RequestLogEntry[];
  /** Requests served whose path starts with `prefix` (`/oauth2/token`, `/oauth2/revoke`). */
  count(prefix: string): number;
  /** JWKS downloads so far. */
  jwksFetches(): number;
}

/** The JWKS path of an emulator, as its request log shows it. */
function jwksPath(emulator: EmulatorHandle): string {
  return `/${emulator.poolId}/.well-known/jwks.json`;
}

/** Starts an emulator on a free port whose request log is kept for counting. */
export async function startRecordingEmulator(
  options: Omit<StartEmulatorOptions, 'onRequest' | 'port'> = {},
): Promise<RecordingEmulator> {
  const served: RequestLogEntry[] = [];
  const emulator = await startEmulator({
    port: 0,
    ...options,
    onRequest: (entry) => {
      served.push(entry);
    },
  });
  const count = (prefix: string): number =>
    served.filter((entry) => entry.path.startsWith(prefix)).length;
  return { emulator, served, count, jwksFetches: () => count(jwksPath(emulator)) };
}
