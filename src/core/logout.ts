/**
 * Logout: clears every cookie cognito-guard set (same Path/Domain), revokes the refresh token
 * without ever letting a revoke failure block the logout, then redirects to Cognito's
 * `/logout?client_id&logout_uri` so the hosted-UI session ends too (B53).
 *
 * A logout that a browser says came from another site gets a confirmation page instead (B52):
 * nobody can be signed out by a cross-site link or image.
 *
 * @module
 */
import { deleteCookie, parseCookies, COOKIE_NAMES } from './cookies.js';
import {
  deleteTokenCookies,
  isCrossSiteRequest,
  resolveUrl,
  transactionCookieAttributes,
  type GuardContext,
} from './context.js';
import { CognitoGuardError, CrossSiteRequestError } from './errors.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';
import { escapeHtml, htmlPage, htmlResponse, redirectResponse } from './responses.js';
import { readRefreshCookie } from './session.js';
import { isTransactionCookieName } from './transaction.js';

/** The Cognito logout URL for this request (every value URL-encoded). */
export function cognitoLogoutUrl(context: GuardContext, request: IncomingRequest): string {
  const url = new URL(context.options.endpoints.logout);
  url.searchParams.set('client_id', context.options.clientId);
  url.searchParams.set('logout_uri', resolveUrl(context.options.logoutUrl, request));
  return url.toString();
}

function pathOf(request: IncomingRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

/** Handles `GET|POST /logout`. */
export async function logout(
  context: GuardContext,
  request: IncomingRequest,
): Promise<OutgoingResponse> {
  const { options } = context;
  if (isCrossSiteRequest(options, request)) {
    // A cross-site POST is a forged form submission, not a link the user followed (B52).
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new CrossSiteRequestError('cross-site logout refused');
    }
    // Confirmation page: a same-origin POST (checked by Origin) completes the logout.
    return htmlResponse(
      200,
      htmlPage(
        'Sign out?',
        `<form method="post" action="${escapeHtml(pathOf(request))}"><button type="submit">Sign out</button></form>`,
      ),
    );
  }
  const cookies = parseCookies(request.header('cookie'));
  const stored = await readRefreshCookie(context, cookies.values[COOKIE_NAMES.refreshToken]);
  if (stored !== undefined) {
    try {
      await context.tokenClient.revoke(stored.refreshToken);
    } catch (error) {
      // The user is leaving either way; tell the operator, not the user.
      options.logger.warn('refresh token revocation failed; continuing logout', {
        code: error instanceof CognitoGuardError ? error.code : 'unknown',
        detail: error instanceof CognitoGuardError ? error.detail : undefined,
      });
    }
  }
  const setCookies = deleteTokenCookies(options);
  const transactionAttributes = transactionCookieAttributes(options);
  for (const name of Object.keys(cookies.values).filter(isTransactionCookieName)) {
    setCookies.push(deleteCookie(name, transactionAttributes));
  }
  return redirectResponse(cognitoLogoutUrl(context, request), setCookies);
}
