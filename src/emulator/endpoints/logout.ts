/**
 * `GET /logout`: ends the hosted-UI session and sends the browser to a registered sign-out URL
 * (or, with `redirect_uri`, back to the sign-in page). It does not revoke refresh tokens, as in
 * Cognito; an unregistered URL gets the error page, never a redirect.
 */
import { isRegisteredUrl } from '../config.js';
import { emulatorCookie, optional, redirect, requestCookies } from '../http.js';
import type { UserPool } from '../pool.js';
import { SESSION_COOKIE, errorPage } from './authorize.js';

/** `GET /logout`. */
export function logout(pool: UserPool, request: Request, url: URL): Response {
  const params = url.searchParams;
  const clientId = optional(params, 'client_id');
  const client = clientId === undefined ? undefined : pool.clients.get(clientId);
  const logoutUri = optional(params, 'logout_uri');
  const redirectUri = optional(params, 'redirect_uri');
  const clear = [emulatorCookie(SESSION_COOKIE, '', 0, pool.origin)];
  const endSession = () => {
    pool.state.deleteSession(requestCookies(request)[SESSION_COOKIE]);
  };
  if (!client) return errorPage(pool, "Required String parameter 'client_id' is not present");
  if (logoutUri !== undefined) {
    if (!isRegisteredUrl(logoutUri, client.logoutUrls, client.anyLoopbackPort)) {
      return errorPage(
        pool,
        "Required String parameter 'redirect_uri' is not present",
        client.clientId,
        { name: 'logout_uri', value: logoutUri },
      );
    }
    endSession();
    return redirect(logoutUri, clear);
  }
  if (redirectUri !== undefined) {
    if (!isRegisteredUrl(redirectUri, client.callbackUrls, client.anyLoopbackPort)) {
      return errorPage(pool, 'redirect_mismatch', client.clientId, {
        name: 'redirect_uri',
        value: redirectUri,
      });
    }
    endSession();
    return redirect(`${pool.origin}/login${url.search}`, clear);
  }
  return errorPage(pool, "Required String parameter 'redirect_uri' is not present");
}
