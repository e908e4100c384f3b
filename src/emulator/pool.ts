/**
 * The shared state of one emulated user pool: who it is (origin, pool id, issuer), its users and
 * app clients, its signing keys and token issuer, its codes, sessions and refresh-token families,
 * the switches, and the clock every lifetime is measured on. Every endpoint handler reads and
 * changes the pool through this one object, so the hosted UI, the OAuth2 endpoints and the
 * control API always agree.
 */
import { DEFAULT_SWITCHES, RESERVED_SCOPES, resolveClient, resolveUser } from './config.js';
import type { EmulatorConfig, EmulatorSwitches, ResolvedClient, ResolvedUser } from './config.js';
import type { KeyStore } from './key-store.js';
import { EmulatorState } from './state.js';
import type { Clock } from './state.js';
import { TokenIssuer } from './token-issuer.js';

/** What a pool is built from (already validated). */
export interface UserPoolOptions {
  /** Where the endpoints are served from, without a trailing slash. */
  readonly origin: string;
  readonly config: EmulatorConfig;
  readonly keys: KeyStore;
  readonly switches?: Partial<EmulatorSwitches> | undefined;
  /** Default `Date.now`. */
  readonly now?: Clock | undefined;
}

/**
 * One user pool's state, shared by every endpoint.
 *
 * @example
 * ```ts
 * const pool = new UserPool({ origin: 'http://localhost:9229', config: demoConfig(), keys: await KeyStore.create() });
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
    for (const client of config.clients) this.clients.set(client.clientId, resolveClient(client));
    for (const user of config.users) this.users.set(user.username, resolveUser(user, this.poolId));
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
      ...[...this.clients.values()].flatMap((client) => client.allowedScopes),
    ]);
  }
}
