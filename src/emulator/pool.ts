/**
 * The shared state of one emulated user pool: who it is (origin, pool id, issuer), its users and
 * app clients, its signing keys and token issuer, its codes, sessions and refresh-token families,
 * the switches, and the clock every lifetime is measured on. Every endpoint handler reads and
 * changes the pool through this one object, so the hosted UI, the OAuth2 endpoints and the
 * control API always agree.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import {
  DEFAULT_SWITCHES,
  RESERVED_SCOPES,
  resolveClient,
  resolveUser,
  resourceServerScopes,
} from './config.js';
import type {
  EmulatorConfig,
  EmulatorGroup,
  EmulatorResourceServer,
  EmulatorSwitches,
  ResolvedClient,
  ResolvedUser,
} from './config.js';
import { safeEqual } from './http.js';
import type { KeyStore } from './key-store.js';
import { EmulatorState } from './state.js';
import type { Clock, RefreshRecord, TokenFamily } from './state.js';
import { TokenIssuer } from './token-issuer.js';
import type { IssuedTokens } from './token-issuer.js';

/**
 * A group of the pool, as stored.
 *
 * @example
 * ```ts
 * emulator.groups().map((group) => group.groupName); // ['admin', 'editor']
 * ```
 */
export interface PoolGroup extends EmulatorGroup {
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/**
 * A message the pool "sent" (Cognito would e-mail or text it): a sign-up confirmation code or a
 * temporary password. The emulator keeps the latest ones so tests and the CLI can read them.
 *
 * @example
 * ```ts
 * const { code } = emulator.messages().findLast((m) => m.username === 'erin') ?? {};
 * ```
 */
export interface EmulatorMessage {
  readonly kind: 'confirmation-code' | 'temporary-password';
  readonly username: string;
  /** Where Cognito would have sent it (the user's e-mail or phone number), if known. */
  readonly destination: string | undefined;
  /** The confirmation code or the temporary password. */
  readonly code: string;
  readonly sentAtMs: number;
}

/** How many sent messages the pool keeps. */
export const MAX_MESSAGES = 100;
/** Sign-up confirmation codes live 24 hours, as in Cognito. */
export const CONFIRMATION_CODE_LIFETIME_MS = 24 * 3_600_000;

/**
 * A sign-in whose credentials have checked out, before its tokens exist: what the code grant,
 * the JSON API and the `issueTokens` control each know at that point.
 *
 * @example
 * ```ts
 * const user = pool.users.get('alice');
 * const client = pool.clients.get('demo-client');
 * if (user !== undefined && client !== undefined) {
 *   const signIn: CompletedSignIn = {
 *     user,
 *     client,
 *     scopes: ['openid'],
 *     authTime: pool.nowSeconds(),
 *     flow: 'oauth',
 *     audience: undefined,
 *   };
 *   pool.signIn(signIn);
 * }
 * ```
 */
export interface CompletedSignIn {
  readonly user: ResolvedUser;
  readonly client: ResolvedClient;
  readonly scopes: readonly string[];
  /** Seconds; the moment the user authenticated. */
  readonly authTime: number;
  /** `oauth`: the hosted UI and token endpoint; `api`: the JSON API (tokens differ slightly). */
  readonly flow: 'oauth' | 'api';
  /** The access token's `aud`, when the sign-in named a `resource` (RFC 8707). */
  readonly audience: string | undefined;
  /** The authorize request's `nonce`, for the ID token. */
  readonly nonce?: string | undefined;
}

/**
 * The user an access token belongs to, or the first thing wrong with the token: `invalid` (not
 * an access token this pool signed), `expired`, `revoked` (its sign-in was revoked), `scope` (the
 * required scope is missing), `no-user` (its user was deleted, or replaced by another of the same
 * name).
 */
export type AccessTokenCheck =
  | { readonly ok: true; readonly user: ResolvedUser; readonly scopes: readonly string[] }
  | {
      readonly ok: false;
      readonly problem: 'invalid' | 'expired' | 'revoked' | 'scope' | 'no-user';
    };

/** What a pool is built from (already validated). */
export interface UserPoolOptions {
  /** Where the endpoints are served from, without a trailing slash. */
  readonly origin: string;
  readonly config: EmulatorConfig;
  readonly keys: KeyStore;
  readonly switches?: Partial<EmulatorSwitches> | undefined;
  /** Default `Date.now`. */
  readonly now?: Clock | undefined;
  /** Called for every message the pool sends (confirmation codes, temporary passwords). */
  readonly onMessage?: ((message: EmulatorMessage) => void) | undefined;
}

/**
 * One user pool's state, shared by every endpoint.
 *
 * @example
 * ```ts
 * import { KeyStore } from './key-store.js';
 *
 * const keys = await KeyStore.create();
 * const pool = new UserPool({ origin: 'http://localhost:9229', config: demoConfig(), keys });
 * pool.users.get('alice')?.groups; // ['admin']
 * ```
 */
export class UserPool {
  /** The origin the endpoints are served from (Cognito's "domain"). */
  readonly origin: string;
  readonly poolId: string;
  readonly region: string;
  /** `{origin}/{poolId}`. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** Live switches for undocumented Cognito behaviour. */
  readonly switches: EmulatorSwitches;
  /** Wall-clock milliseconds; every code, session and refresh-token lifetime is measured on it. */
  readonly now: Clock;
  readonly keys: KeyStore;
  readonly tokens: TokenIssuer;
  /** Codes, hosted-UI sessions and refresh-token families. */
  readonly state: EmulatorState;
  readonly users = new Map<string, ResolvedUser>();
  readonly clients = new Map<string, ResolvedClient>();
  readonly groups = new Map<string, PoolGroup>();
  readonly resourceServers: readonly EmulatorResourceServer[];
  /** Pending sign-up confirmation codes by username. */
  readonly confirmationCodes = new Map<string, { code: string; expiresAtMs: number }>();
  readonly #messages: EmulatorMessage[] = [];
  readonly #onMessage: ((message: EmulatorMessage) => void) | undefined;
  #clockOffsetSeconds = 0;

