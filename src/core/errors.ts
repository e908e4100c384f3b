/**
 * Errors raised by cognito-guard.
 *
 * One base class, {@link CognitoGuardError}, with a `code` string union so that
 * `switch (err.code)` narrows, and an HTTP `status`/`statusCode` on every error that
 * can reach a client. The names used by flask-cognito-lib (`AuthorisationRequiredError`,
 * `CognitoGroupRequiredError`, `CognitoError`, `TokenVerifyError`, `ConfigurationError`)
 * are kept so that a user coming from Flask finds them.
 *
 * Every `message` here is safe to show to an end user: it never contains a token, a code,
 * a secret or text that came from Cognito. Details for operators go in `detail`, which is
 * never rendered into a response body.
 *
 * @module
 */

/** Every error code cognito-guard raises. */
export type CognitoGuardErrorCode =
  | 'ERR_CONFIGURATION'
  | 'ERR_AUTHENTICATION_REQUIRED'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_GROUP_REQUIRED'
  | 'ERR_SCOPE_REQUIRED'
  | 'ERR_CALLBACK_INVALID'
  | 'ERR_CALLBACK_NO_TRANSACTION'
  | 'ERR_CALLBACK_STATE_MISMATCH'
  | 'ERR_CALLBACK_ERROR_RESPONSE'
  | 'ERR_CALLBACK_REJECTED'
  | 'ERR_CROSS_SITE_REQUEST'
  | 'ERR_REFRESH_DISABLED'
  | 'ERR_REFRESH_REJECTED'
  | 'ERR_SPECULATIVE_REQUEST'
  | 'ERR_SIGN_IN_CAPACITY'
  | 'ERR_SESSION_STORE_UNAVAILABLE'
  | 'ERR_COGNITO_UNREACHABLE'
  | 'ERR_COGNITO_TIMEOUT'
  | 'ERR_COGNITO_BAD_RESPONSE'
  | 'ERR_COGNITO_CLIENT_REJECTED';

/**
 * Base class of every error cognito-guard raises.
 *
 * @example
 * ```ts
 * try { await guard.authenticate(request) } catch (err) {
 *   if (err instanceof CognitoGuardError) console.log(err.code, err.status)
 * }
 * ```
 */
export class CognitoGuardError extends Error {
  /** A stable, machine-readable code. */
  readonly code: CognitoGuardErrorCode;
  /** The HTTP status this error maps to. */
  readonly status: number;
  /** Alias of {@link CognitoGuardError.status} (Express/Fastify/http-errors convention). */
  readonly statusCode: number;
  /**
   * Operator-facing detail for logs. Never contains tokens, codes or secrets, and is never
   * sent to the client.
   */
  readonly detail: string | undefined;

  constructor(
    code: CognitoGuardErrorCode,
    status: number,
    message: string,
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.statusCode = status;
    this.detail = detail;
  }
}

/**
 * The configuration is incomplete or invalid. Raised once, at construction, naming every
 * problem found.
 *
 * @example
 * ```ts
 * try { fromEnv({}) } catch (err) { if (err instanceof ConfigurationError) console.error(err.problems) }
 * ```
 */
export class ConfigurationError extends CognitoGuardError {
  /** Every problem found, one line each (e.g. `AWS_REGION is required`). */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      'ERR_CONFIGURATION',
      500,
      `Invalid cognito-guard configuration:\n  - ${problems.join('\n  - ')}`,
    );
    this.problems = problems;
  }
}

/**
 * The request is not authenticated: no token, or a token that did not verify. HTTP 401 with
 * an RFC 6750 `WWW-Authenticate` challenge.
 */
export class AuthorisationRequiredError extends CognitoGuardError {
  constructor(
    detail?: string,
    code: 'ERR_AUTHENTICATION_REQUIRED' | 'ERR_TOKEN_INVALID' = 'ERR_AUTHENTICATION_REQUIRED',
    options?: ErrorOptions,
  ) {
    super(code, 401, 'Authentication is required to access this resource.', detail, options);
  }
}

/** A token failed verification (signature, issuer, audience, expiry, `token_use`, …). HTTP 401. */
export class TokenVerifyError extends AuthorisationRequiredError {
  constructor(detail: string, options?: ErrorOptions) {
    super(detail, 'ERR_TOKEN_INVALID', options);
  }
}

