/**
 * The default session backend: the tokens themselves in HttpOnly cookies, named as
 * flask-cognito-lib names them (`cognito_access_token`, `cognito_id_token`,
 * `cognito_refresh_token`, the last one encrypted).
 *
 * The cookie budget:
 * - no cookie is ever over 4,096 bytes (name, value and attributes), the most a browser promises
 *   to store: a token that would not fit is split across numbered cookies (`cognito_id_token.0`,
 *   `.1`, …), read back and cleared as one, and stale pieces of an earlier size are deleted;
 * - a session whose cookies add up to more than a proxy accepts by default (nginx: 8 KB for the
 *   whole Cookie header; API Gateway: 10,240 bytes for request line and headers) is still stored,
 *   and the operator is told why it may break and that a session store solves it; one that could
 *   not work at all (over Node's own 16 KB header limit) is refused with that advice.
 *
 * @module
 */
import { COOKIE_NAMES, cookieValues, deleteCookie, serializeCookie } from './cookies.js';
import { tokenCookieAttributes, type SessionDependencies } from './context.js';
import { CognitoError, TokenVerifyError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import type { EndedSession, PresentedSession, SessionBackend } from './session.js';
import type { SessionTokens, StoredRefreshToken } from './tokens.js';

const TOKEN_COOKIES = [
  COOKIE_NAMES.accessToken,
  COOKIE_NAMES.idToken,
  COOKIE_NAMES.refreshToken,
] as const;
type TokenIndex = 0 | 1 | 2;
const ACCESS: TokenIndex = 0;
const ID: TokenIndex = 1;
const REFRESH: TokenIndex = 2;

/** The name of piece `index` of a split cookie. */
function pieceName(name: string, index: number): string {
  return `${name}.${index}`;
}

/** Every name a token cookie may have: whole, or any of its pieces. */
function namesOf(name: string): string[] {
  return [name, ...Array.from({ length: LIMITS.maxCookiePieces }, (_, i) => pieceName(name, i))];
}

const encoder = new TextEncoder();

/**
 * A cookie value with spaces and tabs trimmed, as the `cookie` package reads it — but never
 * percent-decoded: the library writes tokens as base64url, which has nothing to decode, so a
 * token cookie with `%` in it is not one of ours and fails verification as sent.
 */
function cookieValue(header: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && (header.charCodeAt(from) === 0x20 || header.charCodeAt(from) === 0x09))
    from += 1;
  while (to > from && (header.charCodeAt(to - 1) === 0x20 || header.charCodeAt(to - 1) === 0x09))
    to -= 1;
  return header.slice(from, to);
}

/**
 * The token cookies of one request, read in one pass over the Cookie header.
 *
 * This is the hot path of every protected request, and the `cookie` package (used for every
 * other cookie) parses every pair into a fresh object and cannot tell a name sent twice: this
 * scanner splits pairs the same way (on `;`, then the first `=`, trimming spaces and tabs) but
 * only materialises the session's own names, and counts them.
 */
class TokenJar {
  /** Whole values by token, first occurrence. */
  readonly whole: (string | undefined)[] = [undefined, undefined, undefined];
  /** Pieces by token (`name.0`…), when any was sent. */
  readonly pieces: ((string | undefined)[] | undefined)[] = [undefined, undefined, undefined];
  /** Tokens with a name (whole or a piece) sent twice. */
  readonly duplicated: boolean[] = [false, false, false];

  constructor(header: string | undefined) {
    if (header === undefined || !header.includes('cognito_')) return;
    const length = header.length;
    let index = 0;
    while (index < length) {
      let end = header.indexOf(';', index);
      if (end === -1) end = length;
      const equals = header.indexOf('=', index);
      if (equals !== -1 && equals < end) this.#pair(header, index, equals, end);
      index = end + 1;
    }
  }

