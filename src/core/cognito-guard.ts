/**
 * {@link CognitoGuard}: the framework-neutral facade that adapters wrap. It validates the
 * configuration once, owns the JWKS cache, verifier, token client and cookie sealer, and turns
 * every flow into either a success value or a ready-to-send response — so that an adapter only
 * translates, and no error can escape as a 500.
 *
 * @module
 */
import { COOKIE_NAMES } from './cookies.js';
import type { CognitoIdentity } from './claims.js';
import { completeLogin, CallbackFailure, type CallbackSuccess } from './callback.js';
import { createConsumedStates, type GuardContext } from './context.js';
import { CookieSealer } from './crypto.js';
import { CognitoGuardError } from './errors.js';
import {
  authenticate,
  authenticateFromCache,
  authorize,
  checkRequirement,
  type Requirement,
} from './guard.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';
import { JwksCache } from './jwks.js';
import { startLogin, type LoginOptions } from './login.js';
import { cognitoLogoutUrl, logout } from './logout.js';
import {
  fromEnv,
  resolveOptions,
  type CognitoGuardOptions,
  type Environment,
  type ResolvedOptions,
} from './options.js';
import { refreshSession, RefreshFailure, type RefreshSuccess } from './refresh.js';
import { errorResponse, redirectResponse } from './responses.js';
import { CognitoTokenClient } from './token-client.js';
import { CognitoJwtVerifier } from './verify.js';

/** A flow's result: a value with cookies to set, or the response to send instead. */
export type FlowOutcome<T> =
  ({ readonly ok: true } & T) | { readonly ok: false; readonly response: OutgoingResponse };

/** How a protected route answers an unauthenticated request. */
export interface ProtectOptions {
  /**
   * Redirect browsers (requests accepting `text/html`) to the login route with a `returnTo`,
   * instead of answering 401. API callers still get 401.
   */
  readonly redirectToLogin?: boolean | undefined;
}

/** The outcome of {@link CognitoGuard.protect}. `identity` is `undefined` only when the guard is disabled. */
export type ProtectOutcome =
  | { readonly ok: true; readonly identity: CognitoIdentity | undefined }
  | { readonly ok: false; readonly response: OutgoingResponse };

/**
 * Protects routes with AWS Cognito. One instance per app; adapters (`cognito-guard/express`)
 * wrap it.
 *
 * @example
 * ```ts
 * import { CognitoGuard, fromEnv } from 'cognito-guard';
 * const guard = new CognitoGuard(fromEnv(process.env));
 * const outcome = await guard.protect(request, { groups: ['admin'] });
 * if (!outcome.ok) return send(outcome.response);
 * ```
 */
export class CognitoGuard {
  /** The validated configuration. */
  readonly options: ResolvedOptions;
  /** The issuer's key cache (exposed for health checks and tests). */
  readonly jwks: JwksCache;
  /** The token verifier (exposed for verifying tokens outside a request). */
  readonly verifier: CognitoJwtVerifier;
  readonly #context: GuardContext;

