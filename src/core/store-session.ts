/**
 * Server-side sessions: the tokens live in a {@link SessionStore} (Redis, or your own), encrypted
 * with a key derived from `SECRET_KEY`, and the browser holds one opaque `cognito_session`
 * cookie. For apps whose tokens outgrow cookies, and for a sign-out that ends every session of a
 * user at once.
 *
 * The cookie is `<user tag>.<secret>`: the user tag is an HMAC of the user's `sub` (so every
 * session of one user can be found — and, in Redis Cluster, lives in one hash slot) and the
 * secret is 256 random bits, new at every sign-in. The store only ever sees the user tag and a
 * SHA-256 of the secret as keys, and an encrypted blob as the value: a dump of the store yields
 * neither a cookie that signs anyone in nor a token.
 *
 * @module
 */
import * as base64url from 'jose/base64url';
import { COOKIE_NAMES, deleteCookie, parseCookies, setCookie } from './cookies.js';
import { tokenCookieAttributes, type SessionDependencies } from './context.js';
import { BoundedCache } from './bounded-cache.js';
import { hkdf, sha256 } from './crypto.js';
import { CognitoGuardError, TokenVerifyError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import type { CognitoGuardLogger } from './options.js';
import type { EndedSession, PresentedSession, SessionBackend } from './session.js';
import type { SessionTokens, StoredRefreshToken } from './tokens.js';

/**
 * Where a stored session is kept: the user it belongs to (an opaque tag) and its id (a hash of
 * the cookie's secret). Designed for key-value stores: keep all of one user's sessions together
 * (Redis Cluster: `{user}` as the hash tag) so that they can be listed and deleted at once.
 */
export interface SessionKey {
  /** The user tag (HMAC of the user's `sub`), 22 base64url characters. */
  readonly user: string;
  /** The session id (SHA-256 of the cookie's secret), 43 base64url characters. */
  readonly id: string;
}

/**
 * A place to keep sessions server-side. Values are opaque strings, already encrypted; a store
 * never needs to look inside. Ship your own (DynamoDB, a database) by implementing these five
 * methods; every call is given a deadline by the guard, and a rejection answers 503.
 *
 * @example
 * ```ts
 * const sessions = new Map<string, string>();
 * const store: SessionStore = {
 *   get: async (key) => sessions.get(`${key.user}/${key.id}`),
 *   set: async (key, value) => void sessions.set(`${key.user}/${key.id}`, value),
 *   delete: async (key) => void sessions.delete(`${key.user}/${key.id}`),
 *   listUser: async (user) => [...sessions].filter(([k]) => k.startsWith(`${user}/`)).map(([, v]) => v),
 *   deleteUser: async (user) => { for (const k of sessions.keys()) if (k.startsWith(`${user}/`)) sessions.delete(k); },
 * };
 * ```
 */
export interface SessionStore {
  /** The value of a session, or `undefined` when there is none (expired, deleted, never). */
  get(key: SessionKey): Promise<string | undefined>;
  /** Stores a session's value, to expire after `ttlSeconds`. */
  set(key: SessionKey, value: string, ttlSeconds: number): Promise<void>;
  /** Deletes one session. */
  delete(key: SessionKey): Promise<void>;
  /** The values of every live session of a user. */
  listUser(user: string): Promise<readonly string[]>;
  /** Deletes every session of a user. */
  deleteUser(user: string): Promise<void>;
  /** Releases the store's connections (at shutdown). */
  close?(): Promise<void>;
}

/** The session store is down or too slow. HTTP 503; nothing was lost. */
export class SessionStoreError extends CognitoGuardError {
  constructor(detail?: string, options?: ErrorOptions) {
    super(
      'ERR_SESSION_STORE_UNAVAILABLE',
      503,
      'The session service is unavailable. Please try again shortly.',
      detail,
      options,
    );
  }
}

/**
 * What a store built from a URL is told about the guard that uses it.
 *
 * @example
 * ```ts
 * const factory: SessionStoreFactory = (url, { timeoutMs, logger }) => {
 *   logger.warn('sessions in this process only: for development', { host: url.host, timeoutMs });
 *   return new MemorySessionStore();
 * };
 * ```
 */
export interface SessionStoreContext {
  /**
   * The guard's deadline for one call (`httpTimeoutMs`): a store whose own timeouts are no
   * longer fails before the guard gives up, so it never keeps requests of an outage queued.
   */
  readonly timeoutMs: number;
  /** The guard's logger, for connection trouble (never log the URL: it may hold a password). */
  readonly logger: CognitoGuardLogger;
}

/**
 * Builds a {@link SessionStore} from a URL (`redis://…`). Called once per guard, only for a
 * configuration without other problems, and before any request: connect lazily.
 */
export type SessionStoreFactory = (url: URL, context: SessionStoreContext) => SessionStore;

const factories = new Map<string, SessionStoreFactory>();

/**
 * Makes `AWS_COGNITO_SESSION_STORE=<scheme>://…` work: `cognito-guard/redis` registers `redis:`
 * and `rediss:` when imported; register your own scheme the same way.
 *
 * @example
 * ```ts
 * // `cognito-guard/redis` registers `redis:` this way; any store of yours can be named by a URL too.
 * registerSessionStore('memory-test:', () => new MemorySessionStore());
 * ```
 */
export function registerSessionStore(scheme: string, factory: SessionStoreFactory): void {
  factories.set(scheme.endsWith(':') ? scheme : `${scheme}:`, factory);
}

/** The factory registered for a URL's scheme, or `undefined`. */
export function sessionStoreFactory(url: URL): SessionStoreFactory | undefined {
  return factories.get(url.protocol);
}

/**
 * Sessions in this process's memory: for development and tests only (they vanish with the
 * process and are not shared between instances). `AWS_COGNITO_SESSION_STORE=memory`.
 *
 * @example
 * ```ts
 * const guard = new CognitoGuard({ ...fromEnv(process.env), sessionStore: new MemorySessionStore() });
 * ```
 */
export class MemorySessionStore implements SessionStore {
  readonly #users = new Map<string, Map<string, { value: string; expiresAt: number }>>();
  readonly #now: () => number;
  readonly #maxSessions: number;
  #count = 0;

  /**
   * @param now - clock in milliseconds.
   * @param maxSessions - beyond this many live sessions, new ones are refused (memory is bounded).
   */
  constructor(now: () => number = Date.now, maxSessions = 100_000) {
    this.#now = now;
    this.#maxSessions = maxSessions;
  }

  get(key: SessionKey): Promise<string | undefined> {
    const entry = this.#users.get(key.user)?.get(key.id);
    if (entry === undefined) return Promise.resolve(undefined);
    if (entry.expiresAt <= this.#now()) {
      void this.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(entry.value);
  }

  set(key: SessionKey, value: string, ttlSeconds: number): Promise<void> {
    const now = this.#now();
    if (this.#users.get(key.user)?.has(key.id) !== true && this.#count >= this.#maxSessions) {
      // Expired sessions stay counted until something deletes them: drop them before refusing,
      // so that only live sessions fill the store (not the leftovers of ended sign-ins).
      this.#deleteExpired(now);
      if (this.#count >= this.#maxSessions) {
        return Promise.reject(new Error('the in-memory session store is full'));
      }
    }
    let sessions = this.#users.get(key.user);
    if (sessions === undefined) {
      sessions = new Map();
      this.#users.set(key.user, sessions);
    }
    if (!sessions.has(key.id)) this.#count += 1;
    sessions.set(key.id, { value, expiresAt: now + ttlSeconds * 1000 });
    return Promise.resolve();
  }

  /** Deletes every expired session. */
  #deleteExpired(now: number): void {
    for (const [user, sessions] of this.#users) {
      for (const [id, entry] of sessions) {
        if (entry.expiresAt <= now) {
          sessions.delete(id);
          this.#count -= 1;
        }
      }
      if (sessions.size === 0) this.#users.delete(user);
    }
  }

  delete(key: SessionKey): Promise<void> {
    const sessions = this.#users.get(key.user);
    if (sessions?.delete(key.id) === true) {
      this.#count -= 1;
      if (sessions.size === 0) this.#users.delete(key.user);
    }
    return Promise.resolve();
  }

  listUser(user: string): Promise<readonly string[]> {
    const now = this.#now();
    return Promise.resolve(
      [...(this.#users.get(user)?.values() ?? [])]
        .filter((entry) => entry.expiresAt > now)
        .map((entry) => entry.value),
    );
  }

  deleteUser(user: string): Promise<void> {
    this.#count -= this.#users.get(user)?.size ?? 0;
    this.#users.delete(user);
    return Promise.resolve();
  }
}

const SESSION_COOKIE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const encoder = new TextEncoder();

/** A stored session, decrypted. */
interface Unsealed {
  readonly tokens: Omit<SessionTokens, 'rotated'>;
  /** When the session ends (seconds). */
  readonly expiresAt: number;
}

/** A session read recently (see {@link StoreSessions}). */
interface RecentSession {
  readonly key: SessionKey;
  readonly fingerprint: string;
  readonly stored: Unsealed;
}

/**
 * What tells two sealed values apart without decrypting them: the random IV and the
 * authentication tag of the compact JWE (and its length). Every seal draws a new IV, so a
 * rewritten session never matches; a value altered in the store without the key cannot be read
 * anyway, and a match can only ever yield what this instance decrypted before for that cookie.
 */
function fingerprintOf(sealed: string): string {
  // header.encryptedKey.iv.ciphertext.tag (dir: the encrypted key is empty)
  const ivStart = sealed.indexOf('.', sealed.indexOf('.') + 1) + 1;
  const ivEnd = sealed.indexOf('.', ivStart);
  const tag = sealed.slice(sealed.lastIndexOf('.') + 1);
  return `${String(sealed.length)}.${sealed.slice(ivStart, ivEnd)}.${tag}`;
}

/**
 * Sessions in a {@link SessionStore}.
 *
 * @example
 * ```ts
 * import { CookieSealer } from './crypto.js';
 *
 * const sessions = new StoreSessions({ options, sealer: new CookieSealer(options.secretKeys, options.now) }, new MemorySessionStore());
 * ```
 */
export class StoreSessions implements SessionBackend {
  readonly #context: SessionDependencies;
  readonly #store: SessionStore;
  #userKey: Promise<CryptoKey> | undefined;
  /**
   * Sessions this instance read recently, by cookie: their store key (no hash to compute) and
   * what their stored value decrypted to, reused while the store returns that same value.
   * Filled only by sessions found in the store, so junk cookies cannot crowd it.
   */
  readonly #recent: BoundedCache<string, RecentSession>;

  constructor(context: SessionDependencies, store: SessionStore) {
    this.#context = context;
    this.#store = store;
    this.#recent = new BoundedCache(LIMITS.maxRecentSessions, context.options.now, {
      touchOnRead: false,
    });
  }

  /** How long an entry lives: the refresh cookie's age (the access cookie's without refresh). */
  #lifetimeSeconds(): number {
    const { options } = this.#context;
    return options.refreshFlowEnabled
      ? options.refreshCookieMaxAgeSeconds
      : options.cookieMaxAgeSeconds;
  }

  /** Runs a store call with the guard's deadline; any failure is a 503 that loses nothing. */
  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const timeoutMs = this.#context.options.httpTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new SessionStoreError(`${operation}: no answer within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof SessionStoreError) throw error;
      throw new SessionStoreError(
        `${operation}: ${error instanceof Error ? error.message : 'failed'}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #userTag(subject: string): Promise<string> {
    this.#userKey ??= (async () => {
      const secret = this.#context.options.secretKeys[0] ?? '';
      const key = await hkdf(secret, 'session-user-tag');
      return crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
      ]);
    })();
    const mac = await crypto.subtle.sign('HMAC', await this.#userKey, encoder.encode(subject));
    return base64url.encode(new Uint8Array(mac).subarray(0, 16));
  }

  /**
   * The session cookie a request presents, checked for shape; `undefined` when none. Throws
   * `TokenVerifyError` for a duplicated or malformed one: a forged or garbled id never reaches
   * the store.
   */
  #presentedCookie(request: IncomingRequest): string | undefined {
    const header = request.header('cookie');
    if (header?.includes(COOKIE_NAMES.session) !== true) return undefined;
    const cookies = parseCookies(header, [COOKIE_NAMES.session]);
    if (cookies.duplicates.size > 0) throw new TokenVerifyError('duplicate session cookies');
    const value = cookies.values[COOKIE_NAMES.session];
    if (value === undefined) return undefined;
    if (!SESSION_COOKIE.test(value)) throw new TokenVerifyError('malformed session cookie');
    return value;
  }

  /** The store key of a (well-formed) session cookie: its user tag, and a hash of its secret. */
  async #keyOf(cookie: string): Promise<SessionKey> {
    const dot = cookie.indexOf('.');
    return {
      user: cookie.slice(0, dot),
      id: base64url.encode(await sha256(cookie.slice(dot + 1))),
    };
  }

  /** The key of the session cookie a request presents; `undefined` when none. */
  async #presentedKey(request: IncomingRequest): Promise<SessionKey | undefined> {
    const cookie = this.#presentedCookie(request);
    return cookie === undefined ? undefined : this.#keyOf(cookie);
  }

  async #seal(tokens: SessionTokens, expiresAt: number): Promise<string> {
    const { refresh } = tokens;
    return this.#context.sealer.seal(
      'session',
      {
        u: tokens.subject,
        a: tokens.accessToken,
        ...(tokens.idToken === undefined ? {} : { i: tokens.idToken }),
        ...(refresh === undefined
          ? {}
          : {
              r: refresh.refreshToken,
              ...(refresh.subject === undefined ? {} : { s: refresh.subject }),
              ...(refresh.authTime === undefined ? {} : { t: refresh.authTime }),
            }),
        e: expiresAt,
      },
      Math.max(1, expiresAt - Math.floor(this.#context.options.now() / 1000)),
    );
  }

  async #unseal(value: string | undefined): Promise<Unsealed | undefined> {
    if (value === undefined) return undefined;
    const payload = await this.#context.sealer.unseal('session', value);
    if (
      payload === undefined ||
      typeof payload['a'] !== 'string' ||
      typeof payload['u'] !== 'string'
    )
      return undefined;
    const { i, r, s, t, e } = payload;
    const refresh: StoredRefreshToken | undefined =
      typeof r === 'string'
        ? {
            refreshToken: r,
            subject: typeof s === 'string' ? s : undefined,
            authTime: typeof t === 'number' ? t : undefined,
          }
        : undefined;
    return {
      tokens: {
        subject: payload['u'],
        accessToken: payload['a'],
        idToken: typeof i === 'string' ? i : undefined,
        refresh,
      },
      expiresAt: typeof e === 'number' ? e : 0,
    };
  }

  async read(request: IncomingRequest): Promise<PresentedSession> {
    const cookie = this.#presentedCookie(request);
    const stored = cookie === undefined ? undefined : (await this.#readStored(cookie)).stored;
    const refresh = stored?.tokens.refresh;
    return {
      accessToken: stored?.tokens.accessToken,
      idToken: stored?.tokens.idToken,
      refreshable: refresh !== undefined && this.#context.options.refreshFlowEnabled,
      orphaned: cookie !== undefined && stored === undefined,
      refresh: () => Promise.resolve(refresh),
    };
  }

  /**
   * The store key of a cookie and its stored session: one GET, always (the store decides whether
   * it still exists), and the decryption only when the stored value changed since this instance
   * last read it.
   */
  async #readStored(
    cookie: string,
  ): Promise<{ readonly key: SessionKey; readonly stored: Unsealed | undefined }> {
    const recent = this.#recent.get(cookie);
    const key = recent?.key ?? (await this.#keyOf(cookie));
    const value = await this.#call('get', () => this.#store.get(key));
    if (value === undefined) return { key, stored: undefined };
    const fingerprint = fingerprintOf(value);
    if (recent !== undefined && recent.fingerprint === fingerprint) {
      return { key, stored: recent.stored };
    }
    const stored = await this.#unseal(value);
    if (stored !== undefined) {
      this.#recent.set(cookie, { key, fingerprint, stored }, stored.expiresAt * 1000);
    }
    return { key, stored };
  }

  async start(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]> {
    const previous = await this.#presentedKey(request).catch(() => undefined);
    const secret = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
    const key: SessionKey = {
      user: await this.#userTag(tokens.subject),
      id: base64url.encode(await sha256(secret)),
    };
    const lifetime = this.#lifetimeSeconds();
    const expiresAt = Math.floor(this.#context.options.now() / 1000) + lifetime;
    const sealed = await this.#seal(tokens, expiresAt);
    await this.#call('set', () => this.#store.set(key, sealed, lifetime));
    // A new id at every sign-in: whatever session the browser held before is gone.
    if (previous !== undefined) await this.#call('delete', () => this.#store.delete(previous));
    const attributes = tokenCookieAttributes(this.#context.options);
    return [
      setCookie(COOKIE_NAMES.session, `${key.user}.${secret}`, lifetime, attributes),
      ...this.#leftoverTokenCookies(request),
    ];
  }

  /** Deletions of token cookies left from a time the app kept sessions in cookies. */
  #leftoverTokenCookies(request: IncomingRequest): string[] {
    const header = request.header('cookie');
    if (header === undefined) return [];
    const attributes = tokenCookieAttributes(this.#context.options);
    return Object.keys(parseCookies(header).values)
      .filter((name) =>
        [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken, COOKIE_NAMES.refreshToken].some(
          (token) => name === token || name.startsWith(`${token}.`),
        ),
      )
      .map((name) => deleteCookie(name, attributes));
  }

  async update(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]> {
    const cookie = this.#presentedCookie(request);
    if (cookie === undefined) throw new TokenVerifyError('no session to update');
    const { key, stored: current } = await this.#readStored(cookie);
    if (current === undefined) throw new TokenVerifyError('the session ended meanwhile');
    // The entry keeps the expiry of the sign-in; a refresh never extends it.
    const remaining = current.expiresAt - Math.floor(this.#context.options.now() / 1000);
    if (remaining <= 0) throw new TokenVerifyError('the session expired');
    const sealed = await this.#seal(tokens, current.expiresAt);
    await this.#call('set', () => this.#store.set(key, sealed, remaining));
    return [];
  }

  async end(request: IncomingRequest): Promise<EndedSession> {
    const setCookies = this.clear(request);
    let cookie: string | undefined;
    try {
      cookie = this.#presentedCookie(request);
    } catch {
      return { refreshTokens: [], setCookies };
    }
    if (cookie === undefined) return { refreshTokens: [], setCookies };
    const { key, stored } = await this.#readStored(cookie);
    await this.#call('delete', () => this.#store.delete(key));
    // The session is over: its decrypted tokens are not kept in memory.
    this.#recent.delete(cookie);
    const refresh = stored?.tokens.refresh?.refreshToken;
    return { refreshTokens: refresh === undefined ? [] : [refresh], setCookies };
  }

  clear(request: IncomingRequest): readonly string[] {
    return [
      deleteCookie(COOKIE_NAMES.session, tokenCookieAttributes(this.#context.options)),
      ...this.#leftoverTokenCookies(request),
    ];
  }

  async endAllOf(subject: string): Promise<readonly string[]> {
    const user = await this.#userTag(subject);
    const values = await this.#call('list', () => this.#store.listUser(user));
    await this.#call('delete', () => this.#store.deleteUser(user));
    const sessions = await Promise.all(values.map((value) => this.#unseal(value)));
    return [
      ...new Set(
        sessions.flatMap((s) =>
          s?.tokens.refresh === undefined ? [] : [s.tokens.refresh.refreshToken],
        ),
      ),
    ];
  }
}
