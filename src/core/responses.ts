/**
 * Turning outcomes into responses: errors with fixed, safe messages (never a token, a code, a
 * stack or Cognito's `error_description`), RFC 6750 challenges on 401/403, redirects that leak no
 * Referer, and the small HTML pages the flows need — which no other site may frame.
 *
 * @module
 */
import { CognitoGuardError } from './errors.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';

/** Escapes text for HTML element and attribute content. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers on every response the guard itself sends: nothing cached, no Referer leaked. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * Headers of a protected route's answer that continues to the app's handler and sets session
 * cookies (a refreshed session): never cached.
 */
export const SESSION_COOKIE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
});

/**
 * Headers of a callback's or refresh's answer that continues to the app's handler with session
 * cookies: never cached, and the callback URL's code never leaks in a Referer.
 */
export const SESSION_FLOW_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
});

/**
 * Headers of every HTML page the guard serves: no other site may frame it (a framed "Sign out"
 * button is a clickjacking target), and it may load nothing. (No `form-action`: Chromium applies it
 * to the redirect that follows a form POST, and the sign-out form ends on Cognito's site.)
 */
const HTML_HEADERS = {
  ...SECURITY_HEADERS,
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
} as const;

/** Whether the request accepts HTML (a browser navigating), rather than being an API call. */
export function wantsHtml(request: IncomingRequest): boolean {
  const accept = request.header('accept') ?? '';
  return accept.includes('text/html');
}

/** A minimal self-contained HTML page (no external assets). */
export function htmlPage(title: string, bodyHtml: string, headHtml = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${headHtml}<title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`;
}

/** An HTML response with the security headers. */
export function htmlResponse(
  status: number,
  html: string,
  setCookies: readonly string[] = [],
): OutgoingResponse {
  return { status, headers: HTML_HEADERS, setCookies, body: html };
}

/** A redirect that forbids caching and leaks no Referer (the callback URL carries a code). */
export function redirectResponse(
  location: string,
  setCookies: readonly string[] = [],
  status = 302,
): OutgoingResponse {
  return { status, headers: { ...SECURITY_HEADERS, location }, setCookies };
}

/**
 * A page that continues to `location` by itself (and offers a link), where a redirect would not
 * do:
 * - it ends a sign-in when the session cookies are `SameSite=Strict`: the redirect chain that
 *   began on Cognito's site is cross-site, so a plain redirect would arrive without the cookies
 *   just set, while this page's navigation starts on our own site and carries them;
 * - it ends a sign-out form POST: a page with `form-action 'self'` in its Content-Security-Policy
 *   (helmet's default) may not be redirected to Cognito's site, but may load this same-origin page.
 */
export function continuationResponse(
  location: string,
  setCookies: readonly string[],
  title = 'Signed in',
): OutgoingResponse {
  const target = escapeHtml(location);
  return htmlResponse(
    200,
    htmlPage(
      title,
      `<p><a href="${target}">Continue</a></p>`,
      `<meta http-equiv="refresh" content="0;url=${target}">`,
    ),
    setCookies,
  );
}

/** The title of an error page, by status. */
function errorTitle(status: number): string {
  switch (status) {
    case 400:
      return 'Sign-in failed';
    case 401:
      return 'Sign-in required';
    case 403:
      return 'Access denied';
    case 404:
      return 'Not found';
    default:
      return status >= 500 ? 'Service unavailable' : 'Request refused';
  }
}

/**
 * The response for an error. Known errors keep their status and fixed message; anything else
 * becomes a 502 with a generic message (it can only come from a failure talking upstream, and
 * must never surface as a 500 or leak its text).
 *
 * @param loginPath - linked from the "sign in again" page of callback errors; `undefined` for an
 *   API, which always answers JSON.
 */
export function errorResponse(
  error: unknown,
  request: IncomingRequest,
  loginPath: string | undefined,
  setCookies: readonly string[] = [],
): OutgoingResponse {
  const known = error instanceof CognitoGuardError && error.code !== 'ERR_CONFIGURATION';
  const status = known ? error.status : 502;
  const code = known ? error.code : 'ERR_COGNITO_BAD_RESPONSE';
  const message = known
    ? error.message
    : 'The sign-in service is unavailable. Please try again shortly.';
  const headers: Record<string, string> = {};
  if (status === 401) {
    headers['www-authenticate'] =
      code === 'ERR_TOKEN_INVALID'
        ? 'Bearer realm="cognito-guard", error="invalid_token"'
        : 'Bearer realm="cognito-guard"';
  } else if (code === 'ERR_SCOPE_REQUIRED') {
    headers['www-authenticate'] = 'Bearer realm="cognito-guard", error="insufficient_scope"';
  }
  if (status === 503 && code !== 'ERR_SPECULATIVE_REQUEST') headers['retry-after'] = '5';
  if (loginPath !== undefined && wantsHtml(request)) {
    const restart =
      status === 400 || status === 401
        ? `<p><a href="${escapeHtml(loginPath)}">Sign in again</a></p>`
        : '';
    return {
      status,
      headers: { ...HTML_HEADERS, ...headers },
      setCookies,
      body: htmlPage(errorTitle(status), `<p>${escapeHtml(message)}</p>${restart}`),
    };
  }
  return {
    status,
    headers: {
      ...SECURITY_HEADERS,
      ...headers,
      'content-type': 'application/json; charset=utf-8',
    },
    setCookies,
    body: JSON.stringify({ error: code, message }),
  };
}
