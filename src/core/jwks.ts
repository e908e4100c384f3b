/**
 * A cache of a Cognito user pool's signing keys (its JWKS), built for the per-request hot path.
 *
 * - One instance per issuer: keys from one pool can never verify another pool's tokens.
 * - Single-flight: concurrent lookups share one HTTP fetch.
 * - An unknown `kid` triggers at most one refetch per cooldown period, so a storm of
 *   junk `kid`s can neither hammer Cognito nor slow down requests that carry a known `kid`.
 * - Hard timeout on the whole fetch (headers and body), a size cap, a JSON content type, and
 *   per-key checks (`kty`, `use`, `alg`, modulus size); a failed or malformed answer never
 *   replaces a good cached key set.
 * - In steady state a lookup is one `Map` read: no network, no await on I/O.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 RFC 7517 §5 (JWK Set)
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10 RFC 8725 §3.10 (`kid` is opaque)
 * @module
 */

import { CognitoError, TokenVerifyError } from './errors.js';
import { DEFAULTS, LIMITS } from './limits.js';

/**
 * The key type handed to `jose` for RS256 verification.
 *
 * A WebCrypto `CryptoKey` (not a Node `KeyObject`): jose 6 verifies with WebCrypto, so a
 * `KeyObject` is converted to a `CryptoKey` inside jose anyway (a WeakMap lookup per call on
 * Node 20, plus an export/import on first use). `bench/verify.ts` measures both; see the README.
 */
export type KeyForVerify = CryptoKey;

/** Something worth a log line. Never carries a token or a `kid` taken from a token. */
export interface JwksCacheEvent {
  readonly type: 'fetch' | 'fetch-failed' | 'keys-changed';
  readonly detail?: string;
}

/**
 * Options of {@link JwksCache}.
 *
 * @example
 * ```ts
 * const options: JwksCacheOptions = {
 *   jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json',
 *   timeoutMs: 3000,
 * };
 * ```
 */
export interface JwksCacheOptions {
  /** The pool's JWKS URL, from configuration only (never from a token header). */
  jwksUri: string;
  /** The fetch implementation; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Hard timeout for one fetch, headers and body included; default 3000 ms. */
  timeoutMs?: number;
  /** Minimum interval between refetches triggered by an unknown `kid`; default 10 000 ms. */
  cooldownMs?: number;
  /** After this age the next lookup refreshes in the background (keys kept); default 1 hour. */
  maxAgeMs?: number;
  /** Largest JWKS response accepted; default 64 KiB. */
  maxResponseBytes?: number;
  /** Clock in milliseconds (injectable for tests); default `Date.now`. */
  now?: () => number;
  /** Called for log-worthy events; must not throw. */
  onEvent?: (event: JwksCacheEvent) => void;
}

/** RS256 in WebCrypto terms. */
const RS256_IMPORT = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
/** Cognito publishes two keys; a set far larger than that is not a Cognito JWKS. */
const MAX_KEYS = 100;
/** Once a fetch failed with nothing cached, fail fast for this long instead of refetching per request. */
const FAILURE_BACKOFF_MS = 1000;
/**
 * Tokens that came straight from the token endpoint (over TLS, in answer to our own request)
 * may refetch for an unknown kid during the cooldown — a rotation must not fail fresh logins —
 * but still at most once per this interval.
 */
const TRUSTED_REFETCH_INTERVAL_MS = 1000;

interface KeySet {
  readonly keys: ReadonlyMap<string, KeyForVerify>;
  /** Canonical description of the key material, to tell a real change from a re-fetch. */
  readonly fingerprint: string;
}

/** Per-lookup options of {@link JwksCache.getKey}. */
export interface GetKeyOptions {
  /**
   * The token came straight from Cognito's token endpoint in answer to our own request, so an
   * unknown kid is almost surely a rotation: refetch even during the unknown-kid cooldown (at
   * most once a second). Never set this for tokens a client presented.
   */
  readonly fromTokenEndpoint?: boolean;
}

/**
 * The JWKS of one Cognito user pool, cached in memory.
 *
 * @example
 * ```ts
 * const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';
 * const jwks = new JwksCache({ jwksUri: `${issuer}/.well-known/jwks.json` });
 * await jwks.warm(); // optional: fetch at startup instead of on the first request
 * const key = await jwks.getKey('kid-from-the-token-header');
 * ```
 */
export class JwksCache {
  readonly #uri: string;
  readonly #fetch: typeof fetch | undefined;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #maxResponseBytes: number;
  readonly #now: () => number;
  readonly #onEvent: ((event: JwksCacheEvent) => void) | undefined;

