/**
 * Turning outcomes into responses: errors with fixed, safe messages (never a token, a code, a
 * stack or Cognito's `error_description`, cases B13/B64), RFC 6750 challenges on 401/403, and the
 * small HTML pages the flows need.
 *
 * @module
 */
import { CognitoGuardError } from './errors.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';

/** Escapes text for HTML element and attribute content. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

function wantsHtml(request: IncomingRequest): boolean {
  const accept = request.header('accept') ?? '';
  return accept.includes('text/html');
}

/** A minimal self-contained HTML page (no external assets). */
export function htmlPage(title: string, bodyHtml: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`;
}

/** An HTML response with the security headers. */
export function htmlResponse(
  status: number,
  html: string,
  setCookies: string[] = [],
): OutgoingResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' },
    setCookies,
    body: html,
  };
}

/** A redirect that forbids caching and leaks no Referer (the callback URL carries a code, B14). */
export function redirectResponse(
  location: string,
  setCookies: string[] = [],
  status = 302,
): OutgoingResponse {
  return { status, headers: { ...SECURITY_HEADERS, location }, setCookies };
}

/**
 * The response for an error. Known errors keep their status and fixed message; anything else
 * becomes a 502 with a generic message (it can only come from a failure talking upstream, and
 * must never surface as a 500 or leak its text).
 *
 * @param loginPath - linked from the "sign in again" page of callback errors.
 */
export function errorResponse(
  error: unknown,
  request: IncomingRequest,
  loginPath: string,
  setCookies: string[] = [],
): OutgoingResponse {
  const known = error instanceof CognitoGuardError && error.code !== 'ERR_CONFIGURATION';
  const status = known ? error.status : 502;
  const code = known ? error.code : 'ERR_COGNITO_BAD_RESPONSE';
  const message = known
    ? error.message
    : 'The sign-in service is unavailable. Please try again shortly.';
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  if (status === 401) {
    headers['www-authenticate'] =
      code === 'ERR_TOKEN_INVALID'
        ? 'Bearer realm="cognito-guard", error="invalid_token"'
        : 'Bearer realm="cognito-guard"';
  } else if (code === 'ERR_SCOPE_REQUIRED') {
    headers['www-authenticate'] = 'Bearer realm="cognito-guard", error="insufficient_scope"';
  }
  if (status === 503) headers['retry-after'] = '5';
  if (wantsHtml(request)) {
    const restart =
      status === 400 || status === 401
        ? `<p><a href="${escapeHtml(loginPath)}">Sign in again</a></p>`
        : '';
    return {
      status,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8' },
      setCookies,
      body: htmlPage(
        status === 400 ? 'Sign-in failed' : 'Access denied',
        `<p>${escapeHtml(message)}</p>${restart}`,
      ),
    };
  }
  return {
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    setCookies,
    body: JSON.stringify({ error: code, message }),
  };
}