  constructor(options: UserPoolOptions) {
    const { config } = options;
    this.origin = options.origin;
    this.poolId = config.userPoolId;
    this.region = config.region ?? config.userPoolId.split('_')[0] ?? 'us-east-1';
    this.issuer = `${this.origin}/${this.poolId}`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.discoveryUrl = `${this.issuer}/.well-known/openid-configuration`;
    this.switches = { ...DEFAULT_SWITCHES, ...config.switches, ...options.switches };
    this.now = options.now ?? Date.now;
    this.keys = options.keys;
    this.tokens = new TokenIssuer(this.keys, this.issuer, () => this.nowSeconds());
    this.state = new EmulatorState(this.now);
    this.resourceServers = config.resourceServers ?? [];
    this.#onMessage = options.onMessage;
    for (const client of config.clients) this.clients.set(client.clientId, resolveClient(client));
    for (const group of config.groups ?? []) this.putGroup(group);
    for (const user of config.users) this.putUser(resolveUser(user, this.poolId, this.now()));
  }

  /** Stores a user, creating the groups it names that do not exist yet. */
  putUser(user: ResolvedUser): void {
    for (const groupName of user.groups) {
      if (!this.groups.has(groupName)) this.putGroup({ groupName });
    }
    this.users.set(user.username, user);
  }

  /** Stores a group (replacing one of the same name, keeping its creation time). */
  putGroup(group: EmulatorGroup): PoolGroup {
    const now = this.now();
    const stored: PoolGroup = {
      ...group,
      createdAtMs: this.groups.get(group.groupName)?.createdAtMs ?? now,
      updatedAtMs: now,
    };
    this.groups.set(group.groupName, stored);
    return stored;
  }

  /** Replaces a user with changed fields, stamping `updatedAtMs`. */
  updateUser(username: string, changes: Partial<ResolvedUser>): ResolvedUser | undefined {
    const user = this.users.get(username);
    if (!user) return undefined;
    const updated: ResolvedUser = { ...user, ...changes, updatedAtMs: this.now() };
    this.putUser(updated);
    return updated;
  }

  /**
   * The user whose password this is, or `undefined` for a wrong username or password. The
   * comparison takes constant time, and an unknown username costs the same comparison (against a
   * random password), so timing does not tell who exists.
   */
  checkPassword(username: string, password: string): ResolvedUser | undefined {
    const user = this.users.get(username);
    const ok = safeEqual(password, user?.password ?? `\0${randomBytes(16).toString('hex')}`);
    return user && ok ? user : undefined;
  }

