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
import {
  COOKIE_NAMES,
  cookieValues,
  deleteCookie,
  parseCookies,
  serializeCookie,
} from './cookies.js';
import { tokenCookieAttributes, type SessionDependencies } from './context.js';
import { CognitoError, TokenVerifyError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import type { EndedSession, PresentedSession, SessionBackend } from './session.js';
import type { SessionTokens, StoredRefreshToken } from './tokens.js';

const TOKEN_COOKIES = [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken, COOKIE_NAMES.refreshToken];

/** The name of piece `index` of a split cookie. */
function pieceName(name: string, index: number): string {
  return `${name}.${index}`;
}

/** Every name a token cookie may have: whole, or any of its pieces. */
function namesOf(name: string): string[] {
  return [name, ...Array.from({ length: LIMITS.maxCookiePieces }, (_, i) => pieceName(name, i))];
}

const encoder = new TextEncoder();

/** The cookies of a request, as far as the session is concerned. */
interface SessionJar {
  readonly values: Readonly<Record<string, string | undefined>>;
  /** Names of session cookies (whole or pieces) the request carries. */
  readonly present: ReadonlySet<string>;
}

/**
 * Reads the session cookies of a header, refusing a name sent twice (planted from a sibling
 * domain) and a token sent both whole and split (one of them is not ours).
 */
function readJar(header: string | undefined, names: readonly string[]): SessionJar {
  // Pieces are looked for only when the header has any, to keep the common case cheap.
  const watched = names.flatMap((name) =>
    header?.includes(`${name}.`) === true ? namesOf(name) : [name],
  );
  const cookies = parseCookies(header, watched);
  if (cookies.duplicates.size > 0) throw new TokenVerifyError('duplicate session cookies');
  const present = new Set(watched.filter((name) => cookies.values[name] !== undefined));
  return { values: cookies.values, present };
}

/** The value of a token cookie, joined from its pieces when split. */
function tokenValue(jar: SessionJar, name: string): string | undefined {
  const whole = jar.values[name];
  const first = jar.values[pieceName(name, 0)];
  if (first === undefined) return whole === '' ? undefined : whole;
  if (whole !== undefined) throw new TokenVerifyError(`${name} sent both whole and split`);
  let value = first;
  for (let index = 1; index < LIMITS.maxCookiePieces; index += 1) {
    const piece = jar.values[pieceName(name, index)];
    if (piece === undefined) break;
    value += piece;
  }
  return value;
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
  readonly kind = 'cookies';
  readonly #context: SessionDependencies;
  #lastSizeWarningAt = Number.NEGATIVE_INFINITY;

  constructor(context: SessionDependencies) {
    this.#context = context;
  }

  read(request: IncomingRequest): PresentedSession {
    const header = request.header('cookie');
    const jar = readJar(header, [COOKIE_NAMES.accessToken, COOKIE_NAMES.idToken]);
    const refreshCookie = header?.includes(COOKIE_NAMES.refreshToken) === true;
    return {
      accessToken: tokenValue(jar, COOKIE_NAMES.accessToken),
      idToken: tokenValue(jar, COOKIE_NAMES.idToken),
      refreshable: refreshCookie && this.#context.options.refreshFlowEnabled,
      refresh: () => this.#readRefresh(header),
    };
  }

  async #readRefresh(header: string | undefined): Promise<StoredRefreshToken | undefined> {
    const jar = readJar(header, [COOKIE_NAMES.refreshToken]);
    return this.#unsealRefresh(tokenValue(jar, COOKIE_NAMES.refreshToken));
  }

  async #unsealRefresh(value: string | undefined): Promise<StoredRefreshToken | undefined> {
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
    const jar = readJar(request.header('cookie'), TOKEN_COOKIES);
    const setCookies = [
      ...writeToken(
        this.#context,
        COOKIE_NAMES.accessToken,
        tokens.accessToken,
        options.cookieMaxAgeSeconds,
        jar.present,
      ),
      ...(tokens.idToken === undefined
        ? deletions(jar.present, COOKIE_NAMES.idToken, new Set(), this.#context)
        : writeToken(
            this.#context,
            COOKIE_NAMES.idToken,
            tokens.idToken,
            options.cookieMaxAgeSeconds,
            jar.present,
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
          jar.present,
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
      split = tokenValue(readJar(header, [COOKIE_NAMES.refreshToken]), COOKIE_NAMES.refreshToken);
    } catch {
      split = undefined;
    }
    const candidates = split === undefined ? presented : [...presented, split];
    const stored = await Promise.all(candidates.map((value) => this.#unsealRefresh(value)));
    const refreshTokens = [
      ...new Set(stored.flatMap((s) => (s === undefined ? [] : [s.refreshToken]))),
    ];
    return { refreshTokens, setCookies: this.clear(request) };
  }

  clear(request: IncomingRequest): readonly string[] {
    const header = request.header('cookie');
    const attributes = tokenCookieAttributes(this.#context.options);
    const present = new Set(
      Object.keys(parseCookies(header).values).filter((name) =>
        TOKEN_COOKIES.some((token) => name === token || name.startsWith(`${token}.`)),
      ),
    );
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
