/**
 * Server-side state of the emulator: authorization codes, hosted-UI sessions and refresh-token
 * families. A family is one sign-in (keyed by its `origin_jti`); every refresh token and every
 * access/ID token of the sign-in belongs to it, which is how revocation reaches them all.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { newRefreshToken } from './token-issuer.js';

/** An issued authorization code and what it is bound to. */
export interface AuthCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string | undefined;
  readonly scopes: readonly string[];
  readonly username: string;
  readonly authTime: number;
  readonly nonce: string | undefined;
  /** RFC 8707 `resource` from the authorize request: the access token's `aud`. */
  readonly resource?: string | undefined;
  readonly expiresAtMs: number;
}

/** A hosted-UI login session (Cognito's 1-hour `cognito` cookie). */
export interface LoginSession {
  readonly username: string;
  readonly authTime: number;
  readonly expiresAtMs: number;
}

/** One sign-in: the lineage every refresh token and token of that sign-in belongs to. */
export interface TokenFamily {
  readonly originJti: string;
  readonly clientId: string;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly authTime: number;
  readonly eventId: string;
  /** How the user signed in: the OAuth2 endpoints, or the JSON API (tokens differ slightly). */
  readonly flow: 'oauth' | 'api';
  /** The access tokens' `aud` when the sign-in named a `resource`. */
  readonly audience: string | undefined;
  /** Refresh tokens of the family never outlive this (rotation does not extend it). */
  readonly expiresAtMs: number;
  revoked: boolean;
}

/** One refresh token string's record. */
export interface RefreshRecord {
  readonly family: TokenFamily;
  /** Set when rotation replaced this token; it keeps working until then. */
  rotatedOutUntilMs: number | undefined;
}

/** SRP values of one `PASSWORD_VERIFIER` challenge (all big integers mod N). */
export interface SrpChallenge {
  /** The server's secret exponent. */
  readonly b: bigint;
  readonly B: bigint;
  readonly A: bigint;
  readonly salt: bigint;
  /** The password verifier g^x, or one from a random password for an unknown user. */
  readonly verifier: bigint;
}

/** A pending sign-in challenge of the JSON API or the hosted UI, keyed by an opaque id. */
export interface AuthChallenge {
  readonly name: 'PASSWORD_VERIFIER' | 'NEW_PASSWORD_REQUIRED';
  readonly clientId: string;
  /** The user's username (`USER_ID_FOR_SRP`); for SRP it may name no existing user. */
  readonly username: string;
  readonly srp?: SrpChallenge;
  readonly expiresAtMs: number;
}

/** Authorization codes live 5 minutes, as in Cognito. */
export const CODE_LIFETIME_MS = 5 * 60_000;
/** The hosted-UI session lasts 1 hour regardless of token lifetimes. */
export const SESSION_LIFETIME_MS = 60 * 60_000;
/** A sign-in challenge (SRP step, new-password step) lives 3 minutes, Cognito's default. */
export const CHALLENGE_LIFETIME_MS = 3 * 60_000;
/** Upper bound of every state map, so a flood of logins cannot grow memory without limit. */
export const MAX_STATE_ENTRIES = 50_000;

/** Drops the oldest entries (Maps keep insertion order) until `map` has room for one more. */
function makeRoom<K, V>(map: Map<K, V>): void {
  while (map.size >= MAX_STATE_ENTRIES) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}

/**
 * Milliseconds since the epoch; injectable so tests can move time instead of waiting.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const emulator = await startEmulator({ now: () => now });
 * now += 5 * 60_000; // codes issued before this are expired
 * ```
 */
export type Clock = () => number;

/**
 * All mutable emulator state, with lazy expiry so a long-running dev server does not grow.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const state = new EmulatorState(() => now);
 * const code = state.issueCode({
 *   clientId: 'demo-client',
 *   redirectUri: 'http://localhost:3000/postlogin',
 *   codeChallenge: undefined,
 *   scopes: ['openid'],
 *   username: 'alice',
 *   authTime: Math.floor(now / 1000),
 *   nonce: undefined,
 * });
 * now += CODE_LIFETIME_MS; // the code is now expired
 * ```
 */
export class EmulatorState {
  readonly #now: Clock;
  readonly #codes = new Map<string, AuthCode>();
  readonly #sessions = new Map<string, LoginSession>();
  readonly #refresh = new Map<string, RefreshRecord>();
  readonly #families = new Map<string, TokenFamily>();
  readonly #challenges = new Map<string, AuthChallenge>();
  #lastSweepMs = 0;

  /** @param now - the clock every lifetime is measured on (default `Date.now`). */
  constructor(now: Clock = Date.now) {
    this.#now = now;
  }

