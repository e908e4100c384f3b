/**
 * The emulator as a Web-standard request handler, `fetch(Request) → Promise<Response>`, and the
 * controls a test drives it with (users, clients, keys, faults, clock, token minting).
 *
 * The parts, in the order a request meets them: the Node server (`server.ts`) → the router
 * (`router.ts`, with fault injection and the Host check) → one module per endpoint or grant
 * (`endpoints/`: hosted UI and OAuth2) or per group of operations (`api/`: Cognito's JSON API)
 * → the shared pool state (`pool.ts`, `state.ts`) → the token issuer and the key store.
 *
 * @see /work/shared/reference/cognito-endpoints.md for the Cognito behaviour copied here.
 */
import { randomUUID } from 'node:crypto';

import {
  DEMO_CONFIG,
  EmulatorConfigError,
  clientProblems,
  groupProblems,
  parseEmulatorConfig,
  resolveClient,
  resolveUser,
  undeclaredScopeProblems,
  userProblems,
} from './config.js';
import type {
  EmulatorClient,
  EmulatorConfig,
  EmulatorGroup,
  EmulatorSwitches,
  EmulatorUser,
  ResolvedClient,
  ResolvedUser,
} from './config.js';
import { FaultInjector } from './faults.js';
import type { EmulatorFault, FaultEndpoint } from './faults.js';
import type { RequestInfo } from './http.js';
import { KeyStore } from './key-store.js';
import type { KeyInfo, KeyUse } from './key-store.js';
import { UserPool } from './pool.js';
import type { EmulatorMessage, PoolGroup } from './pool.js';
import { createRouter } from './router.js';
import type { Clock } from './state.js';
import type { SignInGrant } from './token-issuer.js';

/**
 * Options for {@link CognitoEmulator.mintToken}.
 *
 * @example
 * ```ts
 * await emulator.mintToken({ use: 'access', claims: { exp: 1 }, omit: ['kid'] });
 * await emulator.mintToken({ use: 'id', header: { kid: 'nope' }, key: 'unpublished' });
 * ```
 */
export interface MintTokenOptions {
  readonly use: KeyUse;
  /** The user whose claims are the starting point (default: the first user). */
  readonly username?: string;
  /** The client whose claims are the starting point (default: the first client). */
  readonly clientId?: string;
  /** Claims to set; a value of `undefined` removes the claim. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Claim names to remove. */
  readonly omit?: readonly string[];
  /** Header members to set over `{kid, alg:"RS256"}`; `undefined` removes one. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Signing key: the active key of a use (default: `use`), a published kid, or an unpublished key. */
  readonly key?: KeyUse | 'unpublished' | { readonly kid: string };
}

/**
 * Options for {@link EmulatorControls.issueTokens}.
 *
 * @example
 * ```ts
 * const tokens = emulator.issueTokens({ username: 'alice', clientId: 'my-app', scopes: ['openid', 'email'] });
 * ```
 */
export interface IssueTokensOptions {
  /** The user who signs in; must exist and be able to sign in (enabled, confirmed). */
  readonly username: string;
  /** The app client (default: the first client); must allow the `code` flow. */
  readonly clientId?: string;
  /** The granted scopes (default: every scope the client allows); each must be allowed. */
  readonly scopes?: readonly string[];
  /** A `nonce` to put in the ID token, as an authorize request would. */
  readonly nonce?: string;
}

/**
 * The tokens of one sign-in, as the token endpoint returns them after the hosted login.
 *
 * @example
 * ```ts
 * const { accessToken, refreshToken } = emulator.issueTokens({ username: 'alice' });
 * ```
 */
export interface IssuedTokenSet {
  readonly accessToken: string;
  /** Present when `openid` was granted. */
  readonly idToken: string | undefined;
  /** A live refresh token of this sign-in: it refreshes, and revoking it ends the sign-in. */
  readonly refreshToken: string;
  /** The access token's lifetime in seconds. */
  readonly expiresIn: number;
}

/**
 * Options for {@link CognitoEmulator.create}.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const emulator = await CognitoEmulator.create({ origin: 'http://localhost:9229', now: () => now });
 * ```
 */
export interface CognitoEmulatorOptions {
  /** Where the emulator is reachable, e.g. `http://127.0.0.1:9229`; the issuer is `{origin}/{poolId}`. */
  readonly origin: string;
  /** Default: {@link DEMO_CONFIG}. */
  readonly config?: EmulatorConfig;
  /** Overrides the config's switches. */
  readonly switches?: Partial<EmulatorSwitches>;
  /**
   * The wall clock in milliseconds (default `Date.now`). Code, session and refresh-token
   * lifetimes and token times are measured on it, so a test can move time instead of waiting.
   */
  readonly now?: Clock;
  /**
   * Host names, besides loopback ones and the origin's, on which the control endpoints
   * (`/_emulator/…`) and Cognito's JSON API answer, e.g. `['cognito']` when an app container
   * reaches the emulator as `http://cognito:9229`. Other Host headers get 403, so a page that
   * points its own host name at 127.0.0.1 (DNS rebinding) cannot drive them.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Called for every message Cognito would e-mail or text (sign-up confirmation codes,
   * temporary passwords); the CLI prints them. They are also kept for {@link EmulatorControls.messages}.
   */
  readonly onMessage?: (message: EmulatorMessage) => void;
}