  /**
   * Ends a successful sign-in: a new refresh-token family (so refresh, revocation and global
   * sign-out all reach this sign-in), living the client's refresh-token validity, and the
   * tokens of that family.
   */
  signIn(signIn: CompletedSignIn): { tokens: IssuedTokens; refreshToken: string } {
    const { user, client, authTime, flow, audience } = signIn;
    const eventId = randomUUID();
    const { family, refreshToken } = this.state.createFamily({
      clientId: client.clientId,
      username: user.username,
      scopes: [...signIn.scopes],
      authTime,
      eventId,
      flow,
      audience,
      expiresAtMs: this.now() + client.refreshTokenValiditySeconds * 1000,
    });
    const tokens = this.tokens.issue({
      user,
      client,
      scopes: signIn.scopes,
      authTime,
      originJti: family.originJti,
      eventId,
      nonce: signIn.nonce,
      flow,
      audience,
    });
    return { tokens, refreshToken };
  }

  /**
   * New access and ID tokens for a live sign-in (a refresh): the family's scopes, audience,
   * `origin_jti`, `auth_time` and `event_id`, with the user's current groups and attributes.
   */
  reissue(family: TokenFamily, user: ResolvedUser, client: ResolvedClient): IssuedTokens {
    return this.tokens.issue({
      user,
      client,
      scopes: family.scopes,
      authTime: family.authTime,
      originJti: family.originJti,
      eventId: family.eventId,
      flow: family.flow,
      audience: family.audience,
    });
  }

  /**
   * When the client rotates refresh tokens: a new refresh token of the same family, the used one
   * living only its grace period more. `undefined` when the client does not rotate.
   */
  rotateRefresh(record: RefreshRecord, client: ResolvedClient): string | undefined {
    return client.rotation.enabled
      ? this.state.rotate(record, client.rotation.retryGracePeriodSeconds * 1000)
      : undefined;
  }

  /**
   * Checks an access token presented to the pool (GetUser, GlobalSignOut, userInfo): signed by
   * this pool, not expired, of a sign-in not revoked, carrying `requiredScope`, and of a user who
   * still exists with the same `sub`. Each caller words the problem its own way.
   */
  checkAccessToken(token: string, requiredScope: string): AccessTokenCheck {
    const claims = this.keys.verify(token);
    if (!claims || claims.token_use !== 'access' || claims.iss !== this.issuer) {
      return { ok: false, problem: 'invalid' };
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) {
      return { ok: false, problem: 'expired' };
    }
    const family =
      typeof claims.origin_jti === 'string' ? this.state.getFamily(claims.origin_jti) : undefined;
    if (family?.revoked) return { ok: false, problem: 'revoked' };
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(requiredScope)) return { ok: false, problem: 'scope' };
    const user = typeof claims.username === 'string' ? this.users.get(claims.username) : undefined;
    if (!user || user.sub !== claims.sub) return { ok: false, problem: 'no-user' };
    return { ok: true, user, scopes };
  }

  /**
   * Removes a user and ends their hosted-UI sessions: sessions name the user only by username,
   * so one left behind would sign in whoever is created under that name next.
   */
  deleteUser(username: string): boolean {
    this.state.deleteUserSessions(username);
    return this.users.delete(username);
  }

  /** Records a message the pool "sent" and hands it to the `onMessage` listener. */
  send(message: Omit<EmulatorMessage, 'sentAtMs'>): EmulatorMessage {
    const sent: EmulatorMessage = { ...message, sentAtMs: this.now() };
    this.#messages.push(sent);
    if (this.#messages.length > MAX_MESSAGES) this.#messages.shift();
    this.#onMessage?.(sent);
    return sent;
  }

  /** The latest sent messages, oldest first. */
  messages(): EmulatorMessage[] {
    return [...this.#messages];
  }

  /**
   * The identifier of a declared resource server that a `resource` parameter may name: an
   * absolute http(s) URL, as RFC 8707 requires; `undefined` for anything else.
   */
  resourceServer(resource: string): string | undefined {
    let url: URL;
    try {
      url = new URL(resource);
    } catch {
      return undefined;
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || resource.includes('#')) {
      return undefined;
    }
    return this.resourceServers.find((server) => server.identifier === resource)?.identifier;
  }

  /** The token clock in seconds: the wall clock shifted by the test offset. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000) + this.#clockOffsetSeconds;
  }

  /** Shifts `iat`/`exp`/`auth_time` of issued tokens (negative = past). */
  setClockOffset(seconds: number): void {
    this.#clockOffsetSeconds = Math.trunc(seconds);
  }

  /** Every scope some client of this pool could be granted, plus the reserved ones. */
  knownScopes(): Set<string> {
    return new Set([
      ...RESERVED_SCOPES,
      ...resourceServerScopes(this.resourceServers),
      ...[...this.clients.values()].flatMap((client) => client.allowedScopes),
    ]);
  }
}
