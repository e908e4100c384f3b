/**
 * {@link CognitoGuard}: the framework-neutral facade that adapters wrap. It validates the
 * configuration once, owns the JWKS cache, verifier, token client and cookie sealer, and turns
 * every flow into a {@link GuardResult} — respond now, or continue to the app's handler with an
 * identity and cookies — so that an adapter only translates, and no error can escape as a 500.
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';
import { beginSession, completeLogin } from './callback.js';
import { createConsumedStates, createVerifier, FlowFailure, type GuardContext } from './context.js';
import { CookieSealer } from './crypto.js';
import { safeReturnTo } from './authorize.js';
import { CognitoGuardError, ConfigurationError } from './errors.js';
import { respond, type GuardResult, type IncomingRequest, type OutgoingResponse } from './http.js';
import type { JwksCache } from './jwks.js';
import { startLogin, type LoginOptions } from './login.js';
import { cognitoLogoutUrl, logout, type LogoutOptions } from './logout.js';
import {
  fromEnv,
  resolveOptions,
  type CognitoGuardOptions,
  type Environment,
  type ResolvedOptions,
  unknownKeyProblems,
} from './options.js';
import {
  authenticate,
  authorize,
  checkRequirement,
  createProtector,
  type ProtectOptions,
  type Protector,
  type Requirement,
  type TokenSource,
} from './protect.js';
import { CookieSessions } from './cookie-session.js';
import { RecentRefreshes, refreshRoute, refreshSession } from './refresh.js';
import { StoreSessions } from './store-session.js';
import {
  continuationResponse,
  errorResponse,
  redirectResponse,
  SESSION_FLOW_HEADERS,
  wantsHtml,
} from './responses.js';
import { CognitoTokenClient } from './token-client.js';
import type { CognitoJwtVerifier } from './verify.js';

/**
 * Per-route options of {@link CognitoGuard.callback}.
 *
 * @example
 * ```ts
 * const options: CallbackOptions = { redirectTo: '/claims' };
 * ```
 */
export interface CallbackOptions {
  /**
   * After a successful sign-in, redirect to the `returnTo` stored at login, else to this path.
   * Without it the result continues to the app's handler, which sends the answer itself.
   */
  readonly redirectTo?: string | undefined;
}

const CALLBACK_OPTION_KEYS = new Set(['redirectTo']);

/**
 * Tokens for {@link CognitoGuard.startSession}: what Cognito's token endpoint (or its JSON API's
 * `InitiateAuth`) returned to the app's own server.
 *
 * @example
 * ```ts
 * const tokens: SessionTokenSet = { accessToken, idToken, refreshToken };
 * ```
 */
export interface SessionTokenSet {
  readonly accessToken: string;
  readonly idToken?: string | undefined;
  /** Kept (encrypted) only when the refresh flow is enabled. */
  readonly refreshToken?: string | undefined;
}

/**
 * A session started by {@link CognitoGuard.startSession}.
 *
 * @example
 * ```ts
 * const { identity, setCookies } = await guard.startSession({ accessToken, idToken });
 * ```
 */
export interface StartedSession {
  /** The verified identity, as a protected route would see it. */
  readonly identity: CognitoIdentity;
  /** The `Set-Cookie` values that hold the session (or, with a session store, its id). */
  readonly setCookies: readonly string[];
}

const NO_COOKIE_REQUEST: IncomingRequest = {
  method: 'GET',
  url: '/',
  header: () => undefined,
};