  /** Stores a new code (a UUID, as Cognito's look) valid for 5 minutes. */
  issueCode(data: Omit<AuthCode, 'expiresAtMs'>): string {
    this.#sweep();
    const code = randomUUID();
    makeRoom(this.#codes);
    this.#codes.set(code, { ...data, expiresAtMs: this.#now() + CODE_LIFETIME_MS });
    return code;
  }

  /** Looks a live code up without consuming it. */
  peekCode(code: string): AuthCode | undefined {
    const found = this.#codes.get(code);
    if (found && found.expiresAtMs <= this.#now()) {
      this.#codes.delete(code);
      return undefined;
    }
    return found;
  }

  /** Consumes a code (single use). */
  burnCode(code: string): void {
    this.#codes.delete(code);
  }

  /** Starts a hosted-UI session and returns its cookie value. */
  createSession(username: string, authTime: number): string {
    this.#sweep();
    const id = randomBytes(32).toString('base64url');
    makeRoom(this.#sessions);
    this.#sessions.set(id, { username, authTime, expiresAtMs: this.#now() + SESSION_LIFETIME_MS });
    return id;
  }

  /** The live session for a cookie value, if any. */
  getSession(id: string | undefined): LoginSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session && session.expiresAtMs <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Ends a session (logout). */
  deleteSession(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  /**
   * Ends every hosted-UI session of a user (when the user is deleted), so an old browser session
   * cannot sign in a later user of the same name. Returns how many.
   */
  deleteUserSessions(username: string): number {
    let count = 0;
    for (const [id, session] of this.#sessions) {
      if (session.username === username) {
        this.#sessions.delete(id);
        count += 1;
      }
    }
    return count;
  }

  /** Starts a token family for a sign-in and returns its first refresh token. */
  createFamily(data: Omit<TokenFamily, 'revoked' | 'originJti'>): {
    family: TokenFamily;
    refreshToken: string;
  } {
    this.#sweep();
    const family: TokenFamily = { ...data, originJti: randomUUID(), revoked: false };
    makeRoom(this.#families);
    makeRoom(this.#refresh);
    this.#families.set(family.originJti, family);
    const refreshToken = newRefreshToken();
    this.#refresh.set(refreshToken, { family, rotatedOutUntilMs: undefined });
    return { family, refreshToken };
  }

  /** The record of a refresh token string (expired or not; the caller decides). */
  getRefresh(token: string): RefreshRecord | undefined {
    return this.#refresh.get(token);
  }

  /** Rotation: the old token lives `graceMs` more, and a new token joins the family. */
  rotate(record: RefreshRecord, graceMs: number): string {
    const now = this.#now();
    record.rotatedOutUntilMs = Math.min(record.rotatedOutUntilMs ?? Infinity, now + graceMs);
    const refreshToken = newRefreshToken();
    makeRoom(this.#refresh);
    this.#refresh.set(refreshToken, { family: record.family, rotatedOutUntilMs: undefined });
    return refreshToken;
  }

  /** The family of an `origin_jti`, if known. */
  getFamily(originJti: string): TokenFamily | undefined {
    return this.#families.get(originJti);
  }

  /** Revokes a family: all its refresh tokens and tokens fail from now on. */
  revokeFamily(family: TokenFamily): void {
    family.revoked = true;
  }

  /** Global sign-out: revokes every family of a user, for every client. Returns how many. */
  revokeUserFamilies(username: string): number {
    let count = 0;
    for (const family of this.#families.values()) {
      if (family.username === username && !family.revoked) {
        family.revoked = true;
        count += 1;
      }
    }
    return count;
  }

  /**
   * Stores a challenge for 3 minutes and returns its id: base64 of 48 random bytes, usable both
   * as a `Session` and as SRP's `SECRET_BLOCK`.
   */
  createChallenge(data: Omit<AuthChallenge, 'expiresAtMs'>): string {
    this.#sweep();
    const id = randomBytes(48).toString('base64');
    makeRoom(this.#challenges);
    this.#challenges.set(id, { ...data, expiresAtMs: this.#now() + CHALLENGE_LIFETIME_MS });
    return id;
  }

  /** Consumes a live challenge (each answer gets one try). */
  takeChallenge(id: string | undefined): AuthChallenge | undefined {
    if (id === undefined) return undefined;
    const found = this.#challenges.get(id);
    this.#challenges.delete(id);
    return found && found.expiresAtMs > this.#now() ? found : undefined;
  }

  /** Drops expired codes, sessions and families at most once a minute. */
  #sweep(): void {
    const now = this.#now();
    if (now - this.#lastSweepMs < 60_000) return;
    this.#lastSweepMs = now;
    for (const [key, code] of this.#codes) if (code.expiresAtMs <= now) this.#codes.delete(key);
    for (const [key, challenge] of this.#challenges) {
      if (challenge.expiresAtMs <= now) this.#challenges.delete(key);
    }
    for (const [key, session] of this.#sessions) {
      if (session.expiresAtMs <= now) this.#sessions.delete(key);
    }
    for (const [key, record] of this.#refresh) {
      if (record.family.expiresAtMs <= now) this.#refresh.delete(key);
    }
    for (const [key, family] of this.#families) {
      // Kept a day past expiry so access tokens of an expired family still resolve their lineage.
      if (family.expiresAtMs + 86_400_000 <= now) this.#families.delete(key);
    }
  }
}
