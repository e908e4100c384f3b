/**
 * Where a signed-in session lives between requests. Two backends share one interface, so the
 * flows (callback, protect, refresh, logout) never care which is configured:
 *
 * - **cookies** (the default, stateless): the tokens themselves in HttpOnly cookies, each split
 *   into numbered cookies when it would exceed what a browser stores (`cookie-session.ts`);
 * - **a session store** (Redis, or any `SessionStore`): the tokens encrypted server-side, the
 *   browser holding one opaque `cognito_session` cookie (`store-session.ts`).
 *
 * @module
 */
import type { IncomingRequest } from './http.js';
import type { SessionTokens, StoredRefreshToken } from './tokens.js';

/** The session a request presents, before anything in it is verified. */
export interface PresentedSession {
  /** The access token, if any. */
  readonly accessToken: string | undefined;
  /** The ID token, if any. */
  readonly idToken: string | undefined;
  /** Whether the session holds refresh material (a refresh cookie, or a stored refresh token). */
  readonly refreshable: boolean;
  /**
   * A session cookie whose session no longer exists (ended on another instance, by sign-out
   * everywhere, or expired in the store): the refusal clears it.
   */
  readonly orphaned?: boolean | undefined;
  /**
   * The refresh token and the sign-in it belongs to; `undefined` when there is none or it is not
   * ours (tampered, expired, sealed with another secret). Unsealing costs, so it is lazy.
   */
  refresh(): Promise<StoredRefreshToken | undefined>;
}

/** The answer to ending a session: what to revoke at Cognito, and the cookies to clear. */
export interface EndedSession {
  /** Every refresh token the request presented that is ours (duplicates included). */
  readonly refreshTokens: readonly string[];
  readonly setCookies: readonly string[];
}

/** A place to keep sessions. */
export interface SessionBackend {
  /**
   * Reads the session a request presents: synchronously from cookies, with one round trip from a
   * store. Throws `TokenVerifyError` (401) for duplicated or malformed session cookies.
   */
  read(request: IncomingRequest): PresentedSession | Promise<PresentedSession>;
  /** Keeps a new session (a sign-in): the cookies to set. Any session the request held is replaced. */
  start(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]>;
  /** Keeps refreshed tokens of the request's session: the cookies to set. */
  update(request: IncomingRequest, tokens: SessionTokens): Promise<readonly string[]>;
  /** Ends the request's session: what to revoke, and the cookies to clear. */
  end(request: IncomingRequest): Promise<EndedSession>;
  /** The cookies that clear the session without touching any store (a session that is over). */
  clear(request: IncomingRequest): readonly string[];
  /**
   * Ends every stored session of a user (sign-out everywhere) and returns their refresh tokens.
   * Cookie sessions of other browsers cannot be reached: they end at their next refresh.
   */
  endAllOf(subject: string): Promise<readonly string[]>;
}
