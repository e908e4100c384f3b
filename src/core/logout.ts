/**
 * Logout: ends the session where it lives (clears the cookies; deletes a stored session), revokes
 * every refresh token it held without ever letting a revoke failure block the logout, then sends
 * the browser to Cognito's `/logout?client_id&logout_uri` so the hosted-UI session ends too (a
 * redirect for a link, a page that continues there for a form POST).
 *
 * - A logout that a browser says came from another site gets a confirmation page instead:
 *   nobody can be signed out by a cross-site link or image, and a cross-site form POST is refused.
 * - A speculative load (prefetch, prerender) is declined with no side effect, so hovering over a
 *   "Sign out" link does not sign the user out.
 * - Every refresh token presented is revoked: a sibling subdomain can plant a second
 *   `cognito_refresh_token` (with `Path=/logout` so that it is sent first), and revoking only the
 *   first would leave the user's own token alive at Cognito.
 * - Sign-out everywhere also calls Cognito's `GlobalSignOut` (every refresh token of the user
 *   stops working) and, with a session store, deletes every stored session of the user at once.
 *
 * @module
 */
import { deleteCookie, parseCookies } from './cookies.js';
import {
  appOrigin,
  FlowFailure,
  resolveUrl,
  transactionCookieAttributes,
  type GuardContext,
} from './context.js';
import {
  AuthorisationRequiredError,
  CognitoGuardError,
  CrossSiteRequestError,
  ScopeRequiredError,
  SpeculativeRequestError,
  TokenExpiredError,
} from './errors.js';
import { requestPath, type IncomingRequest, type OutgoingResponse } from './http.js';
import { refreshSession } from './refresh.js';
import { isCrossSiteRequest, isSpeculativeRequest } from './request-rules.js';
import {
  continuationResponse,
  escapeHtml,
  htmlPage,
  htmlResponse,
  redirectResponse,
} from './responses.js';
import { isTransactionCookieName } from './transaction.js';

/**
 * Per-route logout options.
 *
 * @example
 * ```ts
 * const options: LogoutOptions = { everywhere: true };
 * ```
 */
export interface LogoutOptions {
  /**
   * Sign the user out of every device: Cognito's `GlobalSignOut` (the access token needs the
   * `aws.cognito.signin.user.admin` scope) and, with a session store, every stored session of the
   * user at once. Cookie sessions in other browsers end at their next refresh.
   */
  readonly everywhere?: boolean | undefined;
}

/** The scope Cognito requires of the access token for `GlobalSignOut`. */
const USER_ADMIN_SCOPE = 'aws.cognito.signin.user.admin';

/** The Cognito logout URL for this request (every value URL-encoded). */
export function cognitoLogoutUrl(context: GuardContext, request: IncomingRequest): string {
  const url = new URL(context.options.endpoints.logout);
  url.searchParams.set('client_id', context.options.clientId);
  url.searchParams.set('logout_uri', resolveUrl(context.options.logoutUrl, request));
  return url.toString();
}

/** The page asking a user who followed a cross-site link whether to sign out. */
function confirmationPage(request: IncomingRequest): OutgoingResponse {
  // The form posts to this route's path only: the raw request-target may be in absolute form
  // (`http://evil.example/logout`), which must not become the form's action.
  return htmlResponse(
    200,
    htmlPage(
      'Sign out?',
      `<form method="post" action="${escapeHtml(requestPath(request))}"><button type="submit">Sign out</button></form>`,
    ),
  );
}

/** Revokes refresh tokens; failures are logged, never thrown (the user is leaving either way). */
async function revokeAll(context: GuardContext, refreshTokens: readonly string[]): Promise<void> {
  await Promise.all(
    [...new Set(refreshTokens)].map(async (token) => {
      try {
        await context.tokenClient.revoke(token);
      } catch (error) {
        context.options.logger.warn('refresh token revocation failed; continuing logout', {
          code: error instanceof CognitoGuardError ? error.code : 'unknown',
          detail: error instanceof CognitoGuardError ? error.detail : undefined,
        });
      }
    }),
  );
}

/**
 * Signs the request's user out of every device at Cognito, refreshing first when the access
 * token has expired; returns the user's `sub`. Nothing changes when this fails.
 */
async function signOutEverywhere(context: GuardContext, request: IncomingRequest): Promise<string> {
  const ticket = context.recentRefreshes.ticket();
  const presented = await context.sessions.read(request);
  let accessToken = presented.accessToken;
  if (accessToken === undefined && !presented.refreshable) {
    throw new AuthorisationRequiredError('sign-out everywhere needs a signed-in session');
  }
  let claims;
  try {
    if (accessToken === undefined) throw new TokenExpiredError();
    claims = await context.verifier.verifyAccessToken(accessToken);
  } catch (error) {
    if (!(error instanceof TokenExpiredError) || !presented.refreshable) throw error;
    const refreshed = await refreshSession(context, request, presented, ticket).catch(
      (failure: unknown) => {
        throw failure instanceof FlowFailure ? failure.error : failure;
      },
    );
    accessToken = refreshed.identity.accessToken;
    claims = refreshed.identity.claims;
  }
  if (!(claims.scope ?? '').split(' ').includes(USER_ADMIN_SCOPE)) {
    throw new ScopeRequiredError(
      `sign-out everywhere needs the ${USER_ADMIN_SCOPE} scope (add it to AWS_COGNITO_SCOPES)`,
    );
  }
  await context.tokenClient.globalSignOut(accessToken);
  return claims.sub;
}

/** Handles `GET|POST /logout` (and `/logout/everywhere` with `everywhere`). */
export async function logout(
  context: GuardContext,
  request: IncomingRequest,
  options: LogoutOptions = {},
): Promise<OutgoingResponse> {
  const { options: config } = context;
  if (isSpeculativeRequest(request)) throw new SpeculativeRequestError();
  if (isCrossSiteRequest(request, appOrigin(config, request))) {
    // A cross-site POST is a forged form submission, not a link the user followed.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new CrossSiteRequestError('cross-site logout refused');
    }
    return confirmationPage(request);
  }
  // HEAD is a safe method (link checkers send it); it must not sign anyone out.
  if (request.method === 'HEAD') return confirmationPage(request);

  const revoked: string[] = [];
  if (options.everywhere === true) {
    const subject = await signOutEverywhere(context, request);
    revoked.push(...(await context.sessions.endAllOf(subject)));
  }
  const ended = await context.sessions.end(request);
  await revokeAll(context, [...revoked, ...ended.refreshTokens]);
  const setCookies = [...ended.setCookies];
  const transactionAttributes = transactionCookieAttributes(config);
  for (const name of Object.keys(parseCookies(request.header('cookie')).values).filter(
    isTransactionCookieName,
  )) {
    setCookies.push(deleteCookie(name, transactionAttributes));
  }
  const signOutOfCognito = cognitoLogoutUrl(context, request);
  // A form POST may not be redirected to another site under `form-action 'self'` (helmet's
  // default CSP): answer with a page of our own that continues there.
  return request.method === 'POST'
    ? continuationResponse(signOutOfCognito, setCookies, 'Signing out')
    : redirectResponse(signOutOfCognito, setCookies);
}
