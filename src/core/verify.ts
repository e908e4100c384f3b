/**
 * Verification of Cognito access and ID tokens (RS256 JWS), with Cognito's claim rules.
 *
 * Order of work, cheapest and most hostile-input-proof first:
 * 1. shape: a string of at most 16 KiB, exactly three non-empty base64url segments, each in its
 *    one canonical spelling (the unused low bits of the last character are zero), so that no token
 *    has a second spelling that would slip past a deny-list or log keyed by the token string;
 * 2. strict decoding: UTF-8 only, JSON objects, no duplicate members, bounded nesting;
 * 3. header: `alg` exactly `RS256`, a short string `kid`, no `crit`; key-bearing headers
 *    (`jku`, `x5u`, `jwk`, `x5c`) are never read;
 * 4. claims: exact `iss`, `token_use`, `client_id`/`aud`, `sub`, numeric `exp`/`iat`/`nbf` with a
 *    bounded leeway — before the signature, so junk never costs an RSA operation or
 *    a JWKS fetch;
 * 5. signature with `jose` against the pool's cached JWKS.
 *
 * A token that passed all of this is remembered, keyed by its exact string, until its `exp`,
 * so that a protected request in steady state costs one bounded-map lookup (DESIGN,
 * "Per-request cost"). Checks that depend on the caller's inputs (`nonce`, `at_hash`) run on
 * every call.
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation OIDC Core §3.1.3.7
 * @see https://www.rfc-editor.org/rfc/rfc8725 RFC 8725 (JWT BCP)
 * @module
 */

import * as base64url from 'jose/base64url';
import { compactVerify } from 'jose/jws/compact/verify';

import { BoundedCache } from './bounded-cache.js';
import type { AccessTokenClaims, IdTokenClaims } from './claims.js';
import { sha256, timingSafeEqual } from './crypto.js';
import { ConfigurationError, TokenExpiredError, TokenVerifyError } from './errors.js';
import type { JwksCache } from './jwks.js';
import { DEFAULTS, LIMITS } from './limits.js';

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Options of {@link CognitoJwtVerifier}.
 *
 * @example
 * ```ts
 * const options: CognitoJwtVerifierOptions = {
 *   issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
 *   clientId: '4lln66726pp3f4gi1krj0sta9h',
 *   jwks: new JwksCache({ jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json' }),
 * };
 * ```
 */
export interface CognitoJwtVerifierOptions {
  /** Expected `iss`, compared as an exact string: no trailing-slash or case normalisation. */
  issuer: string;
  /**
   * This app client's id: `client_id` of access tokens, `aud` of ID tokens. An API that accepts
   * access tokens of several app clients may give a list, or `null` for any client of the pool
   * (an explicit choice: leaving the check out by omission is not possible); ID tokens then
   * cannot be verified.
   */
  clientId: string | readonly string[] | null;
  /** The key cache of this issuer's JWKS (one per issuer). */
  jwks: JwksCache;
  /** Clock-skew allowance for `exp`/`iat`/`nbf`, 0..300 s; default 0. */
  leewaySeconds?: number;
  /** Clock in milliseconds (injectable for tests); default `Date.now`. */
  now?: () => number;
  /** Most tokens remembered as verified; default 10 000; 0 disables the cache. */
  verifiedCacheSize?: number;
}

/** Per-call checks for ID tokens; each given value must match, even on a cache hit. */
export interface IdTokenChecks {
  /** The nonce sent at authorize; the token must carry exactly this value. */
  nonce?: string;
  /** The access token from the same token response; checked against `at_hash` when present. */
  accessToken?: string;
  /** The token came straight from the token endpoint (see `GetKeyOptions` in jwks.ts). */
  fromTokenEndpoint?: boolean;
}

type TokenUse = 'access' | 'id';

interface VerifiedEntry {
  /** The whole token: the cache key is only its tail, so a hit compares the full string. */
  readonly token: string;
  readonly use: TokenUse;
  readonly claims: AccessTokenClaims | IdTokenClaims;
}

