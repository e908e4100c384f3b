/**
 * Logout: revokes the refresh token without ever letting a revoke failure block the logout,
 * clears every cookie cognito-guard set (same Path/Domain), then sends the browser to Cognito's
 * `/logout?client_id&logout_uri` so the hosted-UI session ends too (a redirect for a link, a page
 * that continues there for a form POST).
 *
 * - A logout that a browser says came from another site gets a confirmation page instead:
 *   nobody can be signed out by a cross-site link or image, and a cross-site form POST is refused.
 * - A speculative load (prefetch, prerender) is declined with no side effect, so hovering over a
 *   "Sign out" link does not sign the user out.
 * - Every refresh token presented is revoked: a sibling subdomain can plant a second
 *   `cognito_refresh_token` (with `Path=/logout` so that it is sent first), and revoking only the
 *   first would leave the user's own token alive at Cognito.
 *
 * @module
 */
import { COOKIE_NAMES, cookieValues, deleteCookie, parseCookies } from './cookies.js';
import {
  appOrigin,
  deleteTokenCookies,
  resolveUrl,
  transactionCookieAttributes,
  type GuardContext,
} from './context.js';
import { CognitoGuardError, CrossSiteRequestError, SpeculativeRequestError } from './errors.js';
import { requestPath, type IncomingRequest, type OutgoingResponse } from './http.js';
import { isCrossSiteRequest, isSpeculativeRequest } from './request-rules.js';
import {
  continuationResponse,
  escapeHtml,
  htmlPage,
  htmlResponse,
  redirectResponse,
} from './responses.js';
import { readRefreshCookie } from './session.js';
import { isTransactionCookieName } from './transaction.js';

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

/** Revokes every readable refresh token of the request; failures are logged, never thrown. */
async function revokeAll(context: GuardContext, request: IncomingRequest): Promise<void> {
  const presented = cookieValues(request.header('cookie'), COOKIE_NAMES.refreshToken);
  const stored = await Promise.all(presented.map((value) => readRefreshCookie(context, value)));
  const tokens = new Set(stored.flatMap((s) => (s === undefined ? [] : [s.refreshToken])));
  await Promise.all(
    [...tokens].map(async (token) => {
      try {
        await context.tokenClient.revoke(token);
      } catch (error) {
        // The user is leaving either way; tell the operator, not the user.
        context.options.logger.warn('refresh token revocation failed; continuing logout', {
          code: error instanceof CognitoGuardError ? error.code : 'unknown',
          detail: error instanceof CognitoGuardError ? error.detail : undefined,
        });
      }
    }),
  );
}

/** Handles `GET|POST /logout`. */
export async function logout(
  context: GuardContext,
  request: IncomingRequest,
): Promise<OutgoingResponse> {
  const { options } = context;
  if (isSpeculativeRequest(request)) throw new SpeculativeRequestError();
  if (isCrossSiteRequest(request, appOrigin(options, request))) {
    // A cross-site POST is a forged form submission, not a link the user followed.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new CrossSiteRequestError('cross-site logout refused');
    }
    return confirmationPage(request);
  }
  // HEAD is a safe method (link checkers send it); it must not sign anyone out.
  if (request.method === 'HEAD') return confirmationPage(request);
  await revokeAll(context, request);
  const setCookies = deleteTokenCookies(options);
  const transactionAttributes = transactionCookieAttributes(options);
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