/**
 * The token has expired (HTTP 401, `invalid_token`). With the refresh flow on, a protected route
 * refreshes such a session by itself (`autoRefresh`).
 */
export class TokenExpiredError extends TokenVerifyError {
  constructor() {
    super('token expired');
  }
}

/** The user is authenticated but lacks a required Cognito group. HTTP 403. */
export class CognitoGroupRequiredError extends CognitoGuardError {
  constructor(detail?: string) {
    super(
      'ERR_GROUP_REQUIRED',
      403,
      'Cognito group membership is required to access this resource.',
      detail,
    );
  }
}

/** The user is authenticated but the access token lacks a required scope. HTTP 403. */
export class ScopeRequiredError extends CognitoGuardError {
  constructor(detail?: string) {
    super('ERR_SCOPE_REQUIRED', 403, 'A required scope is missing for this resource.', detail);
  }
}

/**
 * The login callback was bad, replayed, unsolicited or carried an error from Cognito. HTTP 400;
 * the user should start the login again.
 */
export class CallbackError extends CognitoGuardError {
  constructor(
    code:
      | 'ERR_CALLBACK_INVALID'
      | 'ERR_CALLBACK_NO_TRANSACTION'
      | 'ERR_CALLBACK_STATE_MISMATCH'
      | 'ERR_CALLBACK_ERROR_RESPONSE'
      | 'ERR_CALLBACK_REJECTED',
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(
      code,
      400,
      'The sign-in could not be completed. Please start the sign-in again.',
      detail,
      options,
    );
  }
}

/** A state-changing request (logout, refresh) came from another site. HTTP 403. */
export class CrossSiteRequestError extends CognitoGuardError {
  constructor(detail?: string) {
    super('ERR_CROSS_SITE_REQUEST', 403, 'Cross-site request refused.', detail);
  }
}

/** The refresh flow was called while it is disabled (HTTP 404), or Cognito refused the refresh token (HTTP 401). */
export class RefreshError extends CognitoGuardError {
  constructor(
    code: 'ERR_REFRESH_DISABLED' | 'ERR_REFRESH_REJECTED',
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(
      code,
      code === 'ERR_REFRESH_DISABLED' ? 404 : 401,
      code === 'ERR_REFRESH_DISABLED'
        ? 'Refresh is not enabled.'
        : 'The session could not be refreshed. Please sign in again.',
      detail,
      options,
    );
  }
}

/**
 * Cognito (its token/revoke endpoints or its JWKS) failed: unreachable (503), too slow (504),
 * an unusable answer (502), or it refused our client credentials (502, an operator problem).
 */
export class CognitoError extends CognitoGuardError {
  /** The OAuth `error` code Cognito returned, when it returned one. */
  readonly oauthError: string | undefined;

  constructor(
    code:
      | 'ERR_COGNITO_UNREACHABLE'
      | 'ERR_COGNITO_TIMEOUT'
      | 'ERR_COGNITO_BAD_RESPONSE'
      | 'ERR_COGNITO_CLIENT_REJECTED',
    detail?: string,
    oauthError?: string,
    options?: ErrorOptions,
  ) {
    const status =
      code === 'ERR_COGNITO_UNREACHABLE' ? 503 : code === 'ERR_COGNITO_TIMEOUT' ? 504 : 502;
    super(
      code,
      status,
      'The sign-in service is unavailable. Please try again shortly.',
      detail,
      options,
    );
    this.oauthError = oauthError;
  }
}

/**
 * A speculative load (prefetch, prerender, link preview) of a route that would change the
 * session. HTTP 503, which tells the browser not to use the prefetched answer; the real
 * navigation, when the user makes it, proceeds normally.
 */
export class SpeculativeRequestError extends CognitoGuardError {
  constructor() {
    super('ERR_SPECULATIVE_REQUEST', 503, 'This page is not served to prefetch or prerender.');
  }
}

/**
 * This instance remembers as many completed sign-ins as it can hold; further sign-ins are
 * refused for a few minutes rather than forgetting which logins were already used. HTTP 503.
 */
export class SignInCapacityError extends CognitoGuardError {
  constructor(detail?: string) {
    super(
      'ERR_SIGN_IN_CAPACITY',
      503,
      'Too many sign-ins right now. Please try again shortly.',
      detail,
    );
  }
}
