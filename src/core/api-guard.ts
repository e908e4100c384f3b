/**
 * {@link CognitoApiGuard}: protection for APIs that take Cognito access tokens as
 * `Authorization: Bearer` (RFC 6750), configured by the pool and its app client(s) alone. No
 * cookies, no sign-in flow: a request without a valid bearer token is a 401 with a
 * `WWW-Authenticate` challenge, one without a required scope a 403 `insufficient_scope`.
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';
import { createVerifier } from './context.js';
import { CognitoGuardError } from './errors.js';
import { respond, type GuardResult, type IncomingRequest, type OutgoingResponse } from './http.js';
import type { JwksCache } from './jwks.js';
import {
  resolveApiGuardOptions,
  type ApiGuardOptions,
  type ResolvedApiGuardOptions,
} from './options.js';
import {
  authenticate,
  checkRequirement,
  createProtector,
  type Protector,
  type Requirement,
  type TokenSource,
} from './protect.js';
import { errorResponse } from './responses.js';
import type { CognitoJwtVerifier } from './verify.js';

/**
 * Protects API routes with Cognito access tokens sent as `Authorization: Bearer`.
 *
 * @example
 * ```ts
 * import { CognitoApiGuard, apiGuardFromEnv } from 'cognito-guard';
 *
 * const api = new CognitoApiGuard(apiGuardFromEnv(process.env));
 * const readItems = api.protector({ scopes: ['items/read'] });
 * ```
 */
export class CognitoApiGuard {
  /** The validated configuration. */
  readonly options: ResolvedApiGuardOptions;
  /** The issuer's key cache. */
  readonly jwks: JwksCache;
  /** The access-token verifier. */
  readonly verifier: CognitoJwtVerifier;
  readonly #tokens: TokenSource;

  /** @throws {@link ConfigurationError} naming every problem in `options`. */
  constructor(options: ApiGuardOptions) {
    const resolved = resolveApiGuardOptions(options);
    this.options = resolved;
    const { jwks, verifier } = createVerifier(resolved);
    this.jwks = jwks;
    this.verifier = verifier;
    this.#tokens = { verifier: this.verifier, bearerOnly: true, disabled: false };
  }

  /**
   * Builds the protection of one API route, validating `requirement` now, once. The returned
   * function answers synchronously when the verified-token cache knows the token.
   *
   * @throws {@link ConfigurationError} for an invalid requirement.
   * @example
   * ```ts
   * const writers = api.protector({ scopes: ['items/write'] });
   * ```
   */
  protector(requirement: Requirement = {}): Protector {
    checkRequirement(requirement);
    return createProtector(this.#tokens, requirement, {}, (error, request) =>
      respond(this.errorResponse(error, request)),
    );
  }

  /**
   * Authenticates and authorises one request (a {@link CognitoApiGuard.protector} built for
   * this call).
   *
   * @example
   * ```ts
   * const result = await api.protect(request, { scopes: ['items/read'] });
   * ```
   */
  async protect(request: IncomingRequest, requirement: Requirement = {}): Promise<GuardResult> {
    return this.protector(requirement)(request);
  }

  /** Verifies the request's bearer token; throws the error classes on failure. */
  authenticate(request: IncomingRequest): Promise<CognitoIdentity> {
    return authenticate(this.#tokens, request);
  }

  /** The response for any error (JSON, RFC 6750 challenge on 401/403). */
  errorResponse(error: unknown, request: IncomingRequest): OutgoingResponse {
    if (error instanceof CognitoGuardError && error.status >= 500) {
      this.options.logger.warn(error.message, { code: error.code, detail: error.detail });
    }
    return errorResponse(error, request, undefined);
  }
}
