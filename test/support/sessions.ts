/**
 * What the session tests share: a clock that the emulator and the apps read (time is moved,
 * never waited for), an emulator that counts the calls to its token endpoint, and readers for
 * the cookies a response sets and a browser holds.
 */
import { parseSetCookie } from 'cookie';
import { DEMO_PASSWORD, startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { registerSessionStore } from '../../src/index.js';
import { redisSessionStore, type RedisSessionStore } from '../../src/redis/index.js';
import type { BrowserResponse, TestBrowser } from './browser.js';

/** A clock in milliseconds that tests move forward (frozen in between), or the real one. */
export class TestClock {
  #now = Date.now();
  readonly #real: boolean;
  /** @param real - read the real time (for apps in another process, which cannot share a clock). */
  constructor(real = false) {
    this.#real = real;
  }
  /** Read by the emulator and the guards (`now` options). */
  readonly now = (): number => (this.#real ? Date.now() : this.#now);
  /** Moves time forward (a frozen clock only). */
  advance(seconds: number): void {
    if (this.#real) throw new Error('the real clock cannot be moved');
    this.#now += seconds * 1000;
  }
  /** The time in whole seconds, as in a token's `iat`/`exp`. */
  get seconds(): number {
    return Math.floor(this.#now / 1000);
  }
}

/** An emulator on a test clock that counts what its endpoints served. */
export interface ClockedEmulator {
  readonly emulator: EmulatorHandle;
  readonly clock: TestClock;
  /** `POST /oauth2/token` requests served so far (code exchanges and refreshes). */
  tokenRequests(): number;
  stop(): Promise<void>;
}

/** Starts the emulator on a {@link TestClock} (frozen, or the real time with `real`). */
export async function startClockedEmulator(real = false): Promise<ClockedEmulator> {
  const clock = new TestClock(real);
  let tokenRequests = 0;
  const emulator = await startEmulator({
    port: 0,
    now: clock.now,
    onRequest: (entry) => {
      if (entry.method === 'POST' && entry.path.startsWith('/oauth2/token')) tokenRequests += 1;
    },
  });
  return { emulator, clock, tokenRequests: () => tokenRequests, stop: () => emulator.stop() };
}

/** Token lifetimes of the session tests' app clients (Cognito's shortest: 5 minutes). */
export const SHORT_LIFETIMES = {
  accessTokenValiditySeconds: 300,
  idTokenValiditySeconds: 300,
  refreshTokenValiditySeconds: 3600,
} as const;

/**
 * How a session test lets tokens expire for one adapter. An app in this process shares the
 * test's clock, which is moved (Cognito's 5-minute tokens, no waiting). An app in another process
 * (the Worker in workerd) runs on the real clock: its tokens live 2 seconds, and the test waits.
 */
export interface SessionTime {
  /** Whether the app reads the test's clock (it can be moved, and exact times compared). */
  readonly shared: boolean;
  readonly pool: ClockedEmulator;
  /** The app client's token lifetimes. */
  readonly lifetimes: {
    readonly accessTokenValiditySeconds: number;
    readonly idTokenValiditySeconds: number;
    readonly refreshTokenValiditySeconds: number;
  };
  /** The clock to give an in-process app (`extras`). */
  readonly extras: { readonly now?: () => number };
  /** Lets the access (and ID) tokens issued so far expire. */
  expireAccessTokens(): Promise<void>;
}

/** Real-clock token lifetimes for apps in another process. */
export const REAL_TIME_LIFETIMES = {
  accessTokenValiditySeconds: 2,
  idTokenValiditySeconds: 2,
  refreshTokenValiditySeconds: 3600,
} as const;

/** Starts the emulator for `adapter` and says how its tokens expire. */
export async function sessionTimeFor(adapter: {
  readonly inProcess: boolean;
}): Promise<SessionTime> {
  const shared = adapter.inProcess;
  const pool = await startClockedEmulator(!shared);
  return {
    shared,
    pool,
    lifetimes: shared ? SHORT_LIFETIMES : REAL_TIME_LIFETIMES,
    extras: shared ? { now: pool.clock.now } : {},
    expireAccessTokens: async () => {
      if (shared) {
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        return;
      }
      // exp = floor(issued) + 2 s: 2.1 s after the last token was issued, it has expired.
      await new Promise((resolve) =>
        setTimeout(resolve, REAL_TIME_LIFETIMES.accessTokenValiditySeconds * 1000 + 100),
      );
    },
  };
}

/** The scopes the session tests sign in with (sign-out everywhere needs the last one). */
export const SESSION_SCOPES = 'openid email profile aws.cognito.signin.user.admin';

/** One `Set-Cookie` header, parsed. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** `Max-Age=0`: a deletion. */
  readonly deleted: boolean;
  readonly raw: string;
  readonly bytes: number;
}

/** The `Set-Cookie` headers of a response, by name. */
export function setCookiesOf(
  response: Pick<BrowserResponse, 'setCookies'>,
): Map<string, SetCookie> {
  const cookies = new Map<string, SetCookie>();
  for (const raw of response.setCookies) {
    const parsed = parseSetCookie(raw);
    cookies.set(parsed.name, {
      name: parsed.name,
      value: parsed.value ?? '',
      deleted: parsed.maxAge === 0,
      raw,
      bytes: Buffer.byteLength(raw),
    });
  }
  return cookies;
}

/** Whether a cookie name belongs to the session (tokens, their pieces, or the store's id). */
export function isSessionCookie(name: string): boolean {
  return /^cognito_(access_token|id_token|refresh_token|session)(\.\d+)?$/.test(name);
}

/** The session cookies a browser holds for `url`, by name. */
export function sessionCookies(browser: TestBrowser, url: string): Map<string, string> {
  return new Map([...browser.cookiesFor(url)].filter(([name]) => isSessionCookie(name)));
}

/** The bytes of the `Cookie` header a browser sends for the session (`name=value; …`). */
export function sessionCookieHeaderBytes(browser: TestBrowser, url: string): number {
  return Buffer.byteLength(
    [...sessionCookies(browser, url)].map(([name, value]) => `${name}=${value}`).join('; '),
  );
}

/** Calls Cognito's JSON API (`GlobalSignOut`…) as the AWS SDK would. */
export async function cognitoApi(
  emulator: EmulatorHandle,
  operation: string,
  body: Record<string, unknown>,
): Promise<Response> {
  return fetch(`${emulator.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
}

/** The `/claims` body of the example app. */
export interface ClaimsBody {
  readonly claims: { readonly username: string; readonly iat: number; readonly exp: number };
  readonly user_info: Record<string, unknown> | undefined;
}

/**
 * Adds (or replaces) a user whose ID token, as the emulator issues it to `clientId`, is about
 * `idTokenBytes` long: groups and custom attributes, the way real pools grow them (Cognito allows
 * custom attributes of up to 2,048 characters each). Returns the ID token's measured size.
 *
 * @example
 * ```ts
 * await userWithIdTokenOf(emulator, 'erin', 6 * 1024, 'test-client');
 * ```
 */
export async function userWithIdTokenOf(
  emulator: EmulatorHandle,
  username: string,
  idTokenBytes: number,
  clientId: string,
  password = DEMO_PASSWORD,
): Promise<number> {
  const groups = Array.from({ length: 12 }, (_, i) => `team-${String(i).padStart(2, '0')}-readers`);
  let padding = 0;
  let size = 0;
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const attributes: Record<string, string> = { name: `${username} Example` };
    for (let left = padding, n = 0; left > 0; left -= 2000, n += 1) {
      attributes[`custom:profile_${n}`] = 'x'.repeat(Math.min(2000, left));
    }
    emulator.addUser({ username, password, email: `${username}@example.com`, groups, attributes });
    size = (await emulator.mintToken({ use: 'id', username, clientId })).length;
    if (Math.abs(size - idTokenBytes) <= 64) break;
    // Base64url: 4 characters of token per 3 bytes of claims.
    padding = Math.max(0, padding + Math.round(((idTokenBytes - size) * 3) / 4));
  }
  return size;
}

/**
 * Records every Redis store the apps of a test build from `AWS_COGNITO_SESSION_STORE=redis://…`,
 * so the test can close them all at its end (not every example app has a shutdown hook, and an
 * open Redis client keeps the test process alive). Call it once, before starting the apps.
 *
 * @example
 * ```ts
 * const stores = trackRedisStores();
 * after(() => stores.closeAll());
 * ```
 */
export function trackRedisStores(): { closeAll(): Promise<void> } {
  const stores: RedisSessionStore[] = [];
  registerSessionStore('redis:', (url, context) => {
    const store = redisSessionStore(url, { timeoutMs: context.timeoutMs, logger: context.logger });
    stores.push(store);
    return store;
  });
  return {
    closeAll: async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    },
  };
}