  #set: KeySet | undefined;
  #generation = 0;
  #fetchCount = 0;
  #inflight: Promise<void> | undefined;
  /** When a lookup should start a background refresh (max age reached, or retry after a failure). */
  #refreshDueAt = 0;
  /** When the last refetch caused by an unknown kid started (cooldown anchor). */
  #lastKidRefetchAt = Number.NEGATIVE_INFINITY;
  #lastTrustedRefetchAt = Number.NEGATIVE_INFINITY;
  /** The last failure while nothing was cached, and when it happened (fail-fast backoff). */
  #lastFailure: { error: CognitoError; at: number } | undefined;

  /**
   * @param options - see {@link JwksCacheOptions}; invalid numbers throw a `TypeError` here,
   *   never per request.
   */
  constructor(options: JwksCacheOptions) {
    if (typeof options.jwksUri !== 'string' || options.jwksUri === '') {
      throw new TypeError('jwksUri must be a non-empty string');
    }
    this.#uri = options.jwksUri;
    this.#fetch = options.fetch;
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULTS.httpTimeoutMs);
    this.#cooldownMs = nonNegative('cooldownMs', options.cooldownMs, 10_000);
    this.#maxAgeMs = positive('maxAgeMs', options.maxAgeMs, 3_600_000);
    this.#maxResponseBytes = positive('maxResponseBytes', options.maxResponseBytes, 64 * 1024);
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
  }

  /** Increments whenever the cached key set actually changes (first load included). */
  get generation(): number {
    return this.#generation;
  }

  /** Number of HTTP fetches started so far. */
  get fetchCount(): number {
    return this.#fetchCount;
  }

  /** Number of usable keys cached. */
  get keyCount(): number {
    return this.#set?.keys.size ?? 0;
  }

  /**
   * Fetches the key set now (single-flight with any fetch already running).
   *
   * @throws {CognitoError} when the fetch fails; cached keys, if any, are kept.
   * @example
   * ```ts
   * await jwks.warm().catch((err: unknown) => console.warn('JWKS not reachable yet', err));
   * ```
   */
  async warm(): Promise<void> {
    await this.#refresh();
  }

  /**
   * Returns the verification key for `kid`.
   *
   * `kid` is only ever used as a key into an in-memory `Map`.
   *
   * @throws {TokenVerifyError} when the kid is unknown while a good key set is cached (refetch
   *   in cooldown, failed, or the kid is still absent): a clean 401, never a fetch storm.
   * @throws {CognitoError} when no usable key set is cached and the JWKS cannot be fetched
   *   (`ERR_COGNITO_UNREACHABLE` 503, `ERR_COGNITO_TIMEOUT` 504, `ERR_COGNITO_BAD_RESPONSE` 502).
   * @example
   * ```ts
   * import { compactVerify, decodeProtectedHeader } from 'jose';
   *
   * const { kid } = decodeProtectedHeader(accessToken);
   * if (kid !== undefined) await compactVerify(accessToken, await jwks.getKey(kid), { algorithms: ['RS256'] });
   * ```
   */
  async getKey(kid: string, options: GetKeyOptions = {}): Promise<KeyForVerify> {
    if (typeof kid !== 'string' || kid === '' || kid.length > LIMITS.maxKidLength) {
      throw new TokenVerifyError('kid is missing or malformed');
    }
    if (this.#set === undefined) {
      await this.#loadFirst();
    } else if (this.#now() >= this.#refreshDueAt && this.#inflight === undefined) {
      // Stale but usable: serve the cached keys and refresh behind the request.
      this.#refresh().catch(() => undefined);
    }
    const found = this.#set?.keys.get(kid);
    if (found !== undefined) return found;
    return this.#getUnknownKid(kid, options.fromTokenEndpoint === true);
  }

  /** Nothing cached: fetch (single-flight), unless a fetch failed a moment ago. */
  async #loadFirst(): Promise<void> {
    const failure = this.#lastFailure;
    if (
      this.#inflight === undefined &&
      failure !== undefined &&
      this.#now() - failure.at < Math.min(FAILURE_BACKOFF_MS, this.#cooldownMs)
    ) {
      throw failure.error;
    }
    await this.#refresh();
  }

  async #getUnknownKid(kid: string, fromTokenEndpoint: boolean): Promise<KeyForVerify> {
    if (this.#inflight !== undefined) {
      // A fetch is already running (first load, background refresh or another unknown kid):
      // share it rather than starting another.
      await this.#inflight.catch(() => undefined);
    } else if (this.#now() - this.#lastKidRefetchAt >= this.#cooldownMs) {
      this.#lastKidRefetchAt = this.#now();
      await this.#refresh().catch(() => undefined);
    } else if (
      fromTokenEndpoint &&
      this.#now() - this.#lastTrustedRefetchAt >= TRUSTED_REFETCH_INTERVAL_MS
    ) {
      this.#lastTrustedRefetchAt = this.#now();
      await this.#refresh().catch(() => undefined);
    }
    const found = this.#set?.keys.get(kid);
    if (found !== undefined) return found;
    throw new TokenVerifyError('kid not found in the JWKS');
  }

  /** Single-flight fetch; resolves once the cache holds the new set, rejects with a CognitoError. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetchAndStore().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchAndStore(): Promise<void> {
    this.#fetchCount += 1;
    this.#emit({ type: 'fetch', detail: this.#uri });
    let next: KeySet;
    try {
      next = await this.#fetchKeySet();
    } catch (cause) {
      const error =
        cause instanceof CognitoError
          ? cause
          : new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS could not be processed');
      const now = this.#now();
      if (this.#set === undefined) {
        this.#lastFailure = { error, at: now };
      } else {
        // Keep serving the cached keys; retry in the background after a cooldown, not per request.
        this.#refreshDueAt = now + Math.max(this.#cooldownMs, FAILURE_BACKOFF_MS);
      }
      this.#emit({ type: 'fetch-failed', detail: `${error.code}: ${error.detail ?? ''}` });
      throw error;
    }
    this.#lastFailure = undefined;
    this.#refreshDueAt = this.#now() + this.#maxAgeMs;
    if (this.#set?.fingerprint !== next.fingerprint) {
      this.#set = next;
      this.#generation += 1;
      this.#emit({ type: 'keys-changed', detail: `${next.keys.size} key(s)` });
    }
  }

  async #fetchKeySet(): Promise<KeySet> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The race guarantees the deadline even with a custom fetch that ignores the signal.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new CognitoError('ERR_COGNITO_TIMEOUT', `JWKS fetch exceeded ${this.#timeoutMs} ms`),
        );
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#download(controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  async #download(signal: AbortSignal): Promise<KeySet> {
    const doFetch = this.#fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(this.#uri, {
        method: 'GET',
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new CognitoError(
        'ERR_COGNITO_UNREACHABLE',
        'JWKS endpoint could not be reached',
        undefined,
        { cause: error },
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', `JWKS answered HTTP ${response.status}`);
    }
    if (!isJsonContentType(response.headers.get('content-type'))) {
      await response.body?.cancel().catch(() => undefined);
      throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS content type is not JSON');
    }
    const text = await readCapped(response, this.#maxResponseBytes);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS is not valid JSON');
    }
    return importKeySet(document);
  }

  #emit(event: JwksCacheEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A logging hook must never break verification.
    }
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number`);
  }
  return value;
}

/** `application/json` or any `application/*+json` (e.g. `application/jwk-set+json`). */
function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const type = (header.split(';', 1)[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Reads the body as UTF-8, refusing anything past `maxBytes` (declared or actual). */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', `JWKS larger than ${maxBytes} bytes`);
  }
  const body = response.body;
  if (body === null) throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS body is empty');
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', `JWKS larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof CognitoError) throw cause;
    throw new CognitoError('ERR_COGNITO_UNREACHABLE', 'JWKS body could not be read');
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS is not UTF-8');
  }
}

