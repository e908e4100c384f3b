/**
 * Small Web-standard helpers every emulator endpoint shares: response builders in Cognito's
 * shapes, strict form parsing, cookies and a constant-time comparison.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { parseCookie, stringifySetCookie } from 'cookie';

import { HTML_HEADERS } from './login-page.js';
import type { IssuedTokens } from './token-issuer.js';

/** Per-request facts the transport knows and a Web `Request` does not. */
export interface RequestInfo {
  /** The peer address; `undefined` (in-process) counts as loopback for the admin endpoints. */
  readonly remoteAddress?: string | undefined;
}

/** An endpoint: a request in, a response out. */
export type Handler = (
  request: Request,
  url: URL,
  info: RequestInfo,
) => Response | Promise<Response>;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** Headers of every token-endpoint answer: never cached, readable by any origin as in Cognito. */
export const TOKEN_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'access-control-allow-origin': '*',
};

/**
 * Compares two secrets in constant time (hashing first, so different lengths do not leak through
 * an early return).
 *
 * @example
 * ```ts
 * safeEqual('csrf-from-the-form', 'csrf-from-the-cookie'); // true only for the same string
 * ```
 */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

/**
 * A JSON response with Cognito's content type.
 *
 * @example
 * ```ts
 * const response = json(400, { error: 'invalid_request' });
 * ```
 */
export function json(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
  });
}

/**
 * Cognito's token-endpoint error: HTTP 400 (even for invalid_client), body `{"error":…}` only.
 *
 * @example
 * ```ts
 * const response = tokenError('invalid_grant');
 * ```
 */
export function tokenError(error: string, status = 400): Response {
  return json(status, { error }, TOKEN_HEADERS);
}

/**
 * The token endpoint's success body: the tokens, plus a refresh token when one was issued.
 *
 * @example
 * ```ts
 * const response = tokenResponse({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600 }, refreshToken);
 * ```
 */
export function tokenResponse(tokens: IssuedTokens, refreshToken: string | undefined): Response {
  return json(
    200,
    {
      access_token: tokens.access_token,
      ...(tokens.id_token !== undefined ? { id_token: tokens.id_token } : {}),
      ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
      token_type: tokens.token_type,
      expires_in: tokens.expires_in,
    },
    TOKEN_HEADERS,
  );
}

/**
 * A 302 that is never cached, optionally setting cookies.
 *
 * @example
 * ```ts
 * const response = redirect('http://localhost:3000/postlogin?code=…', ['cognito_emulator_session=…; Path=/']);
 * ```
 */
export function redirect(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 302, headers });
}

/**
 * An HTML page with the hosted UI's strict headers (CSP, no framing, no caching).
 *
 * @example
 * ```ts
 * import { renderErrorPage } from './login-page.js';
 *
 * const response = html(400, renderErrorPage('redirect_mismatch'));
 * ```
 */
export function html(status: number, body: string, cookies: readonly string[] = []): Response {
  const headers = new Headers(HTML_HEADERS);
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(body, { status, headers });
}

/**
 * 405 with the `Allow` header.
 *
 * @example
 * ```ts
 * const response = methodNotAllowed('GET,POST');
 * ```
 */
export function methodNotAllowed(allow: string): Response {
  return new Response('Method Not Allowed', {
    status: 405,
    headers: { allow, 'content-type': 'text/plain; charset=utf-8' },
  });
}

/**
 * 404 in plain text.
 *
 * @example
 * ```ts
 * const response = notFound();
 * ```
 */
export function notFound(): Response {
  return new Response('Not Found', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}

/**
 * Parses a form body strictly: the form content type, and every parameter at most once (RFC 6749
 * §3.1, §3.2), so a duplicated `code` or `redirect_uri` cannot be read two ways.
 *
 * @returns `undefined` for anything else.
 * @example
 * ```ts
 * const form = await readForm(request);
 * const response = form === undefined ? tokenError('invalid_request') : undefined;
 * ```
 */
export async function readForm(request: Request): Promise<URLSearchParams | undefined> {
  const type = request.headers.get('content-type') ?? '';
  if (type.split(';')[0]?.trim().toLowerCase() !== FORM_TYPE) return undefined;
  const params = new URLSearchParams(await request.text());
  const names = [...params.keys()];
  if (new Set(names).size !== names.length) return undefined;
  return params;
}

/**
 * A parameter, with an empty value treated as absent (as Cognito does).
 *
 * @example
 * ```ts
 * optional(new URL(request.url).searchParams, 'state'); // undefined for `state=`
 * ```
 */
export function optional(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

/**
 * The request's cookies by name.
 *
 * @example
 * ```ts
 * const session = requestCookies(request)[SESSION_COOKIE];
 * ```
 */
export function requestCookies(request: Request): Record<string, string | undefined> {
  return parseCookie(request.headers.get('cookie') ?? '');
}

/**
 * One of the emulator's own cookies: HttpOnly, SameSite=Lax, path `/`, Secure on an https origin.
 *
 * @example
 * ```ts
 * emulatorCookie(SESSION_COOKIE, 'a-session-id', 3600, 'http://localhost:9229');
 * ```
 */
export function emulatorCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  origin: string,
): string {
  return stringifySetCookie(name, value, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: maxAgeSeconds,
    secure: origin.startsWith('https:'),
  });
}

/**
 * True for a string with a JWS's three parts and a JSON header that names an `alg`.
 *
 * @example
 * ```ts
 * isJwtShaped(accessToken); // true; a refresh token (5 parts) is not
 * ```
 */
export function isJwtShaped(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}
