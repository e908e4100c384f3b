/**
 * What a browser's request headers tell us, read the way real browsers send them:
 *
 * - where a request came from (`Sec-Fetch-Site`, then `Origin`), for the state-changing routes;
 * - whether it is a speculative load (prefetch, prerender, link preview) that must not change a
 *   session;
 * - whether an `Authorization` header is ours (only the `Bearer` scheme is).
 *
 * @module
 */
import { TokenVerifyError } from './errors.js';
import type { IncomingRequest } from './http.js';

/**
 * True when the browser says the request came from another site.
 *
 * `Sec-Fetch-Site` decides when present: only `same-origin` and `none` (the user typed the URL or
 * used a bookmark) pass. `Origin` is consulted only when `Sec-Fetch-Site` is absent (older
 * browsers), because Chromium sends `Origin: null` for a same-origin form POST from a page served
 * with `Referrer-Policy: no-referrer` (helmet's default), and refusing that would lock users out
 * of their own sign-out button. Requests with neither header come from non-browser clients, which
 * cannot be tricked into sending a cross-site request, and pass.
 *
 * @param ourOrigin - the app's own origin (from its configured redirect URL, never from `Host`).
 * @example
 * ```ts
 * const refused = isCrossSiteRequest(request, 'https://app.example.com'); // then answer 403
 * ```
 */
export function isCrossSiteRequest(
  request: IncomingRequest,
  ourOrigin: string | undefined,
): boolean {
  const site = request.header('sec-fetch-site');
  if (site !== undefined) {
    const value = site.trim().toLowerCase();
    return value !== 'same-origin' && value !== 'none';
  }
  const origin = request.header('origin');
  return origin !== undefined && origin !== ourOrigin;
}

/**
 * True for a speculative load: a prefetch or prerender (`Sec-Purpose`, `Purpose`), Safari's link
 * preview (`X-Purpose: preview`) or Firefox's prefetch (`X-Moz: prefetch`). Such a request must
 * not sign anyone in or out: the user never asked for it, and may never see its response.
 *
 * @example
 * ```ts
 * isSpeculativeRequest({ method: 'GET', url: '/logout', header: (n) => (n === 'sec-purpose' ? 'prefetch' : undefined) }); // true
 * ```
 */
export function isSpeculativeRequest(request: IncomingRequest): boolean {
  const secPurpose = request.header('sec-purpose');
  if (secPurpose !== undefined && /\b(prefetch|prerender)\b/i.test(secPurpose)) return true;
  const purpose = request.header('purpose');
  if (purpose !== undefined && /\b(prefetch|prerender)\b/i.test(purpose)) return true;
  const xPurpose = request.header('x-purpose');
  if (xPurpose !== undefined && /\b(preview|prefetch)\b/i.test(xPurpose)) return true;
  const xMoz = request.header('x-moz');
  return xMoz !== undefined && /\bprefetch\b/i.test(xMoz);
}

/** RFC 6750 §2.1: `Bearer` followed by a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The access token of an `Authorization: Bearer` header, or `undefined` when there is no such
 * header or it uses another scheme (HTTP Basic on a staging site belongs to the proxy in front,
 * not to us, and must not hide the cookie session).
 *
 * @throws {TokenVerifyError} when the scheme is `Bearer` but the token is malformed (401).
 * @example
 * ```ts
 * bearerToken({ method: 'GET', url: '/', header: () => 'Basic dXNlcjpwYXNz' }); // undefined
 * ```
 */
export function bearerToken(request: IncomingRequest): string | undefined {
  const header = request.header('authorization');
  if (header === undefined) return undefined;
  if (!/^\s*bearer(\s|$)/i.test(header)) return undefined;
  const match = BEARER.exec(header.trim());
  if (match?.[1] === undefined) throw new TokenVerifyError('malformed Authorization header');
  return match[1];
}
