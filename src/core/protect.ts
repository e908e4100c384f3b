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
import { FlowFailure } from './context.js';
import type { CognitoJwtVerifier } from './verify.js';
import {
  AuthorisationRequiredError,
  CognitoGroupRequiredError,
  ConfigurationError,
  ScopeRequiredError,
  TokenExpiredError,
  TokenVerifyError,
} from './errors.js';
import { proceed, type GuardResult, type IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import { unknownKeyProblems } from './options.js';
import type { RefreshSuccess } from './refresh.js';
import { bearerToken, isSpeculativeRequest } from './request-rules.js';
import { SESSION_COOKIE_HEADERS } from './responses.js';
import type { PresentedSession, SessionBackend } from './session.js';
import { requireSameUser, toIdentity } from './tokens.js';

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
  // Requirements do not apply on an optional route, so any group or scope given there would be
  // silently never checked: refuse it rather than let a route look protected that is not.
  if (
    options.optional === true &&
    ((requirement.groups?.length ?? 0) > 0 || (requirement.scopes?.length ?? 0) > 0)
  ) {
    problems.push('an optional route cannot require groups or scopes');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
}

/** Where a protector gets tokens from, how it verifies them, and how it refreshes a session. */
export interface TokenSource {
  readonly verifier: CognitoJwtVerifier;
  /** API mode: only an `Authorization: Bearer` access token counts; no session is read. */
  readonly bearerOnly: boolean;
  /** `AWS_COGNITO_DISABLED`: every request passes without an identity. */
  readonly disabled: boolean;
  /** Where browser sessions live (absent for an API guard). */
  readonly sessions?: SessionBackend | undefined;
  /** Automatic refresh of a session whose access token expired or is about to (absent when off). */
  readonly autoRefresh?: AutoRefresh | undefined;
}

/** What a protector needs to refresh a session by itself. */
export interface AutoRefresh {
  /** Refresh this long before the access token's `exp`. */
  readonly marginMs: number;
  readonly now: () => number;
  /** A ticket for a request that may refresh, taken when its handling starts. */
  ticket(): number;
  /** Refreshes the presented session; throws a `FlowFailure`. */
  run(
    request: IncomingRequest,
    presented: PresentedSession,
    ticket: number,
  ): Promise<RefreshSuccess>;
}

/** An API caller's `Authorization: Bearer` token: a session with nothing to refresh. */
class BearerTokens implements PresentedSession {
  readonly idToken = undefined;
  readonly refreshable = false;
  constructor(readonly accessToken: string) {}
  refresh(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}

/** Refuses a token longer than any Cognito token before anything decodes it. */
function checkLengths(presented: PresentedSession): PresentedSession {
  const { accessToken, idToken } = presented;
  if (
    (accessToken !== undefined && accessToken.length > LIMITS.maxTokenLength) ||
    (idToken !== undefined && idToken.length > LIMITS.maxTokenLength)
  ) {
    throw new TokenVerifyError('token too long');
  }
  return presented;
}

/**
 * Reads the tokens from an `Authorization: Bearer` header or the session, without verifying
 * them: synchronously from cookies, with a promise from a session store. Throws 401 errors for
 * malformed, duplicated or oversized tokens.
 */
function presentedTokens(
  source: TokenSource,
  request: IncomingRequest,
): PresentedSession | Promise<PresentedSession> {
  const fromHeader = bearerToken(request);
  if (fromHeader !== undefined) return checkLengths(new BearerTokens(fromHeader));
  if (source.bearerOnly || source.sessions === undefined) {
    throw new AuthorisationRequiredError('no bearer token');
  }
  const session = source.sessions.read(request);
  return session instanceof Promise ? session.then(checkLengths) : checkLengths(session);
}

function identityOf(
  tokens: PresentedSession,
  accessToken: string,
  accessClaims: AccessTokenClaims,
  idClaims: IdTokenClaims | undefined,
): CognitoIdentity {
  requireSameUser(accessClaims, idClaims);
  return toIdentity(accessClaims, accessToken, idClaims, tokens.idToken);
}

async function verifyTokens(
  source: TokenSource,
  tokens: PresentedSession,
): Promise<CognitoIdentity> {
  const { accessToken } = tokens;
  if (accessToken === undefined || accessToken === '') {
    throw new AuthorisationRequiredError('no access token');
  }
  const accessClaims = await source.verifier.verifyAccessToken(accessToken);
  const idClaims =
    tokens.idToken === undefined ? undefined : await source.verifier.verifyIdToken(tokens.idToken);
  return identityOf(tokens, accessToken, accessClaims, idClaims);
}

/** The identity from the verified-token cache alone; `undefined` when a token is not cached. */
function cachedIdentity(
  source: TokenSource,
  tokens: PresentedSession,
): CognitoIdentity | undefined {
  const { accessToken } = tokens;
  if (accessToken === undefined || accessToken === '') {
    throw new AuthorisationRequiredError('no access token');
  }
  const accessClaims = source.verifier.cachedAccessTokenClaims(accessToken);
  if (accessClaims === undefined) return undefined;
  let idClaims: IdTokenClaims | undefined;
  if (tokens.idToken !== undefined) {
    idClaims = source.verifier.cachedIdTokenClaims(tokens.idToken);
    if (idClaims === undefined) return undefined;
  }
  return identityOf(tokens, accessToken, accessClaims, idClaims);
}

/**
 * Verifies the request's tokens. Throws {@link AuthorisationRequiredError} (401) when there is
 * no token, {@link TokenVerifyError} (401) when one fails, and `CognitoError` (502–504) when the
 * keys cannot be had. Never refreshes.
 */
export async function authenticate(
  source: TokenSource,
  request: IncomingRequest,
): Promise<CognitoIdentity> {
  return verifyTokens(source, await presentedTokens(source, request));
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
    const held = identity.groups;
    const ok =
      requirement.anyGroup === true
        ? groups.some((g) => held.includes(g))
        : groups.every((g) => held.includes(g));
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
 * Builds a route's protector. `refuse` turns an error (and the cookies to set with it) into the
 * refusal to send (401/403, a redirect to login, a 5xx).
 */
export function createProtector(
  source: TokenSource,
  requirement: Requirement,
  options: ProtectOptions,
  refuse: (error: unknown, request: IncomingRequest, setCookies: readonly string[]) => GuardResult,
): Protector {
  const optional = options.optional === true;
  const anonymous = proceed(undefined);
  const { autoRefresh } = source;

  const settle = (
    error: unknown,
    request: IncomingRequest,
    setCookies: readonly string[] = [],
  ): GuardResult => {
    if (!optional) return refuse(error, request, setCookies);
    return setCookies.length === 0
      ? anonymous
      : { action: 'continue', identity: undefined, headers: SESSION_COOKIE_HEADERS, setCookies };
  };
  const allow = (identity: CognitoIdentity, setCookies: readonly string[] = []): GuardResult => {
    if (!optional) authorize(identity, requirement);
    return setCookies.length === 0
      ? proceed(identity)
      : { action: 'continue', identity, headers: SESSION_COOKIE_HEADERS, setCookies };
  };
  /** Whether a session may be refreshed now: it can be, and this is not a speculative load. */
  const mayRefresh = (tokens: PresentedSession, request: IncomingRequest): boolean =>
    autoRefresh !== undefined && tokens.refreshable && !isSpeculativeRequest(request);
  const expiresSoon = (identity: CognitoIdentity): boolean => {
    if (autoRefresh === undefined) return false;
    const { exp, iat } = identity.claims;
    // At most half the token's lifetime: a margin as long as the lifetime (300 s of margin on
    // Cognito's shortest, 5-minute tokens) would refresh on every request.
    const marginMs = Math.min(autoRefresh.marginMs, ((exp - iat) * 1000) / 2);
    return exp * 1000 - autoRefresh.now() <= marginMs;
  };

  const verify = async (
    request: IncomingRequest,
    pending: PresentedSession | Promise<PresentedSession>,
  ): Promise<GuardResult> => {
    // Taken before anything is awaited: this request started now, whenever it gets to refresh.
    const ticket = autoRefresh?.ticket() ?? 0;
    let tokens: PresentedSession;
    try {
      tokens = await pending;
    } catch (error) {
      return settle(error, request);
    }
    let identity: CognitoIdentity | undefined;
    let failure: unknown;
    try {
      identity = await verifyTokens(source, tokens);
    } catch (error) {
      failure = error;
    }
    const refreshable =
      identity === undefined
        ? failure instanceof TokenExpiredError ||
          (failure instanceof AuthorisationRequiredError && !(failure instanceof TokenVerifyError))
        : expiresSoon(identity);
    if (autoRefresh !== undefined && refreshable && mayRefresh(tokens, request)) {
      try {
        const refreshed = await autoRefresh.run(request, tokens, ticket);
        return allow(refreshed.identity, refreshed.setCookies);
      } catch (error) {
        const refusal = error instanceof FlowFailure ? error : undefined;
        // Cognito unavailable while the current token still works: serve with it.
        if (identity !== undefined && refusal !== undefined && refusal.error.status >= 500) {
          return tryAllow(identity, request);
        }
        return settle(refusal?.error ?? error, request, refusal?.setCookies ?? []);
      }
    }
    if (identity === undefined) {
      // A session cookie whose session is gone (ended on another instance) is cleared with the
      // refusal, so the browser stops sending it.
      const clear = tokens.orphaned === true ? (source.sessions?.clear(request) ?? []) : [];
      return settle(failure, request, clear);
    }
    return tryAllow(identity, request);
  };
  const tryAllow = (identity: CognitoIdentity, request: IncomingRequest): GuardResult => {
    try {
      return allow(identity);
    } catch (error) {
      return settle(error, request);
    }
  };

  if (source.disabled) return () => anonymous;
  return (request) => {
    try {
      const tokens = presentedTokens(source, request);
      // A session store answers with a promise; cookies and bearer tokens synchronously.
      if (tokens instanceof Promise) return verify(request, tokens);
      // No access token (its cookie's Max-Age ran out before the token did: 30 minutes by
      // default, against Cognito's hour) but a refresh token: refreshing keeps the user signed in.
      const noAccessToken = tokens.accessToken === undefined || tokens.accessToken === '';
      if (noAccessToken && mayRefresh(tokens, request)) return verify(request, tokens);
      const identity = cachedIdentity(source, tokens);
      if (identity === undefined) return verify(request, tokens);
      if (expiresSoon(identity) && mayRefresh(tokens, request)) return verify(request, tokens);
      return allow(identity);
    } catch (error) {
      return settle(error, request);
    }
  };
}