  #pair(header: string, start: number, equals: number, end: number): void {
    let nameStart = start;
    while (header.charCodeAt(nameStart) === 0x20 || header.charCodeAt(nameStart) === 0x09)
      nameStart += 1;
    if (!header.startsWith('cognito_', nameStart)) return;
    let nameEnd = equals;
    while (header.charCodeAt(nameEnd - 1) === 0x20 || header.charCodeAt(nameEnd - 1) === 0x09)
      nameEnd -= 1;
    for (let token = 0; token < TOKEN_COOKIES.length; token += 1) {
      const name = TOKEN_COOKIES[token] ?? '';
      if (!header.startsWith(name, nameStart)) continue;
      const after = nameStart + name.length;
      if (after === nameEnd) {
        if (this.whole[token] !== undefined) this.duplicated[token] = true;
        else this.whole[token] = cookieValue(header, equals + 1, end);
        return;
      }
      const digit = header.charCodeAt(after + 1) - 0x30;
      if (
        nameEnd === after + 2 &&
        header.charCodeAt(after) === 0x2e &&
        digit >= 0 &&
        digit < LIMITS.maxCookiePieces
      ) {
        const pieces = (this.pieces[token] ??= []);
        if (pieces[digit] !== undefined) this.duplicated[token] = true;
        else pieces[digit] = cookieValue(header, equals + 1, end);
        return;
      }
    }
  }

  /** Whether the request carries the token, whole or split. */
  has(token: TokenIndex): boolean {
    return this.whole[token] !== undefined || this.pieces[token] !== undefined;
  }

  /**
   * The token's value, joined from its pieces when split. Throws `TokenVerifyError` when a name
   * was sent twice (planted from a sibling domain) or the token came both whole and split (one of
   * the two is not ours).
   */
  value(token: TokenIndex): string | undefined {
    if (this.duplicated[token] === true) throw new TokenVerifyError('duplicate session cookies');
    const whole = this.whole[token];
    const pieces = this.pieces[token];
    if (pieces === undefined) return whole === '' ? undefined : whole;
    if (whole !== undefined) {
      throw new TokenVerifyError(`${TOKEN_COOKIES[token]} sent both whole and split`);
    }
    let value = '';
    for (const piece of pieces) {
      if (piece === undefined) break;
      value += piece;
    }
    return value === '' ? undefined : value;
  }

  /** Every session cookie name the request carries (for replacing or clearing them). */
  present(): Set<string> {
    const names = new Set<string>();
    TOKEN_COOKIES.forEach((name, token) => {
      if (this.whole[token] !== undefined) names.add(name);
      this.pieces[token]?.forEach((piece, index) => {
        if (piece !== undefined) names.add(pieceName(name, index));
      });
    });
    return names;
  }
}

/** A session presented in cookies; the refresh cookie is unsealed only when a refresh needs it. */
class CookiePresentedSession implements PresentedSession {
  readonly accessToken: string | undefined;
  readonly idToken: string | undefined;
  readonly refreshable: boolean;
  readonly #jar: TokenJar;
  readonly #sessions: CookieSessions;

  constructor(jar: TokenJar, sessions: CookieSessions, refreshFlowEnabled: boolean) {
    this.accessToken = jar.value(ACCESS);
    this.idToken = jar.value(ID);
    this.refreshable = refreshFlowEnabled && jar.has(REFRESH);
    this.#jar = jar;
    this.#sessions = sessions;
  }

