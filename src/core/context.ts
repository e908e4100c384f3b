/**
 * The parts a {@link CognitoGuard} is built from, shared by the flows (login, callback,
 * refresh, logout, guard). Internal.
 *
 * @module
 */
import { BoundedCache } from './bounded-cache.js';
import { COOKIE_NAMES, deleteCookie, type CookieAttributes } from './cookies.js';
import type { CookieSealer } from './crypto.js';
import type { IncomingRequest } from './http.js';
import type { ResolvedOptions, UrlOption } from './options.js';
import type { CognitoTokenClient } from './token-client.js';
import type { CognitoJwtVerifier } from './verify.js';

/** Internal wiring of one guard instance. */
export interface GuardContext {
  readonly options: ResolvedOptions;
  readonly verifier: CognitoJwtVerifier;
  readonly tokenClient: CognitoTokenClient;
  readonly sealer: CookieSealer;
  /** States already redeemed on this instance (replay and double-submit defence, B2/B17). */
  readonly consumedStates: BoundedCache<string, true>;
  /** Refreshes in flight, keyed by refresh cookie value (single-flight per session, B47). */
  readonly refreshesInFlight: Map<string, Promise<unknown>>;
}

/** Creates the bounded caches of a context. */
export function createConsumedStates(now: () => number): BoundedCache<string, true> {
  return new BoundedCache<string, true>(10_000, now);
}

/** Resolves a URL option for this request. */
export function resolveUrl(option: UrlOption, request: IncomingRequest): string {
  return typeof option === 'function' ? option(request) : option;
}

/** Attributes of the token cookies (access, ID, refresh). */
export function tokenCookieAttributes(options: ResolvedOptions): CookieAttributes {
  return {
    secure: options.secureCookies,
    sameSite: options.cookieSameSite,
    domain: options.cookieDomain,
  };
}

/** Attributes of transaction cookies: always Lax (the return from Cognito is a cross-site GET, B56), never a Domain. */
export function transactionCookieAttributes(options: ResolvedOptions): CookieAttributes {
  return { secure: options.secureCookies, sameSite: 'Lax' };
}

/** `Set-Cookie` values deleting every token cookie. */
export function deleteTokenCookies(options: ResolvedOptions): string[] {
  const attributes = tokenCookieAttributes(options);
  return [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken, COOKIE_NAMES.refreshToken].map((name) =>
    deleteCookie(name, attributes),
  );
}

/** The app's own origin, taken from its configured redirect URL (never from Host headers, B10/B67). */
export function appOrigin(options: ResolvedOptions, request: IncomingRequest): string | undefined {
  try {
    return new URL(resolveUrl(options.redirectUrl, request)).origin;
  } catch {
    return undefined;
  }
}

/**
 * True when a browser tells us the request came from another site: `Sec-Fetch-Site` is
 * `cross-site`/`same-site`, or `Origin` is present and not ours. Requests without either header
 * (non-browser clients, which cannot be CSRF victims) pass.
 */
export function isCrossSiteRequest(options: ResolvedOptions, request: IncomingRequest): boolean {
  const site = request.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.header('origin');
  if (origin !== undefined && origin !== appOrigin(options, request)) return true;
  return false;
}