/**
 * The verified-token cache is keyed by a number folded from the last characters of the token —
 * the end of its RS256 signature, random bits — not by the ~1 KB string: hashing a fresh string
 * (or even a slice of it) on every request cost more than everything else on the hot path, while
 * a small integer key needs no hashing at all. A hit still compares the whole token, so a forged
 * token that shares the key is only a miss (and then fails verification), and two tokens that
 * collide merely evict each other.
 */
const CACHE_KEY_CHARACTERS = 24;

function cacheKey(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - CACHE_KEY_CHARACTERS); i < token.length; i += 1) {
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  }
  // A small integer keeps the Map on its fastest path.
  return hash & 0x3fffffff;
}

/**
 * Verifies Cognito access and ID tokens of one user pool and one app client.
 *
 * Every failure is a {@link TokenVerifyError} (401) whose `detail` never contains the token;
 * a JWKS that cannot be fetched while nothing is cached is a `CognitoError` (502/503/504).
 *
 * @example
 * ```ts
 * const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';
 * const jwks = new JwksCache({ jwksUri: `${issuer}/.well-known/jwks.json` });
 * const verifier = new CognitoJwtVerifier({ issuer, clientId: 'my-client', jwks });
 * const claims = await verifier.verifyAccessToken(accessToken);
 * const user = await verifier.verifyIdToken(idToken, { accessToken });
 * ```
 */
export class CognitoJwtVerifier {
  readonly #issuer: string;
  /** The one client ID tokens must be issued to; `undefined` when several (or any) are accepted. */
  readonly #clientId: string | undefined;
  /** The clients access tokens may come from; `null` for any client of the pool. */
  readonly #clientIds: ReadonlySet<string> | null;
  readonly #jwks: JwksCache;
  readonly #leewaySeconds: number;
  readonly #now: () => number;
  readonly #verified: BoundedCache<number, VerifiedEntry> | undefined;
  #verifiedGeneration: number;

  /**
   * @param options - see {@link CognitoJwtVerifierOptions}; invalid options throw a
   *   `ConfigurationError` naming every problem.
   */
  constructor(options: CognitoJwtVerifierOptions) {
    const problems: string[] = [];
    if (typeof options.issuer !== 'string' || options.issuer === '') {
      problems.push('issuer must be a non-empty string');
    }
    const clientIds: unknown = options.clientId;
    if (
      clientIds !== null &&
      !(typeof clientIds === 'string' && clientIds !== '') &&
      !(
        Array.isArray(clientIds) &&
        clientIds.length > 0 &&
        clientIds.every((id) => typeof id === 'string' && id !== '')
      )
    ) {
      problems.push('clientId must be a non-empty string, a non-empty list of them, or null');
    }
    const leeway = options.leewaySeconds ?? 0;
    if (!Number.isFinite(leeway) || leeway < 0 || leeway > LIMITS.maxLeewaySeconds) {
      problems.push(`leewaySeconds must be between 0 and ${LIMITS.maxLeewaySeconds}`);
    }
    const cacheSize = options.verifiedCacheSize ?? DEFAULTS.verifiedTokenCacheSize;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      problems.push('verifiedCacheSize must be a non-negative integer');
    }
    if (problems.length > 0) throw new ConfigurationError(problems);

    this.#issuer = options.issuer;
    const { clientId } = options;
    this.#clientId = typeof clientId === 'string' ? clientId : undefined;
    this.#clientIds =
      clientId === null ? null : new Set(typeof clientId === 'string' ? [clientId] : clientId);
    this.#jwks = options.jwks;
    this.#leewaySeconds = leeway;
    this.#now = options.now ?? Date.now;
    // Only verified tokens ever enter, so insertion order is a fair proxy for recency, and a hit
    // stays one map lookup (no re-insert of a ~1 KB key per request).
    this.#verified =
      cacheSize > 0 ? new BoundedCache(cacheSize, this.#now, { touchOnRead: false }) : undefined;
    this.#verifiedGeneration = this.#jwks.generation;
  }

  /** Number of tokens currently remembered as verified (both kinds). */
  get verifiedCacheSize(): number {
    return this.#verified?.size ?? 0;
  }