  refresh(): Promise<StoredRefreshToken | undefined> {
    try {
      return this.#sessions.unsealRefresh(this.#jar.value(REFRESH));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** `Set-Cookie` values deleting every name of `name` the request carries but `keep` does not. */
function deletions(
  present: ReadonlySet<string>,
  name: string,
  keep: ReadonlySet<string>,
  context: SessionDependencies,
): string[] {
  const attributes = tokenCookieAttributes(context.options);
  return namesOf(name)
    .filter((candidate) => present.has(candidate) && !keep.has(candidate))
    .map((candidate) => deleteCookie(candidate, attributes));
}

/**
 * `Set-Cookie` values storing one token: one cookie when it fits in 4,096 bytes, numbered pieces
 * otherwise, plus the deletion of whatever shape the request held before.
 */
function writeToken(
  context: SessionDependencies,
  name: string,
  value: string,
  maxAgeSeconds: number,
  present: ReadonlySet<string>,
): string[] {
  const attributes = tokenCookieAttributes(context.options);
  const whole = serializeCookie(name, value, maxAgeSeconds, attributes);
  if (encoder.encode(whole).length <= LIMITS.maxCookieBytes) {
    return [whole, ...deletions(present, name, new Set([name]), context)];
  }
  // Room for the value in each piece: the limit minus the name and attributes of the longest
  // piece name. Token values are base64url (one byte per character, not escaped).
  const overhead = encoder.encode(
    serializeCookie(pieceName(name, LIMITS.maxCookiePieces - 1), '', maxAgeSeconds, attributes),
  ).length;
  const room = LIMITS.maxCookieBytes - overhead;
  const count = Math.ceil(value.length / room);
  if (count > LIMITS.maxCookiePieces) {
    throw new CognitoError(
      'ERR_COGNITO_BAD_RESPONSE',
      `${name} is ${value.length} bytes, more than ${LIMITS.maxCookiePieces} cookies hold; configure a session store (AWS_COGNITO_SESSION_STORE) to keep tokens server-side`,
    );
  }
  const pieces = Array.from({ length: count }, (_, index) =>
    serializeCookie(
      pieceName(name, index),
      value.slice(index * room, (index + 1) * room),
      maxAgeSeconds,
      attributes,
    ),
  );
  const kept = new Set(Array.from({ length: count }, (_, index) => pieceName(name, index)));
  return [...pieces, ...deletions(present, name, kept, context)];
}

/** The bytes a browser will send back for these `Set-Cookie` values (`name=value; ` each). */
function cookieHeaderBytes(setCookies: readonly string[]): number {
  return setCookies
    .map((header) => header.slice(0, header.indexOf(';')))
    .filter((pair) => !pair.endsWith('='))
    .reduce((sum, pair) => sum + encoder.encode(pair).length + 2, 0);
}

/**
 * Sessions in cookies (the default).
 *
 * @example
 * ```ts
 * import { CookieSealer } from './crypto.js';
 *
 * const sessions = new CookieSessions({ options, sealer: new CookieSealer(options.secretKeys, options.now) });
 * const setCookies = await sessions.start(request, { subject, accessToken, idToken, refresh: undefined, rotated: true });
 * ```
 */
export class CookieSessions implements SessionBackend {
  readonly #context: SessionDependencies;
  #lastSizeWarningAt = Number.NEGATIVE_INFINITY;

  constructor(context: SessionDependencies) {
    this.#context = context;
  }

  read(request: IncomingRequest): PresentedSession {
    return new CookiePresentedSession(
      new TokenJar(request.header('cookie')),
      this,
      this.#context.options.refreshFlowEnabled,
    );
  }

  /** Opens a refresh cookie; `undefined` when it is not ours (tampered, expired, other secret). */
  async unsealRefresh(value: string | undefined): Promise<StoredRefreshToken | undefined> {
    if (value === undefined || value === '') return undefined;
    const { options, sealer } = this.#context;
    if (!options.refreshCookieEncrypted) {
      return { refreshToken: value, subject: undefined, authTime: undefined };
    }
    const payload = await sealer.unseal('refresh-token', value);
    if (payload === undefined || typeof payload['rt'] !== 'string' || payload['rt'] === '')
      return undefined;
    return {
      refreshToken: payload['rt'],
      subject: typeof payload['sub'] === 'string' ? payload['sub'] : undefined,
      authTime: typeof payload['at'] === 'number' ? payload['at'] : undefined,
    };
  }

  async #write(
    request: IncomingRequest,
    tokens: SessionTokens,
    writeRefresh: boolean,
  ): Promise<string[]> {
    const { options, sealer } = this.#context;
    const present = new TokenJar(request.header('cookie')).present();
    const setCookies = [
      ...writeToken(
        this.#context,
        COOKIE_NAMES.accessToken,
        tokens.accessToken,
        options.cookieMaxAgeSeconds,
        present,
      ),
      ...(tokens.idToken === undefined
        ? deletions(present, COOKIE_NAMES.idToken, new Set(), this.#context)
        : writeToken(
            this.#context,
            COOKIE_NAMES.idToken,
            tokens.idToken,
            options.cookieMaxAgeSeconds,
            present,
          )),
    ];
    const { refresh } = tokens;
    if (writeRefresh && refresh !== undefined && options.refreshFlowEnabled) {
      const value = options.refreshCookieEncrypted
        ? await sealer.seal(
            'refresh-token',
            {
              rt: refresh.refreshToken,
              ...(refresh.subject === undefined ? {} : { sub: refresh.subject }),
              ...(refresh.authTime === undefined ? {} : { at: refresh.authTime }),
            },
            options.refreshCookieMaxAgeSeconds,
          )
        : refresh.refreshToken;
      setCookies.push(
        ...writeToken(
          this.#context,
          COOKIE_NAMES.refreshToken,
          value,
          options.refreshCookieMaxAgeSeconds,
          present,
        ),
      );
    }
    if (request.header('cookie')?.includes(COOKIE_NAMES.session) === true) {
      // The app moved from a session store back to cookies: forget the old opaque cookie.
      setCookies.push(deleteCookie(COOKIE_NAMES.session, tokenCookieAttributes(options)));
    }
    this.#checkBudget(request, setCookies);
    return setCookies;
  }

  /** Warns (at most hourly) when the session's cookies are more than proxies accept by default. */
  #checkBudget(request: IncomingRequest, setCookies: readonly string[]): void {
    const { options } = this.#context;
    const written = cookieHeaderBytes(setCookies);
    // The refresh cookie is rewritten only when rotated; count the one the browser keeps.
    const kept = setCookies.some((c) => c.startsWith(COOKIE_NAMES.refreshToken))
      ? 0
      : cookieValues(request.header('cookie'), COOKIE_NAMES.refreshToken).reduce(
          (sum, value) => sum + COOKIE_NAMES.refreshToken.length + value.length + 3,
          0,
        );
    const total = written + kept;
    if (total > LIMITS.maxSessionCookieBytes) {
      throw new CognitoError(
        'ERR_COGNITO_BAD_RESPONSE',
        `the session needs ${total} bytes of cookies, more than a server accepts in one Cookie header; configure a session store (AWS_COGNITO_SESSION_STORE) to keep tokens server-side`,
      );
    }
    // A platform that caps request headers (API Gateway) would refuse every later request of a
    // session that does not fit, logout included: refuse it now, while the user can be told.
    const platformLimit = request.cookieHeaderLimitBytes;
    if (platformLimit !== undefined && total > platformLimit) {
      throw new CognitoError(
        'ERR_COGNITO_BAD_RESPONSE',
        `the session needs ${total} bytes of cookies and the platform in front accepts ${Math.max(0, platformLimit)} in this request's Cookie header (API Gateway caps request line and headers at 10,240 bytes); configure a session store (AWS_COGNITO_SESSION_STORE) to keep tokens server-side`,
      );
    }
    const now = options.now();
    if (total > LIMITS.proxyCookieHeaderBytes && now - this.#lastSizeWarningAt > 3_600_000) {
      this.#lastSizeWarningAt = now;
      options.logger.warn(
        'session cookies exceed what proxies accept by default; a session store (AWS_COGNITO_SESSION_STORE=redis://…) keeps them server-side',
        { bytes: total, nginxDefault: 8192, apiGatewayHeaders: 10_240 },
      );
    }
  }

  start(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]> {
    return this.#write(request, tokens, true);
  }

  update(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]> {
    // A refresh cookie is rewritten only when Cognito rotated the token, so its Max-Age runs
    // from the sign-in, never slides.
    return this.#write(request, tokens, tokens.rotated);
  }

  async end(request: IncomingRequest): Promise<EndedSession> {
    // Every refresh cookie presented, planted duplicates included: revoking only the first
    // would leave the user's own token alive at Cognito.
    const header = request.header('cookie');
    const presented = cookieValues(header, COOKIE_NAMES.refreshToken);
    let split: string | undefined;
    try {
      split = new TokenJar(header).value(REFRESH);
    } catch {
      split = undefined;
    }
    const candidates = split === undefined ? presented : [...presented, split];
    const stored = await Promise.all(candidates.map((value) => this.unsealRefresh(value)));
    const refreshTokens = [
      ...new Set(stored.flatMap((s) => (s === undefined ? [] : [s.refreshToken]))),
    ];
    return { refreshTokens, setCookies: this.clear(request) };
  }

  clear(request: IncomingRequest): readonly string[] {
    const attributes = tokenCookieAttributes(this.#context.options);
    const present = new TokenJar(request.header('cookie')).present();
    // The whole names are always cleared (even when absent: the browser may hold them under a
    // path the request did not match); pieces only when the request carries them.
    const names = new Set([...TOKEN_COOKIES, ...present]);
    return [...names].map((name) => deleteCookie(name, attributes));
  }

  endAllOf(): Promise<readonly string[]> {
    // Other browsers' cookies cannot be reached: their sessions end at their next refresh.
    return Promise.resolve([]);
  }
}
