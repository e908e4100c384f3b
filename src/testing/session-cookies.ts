/**
 * {@link sessionCookies}: a signed-in session without the login round trips, for fast tests.
 *
 * @module
 */
import { CognitoGuard, type CognitoGuardOptions } from '../index.js';
import type { EmulatorControls, EmulatorUser } from '../emulator/index.js';
import { CookieJar } from './cookie-jar.js';
import { sessionFrom, type TestSession } from './sign-in.js';
import type { TestPool } from './test-pool.js';

/**
 * An emulator to take the tokens from: a running one (`startEmulator`, `startTestPool`) or an
 * in-process `CognitoEmulator`. With its `fetch`, the guard reads the keys in-process too.
 *
 * @example
 * ```ts
 * const source: EmulatorSource = await startTestPool();
 * ```
 */
export type EmulatorSource =
  | (Pick<EmulatorControls, 'issueTokens' | 'addUser'> & {
      readonly fetch?: (request: Request) => Promise<Response>;
    })
  | TestPool;

/**
 * Options of {@link sessionCookies}.
 *
 * @example
 * ```ts
 * const options: SessionCookiesOptions = { appUrl: 'http://127.0.0.1:3000', scopes: ['openid', 'email'] };
 * ```
 */
export interface SessionCookiesOptions {
  /**
   * The app's origin. Default: the origin of the guard's `redirectUrl` (needed only when that is
   * a function).
   */
  readonly appUrl?: string;
  /** The granted scopes (default: the guard's `scopes`, else every scope the client allows). */
  readonly scopes?: readonly string[];
  /** The jar to add the session to (default a new one). */
  readonly jar?: CookieJar;
}

function emulatorOf(source: EmulatorSource): Exclude<EmulatorSource, TestPool> {
  return 'issueTokens' in source ? source : source.emulator;
}

/**
 * The cookies of a signed-in session, made without HTTP: the emulator issues the tokens a sign-in
 * would (with a live refresh token), and the guard's own session code verifies them and writes
 * the cookies — the same cookies, encrypted with the same `SECRET_KEY`, that the app's callback
 * would set, so the app accepts them (with a session store, the session is stored in it: pass
 * the app's guard, or options naming the same store).
 *
 * Give it the guard options the app is built with (or the app's `CognitoGuard`); a `user` given
 * as an object is added to the pool first (replacing one of the same name).
 *
 * @throws Error when the user cannot sign in (unknown, disabled, unconfirmed) or the client
 *   does not allow the scopes; `TokenVerifyError` when the guard is not configured for this pool.
 * @example
 * ```ts
 * import { sessionCookies, startTestPool } from 'cognito-guard/testing';
 * import { fromEnv } from 'cognito-guard';
 *
 * const pool = await startTestPool();
 * const options = fromEnv(pool.envFor('http://127.0.0.1:3000'));
 * const { cookie } = await sessionCookies(pool, options, 'alice');
 * ```
 */
export async function sessionCookies(
  source: EmulatorSource,
  guard: CognitoGuardOptions | CognitoGuard,
  user: string | EmulatorUser,
  options: SessionCookiesOptions = {},
): Promise<TestSession> {
  const emulator = emulatorOf(source);
  const username = typeof user === 'string' ? user : emulator.addUser(user).username;
  const inProcess = emulator.fetch;
  // A guard built here reads the keys from the emulator in-process when it can: no socket at all.
  const owned =
    guard instanceof CognitoGuard
      ? undefined
      : new CognitoGuard(
          inProcess === undefined
            ? guard
            : { ...guard, fetch: (input, init) => inProcess(new Request(input, init)) },
        );
  const target = owned ?? (guard as CognitoGuard);
  try {
    const { redirectUrl, clientId, scopes } = target.options;
    const appUrl = options.appUrl ?? (typeof redirectUrl === 'string' ? redirectUrl : undefined);
    if (appUrl === undefined) {
      throw new TypeError('sessionCookies: the redirect URL is a function; pass options.appUrl');
    }
    const requested = options.scopes ?? scopes;
    const tokens = emulator.issueTokens({
      username,
      clientId,
      ...(requested === undefined ? {} : { scopes: requested }),
    });
    const { setCookies } = await target.startSession(tokens);
    const jar = options.jar ?? new CookieJar();
    for (const setCookie of setCookies) jar.store(setCookie, appUrl);
    return sessionFrom(jar, new URL(appUrl).origin, username);
  } finally {
    // Only a store this guard opened itself (from a URL) is closed; a store object is the app's.
    if (owned !== undefined && typeof (guard as CognitoGuardOptions).sessionStore === 'string') {
      await owned.close();
    }
  }
}
