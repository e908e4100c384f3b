/**
 * The hosted UI: the sign-in form at `/login` (GET shows it, POST checks the credentials and
 * starts the 1-hour session) and Cognito's `/error` page. The form is protected by a
 * double-submit CSRF token, and a wrong username and a wrong password get the same answer.
 */
import { randomBytes } from 'node:crypto';

import { emulatorCookie, html, readForm, requestCookies, safeEqual } from '../http.js';
import { renderErrorPage, renderLoginPage, renderNewPasswordPage } from '../login-page.js';
import type { UserPool } from '../pool.js';
import { passwordProblem } from '../api/common.js';
import { SESSION_COOKIE, codeRedirect, validateAuthorize } from './authorize.js';
import type { AuthorizeRequest } from './authorize.js';

/** Cookie holding the login form's CSRF token (double-submit). */
export const CSRF_COOKIE = 'cognito_emulator_csrf';

const CSRF_RE = /^[A-Za-z0-9_-]{43}$/;

function csrfTokenOf(request: Request): string {
  const existing = requestCookies(request)[CSRF_COOKIE];
  return existing && CSRF_RE.test(existing) ? existing : randomBytes(32).toString('base64url');
}

function loginForm(
  pool: UserPool,
  request: Request,
  url: URL,
  status: number,
  username: string | undefined,
  error: string | undefined,
): Response {
  const csrf = csrfTokenOf(request);
  return html(
    status,
    renderLoginPage({
      action: `/login${url.search}`,
      csrfToken: csrf,
      username,
      error,
      poolId: pool.poolId,
    }),
    [emulatorCookie(CSRF_COOKIE, csrf, 3600, pool.origin)],
  );
}

/** `GET /login`: the sign-in form, for the same parameters `/oauth2/authorize` accepts. */
export function loginGet(pool: UserPool, request: Request, url: URL): Response {
  const validated = validateAuthorize(pool, url.searchParams);
  if (!validated.ok) return validated.response;
  return loginForm(pool, request, url, 200, validated.request.loginHint, undefined);
}

/** `POST /login`: checks CSRF and credentials, starts the session, redirects with a code. */
export async function loginPost(pool: UserPool, request: Request, url: URL): Promise<Response> {
  const validated = validateAuthorize(pool, url.searchParams);
  if (!validated.ok) return validated.response;
  const form = await readForm(request);
  if (!form) return html(400, renderErrorPage('The sign-in form must be posted as a form.'));
  const username = form.get('username') ?? '';
  const csrfCookie = requestCookies(request)[CSRF_COOKIE];
  const csrfField = form.get('_csrf');
  if (!csrfCookie || !csrfField || !safeEqual(csrfCookie, csrfField)) {
    return loginForm(
      pool,
      request,
      url,
      403,
      username,
      'Your sign-in form expired. Please try again.',
    );
  }
  const challengeId = form.get('_challenge');
  if (challengeId !== null) return newPassword(pool, request, url, validated.request, form);
  const user = pool.checkPassword(username, form.get('password') ?? '');
  if (!user) {
    return loginForm(pool, request, url, 400, username, 'Incorrect username or password.');
  }
  if (!user.enabled) return loginForm(pool, request, url, 400, username, 'User is disabled.');
  if (user.status === 'UNCONFIRMED') {
    return loginForm(pool, request, url, 400, username, 'User is not confirmed.');
  }
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    return newPasswordForm(pool, request, url, validated.request, user.username, 200, undefined);
  }
  return signedIn(pool, validated.request, user.username);
}

/** Starts the 1-hour session and redirects to the app with a code. */
function signedIn(pool: UserPool, authorizeRequest: AuthorizeRequest, username: string): Response {
  const authTime = pool.nowSeconds();
  const sessionId = pool.state.createSession(username, authTime);
  return codeRedirect(pool, authorizeRequest, username, authTime, [
    emulatorCookie(SESSION_COOKIE, sessionId, 3600, pool.origin),
  ]);
}

/** The change-password step, bound to a fresh 3-minute challenge for this user and client. */
function newPasswordForm(
  pool: UserPool,
  request: Request,
  url: URL,
  authorizeRequest: AuthorizeRequest,
  username: string,
  status: number,
  error: string | undefined,
): Response {
  const csrf = csrfTokenOf(request);
  const challenge = pool.state.createChallenge({
    name: 'NEW_PASSWORD_REQUIRED',
    clientId: authorizeRequest.client.clientId,
    username,
  });
  return html(
    status,
    renderNewPasswordPage({
      action: `/login${url.search}`,
      csrfToken: csrf,
      challenge,
      username,
      error,
      poolId: pool.poolId,
    }),
    [emulatorCookie(CSRF_COOKIE, csrf, 3600, pool.origin)],
  );
}

/** POST of the change-password step: a live challenge of this client, a password that passes the policy. */
function newPassword(
  pool: UserPool,
  request: Request,
  url: URL,
  authorizeRequest: AuthorizeRequest,
  form: URLSearchParams,
): Response {
  const challenge = pool.state.takeChallenge(form.get('_challenge') ?? undefined);
  const user = challenge ? pool.users.get(challenge.username) : undefined;
  if (
    challenge?.name !== 'NEW_PASSWORD_REQUIRED' ||
    challenge.clientId !== authorizeRequest.client.clientId ||
    user?.status !== 'FORCE_CHANGE_PASSWORD'
  ) {
    return loginForm(
      pool,
      request,
      url,
      400,
      undefined,
      'Your session expired. Please sign in again.',
    );
  }
  const password = form.get('new_password') ?? '';
  const problem = passwordProblem(password);
  if (problem !== undefined) {
    return newPasswordForm(pool, request, url, authorizeRequest, user.username, 400, problem);
  }
  pool.updateUser(user.username, { password, status: 'CONFIRMED' });
  return signedIn(pool, authorizeRequest, user.username);
}

/**
 * `GET /error`: Cognito's error page, with the (escaped) message from the query. When a callback
 * or sign-out URL was refused, it also names that URL and the ones the client registers, which
 * Cognito does not do: the usual cause is a port or a trailing slash, and seeing both side by
 * side ends the search.
 */
export function errorPageGet(pool: UserPool, url: URL): Response {
  const params = url.searchParams;
  const message = params.get('error') ?? 'An error occurred.';
  const clientId = params.get('client_id');
  const client = clientId === null ? undefined : pool.clients.get(clientId);
  const refusedRedirect = params.get('redirect_uri');
  const refusedLogout = params.get('logout_uri');
  if (client && (refusedRedirect !== null || refusedLogout !== null)) {
    const callback = refusedRedirect !== null;
    return html(
      400,
      renderErrorPage(message, {
        parameter: callback ? 'redirect_uri' : 'logout_uri',
        refused: (callback ? refusedRedirect : refusedLogout) ?? '',
        clientId: client.clientId,
        kind: callback ? 'callback' : 'sign-out',
        registered: callback ? client.callbackUrls : client.logoutUrls,
        anyLoopbackPort: client.anyLoopbackPort,
      }),
    );
  }
  return html(400, renderErrorPage(message));
}
