/**
 * cognito-guard: protect web routes with AWS Cognito the OAuth 2.1 way.
 *
 * This entry point is the framework-neutral core. Framework adapters live in
 * `cognito-guard/express` (and the other subpaths); the local Cognito emulator in
 * `cognito-guard/emulator`.
 *
 * @example
 * ```ts
 * import { CognitoGuard, fromEnv } from 'cognito-guard';
 * const guard = new CognitoGuard(fromEnv(process.env));
 * ```
 * @module
 */
export { CognitoGuard } from './core/cognito-guard.js';
export type { CallbackOptions, SessionTokenSet, StartedSession } from './core/cognito-guard.js';
export { CognitoApiGuard } from './core/api-guard.js';
export { fromEnv, apiGuardFromEnv, apiGuardOptions } from './core/options.js';
export type {
  CognitoGuardOptions,
  ApiGuardOptions,
  ResolvedApiGuardOptions,
  CognitoGuardLogger,
  CognitoEndpoints,
  Environment,
  ResolvedOptions,
  UrlOption,
} from './core/options.js';
export {
  CognitoGuardError,
  ConfigurationError,
  AuthorisationRequiredError,
  TokenVerifyError,
  CognitoGroupRequiredError,
  ScopeRequiredError,
  CallbackError,
  CrossSiteRequestError,
  RefreshError,
  CognitoError,
  SpeculativeRequestError,
  SignInCapacityError,
  TokenExpiredError,
} from './core/errors.js';
export {
  MemorySessionStore,
  registerSessionStore,
  SessionStoreError,
} from './core/store-session.js';
export type {
  SessionKey,
  SessionStore,
  SessionStoreContext,
  SessionStoreFactory,
} from './core/store-session.js';
export type { LogoutOptions } from './core/logout.js';
export type { CognitoGuardErrorCode } from './core/errors.js';
export type { AccessTokenClaims, IdTokenClaims, CognitoIdentity } from './core/claims.js';
export type {
  IncomingRequest,
  OutgoingResponse,
  GuardResult,
  RespondResult,
  ContinueResult,
} from './core/http.js';
export type { Requirement, ProtectOptions, Protector } from './core/protect.js';
export type { LoginOptions } from './core/login.js';
export type { AuthorizeParams } from './core/authorize.js';
export { safeReturnTo } from './core/authorize.js';
export { COOKIE_NAMES, cookieHeaderAfter } from './core/cookies.js';
export { JwksCache } from './core/jwks.js';
export type { JwksCacheOptions, JwksCacheEvent, GetKeyOptions, KeyForVerify } from './core/jwks.js';
export { CognitoJwtVerifier } from './core/verify.js';
export type { CognitoJwtVerifierOptions, IdTokenChecks } from './core/verify.js';
