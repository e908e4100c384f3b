/**
 * Cookie names, attributes, reading and writing.
 *
 * Parsing and serialising are done by the `cookie` package (jshttp); this module adds the
 * rules cognito-guard needs on top: one attribute set for setting *and* deleting (so a deletion
 * always matches the cookie it deletes), `__Host-` rules, the 4,096-byte browser limit, and
 * detection of duplicate names (cookies planted from a sibling subdomain, "cookie tossing").
 *
 * @module
 */
import { parse, parseSetCookie, serialize } from 'cookie';
import { LIMITS } from './limits.js';

/** Cookie names (the access/ID/refresh names are flask-cognito-lib's). */
export const COOKIE_NAMES = {
  accessToken: 'cognito_access_token',
  idToken: 'cognito_id_token',
  refreshToken: 'cognito_refresh_token',
  /** The opaque session id, when a session store keeps the tokens. */
  session: 'cognito_session',
  /** Prefix of the per-login transaction cookies; a hash of the state follows. */
  transactionPrefix: 'cognito_txn_',
} as const;

/** Browsers only promise to store cookies up to 4,096 bytes (name, value and attributes). */
const MAX_COOKIE_BYTES = LIMITS.maxCookieBytes;

/** Attributes shared by setting and deleting a cookie. */
export interface CookieAttributes {
  readonly secure: boolean;
  readonly sameSite: 'Lax' | 'Strict' | 'None';
  readonly domain?: string | undefined;
  readonly path?: string | undefined;
}

/** A cookie would exceed what browsers store; it is refused rather than silently dropped. */
export class CookieTooLargeError extends Error {
  constructor(
    readonly cookieName: string,
    readonly bytes: number,
  ) {
    super(
      `cookie ${cookieName} would be ${bytes} bytes, over the ${MAX_COOKIE_BYTES}-byte browser limit`,
    );
  }
}

function attributesFor(name: string, attributes: CookieAttributes) {
  const hostPrefixed = name.startsWith('__Host-');
  if (hostPrefixed && (!attributes.secure || attributes.domain !== undefined)) {
    // RFC 6265bis §4.1.3.2: browsers reject such cookies; fail loudly instead.
    throw new TypeError(`${name}: __Host- cookies need Secure, Path=/ and no Domain`);
  }
  return {
    httpOnly: true,
    secure: attributes.secure,
    sameSite: attributes.sameSite.toLowerCase() as 'lax' | 'strict' | 'none',
    path: hostPrefixed ? '/' : (attributes.path ?? '/'),
    ...(attributes.domain === undefined ? {} : { domain: attributes.domain }),
  };
}

/**
 * Serialises an HttpOnly cookie. Throws {@link CookieTooLargeError} over 4,096 bytes.
 *
 * @example
 * ```ts
 * setCookie('cognito_access_token', accessToken, 1800, { secure: true, sameSite: 'Lax' });
 * // 'cognito_access_token=eyJ…; Max-Age=1800; Path=/; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function setCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  attributes: CookieAttributes,
): string {
  const header = serializeCookie(name, value, maxAgeSeconds, attributes);
  const bytes = new TextEncoder().encode(header).length;
  if (bytes > MAX_COOKIE_BYTES) throw new CookieTooLargeError(name, bytes);
  return header;
}

/**
 * Serialises an HttpOnly cookie without the size check (for callers that measure and split).
 *
 * @example
 * ```ts
 * serializeCookie('cognito_id_token.0', idToken.slice(0, 4000), 1800, { secure: true, sameSite: 'Lax' });
 * ```
 */
export function serializeCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  attributes: CookieAttributes,
): string {
  return serialize(name, value, { ...attributesFor(name, attributes), maxAge: maxAgeSeconds });
}

/** Serialises the deletion of a cookie with the same Path/Domain/Secure/SameSite it was set with. */
export function deleteCookie(name: string, attributes: CookieAttributes): string {
  // A `__Host-` cookie can only ever have been set Secure, Path=/ and without Domain (an https
  // app on the same host may have set one); delete it on those terms instead of failing.
  const effective = name.startsWith('__Host-')
    ? { ...attributes, secure: true, domain: undefined }
    : attributes;
  return serialize(name, '', {
    ...attributesFor(name, effective),
    maxAge: 0,
    expires: new Date(0),
  });
}