/**
 * Protects routes with AWS Cognito. One instance per app; adapters (`cognito-guard/express`, …)
 * wrap it, and `src/adapters.md` says what an adapter must translate.
 *
 * @example
 * ```ts
 * import { CognitoGuard, fromEnv, type IncomingRequest } from 'cognito-guard';
 *
 * const guard = new CognitoGuard(fromEnv(process.env));
 * const admins = guard.protector({ groups: ['admin'] });
 * async function handle(request: IncomingRequest): Promise<string> {
 *   const result = await admins(request);
 *   return result.action === 'respond' ? `refused with ${result.response.status}` : 'welcome';
 * }
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
  readonly #tokens: TokenSource;

  /** @throws {@link ConfigurationError} naming every problem in `options`. */
  constructor(options: CognitoGuardOptions) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    const { jwks, verifier } = createVerifier({
      ...resolved,
      issuer: resolved.endpoints.issuer,
      jwksUri: resolved.endpoints.jwksUri,
    });
    this.jwks = jwks;
    this.verifier = verifier;
    const sealer = new CookieSealer(resolved.secretKeys, resolved.now);
    const sessions =
      resolved.sessionStore === undefined
        ? new CookieSessions({ options: resolved, sealer })
        : new StoreSessions({ options: resolved, sealer }, resolved.sessionStore);
    this.#context = {
      options: resolved,
      sessions,
      verifier: this.verifier,
      tokenClient: new CognitoTokenClient({
        issuer: resolved.endpoints.issuer,
        tokenEndpoint: resolved.endpoints.token,
        revocationEndpoint: resolved.endpoints.revoke,
        userPoolApi: resolved.endpoints.userPoolApi,
        clientId: resolved.clientId,
        clientSecret: resolved.clientSecret,
        timeoutMs: resolved.httpTimeoutMs,
        fetch: resolved.fetch,
        allowInsecureHttp: resolved.allowInsecureHttp,
      }),
      sealer,
      consumedStates: createConsumedStates(resolved.now),
      recentRefreshes: new RecentRefreshes(resolved.now),
    };
    const context = this.#context;
    this.#tokens = {
      verifier: this.verifier,
      bearerOnly: false,
      disabled: resolved.disabled,
      sessions,
      autoRefresh: resolved.autoRefresh
        ? {
            marginMs: resolved.autoRefreshMarginSeconds * 1000,
            now: resolved.now,
            ticket: () => context.recentRefreshes.ticket(),
            run: (request, presented, ticket) =>
              refreshSession(context, request, presented, ticket),
          }
        : undefined,
    };
    if (resolved.disabled) {
      resolved.logger.warn(
        'AWS_COGNITO_DISABLED is set: every protected route is open to anyone, without signing in. Use this for local development only.',
        { disabled: true, production: resolved.production },
      );
    }
  }

  /**
   * Builds a guard from environment variables (flask-cognito-lib's names).
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
   * Number of login transactions this instance remembers as redeemed. Bounded, so a flood of
   * callbacks cannot grow memory; exposed for health checks and tests.
   *
   * @example
   * ```ts
   * console.log('redeemed sign-ins remembered:', guard.consumedStateCount);
   * ```
   */
  get consumedStateCount(): number {
    return this.#context.consumedStates.size;
  }

  /**
   * The response for any error, with safe messages only. Server-side failures (5xx) and
   * unexpected errors are logged, without tokens.
   */
  errorResponse(
    error: unknown,
    request: IncomingRequest,
    setCookies: readonly string[] = [],
  ): OutgoingResponse {
    if (!(error instanceof CognitoGuardError)) {
      this.options.logger.warn('unexpected failure', {
        error: error instanceof Error ? error.name : typeof error,
      });
    } else if (error.status >= 500 && error.code !== 'ERR_SPECULATIVE_REQUEST') {
      this.options.logger.warn(error.message, { code: error.code, detail: error.detail });
    }
    return errorResponse(error, request, this.options.loginPath, setCookies);
  }

  /**
   * Starts a login: a redirect to Cognito with a fresh transaction cookie.
   *
   * @example
   * ```ts
   * const response = await guard.login(request, { returnTo: '/reports' });
   * ```
   */
  async login(request: IncomingRequest, options?: LoginOptions): Promise<OutgoingResponse> {
    try {
      return await startLogin(this.#context, request, options);
    } catch (error) {
      return this.errorResponse(error, request);
    }
  }

  /**
   * Builds the handler of the login callback (the redirect URL's route), validating `options`
   * now, once. Every refused sign-in is logged once, at `warn`, with its reason code and no
   * secret.
   *
   * @throws {@link ConfigurationError} for invalid options (an unknown key, an unsafe `redirectTo`).
   * @example
   * ```ts
   * const callback = guard.callbackHandler({ redirectTo: '/claims' });
   * const result = await callback(request);
   * ```
   */
  callbackHandler(
    options: CallbackOptions = {},
  ): (request: IncomingRequest) => Promise<GuardResult> {
    const problems = unknownKeyProblems(options, CALLBACK_OPTION_KEYS, 'callback option');
    const { redirectTo } = options;
    if (redirectTo !== undefined && safeReturnTo(redirectTo) !== redirectTo) {
      problems.push('redirectTo must be a same-origin path such as /claims');
    }
    if (problems.length > 0) throw new ConfigurationError(problems);
    return async (request) => {
      try {
        const { identity, returnTo, setCookies } = await completeLogin(this.#context, request);
        if (redirectTo === undefined) {
          return {
            action: 'continue',
            identity,
            headers: SESSION_FLOW_HEADERS,
            setCookies,
            returnTo,
          };
        }
        const target = returnTo ?? redirectTo;
        // Strict cookies are not sent on the redirect chain that began on Cognito's site.
        return respond(
          this.options.cookieSameSite === 'Strict'
            ? continuationResponse(target, setCookies)
            : redirectResponse(target, setCookies),
        );
      } catch (error) {
        return respond(this.#refusal('sign-in refused', error, request));
      }
    };
  }

  /**
   * Completes a login at the redirect URL (a {@link CognitoGuard.callbackHandler} built for this
   * call).
   *
   * @example
   * ```ts
   * const result = await guard.callback(request, { redirectTo: '/claims' });
   * ```
   */
  callback(request: IncomingRequest, options: CallbackOptions = {}): Promise<GuardResult> {
    return this.callbackHandler(options)(request);
  }

  /**
   * Starts a session from tokens the app's own server got from Cognito outside the hosted login
   * (the JSON API's `InitiateAuth`, or the emulator in tests: `cognito-guard/testing` builds on
   * this). The tokens are verified as at the callback (signature, issuer, client, both naming the
   * same user) and kept exactly as a sign-in keeps them: the same cookies, or the same session
   * store entry. `request`, when given, is the request whose session this replaces.
   *
   * Never pass tokens a browser sent: that would let anyone plant a session of their choosing
   * (an API caller sends `Authorization: Bearer`, which {@link CognitoApiGuard} checks).
   *
   * @throws {@link TokenVerifyError} when a token does not verify; {@link CognitoError} when
   *   Cognito's keys cannot be fetched.
   * @example
   * ```ts
   * const { setCookies } = await guard.startSession({ accessToken, idToken, refreshToken });
   * ```
   */
  async startSession(
    tokens: SessionTokenSet,
    request: IncomingRequest = NO_COOKIE_REQUEST,
  ): Promise<StartedSession> {
    return beginSession(
      this.#context,
      request,
      {
        accessToken: tokens.accessToken,
        idToken: tokens.idToken,
        refreshToken: tokens.refreshToken,
        expiresIn: undefined,
        scope: undefined,
      },
      undefined,
      false,
    );
  }

  /**
   * Refreshes the session from the refresh-token cookie (`POST` only, from our own site). On
   * success the result continues with the new identity and cookies.
   *
   * @example
   * ```ts
   * const result = await guard.refresh(request);
   * ```
   */
  async refresh(request: IncomingRequest): Promise<GuardResult> {
    try {
      const { identity, setCookies } = await refreshRoute(this.#context, request);
      return { action: 'continue', identity, headers: SESSION_FLOW_HEADERS, setCookies };
    } catch (error) {
      return respond(this.#refusal('session refresh refused', error, request));
    }
  }

  /**
   * Signs out: ends the session, revokes every refresh token it held, and sends the browser to
   * Cognito's logout. A cross-site link gets a confirmation page; a prefetch is declined. With
   * `{ everywhere: true }` the user is also signed out of every device (`GlobalSignOut`).
   *
   * @example
   * ```ts
   * const response = await guard.logout(request);
   * const everywhere = await guard.logout(request, { everywhere: true });
   * ```
   */
  async logout(request: IncomingRequest, options: LogoutOptions = {}): Promise<OutgoingResponse> {
    try {
      return await logout(this.#context, request, options);
    } catch (error) {
      return this.errorResponse(error, request);
    }
  }

  /** Releases the session store's connections (at shutdown); nothing to do with cookie sessions. */
  async close(): Promise<void> {
    await this.options.sessionStore?.close?.();
  }

  /** The Cognito `/logout` URL for this request. */
  logoutUrl(request: IncomingRequest): string {
    return cognitoLogoutUrl(this.#context, request);
  }

  /**
   * Verifies the request's tokens. Throws on failure (see the error classes); most callers want
   * {@link CognitoGuard.protector}.
   */
  authenticate(request: IncomingRequest): Promise<CognitoIdentity> {
    return authenticate(this.#tokens, request);
  }

  /**
   * Checks groups/scopes of an identity; throws 403 errors. The requirement is validated as
   * {@link CognitoGuard.protector} validates it: from plain JavaScript, a misspelt key such as
   * `{ group: ['admin'] }` would otherwise let every signed-in user through.
   *
   * @throws {@link CognitoGroupRequiredError} or {@link ScopeRequiredError} (403) when the
   *   identity lacks them; {@link ConfigurationError} for an invalid requirement.
   * @example
   * ```ts
   * const identity = await guard.authenticate(request);
   * guard.authorize(identity, { groups: ['admin'] });
   * ```
   */
  authorize(identity: CognitoIdentity, requirement: Requirement): void {
    checkRequirement(requirement);
    authorize(identity, requirement);
  }

  /**
   * Builds the protection of one route, validating `requirement` and `options` now, once
   * (an unknown key is a `ConfigurationError`). The returned function answers synchronously
   * when the verified-token cache knows the tokens, and with a promise otherwise; it never
   * throws.
   *
   * @throws {@link ConfigurationError} for an invalid requirement.
   * @example
   * ```ts
   * const editors = guard.protector({ groups: ['admin', 'editor'], anyGroup: true });
   * const result = await editors(request);
   * ```
   */
  protector(requirement: Requirement = {}, options: ProtectOptions = {}): Protector {
    checkRequirement(requirement, options);
    return createProtector(this.#tokens, requirement, options, (error, request, setCookies) =>
      this.#protectRefusal(error, request, options, setCookies),
    );
  }

  /**
   * Authenticates and authorises a request in one call (a {@link CognitoGuard.protector} built
   * for this call). Never throws for request problems.
   *
   * @example
   * ```ts
   * const result = await guard.protect(request, { groups: ['admin'] });
   * ```
   */
  async protect(
    request: IncomingRequest,
    requirement: Requirement = {},
    options: ProtectOptions = {},
  ): Promise<GuardResult> {
    return this.protector(requirement, options)(request);
  }

  /** The answer to a failed flow, logged once at `warn` with its code and operator detail. */
  #refusal(message: string, error: unknown, request: IncomingRequest): OutgoingResponse {
    const failure = error instanceof FlowFailure ? error.error : error;
    const setCookies = error instanceof FlowFailure ? error.setCookies : [];
    if (failure instanceof CognitoGuardError && failure.status < 500) {
      this.options.logger.warn(message, { code: failure.code, detail: failure.detail });
    }
    return this.errorResponse(failure, request, setCookies);
  }

  /** The answer refusing a protected request: 401/403, or a redirect to login for pages. */
  #protectRefusal(
    error: unknown,
    request: IncomingRequest,
    options: ProtectOptions,
    setCookies: readonly string[],
  ): GuardResult {
    if (
      options.redirectToLogin === true &&
      error instanceof CognitoGuardError &&
      error.status === 401 &&
      wantsHtml(request)
    ) {
      const loginUrl = `${this.options.loginPath}?${new URLSearchParams({ returnTo: request.url }).toString()}`;
      return respond(redirectResponse(loginUrl, setCookies));
    }
    return respond(this.errorResponse(error, request, setCookies));
  }
}