/**
 * What a test drives a running pool with. {@link CognitoEmulator} implements it, and the handle
 * {@link startEmulator} returns exposes the same methods (see {@link CONTROL_METHODS}).
 *
 * @example
 * ```ts
 * function seed(pool: EmulatorControls) {
 *   pool.addUser({ username: 'dave', password: 'Secret1!', groups: ['admin'] });
 * }
 * ```
 */
export interface EmulatorControls {
  /**
   * Adds (or replaces) a user.
   *
   * @throws EmulatorConfigError for an invalid user.
   */
  addUser(user: EmulatorUser): ResolvedUser;
  /**
   * Removes a user; its tokens then fail at userInfo and refresh, and its hosted-UI sessions end
   * (so they cannot sign in a user added later under the same name).
   */
  removeUser(username: string): boolean;
  /** The users, as resolved (with their `sub`). */
  users(): ResolvedUser[];
  /**
   * Adds (or replaces) an app client.
   *
   * @throws EmulatorConfigError for an invalid client.
   */
  addClient(client: EmulatorClient): ResolvedClient;
  /** The app clients, as resolved. */
  clients(): ResolvedClient[];
  /**
   * Adds (or replaces) a group.
   *
   * @throws EmulatorConfigError for an invalid group.
   */
  addGroup(group: EmulatorGroup): PoolGroup;
  /** The pool's groups. */
  groups(): PoolGroup[];
  /** The latest messages the pool "sent" (confirmation codes, temporary passwords), oldest first. */
  messages(): EmulatorMessage[];
  /** Makes new active signing keys (both uses, or one); old keys stay published. */
  rotateKeys(use?: KeyUse): Promise<KeyInfo[]>;
  /** Removes a key from the JWKS (all inactive keys when `kid` is omitted). */
  retireKey(kid?: string): string[];
  /** The published keys. */
  keys(): KeyInfo[];
  /** Sets (or with `null` clears) the fault of one endpoint. */
  setFault(endpoint: FaultEndpoint, fault: EmulatorFault | null): void;
  /** Clears every fault. */
  clearFaults(): void;
  /** Shifts `iat`/`exp`/`auth_time` of issued tokens by this many seconds (negative = past). */
  setClockOffset(seconds: number): void;
  /**
   * Signs an arbitrary access or ID token with the emulator's keys, starting from the claims a
   * real sign-in would produce, so tests can build hostile tokens.
   */
  mintToken(options: MintTokenOptions): Promise<string>;
  /**
   * Signs a user in without the hosted page: the tokens the code grant would return after a
   * successful login (same claims, a live refresh-token family), for tests that need a real
   * session fast.
   *
   * @throws Error when the user or client is unknown, the user cannot sign in (disabled,
   *   unconfirmed, or must change its password), or a scope is not allowed.
   */
  issueTokens(options: IssueTokensOptions): IssuedTokenSet;
}

// A record, so the compiler insists on exactly the control names: adding a control to the
// interface without listing it here is a type error.
const CONTROLS: Readonly<Record<keyof EmulatorControls, true>> = {
  addUser: true,
  removeUser: true,
  users: true,
  addClient: true,
  clients: true,
  addGroup: true,
  groups: true,
  messages: true,
  rotateKeys: true,
  retireKey: true,
  keys: true,
  setFault: true,
  clearFaults: true,
  setClockOffset: true,
  mintToken: true,
  issueTokens: true,
};

/**
 * The names of every {@link EmulatorControls} method, so a wrapper can expose them all without
 * listing them by hand.
 *
 * @example
 * ```ts
 * for (const name of CONTROL_METHODS) console.log(name);
 * ```
 */
export const CONTROL_METHODS: readonly (keyof EmulatorControls)[] = Object.freeze(
  Object.keys(CONTROLS) as (keyof EmulatorControls)[],
);

/**
 * The controls of `target`, bound, as a plain object: what {@link startEmulator} spreads into its
 * handle.
 *
 * @example
 * ```ts
 * const controls = bindControls(emulator);
 * controls.addUser({ username: 'dave', password: 'Secret1!' });
 * ```
 */