  /**
   * Verifies a Cognito access token: RS256 signature, `iss`, `token_use` = `access`,
   * `client_id` = this client, `sub`, `exp`/`iat`/`nbf`.
   *
   * @throws {TokenVerifyError} on any token problem (401).
   * @throws {CognitoError} when the JWKS cannot be fetched and nothing is cached (502/503/504).
   * @example
   * ```ts
   * const claims = await guard.verifier.verifyAccessToken(accessToken);
   * console.log(claims.sub, claims['cognito:groups'] ?? []);
   * ```
   */
  async verifyAccessToken(
    token: string,
    options: { readonly fromTokenEndpoint?: boolean } = {},
  ): Promise<AccessTokenClaims> {
    const cached = this.#lookup(token, 'access');
    if (cached !== undefined) return cached as AccessTokenClaims;
    return (await this.#verifyUncached(
      token,
      'access',
      options.fromTokenEndpoint === true,
    )) as AccessTokenClaims;
  }

  /**
   * Verifies a Cognito ID token: RS256 signature, `iss`, `token_use` = `id`, `aud` = this
   * client (and `azp` when there are several audiences), `sub`, `exp`/`iat`/`nbf`; plus, when
   * given, `nonce` (required and equal) and `at_hash` (equal when the token carries one).
   *
   * @throws {TokenVerifyError} on any token problem (401).
   * @throws {CognitoError} when the JWKS cannot be fetched and nothing is cached (502/503/504).
   * @example
   * ```ts
   * const user = await guard.verifier.verifyIdToken(idToken, {
   *   nonce: 'the nonce sent at authorize',
   *   accessToken,
   * });
   * ```
   */
  async verifyIdToken(token: string, checks?: IdTokenChecks): Promise<IdTokenClaims> {
    const claims =
      (this.#lookup(token, 'id') as IdTokenClaims | undefined) ??
      ((await this.#verifyUncached(
        token,
        'id',
        checks?.fromTokenEndpoint === true,
      )) as IdTokenClaims);
    if (checks !== undefined) await checkIdTokenBindings(claims, checks);
    return claims;
  }

  /**
   * The claims of an access token this verifier has already verified and that is still live,
   * or `undefined` — synchronously, with no I/O. The per-request fast path of a protected
   * route; anything not cached goes through {@link CognitoJwtVerifier.verifyAccessToken}.
   *
   * @example
   * ```ts
   * const { verifier } = guard;
   * const claims =
   *   verifier.cachedAccessTokenClaims(accessToken) ?? (await verifier.verifyAccessToken(accessToken));
   * ```
   */
  cachedAccessTokenClaims(token: string): AccessTokenClaims | undefined {
    return this.#lookup(token, 'access') as AccessTokenClaims | undefined;
  }

  /**
   * Like {@link CognitoJwtVerifier.cachedAccessTokenClaims} for ID tokens. No `nonce`/`at_hash`
   * checks: use {@link CognitoJwtVerifier.verifyIdToken} when those apply.
   */
  cachedIdTokenClaims(token: string): IdTokenClaims | undefined {
    return this.#lookup(token, 'id') as IdTokenClaims | undefined;
  }

  /** The hot path: one generation compare and one bounded-map read. */
  #lookup(token: string, use: TokenUse): AccessTokenClaims | IdTokenClaims | undefined {
    const cache = this.#verified;
    if (cache === undefined || typeof token !== 'string') return undefined;
    if (this.#jwks.generation !== this.#verifiedGeneration) {
      // The key set changed (rotation, a key withdrawn): re-verify everything once.
      cache.clear();
      this.#verifiedGeneration = this.#jwks.generation;
      return undefined;
    }
    const entry = cache.get(cacheKey(token));
    if (entry?.token !== token) return undefined;
    return entry.use === use ? entry.claims : undefined;
  }

  async #verifyUncached(
    token: string,
    use: TokenUse,
    fromTokenEndpoint: boolean,
  ): Promise<AccessTokenClaims | IdTokenClaims> {
    const { header, payload } = decodeToken(token);
    checkHeader(header);
    const claims = this.#checkClaims(payload, use);

    const key = await this.#jwks.getKey(header['kid'] as string, { fromTokenEndpoint });
    const generation = this.#jwks.generation;
    try {
      await compactVerify(token, key, { algorithms: ['RS256'] });
    } catch {
      throw new TokenVerifyError('signature verification failed');
    }

    deepFreeze(claims);
    const cache = this.#verified;
    // Only cache under the generation the key came from; a key set that changed meanwhile
    // would otherwise leave an entry that the next generation check does not clear.
    if (cache !== undefined && generation === this.#jwks.generation) {
      if (this.#verifiedGeneration !== generation) {
        cache.clear();
        this.#verifiedGeneration = generation;
      }
      cache.set(cacheKey(token), { token, use, claims }, (claims.exp + this.#leewaySeconds) * 1000);
    }
    return claims;
  }

  #checkClaims(payload: Record<string, unknown>, use: TokenUse): AccessTokenClaims | IdTokenClaims {
    if (payload['iss'] !== this.#issuer) throw new TokenVerifyError('iss mismatch');
    if (payload['token_use'] !== use) {
      throw new TokenVerifyError(`token_use is not "${use}"`);
    }
    const { sub, exp, iat, nbf } = payload;
    if (typeof sub !== 'string' || sub === '') throw new TokenVerifyError('sub missing');
    if (!isNumericDate(exp)) throw new TokenVerifyError('exp missing or not a number');
    if (!isNumericDate(iat)) throw new TokenVerifyError('iat missing or not a number');
    if (nbf !== undefined && !isNumericDate(nbf)) throw new TokenVerifyError('nbf not a number');

    const nowSeconds = Math.floor(this.#now() / 1000);
    const leeway = this.#leewaySeconds;
    if (nowSeconds >= exp + leeway) throw new TokenExpiredError();
    if (iat > nowSeconds + leeway) throw new TokenVerifyError('iat in the future');
    if (nbf !== undefined && nbf > nowSeconds + leeway) {
      throw new TokenVerifyError('token not yet valid (nbf)');
    }

    const groups = payload['cognito:groups'];
    if (groups !== undefined && !isStringArray(groups)) {
      throw new TokenVerifyError('cognito:groups is not an array of strings');
    }

    if (use === 'access') {
      // Cognito access tokens carry no `aud`; the app client is `client_id`: a token issued to
      // another app client of the same pool must not be accepted.
      const client = payload['client_id'];
      if (
        typeof client !== 'string' ||
        (this.#clientIds !== null && !this.#clientIds.has(client))
      ) {
        throw new TokenVerifyError('client_id mismatch');
      }
      const scope = payload['scope'];
      if (scope !== undefined && typeof scope !== 'string') {
        throw new TokenVerifyError('scope is not a string');
      }
      return payload as unknown as AccessTokenClaims;
    }

    const { aud, azp } = payload;
    if (this.#clientId === undefined) {
      throw new TokenVerifyError('ID tokens are verified only for a single configured client');
    }
    if (typeof aud === 'string') {
      if (aud !== this.#clientId) throw new TokenVerifyError('aud mismatch');
    } else if (isStringArray(aud) && aud.includes(this.#clientId)) {
      // Extra audiences are only acceptable when the token was issued to us (OIDC §3.1.3.7(4-5)).
      if (aud.length > 1 && azp !== this.#clientId) {
        throw new TokenVerifyError('several audiences without azp for this client');
      }
    } else {
      throw new TokenVerifyError('aud mismatch');
    }
    if (azp !== undefined && azp !== this.#clientId) throw new TokenVerifyError('azp mismatch');
    for (const name of ['nonce', 'at_hash'] as const) {
      const value = payload[name];
      if (value !== undefined && typeof value !== 'string') {
        throw new TokenVerifyError(`${name} is not a string`);
      }
    }
    return payload as unknown as IdTokenClaims;
  }
}

/** Nonce and at_hash: bound to the caller's inputs, so checked on every call. */
async function checkIdTokenBindings(claims: IdTokenClaims, checks: IdTokenChecks): Promise<void> {
  if (checks.nonce !== undefined) {
    if (typeof claims.nonce !== 'string' || !timingSafeEqual(claims.nonce, checks.nonce)) {
      throw new TokenVerifyError('nonce missing or mismatched');
    }
  }
  if (checks.accessToken !== undefined && claims.at_hash !== undefined) {
    const digest = await sha256(checks.accessToken);
    const expected = base64url.encode(digest.subarray(0, digest.length / 2));
    if (!timingSafeEqual(claims.at_hash, expected)) {
      throw new TokenVerifyError('at_hash does not match the access token');
    }
  }
}

/**
 * Splits and strictly decodes a compact JWS without trusting anything in it yet.
 * Shape and size are checked before any base64 or JSON work.
 */
function decodeToken(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  if (typeof token !== 'string' || token.length === 0) throw new TokenVerifyError('no token');
  if (token.length > LIMITS.maxTokenLength) throw new TokenVerifyError('token too long');
  if (!JWS_SHAPE.test(token)) {
    throw new TokenVerifyError('not a compact JWS (three base64url segments)');
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = decodeJsonSegment(token.slice(0, first), 'header');
  const payload = decodeJsonSegment(token.slice(first + 1, second), 'payload');
  if (!isCanonicalBase64url(token, second + 1, token.length)) {
    throw new TokenVerifyError('signature is not canonical base64url');
  }
  return { header, payload };
}

/** The 6-bit value of a base64url character (the caller has checked the alphabet). */
function base64urlValue(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41; // A-Z
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26; // a-z
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52; // 0-9
  return code === 0x2d /* - */ ? 62 : 63;
}

/**
 * True when `text[start, end)` is base64url in its one canonical spelling: no length of the form
 * 4k+1 (which no byte string encodes to), and the bits of the last character that encode no data
 * are zero. A decoder ignores those bits, so without this check each token would have up to 15
 * other spellings that verify.
 */
function isCanonicalBase64url(text: string, start: number, end: number): boolean {
  const remainder = (end - start) % 4;
  if (remainder === 1) return false;
  if (remainder === 0) return true;
  const unusedBits = remainder === 2 ? 4 : 2;
  return (base64urlValue(text.charCodeAt(end - 1)) & ((1 << unusedBits) - 1)) === 0;
}

function decodeJsonSegment(segment: string, label: string): Record<string, unknown> {
  if (!isCanonicalBase64url(segment, 0, segment.length)) {
    throw new TokenVerifyError(`${label} is not canonical base64url`);
  }
  let text: string;
  try {
    text = utf8.decode(base64url.decode(segment));
  } catch {
    throw new TokenVerifyError(`${label} is not base64url-encoded UTF-8`);
  }
  const problem = scanJson(text);
  if (problem !== undefined) throw new TokenVerifyError(`${label} ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenVerifyError(`${label} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenVerifyError(`${label} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Finds duplicate object members (at any depth) and excessive nesting, which `JSON.parse`
 * silently accepts (last member wins), so that `{"iss":"evil","iss":"ours"}` cannot confuse a
 * reader that takes the first. Keys are compared after unescaping, so `"\u0069ss"`
 * counts as `iss`. Syntax errors are left to `JSON.parse`.
 */
function scanJson(text: string): string | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length) {
        const c = text.charCodeAt(end);
        if (c === 0x5c /* \ */) end += 2;
        else if (c === 0x22) break;
        else end += 1;
      }
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        let key: unknown;
        try {
          key = JSON.parse(text.slice(i, end + 1));
        } catch {
          return 'is not valid JSON';
        }
        if (typeof key !== 'string' || top.keys.has(key)) return 'has duplicate members';
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (stack.length >= LIMITS.maxJsonDepth) return 'is nested too deeply';
      stack.push({ keys: ch === 0x7b ? new Set() : undefined, expectKey: true });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top !== undefined) top.expectKey = true;
    }
  }
  return undefined;
}

function checkHeader(header: Record<string, unknown>): void {
  // The algorithm is pinned by the verifier; the header may only confirm it.
  if (header['alg'] !== 'RS256') throw new TokenVerifyError('alg is not RS256');
  const kid = header['kid'];
  // Cognito always sets kid; without it we reject rather than guess a key.
  if (typeof kid !== 'string' || kid === '' || kid.length > LIMITS.maxKidLength) {
    throw new TokenVerifyError('kid missing or malformed');
  }
  // No extension is understood, so any critical one must fail (RFC 7515 §4.1.11).
  if ('crit' in header) throw new TokenVerifyError('crit header not supported');
  // jku / x5u / jwk / x5c are deliberately never read: keys come only from the configured JWKS.
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Cached claims are shared between requests; freezing stops one handler changing another's. */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
