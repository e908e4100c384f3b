/**
 * Reading and asserting `Set-Cookie` headers: which session cookies a response sets or clears,
 * with which attributes, and the transaction cookies of sign-ins in progress. Nothing here prints
 * a cookie's value: assertions compare names and attributes.
 *
 * @example
 * ```ts
 * assert.deepEqual(sessionCookiesSet(response.setCookies), []); // no half-set session
 * assertCleared(logout.setCookies, 'cognito_refresh_token');
 * ```
 */
import assert from 'node:assert/strict';
import { parseSetCookie } from 'cookie';

/** The three cookies of a signed-in session, by their flask-cognito-lib names. */
export const SESSION_COOKIES = [
  'cognito_access_token',
  'cognito_id_token',
  'cognito_refresh_token',
] as const;

/** Whether `name` is a sign-in's transaction cookie (`cognito_txn_…`, `__Host-cognito_txn_…`). */
export function isTransactionCookie(name: string): boolean {
  return /^(__Host-)?cognito_txn_/.test(name);
}

/** The Cookie header for `cookies` (name → value). */
export function cookieHeader(
  cookies: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): string {
  const entries = cookies instanceof Map ? [...cookies] : Object.entries(cookies);
  return entries.map(([name, value]) => `${name}=${String(value)}`).join('; ');
}

/** The names of the `Set-Cookie` headers, one entry per header as it arrived. */
export function cookieNames(setCookies: readonly string[]): string[] {
  return setCookies.map((header) => parseSetCookie(header).name);
}

/** The names of the cookies a response sets to a value (not deletions). */
export function cookiesSet(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header))
    .filter((cookie) => cookie.maxAge !== 0 && (cookie.value ?? '') !== '')
    .map((cookie) => cookie.name);
}

/** The names of the cookies a response deletes (Max-Age=0). */
export function cookiesDeleted(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header))
    .filter((cookie) => cookie.maxAge === 0)
    .map((cookie) => cookie.name);
}

/** The names of the session cookies a response sets to a value (not deletions). */
export function sessionCookiesSet(setCookies: readonly string[]): string[] {
  const session: readonly string[] = SESSION_COOKIES;
  return cookiesSet(setCookies).filter((name) => session.includes(name));
}

/** The transaction cookies a response sets or clears. */
export function transactionCookieNames(setCookies: readonly string[]): string[] {
  return cookieNames(setCookies).filter(isTransactionCookie);
}

/** Asserts a failed response set no session cookie (no half-set session). */
export function assertNoSessionCookies(setCookies: readonly string[], context: string): void {
  assert.deepEqual(sessionCookiesSet(setCookies), [], `${context}: no session cookie is set`);
}

/** A `Set-Cookie` header, and its value and Max-Age. */
export interface FoundCookie {
  readonly header: string;
  readonly value: string;
  readonly maxAge: number | undefined;
}

/** The `Set-Cookie` header of `name`, parsed, or undefined. */
export function findCookie(setCookies: readonly string[], name: string): FoundCookie | undefined {
  for (const header of setCookies) {
    const parsed = parseSetCookie(header);
    if (parsed.name === name) return { header, value: parsed.value ?? '', maxAge: parsed.maxAge };
  }
  return undefined;
}

/** Asserts `name` is deleted by the response (empty value, Max-Age=0); returns its header. */
export function assertCleared(setCookies: readonly string[], name: string): string {
  const cookie = findCookie(setCookies, name);
  assert.ok(cookie !== undefined, `${name} is cleared`);
  assert.equal(cookie.value, '', `${name} is emptied`);
  assert.equal(cookie.maxAge, 0, `${name} has Max-Age=0`);
  return cookie.header;
}