export function bindControls(target: EmulatorControls): EmulatorControls {
  const bound: Record<string, unknown> = {};
  for (const name of CONTROL_METHODS) {
    const method: unknown = Reflect.get(target, name);
    if (typeof method !== 'function') throw new TypeError(`${name} is not a method`);
    bound[name] = (...args: unknown[]): unknown => Reflect.apply(method, target, args) as unknown;
  }
  return bound as unknown as EmulatorControls;
}

/** `scheme://host[:port]` without a trailing slash, or an {@link EmulatorConfigError}. */
function checkedOrigin(value: string): string {
  let origin: URL;
  try {
    origin = new URL(value);
  } catch {
    throw new EmulatorConfigError('emulator options', [`origin: not a URL: ${value}`]);
  }
  if (origin.pathname !== '/' || origin.search !== '' || origin.hash !== '') {
    throw new EmulatorConfigError('emulator options', [
      'origin: must be scheme://host[:port] only',
    ]);
  }
  return value.replace(/\/+$/, '');
}

/**
 * One emulated user pool behind a Web-standard `fetch` handler. `startEmulator` serves it over
 * `node:http`; tests can also call {@link CognitoEmulator.fetch} in-process.
 *
 * @example
 * ```ts
 * const emulator = await CognitoEmulator.create({ origin: 'http://localhost:9229' });
 * const res = await emulator.fetch(new Request(emulator.jwksUri));
 * ```
 */
export class CognitoEmulator implements EmulatorControls {
  /** The origin the endpoints are served from (Cognito's "domain"). */
  readonly origin: string;
  /** Same as {@link origin}: the user-pool domain the library calls `AWS_COGNITO_DOMAIN`. */
  readonly domain: string;
  readonly poolId: string;
  readonly region: string;
  /** `{origin}/{poolId}`. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** Live switches for undocumented Cognito behaviour; assign to change them. */
  readonly switches: EmulatorSwitches;
  /** Handles one request. Bound, so it can be passed around as a plain function. */
  readonly fetch: (request: Request, info?: RequestInfo) => Promise<Response>;

  readonly #pool: UserPool;
  readonly #faults = new FaultInjector();

