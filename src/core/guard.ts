/**
 * Route protection: authenticate a request from its access-token cookie (or an
 * `Authorization: Bearer` header for API callers), verify the ID-token cookie alongside it, and
 * authorise by Cognito groups (all or any) and scopes.
 *
 * @module
 */
import type { AccessTokenClaims, CognitoIdentity, IdTokenClaims } from './claims.js';
import { COOKIE_NAMES, parseCookies } from './cookies.js';
import type { GuardContext } from './context.js';
import {
  AuthorisationRequiredError,
  CognitoGroupRequiredError,
  ScopeRequiredError,
  TokenVerifyError,
} from './errors.js';
import type { IncomingRequest } from './http.js';
import { requireSameUser, toIdentity } from './session.js';

/**
 * What a protected route requires beyond a valid sign-in.
 *
 * @example
 * ```ts
 * auth.required({ groups: ['admin', 'editor'], anyGroup: true });
 * ```
 */
export interface Requirement {
  /** Cognito groups; all of them by default (the seed's `groups=`). */
  readonly groups?: readonly string[] | undefined;
  /** Any one of `groups` is enough (the seed's `any_group=True`). */
  readonly anyGroup?: boolean | undefined;
  /** Scopes the access token must carry (exact, space-separated match; B42, B66). */
  readonly scopes?: readonly string[] | undefined;
}

/**
 * Validates a requirement when a route is declared, not per request. A bare string for `groups`
 * is refused (seed fault: `groups="admin"` checked each character).
 */
export function checkRequirement(requirement: Requirement): Requirement {
  const problems: string[] = [];
  for (const key of ['groups', 'scopes'] as const) {
    const value: unknown = requirement[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      problems.push(`${key} must be an array of non-empty strings`);
    }
  }
  if (requirement.anyGroup !== undefined && typeof requirement.anyGroup !== 'boolean') {
    problems.push('anyGroup must be a boolean');
  }
  if (problems.length > 0)
    throw new TypeError(`cognito-guard: invalid route requirement: ${problems.join('; ')}`);
  return requirement;
}

const MAX_TOKEN_LENGTH = 16 * 1024;
const SESSION_COOKIE_NAMES = [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken] as const;

function bearerToken(request: IncomingRequest): string | undefined {
  const header = request.header('authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (match?.[1] === undefined) throw new TokenVerifyError('malformed Authorization header');
  return match[1];
}

/** The tokens a request presents. */
interface PresentedTokens {
  readonly accessToken: string;
  /** Only with the cookie session; an API caller's bearer token stands alone. */
  readonly idToken: string | undefined;
}

/**
 * Reads the tokens from the `Authorization` header or the session cookies, without verifying
 * them. Throws 401 errors for missing, duplicated (B57) or oversized tokens.
 */
function presentedTokens(request: IncomingRequest): PresentedTokens {
  const cookies = parseCookies(request.header('cookie'), SESSION_COOKIE_NAMES);
  const fromHeader = bearerToken(request);
  if (
    cookies.duplicates.has(COOKIE_NAMES.accessToken) ||
    cookies.duplicates.has(COOKIE_NAMES.idToken)
  ) {
    // Two cookies with one name: someone tossed a cookie in from a sibling domain (B57).
    throw new TokenVerifyError('duplicate session cookies');
  }
  const accessToken = fromHeader ?? cookies.values[COOKIE_NAMES.accessToken];
  if (accessToken === undefined || accessToken === '') {
    throw new AuthorisationRequiredError('no access token');
  }
  if (accessToken.length > MAX_TOKEN_LENGTH) throw new TokenVerifyError('token too long');
  const idToken = fromHeader === undefined ? cookies.values[COOKIE_NAMES.idToken] : undefined;
  return { accessToken, idToken: idToken === '' ? undefined : idToken };
}

function identityOf(
  tokens: PresentedTokens,
  claims: AccessTokenClaims,
  userInfo: IdTokenClaims | undefined,
): CognitoIdentity {
  requireSameUser(claims, userInfo);
  return toIdentity(claims, tokens.accessToken, userInfo, tokens.idToken);
}

/**
 * Verifies the request's tokens. Throws {@link AuthorisationRequiredError} (401) when there is
 * no token, {@link TokenVerifyError} (401) when one fails, and `CognitoError` (502–504) when the
 * keys cannot be had.
 */
export async function authenticate(
  context: GuardContext,
  request: IncomingRequest,
): Promise<CognitoIdentity> {
  const tokens = presentedTokens(request);
  const claims = await context.verifier.verifyAccessToken(tokens.accessToken);
  const userInfo =
    tokens.idToken === undefined ? undefined : await context.verifier.verifyIdToken(tokens.idToken);
  return identityOf(tokens, claims, userInfo);
}

/**
 * The synchronous steady-state path of {@link authenticate}: answers only from the
 * verified-token cache. Returns `undefined` when a token is not cached yet (the caller then
 * takes the asynchronous path); throws the same 401 errors for missing or malformed tokens.
 */
export function authenticateFromCache(
  context: GuardContext,
  request: IncomingRequest,
): CognitoIdentity | undefined {
  const tokens = presentedTokens(request);
  const claims = context.verifier.cachedAccessTokenClaims(tokens.accessToken);
  if (claims === undefined) return undefined;
  let userInfo: IdTokenClaims | undefined;
  if (tokens.idToken !== undefined) {
    userInfo = context.verifier.cachedIdTokenClaims(tokens.idToken);
    if (userInfo === undefined) return undefined;
  }
  return identityOf(tokens, claims, userInfo);
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