  /** @throws {@link ConfigurationError} naming every problem in `options`. */
  constructor(options: CognitoGuardOptions) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.jwks = new JwksCache({
      jwksUri: resolved.endpoints.jwksUri,
      fetch: resolved.fetch,
      timeoutMs: resolved.httpTimeoutMs,
      now: resolved.now,
      onEvent: (event) => {
        if (event.type === 'fetch-failed')
          resolved.logger.warn('JWKS fetch failed', { detail: event.detail });
      },
    });
    this.verifier = new CognitoJwtVerifier({
      issuer: resolved.endpoints.issuer,
      clientId: resolved.clientId,
      jwks: this.jwks,
      leewaySeconds: resolved.expirationLeewaySeconds,
      now: resolved.now,
      verifiedCacheSize: resolved.verifiedTokenCacheSize,
    });
    this.#context = {
      options: resolved,
      verifier: this.verifier,
      tokenClient: new CognitoTokenClient({
        issuer: resolved.endpoints.issuer,
        tokenEndpoint: resolved.endpoints.token,
        revocationEndpoint: resolved.endpoints.revoke,
        clientId: resolved.clientId,
        clientSecret: resolved.clientSecret,
        timeoutMs: resolved.httpTimeoutMs,
        fetch: resolved.fetch,
        allowInsecureHttp: resolved.allowInsecureHttp,
      }),
      sealer: new CookieSealer(resolved.secretKeys, resolved.now),
      consumedStates: createConsumedStates(resolved.now),
      refreshesInFlight: new Map(),
    };
  }

  /**
   * Builds a guard from environment variables (the seed's names).
   *
   * @example
   * ```ts
   * const guard = CognitoGuard.fromEnv(process.env);
   * ```
   */
  static fromEnv(env: Environment): CognitoGuard {
    return new CognitoGuard(fromEnv(env));
  }

  /** True when `AWS_COGNITO_DISABLED` bypasses route protection. */
  get disabled(): boolean {
    return this.options.disabled;
  }

  /**
   * Number of login transactions this instance remembers as redeemed (replay defence, B2/B17).
   * Bounded, so a flood of callbacks cannot grow memory; exposed for health checks and tests.
   *
   * @example
   * ```ts
   * metrics.gauge('cognito_guard.consumed_states', guard.consumedStateCount);
   * ```
   */
  get consumedStateCount(): number {
    return this.#context.consumedStates.size;
  }

  /** The response for any error, with safe messages only. */
  errorResponse(
    error: unknown,
    request: IncomingRequest,
    setCookies: string[] = [],
  ): OutgoingResponse {
    if (!(error instanceof CognitoGuardError)) {
      this.options.logger.warn('unexpected failure', {
        error: error instanceof Error ? error.name : typeof error,
      });
    } else if (error.status >= 500) {
      this.options.logger.warn(error.message, { code: error.code, detail: error.detail });
    }
    return errorResponse(error, request, this.options.loginPath, setCookies);
  }

  /** Starts a login: a redirect to Cognito with a fresh transaction cookie. */
  async login(request: IncomingRequest, options?: LoginOptions): Promise<OutgoingResponse> {
    try {
      return await startLogin(this.#context, request, options);
    } catch (error) {
      return this.errorResponse(error, request);
    }
  }

  /** Completes a login at the redirect URL. */
  async callback(request: IncomingRequest): Promise<FlowOutcome<CallbackSuccess>> {
    try {
      const success = await completeLogin(this.#context, request);
      return { ok: true, ...success };
    } catch (error) {
      if (error instanceof CallbackFailure) {
        return { ok: false, response: this.errorResponse(error.error, request, error.setCookies) };
      }
      return { ok: false, response: this.errorResponse(error, request) };
    }
  }

  /** Refreshes the session from the refresh-token cookie (POST). */
  async refresh(request: IncomingRequest): Promise<FlowOutcome<RefreshSuccess>> {
    try {
      const success = await refreshSession(this.#context, request);
      return { ok: true, ...success };
    } catch (error) {
      if (error instanceof RefreshFailure) {
        return { ok: false, response: this.errorResponse(error.error, request, error.setCookies) };
      }
      return { ok: false, response: this.errorResponse(error, request) };
    }
  }

  /** Signs out: revoke, clear cookies, redirect to Cognito's logout. */
  async logout(request: IncomingRequest): Promise<OutgoingResponse> {
    try {
      return await logout(this.#context, request);
    } catch (error) {
      return this.errorResponse(error, request);
    }
  }

  /** The Cognito `/logout` URL for this request. */
  logoutUrl(request: IncomingRequest): string {
    return cognitoLogoutUrl(this.#context, request);
  }

  /**
   * Verifies the request's tokens. Throws on failure (see the error classes); most callers want
   * {@link CognitoGuard.protect}.
   */
  authenticate(request: IncomingRequest): Promise<CognitoIdentity> {
    return authenticate(this.#context, request);
  }

  /** Checks groups/scopes of an identity; throws 403 errors. */
  authorize(identity: CognitoIdentity, requirement: Requirement): void {
    authorize(identity, requirement);
  }

  /**
   * Validates a route requirement once, at declaration (a bare string for `groups` is refused).
   */
  requirement(requirement: Requirement = {}): Requirement {
    return checkRequirement(requirement);
  }

  /**
   * The synchronous steady-state form of {@link CognitoGuard.protect}: answers from the
   * verified-token cache with no promise and no I/O, and returns `undefined` when a token has not
   * been verified yet — then call {@link CognitoGuard.protect}. Adapters try this first; it is
   * what keeps a protected route close to the speed of an unprotected one.
   *
   * @example
   * ```ts
   * const outcome = guard.protectFromCache(request, requirement) ?? (await guard.protect(request, requirement));
   * ```
   */
  protectFromCache(
    request: IncomingRequest,
    requirement: Requirement = {},
    options: ProtectOptions = {},
  ): ProtectOutcome | undefined {
    if (this.options.disabled) return { ok: true, identity: undefined };
    try {
      const identity = authenticateFromCache(this.#context, request);
      if (identity === undefined) return undefined;
      authorize(identity, requirement);
      return { ok: true, identity };
    } catch (error) {
      return this.#refusal(error, request, options);
    }
  }

  /**
   * Authenticates and authorises a request in one call. Never throws for request problems.
   */
  async protect(
    request: IncomingRequest,
    requirement: Requirement = {},
    options: ProtectOptions = {},
  ): Promise<ProtectOutcome> {
    if (this.options.disabled) return { ok: true, identity: undefined };
    try {
      const identity = await authenticate(this.#context, request);
      authorize(identity, requirement);
      return { ok: true, identity };
    } catch (error) {
      return this.#refusal(error, request, options);
    }
  }

  /** The response refusing a protected request: 401/403, or a redirect to login for pages. */
  #refusal(error: unknown, request: IncomingRequest, options: ProtectOptions): ProtectOutcome {
    if (
      options.redirectToLogin === true &&
      error instanceof CognitoGuardError &&
      error.status === 401 &&
      (request.header('accept') ?? '').includes('text/html')
    ) {
      const loginUrl = `${this.options.loginPath}?${new URLSearchParams({ returnTo: request.url }).toString()}`;
      return { ok: false, response: redirectResponse(loginUrl) };
    }
    return { ok: false, response: this.errorResponse(error, request) };
  }
}

export { COOKIE_NAMES };