  private constructor(pool: UserPool, allowedHosts: readonly string[]) {
    this.#pool = pool;
    this.origin = pool.origin;
    this.domain = pool.origin;
    this.poolId = pool.poolId;
    this.region = pool.region;
    this.issuer = pool.issuer;
    this.jwksUri = pool.jwksUri;
    this.discoveryUrl = pool.discoveryUrl;
    this.switches = pool.switches;
    const route = createRouter(pool, this.#faults, allowedHosts);
    this.fetch = (request, info = {}) => route(request, info);
  }

  /**
   * Validates the configuration and makes the signing keys.
   *
   * @throws EmulatorConfigError for an invalid configuration or origin.
   */
  static async create(options: CognitoEmulatorOptions): Promise<CognitoEmulator> {
    return (await CognitoEmulator.prepare(options))(options.origin);
  }

  /**
   * Does everything that may fail or take time (validation, key generation) and returns a
   * synchronous builder that takes the final origin. A server can then bind its port and build
   * the pool with no await in between, so it never answers before it is ready.
   *
   * @throws EmulatorConfigError for an invalid configuration (or an invalid `origin`, when given).
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import type { AddressInfo } from 'node:net';
   *
   * const build = await CognitoEmulator.prepare({ config: demoConfig() });
   * const server = createServer().listen(0, '127.0.0.1', () => {
   *   const { port } = server.address() as AddressInfo;
   *   const pool = build(`http://127.0.0.1:${port}`); // ready before the first request
   * });
   * ```
   */
  static async prepare(
    options: Omit<CognitoEmulatorOptions, 'origin'> & { readonly origin?: string | undefined },
  ): Promise<(origin: string) => CognitoEmulator> {
    const config = parseEmulatorConfig(options.config ?? DEMO_CONFIG, 'emulator options');
    if (options.origin !== undefined) checkedOrigin(options.origin);
    const keys = await KeyStore.create();
    return (origin) =>
      new CognitoEmulator(
        new UserPool({
          origin: checkedOrigin(origin),
          config,
          keys,
          switches: options.switches,
          now: options.now,
          onMessage: options.onMessage,
        }),
        options.allowedHosts ?? [],
      );
  }

  /** Releases requests held by `hang`/`delayMs` faults; call when stopping. */
  close(): void {
    this.#faults.close();
  }

  addUser(user: EmulatorUser): ResolvedUser {
    const problems = userProblems(user, 'user');
    if (problems.length > 0) throw new EmulatorConfigError('addUser', problems);
    const resolved = resolveUser(user, this.poolId, this.#pool.now());
    this.#pool.putUser(resolved);
    return resolved;
  }

  removeUser(username: string): boolean {
    return this.#pool.deleteUser(username);
  }

  users(): ResolvedUser[] {
    return [...this.#pool.users.values()];
  }

  addClient(client: EmulatorClient): ResolvedClient {
    const problems = clientProblems(client, 'client');
    // Only once the client is well-formed (its scopes are then an array of strings).
    if (problems.length === 0) {
      problems.push(...undeclaredScopeProblems(client, this.#pool.resourceServers, 'client'));
    }
    if (problems.length > 0) throw new EmulatorConfigError('addClient', problems);
    const resolved = resolveClient(client);
    this.#pool.clients.set(resolved.clientId, resolved);
    return resolved;
  }

  clients(): ResolvedClient[] {
    return [...this.#pool.clients.values()];
  }

  addGroup(group: EmulatorGroup): PoolGroup {
    const problems = groupProblems(group, 'group');
    if (problems.length > 0) throw new EmulatorConfigError('addGroup', problems);
    return this.#pool.putGroup(group);
  }

  groups(): PoolGroup[] {
    return [...this.#pool.groups.values()];
  }

  messages(): EmulatorMessage[] {
    return this.#pool.messages();
  }

  rotateKeys(use?: KeyUse): Promise<KeyInfo[]> {
    return this.#pool.keys.rotate(use);
  }

  retireKey(kid?: string): string[] {
    return this.#pool.keys.retire(kid);
  }

  keys(): KeyInfo[] {
    return this.#pool.keys.list();
  }

  setFault(endpoint: FaultEndpoint, fault: EmulatorFault | null): void {
    this.#faults.set(endpoint, fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  setClockOffset(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new RangeError('clock offset must be a finite number');
    this.#pool.setClockOffset(seconds);
  }

  async mintToken(options: MintTokenOptions): Promise<string> {
    const pool = this.#pool;
    const user =
      (options.username !== undefined ? pool.users.get(options.username) : undefined) ??
      pool.users.values().next().value ??
      resolveUser({ username: options.username ?? 'test-user', password: 'x' }, this.poolId);
    const client =
      (options.clientId !== undefined ? pool.clients.get(options.clientId) : undefined) ??
      pool.clients.values().next().value ??
      resolveClient({
        clientId: options.clientId ?? 'test-client',
        callbackUrls: [],
        allowedScopes: ['openid'],
      });
    const now = pool.nowSeconds();
    const grant: SignInGrant = {
      user,
      client,
      scopes: client.allowedScopes,
      authTime: now,
      originJti: randomUUID(),
      eventId: randomUUID(),
    };
    const claims =
      options.use === 'access'
        ? pool.tokens.accessClaims(grant, now)
        : pool.tokens.idClaims(grant, now, undefined);
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) Reflect.deleteProperty(claims, name);
      else claims[name] = value;
    }
    for (const name of options.omit ?? []) Reflect.deleteProperty(claims, name);
    return pool.tokens.signArbitrary(options.key ?? options.use, claims, options.header);
  }

  issueTokens(options: IssueTokensOptions): IssuedTokenSet {
    const pool = this.#pool;
    const user = pool.users.get(options.username);
    if (user === undefined) throw new Error(`issueTokens: no user "${options.username}"`);
    if (!user.enabled) throw new Error(`issueTokens: user "${user.username}" is disabled`);
    if (user.status !== 'CONFIRMED') {
      throw new Error(
        `issueTokens: user "${user.username}" is ${user.status} and cannot sign in (a CONFIRMED user can)`,
      );
    }
    const client =
      options.clientId === undefined
        ? pool.clients.values().next().value
        : pool.clients.get(options.clientId);
    if (client === undefined) {
      throw new Error(`issueTokens: no app client "${options.clientId ?? '(none configured)'}"`);
    }
    if (!client.allowedOAuthFlows.includes('code')) {
      throw new Error(`issueTokens: app client "${client.clientId}" does not allow sign-in (code)`);
    }
    const scopes = options.scopes ?? client.allowedScopes;
    const refused = scopes.filter((scope) => !client.allowedScopes.includes(scope));
    if (refused.length > 0) {
      throw new Error(
        `issueTokens: app client "${client.clientId}" does not allow ${refused.join(', ')}`,
      );
    }
    // What the authorization-code grant does once the code, PKCE and redirect URI have checked
    // out: a new refresh-token family, then the tokens of that sign-in.
    const { tokens: issued, refreshToken } = pool.signIn({
      user,
      client,
      scopes,
      authTime: pool.nowSeconds(),
      flow: 'oauth',
      audience: undefined,
      nonce: options.nonce,
    });
    return {
      accessToken: issued.access_token,
      idToken: issued.id_token,
      refreshToken,
      expiresIn: issued.expires_in,
    };
  }
}