/** The cookies of a request, with the names that appeared more than once. */
export interface ParsedCookies {
  readonly values: Readonly<Record<string, string | undefined>>;
  /** Names sent more than once (a sign of cookie tossing from a sibling subdomain). */
  readonly duplicates: ReadonlySet<string>;
}

/**
 * Counts the cookies named `name` in a header: occurrences of the name at the start of a pair,
 * followed (after optional spaces) by `=`.
 */
function countNamed(header: string, name: string): number {
  let count = 0;
  for (let at = header.indexOf(name); at !== -1; at = header.indexOf(name, at + name.length)) {
    let before = at - 1;
    while (before >= 0 && (header[before] === ' ' || header[before] === '\t')) before -= 1;
    let after = at + name.length;
    while (header[after] === ' ' || header[after] === '\t') after += 1;
    if ((before < 0 || header[before] === ';') && header[after] === '=') count += 1;
  }
  return count;
}

const NO_DUPLICATES: ReadonlySet<string> = new Set();

/**
 * Parses a `Cookie` header. Values that are not valid percent-encoding are kept raw by the
 * `cookie` package. Among the `watched` names (the ones the caller is about to trust), names
 * sent more than once are reported in `duplicates`.
 */
export function parseCookies(
  header: string | undefined,
  watched: readonly string[] = [],
): ParsedCookies {
  if (header === undefined || header === '') return { values: {}, duplicates: NO_DUPLICATES };
  const duplicates = watched.filter((name) => countNamed(header, name) > 1);
  return {
    values: parse(header),
    duplicates: duplicates.length === 0 ? NO_DUPLICATES : new Set(duplicates),
  };
}

/**
 * Every value sent for the cookie `name`, in header order. A browser sends several when a
 * sibling subdomain planted a cookie of the same name with another Domain or Path; each pair is
 * decoded by the `cookie` package, as {@link parseCookies} does.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined || !header.includes(name)) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const value = parse(pair)[name];
    if (value !== undefined && pair.slice(0, pair.indexOf('=')).trim() === name) values.push(value);
  }
  return values;
}

/**
 * The `Cookie` header a request carries once a browser has applied `setCookies` to it: every
 * cookie they set replaces all pairs of its name, every cookie they delete (`Max-Age=0`, or an
 * `Expires` in the past) is dropped, and every other pair is kept as it was sent. `undefined`
 * when no cookie is left.
 *
 * For frameworks that hand the request on to the app within the same round trip, after the
 * guard answered it with new cookies: a Next.js proxy that refreshed a session passes this
 * header on, so the Server Components rendered for that very request read the new tokens, not
 * the expired ones the browser sent.
 *
 * @example
 * ```ts
 * cookieHeaderAfter('theme=dark; cognito_access_token=old', [
 *   'cognito_access_token=new; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax',
 * ]);
 * // 'theme=dark; cognito_access_token=new'
 * ```
 */
export function cookieHeaderAfter(
  header: string | undefined,
  setCookies: readonly string[],
  now: number = Date.now(),
): string | undefined {
  // Later cookies of one name win, as they do in a browser.
  const changed = new Map<string, string | undefined>();
  for (const setCookie of setCookies) {
    // Values are copied as they were serialised (no decoding), exactly as a browser sends them.
    const cookie = parseSetCookie(setCookie, { decode: (value) => value });
    const expired =
      (cookie.maxAge !== undefined && cookie.maxAge <= 0) ||
      (cookie.maxAge === undefined &&
        cookie.expires !== undefined &&
        cookie.expires.getTime() <= now);
    changed.delete(cookie.name);
    changed.set(cookie.name, expired ? undefined : (cookie.value ?? ''));
  }
  const pairs: string[] = [];
  for (const pair of (header ?? '').split(';')) {
    const trimmed = pair.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = (equals === -1 ? trimmed : trimmed.slice(0, equals)).trim();
    if (!changed.has(name)) pairs.push(trimmed);
  }
  for (const [name, value] of changed) if (value !== undefined) pairs.push(`${name}=${value}`);
  return pairs.length === 0 ? undefined : pairs.join('; ');
}
