/**
 * The parts a {@link CognitoGuard} is built from, shared by the flows (login, callback, refresh,
 * logout, protect). Internal.
 *
 * @module
 */
import { BoundedCache } from './bounded-cache.js';
import type { CookieAttributes } from './cookies.js';
import type { CookieSealer } from './crypto.js';
import type { CognitoGuardError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { JwksCache } from './jwks.js';
import { LIMITS } from './limits.js';
import type { ResolvedApiGuardOptions, ResolvedOptions, UrlOption } from './options.js';
import type { RecentRefreshes } from './refresh.js';
import type { SessionBackend } from './session.js';
import type { CognitoTokenClient } from './token-client.js';
import { CognitoJwtVerifier } from './verify.js';

/** Internal wiring of one guard instance. */
export interface GuardContext {
  readonly options: ResolvedOptions;
  readonly verifier: CognitoJwtVerifier;
  readonly tokenClient: CognitoTokenClient;
  readonly sealer: CookieSealer;
  /** Where sessions live: cookies, or a session store. */
  readonly sessions: SessionBackend;
  /**
   * Login states already redeemed on this instance, each kept until its transaction could no
   * longer be unsealed anyway: a replayed or double-submitted callback is refused, and no flood
   * of sign-ins can push a live entry out (when full, new sign-ins wait instead).
   */
  readonly consumedStates: BoundedCache<string, true>;
  /** Refreshes that concurrent requests of one session share (one exchange per instance). */
  readonly recentRefreshes: RecentRefreshes;
}

/** What a session backend needs. */
export type SessionDependencies = Pick<GuardContext, 'options' | 'sealer'>;

/**
 * The issuer's key cache and the token verifier of a guard (a web guard passes its issuer and
 * key-set URL from its endpoints). A failed key-set fetch is logged as a warning.
 */
export function createVerifier(settings: ResolvedApiGuardOptions): {
  readonly jwks: JwksCache;
  readonly verifier: CognitoJwtVerifier;
} {
  const jwks = new JwksCache({
    jwksUri: settings.jwksUri,
    fetch: settings.fetch,
    timeoutMs: settings.httpTimeoutMs,
    now: settings.now,
    onEvent: (event) => {
      if (event.type === 'fetch-failed')
        settings.logger.warn('JWKS fetch failed', { detail: event.detail });
    },
  });
  const verifier = new CognitoJwtVerifier({
    issuer: settings.issuer,
    clientId: settings.clientId,
    jwks,
    leewaySeconds: settings.expirationLeewaySeconds,
    now: settings.now,
    verifiedCacheSize: settings.verifiedTokenCacheSize,
  });
  return { jwks, verifier };
}

/** Creates the record of redeemed login states. */
export function createConsumedStates(now: () => number): BoundedCache<string, true> {
  return new BoundedCache<string, true>(LIMITS.maxConsumedStates, now, { touchOnRead: false });
}

/**
 * A flow failed: the error to answer with, and the cookies that must still be set or cleared
 * with that answer (a used transaction, a dead session).
 */
export class FlowFailure extends Error {
  constructor(
    readonly error: CognitoGuardError,
    readonly setCookies: readonly string[],
  ) {
    super(error.message, { cause: error });
  }
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

/**
 * Attributes of transaction cookies: always Lax, because the return from Cognito is a cross-site
 * navigation that must carry the cookie; never a Domain, so no sibling host sees it.
 */
export function transactionCookieAttributes(options: ResolvedOptions): CookieAttributes {
  return { secure: options.secureCookies, sameSite: 'Lax' };
}

/**
 * The app's own origin, taken from its configured redirect URL — never from `Host` or
 * `X-Forwarded-*` headers, which a client or a misconfigured proxy controls.
 */
export function appOrigin(options: ResolvedOptions, request: IncomingRequest): string | undefined {
  try {
    return new URL(resolveUrl(options.redirectUrl, request)).origin;
  } catch {
    return undefined;
  }
}
