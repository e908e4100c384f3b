/**
 * Route protection: authenticate a request from its session cookies (or an
 * `Authorization: Bearer` header for API callers), and authorise it by Cognito groups (all or
 * any) and scopes.
 *
 * {@link createProtector} builds the per-route function adapters call. It answers synchronously
 * when the verified-token cache knows the tokens (the steady state: no promise, no I/O), and
 * returns a promise only when a token must be verified first.
 *
 * @module
 */
import type { AccessTokenClaims, CognitoIdentity, IdTokenClaims } from './claims.js';
import { COOKIE_NAMES, parseCookies } from './cookies.js';
import type { CognitoJwtVerifier } from './verify.js';
import {
  AuthorisationRequiredError,
  CognitoGroupRequiredError,
  ConfigurationError,
  ScopeRequiredError,
  TokenVerifyError,
} from './errors.js';
import { proceed, type GuardResult, type IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import { unknownKeyProblems } from './options.js';
import { bearerToken } from './request-rules.js';
import { requireSameUser, toIdentity } from './session.js';

/**
 * What a protected route requires beyond a valid sign-in.
 *
 * @example
 * ```ts
 * const editors: Requirement = { groups: ['admin', 'editor'], anyGroup: true };
 * ```
 */
export interface Requirement {
  /** Cognito groups; all of them by default (flask-cognito-lib's `groups=`). */
  readonly groups?: readonly string[] | undefined;
  /** Any one of `groups` is enough (flask-cognito-lib's `any_group=True`). */
  readonly anyGroup?: boolean | undefined;
  /** Scopes the access token must carry (exact match against its space-separated `scope`). */
  readonly scopes?: readonly string[] | undefined;
}

/**
 * How a protected route answers a request that is not signed in.
 *
 * @example
 * ```ts
 * const pages: ProtectOptions = { redirectToLogin: true };
 * ```
 */
export interface ProtectOptions {
  /**
   * Redirect browsers (requests accepting `text/html`) to the login route with a `returnTo`,
   * instead of answering 401. API callers still get 401.
   */
  readonly redirectToLogin?: boolean | undefined;
  /**
   * Let requests through without a sign-in: the identity is set when the request carries valid
   * tokens, and is `undefined` otherwise (no 401). Requirements do not apply.
   */
  readonly optional?: boolean | undefined;
}

/**
 * The per-route protection function: synchronous when the verified-token cache answers, a
 * promise otherwise. It never throws.
 *
 * @example
 * ```ts
 * const protect: Protector = guard.protector({ groups: ['admin'] });
 * const result = protect(request);
 * const settled = result instanceof Promise ? await result : result;
 * ```
 */
export type Protector = (request: IncomingRequest) => GuardResult | Promise<GuardResult>;

const REQUIREMENT_KEYS = new Set(['groups', 'anyGroup', 'scopes']);
const PROTECT_OPTION_KEYS = new Set(['redirectToLogin', 'optional']);

/**
 * Validates a requirement when a route is declared, not per request. Unknown keys are refused
 * (from plain JavaScript, `{ group: ['admin'] }` would otherwise let every signed-in user in), and
 * so is a bare string for `groups` (flask-cognito-lib checked `groups="admin"` character by
 * character).
 *
 * @throws {ConfigurationError} naming every problem.
 */
export function checkRequirement(requirement: Requirement, options: ProtectOptions = {}): void {
  const problems: string[] = [];
  if (typeof requirement !== 'object' || (requirement as unknown) === null) {
    throw new ConfigurationError(['route requirement must be an object']);
  }
  problems.push(...unknownKeyProblems(requirement, REQUIREMENT_KEYS, 'route requirement key'));
  problems.push(...unknownKeyProblems(options, PROTECT_OPTION_KEYS, 'protect option'));
  for (const key of ['groups', 'scopes'] as const) {
    const value: unknown = requirement[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      problems.push(`${key} must be an array of non-empty strings`);
    }
  }
  for (const [key, value] of [
    ['anyGroup', requirement.anyGroup],
    ['redirectToLogin', options.redirectToLogin],
    ['optional', options.optional],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean')
      problems.push(`${key} must be a boolean`);
  }
  if (options.optional === true && (requirement.groups?.length ?? requirement.scopes?.length)) {
    problems.push('an optional route cannot require groups or scopes');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
}

const SESSION_COOKIE_NAMES = [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken] as const;

/** Where a protector gets tokens from and how it verifies them. */
export interface TokenSource {
  readonly verifier: CognitoJwtVerifier;
  /** API mode: only an `Authorization: Bearer` access token counts; cookies are ignored. */
  readonly bearerOnly: boolean;
  /** `AWS_COGNITO_DISABLED`: every request passes without an identity. */
  readonly disabled: boolean;
}

/** The tokens a request presents. */
interface PresentedTokens {
  readonly accessToken: string;
  /** Only with the cookie session; an API caller's bearer token stands alone. */
  readonly idToken: string | undefined;
}

/**
 * Reads the tokens from an `Authorization: Bearer` header or the session cookies, without
 * verifying them. Throws 401 errors for missing, duplicated or oversized tokens.
 */
function presentedTokens(request: IncomingRequest, bearerOnly: boolean): PresentedTokens {
  const fromHeader = bearerToken(request);
  if (fromHeader !== undefined) {
    if (fromHeader.length > LIMITS.maxTokenLength) throw new TokenVerifyError('token too long');
    return { accessToken: fromHeader, idToken: undefined };
  }
  if (bearerOnly) throw new AuthorisationRequiredError('no bearer token');
  const cookies = parseCookies(request.header('cookie'), SESSION_COOKIE_NAMES);
  if (
    cookies.duplicates.has(COOKIE_NAMES.accessToken) ||
    cookies.duplicates.has(COOKIE_NAMES.idToken)
  ) {
    // Two cookies with one name: someone planted one from a sibling domain. Trust neither.
    throw new TokenVerifyError('duplicate session cookies');
  }
  const accessToken = cookies.values[COOKIE_NAMES.accessToken];
  if (accessToken === undefined || accessToken === '') {
    throw new AuthorisationRequiredError('no access token');
  }
  if (accessToken.length > LIMITS.maxTokenLength) throw new TokenVerifyError('token too long');
  const idToken = cookies.values[COOKIE_NAMES.idToken];
  return { accessToken, idToken: idToken === '' ? undefined : idToken };
}

function identityOf(
  tokens: PresentedTokens,
  accessClaims: AccessTokenClaims,
  idClaims: IdTokenClaims | undefined,
): CognitoIdentity {
  requireSameUser(accessClaims, idClaims);
  return toIdentity(accessClaims, tokens.accessToken, idClaims, tokens.idToken);
}

/**
 * Verifies the request's tokens. Throws {@link AuthorisationRequiredError} (401) when there is
 * no token, {@link TokenVerifyError} (401) when one fails, and `CognitoError` (502–504) when the
 * keys cannot be had.
 */
export async function authenticate(
  source: TokenSource,
  request: IncomingRequest,
): Promise<CognitoIdentity> {
  const tokens = presentedTokens(request, source.bearerOnly);
  const accessClaims = await source.verifier.verifyAccessToken(tokens.accessToken);
  const idClaims =
    tokens.idToken === undefined ? undefined : await source.verifier.verifyIdToken(tokens.idToken);
  return identityOf(tokens, accessClaims, idClaims);
}

/**
 * The synchronous steady-state path of {@link authenticate}: answers only from the
 * verified-token cache. Returns `undefined` when a token is not cached yet (the caller then
 * takes the asynchronous path); throws the same 401 errors for missing or malformed tokens.
 */
export function authenticateFromCache(
  source: TokenSource,
  request: IncomingRequest,
): CognitoIdentity | undefined {
  const tokens = presentedTokens(request, source.bearerOnly);
  const accessClaims = source.verifier.cachedAccessTokenClaims(tokens.accessToken);
  if (accessClaims === undefined) return undefined;
  let idClaims: IdTokenClaims | undefined;
  if (tokens.idToken !== undefined) {
    idClaims = source.verifier.cachedIdTokenClaims(tokens.idToken);
    if (idClaims === undefined) return undefined;
  }
  return identityOf(tokens, accessClaims, idClaims);
}

/**
 * Checks a verified identity against a requirement. Throws {@link CognitoGroupRequiredError} or
 * {@link ScopeRequiredError} (403).
 */
export function authorize(identity: CognitoIdentity, requirement: Requirement): void {
  const groups = requirement.groups ?? [];
  if (groups.length > 0) {
    if (!Array.isArray(identity.claims['cognito:groups'])) {
      throw new CognitoGroupRequiredError('no groups found in claims');
    }
    const held = new Set(identity.groups);
    const ok =
      requirement.anyGroup === true
        ? groups.some((g) => held.has(g))
        : groups.every((g) => held.has(g));
    if (!ok)
      throw new CognitoGroupRequiredError(
        `requires ${requirement.anyGroup === true ? 'any' : 'all'} of ${groups.join(', ')}`,
      );
  }
  const scopes = requirement.scopes ?? [];
  if (scopes.length > 0) {
    const granted = new Set((identity.claims.scope ?? '').split(' ').filter((s) => s !== ''));
    const missing = scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) throw new ScopeRequiredError(`missing scope ${missing.join(', ')}`);
  }
}

/**
 * Builds a route's protector. `refuse` turns an error into the refusal to send (401/403, a
 * redirect to login, a 5xx).
 */
export function createProtector(
  source: TokenSource,
  requirement: Requirement,
  options: ProtectOptions,
  refuse: (error: unknown, request: IncomingRequest) => GuardResult,
): Protector {
  const optional = options.optional === true;
  const anonymous = proceed(undefined);
  const settle = (error: unknown, request: IncomingRequest): GuardResult =>
    optional ? anonymous : refuse(error, request);
  const verify = async (request: IncomingRequest): Promise<GuardResult> => {
    try {
      const identity = await authenticate(source, request);
      if (!optional) authorize(identity, requirement);
      return proceed(identity);
    } catch (error) {
      return settle(error, request);
    }
  };
  if (source.disabled) return () => anonymous;
  return (request) => {
    try {
      const identity = authenticateFromCache(source, request);
      if (identity === undefined) return verify(request);
      if (!optional) authorize(identity, requirement);
      return proceed(identity);
    } catch (error) {
      return settle(error, request);
    }
  };
}