/**
 * Turns a JWKS document into usable RS256 keys, skipping every entry that is not an RSA
 * signing key for RS256 of at least 2048 bits. Throws when none is left, so that a
 * malformed or empty answer never replaces a good cached set.
 */
async function importKeySet(document: unknown): Promise<KeySet> {
  if (!isPlainObject(document) || !Array.isArray(document['keys'])) {
    throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS has no "keys" array');
  }
  const entries: unknown[] = document['keys'];
  const keys = new Map<string, KeyForVerify>();
  const parts: string[] = [];
  for (const entry of entries.slice(0, MAX_KEYS)) {
    const usable = usableRsaJwk(entry);
    if (usable === undefined || keys.has(usable.kid)) continue; // first entry for a kid wins
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey(
        'jwk',
        { kty: 'RSA', n: usable.n, e: usable.e },
        RS256_IMPORT,
        false,
        ['verify'],
      );
    } catch {
      continue;
    }
    const { modulusLength } = key.algorithm as RsaHashedKeyAlgorithm;
    if (modulusLength < 2048) continue;
    keys.set(usable.kid, key);
    parts.push(`${usable.kid}\u0000${usable.n}\u0000${usable.e}`);
  }
  if (keys.size === 0) {
    throw new CognitoError('ERR_COGNITO_BAD_RESPONSE', 'JWKS holds no usable RS256 key');
  }
  return { keys, fingerprint: parts.sort().join('\u0001') };
}

function usableRsaJwk(entry: unknown): { kid: string; n: string; e: string } | undefined {
  if (!isPlainObject(entry)) return undefined;
  const { kty, use, alg, kid, n, e } = entry;
  if (kty !== 'RSA') return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (alg !== undefined && alg !== 'RS256') return undefined;
  if (typeof kid !== 'string' || kid === '' || kid.length > LIMITS.maxKidLength) return undefined;
  if (typeof n !== 'string' || typeof e !== 'string') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(n) || !/^[A-Za-z0-9_-]+$/.test(e)) return undefined;
  return { kid, n, e };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
