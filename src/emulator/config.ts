/**
 * Emulator configuration: the user pool, its app clients and users, the switches for Cognito
 * behaviour nobody has pinned down, and the built-in demo configuration.
 *
 * Everything is validated once, when the emulator starts, and every problem is reported together
 * in one {@link EmulatorConfigError} so a broken JSON file is fixed in one pass.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The password of every demo user in {@link DEMO_CONFIG}. */
export const DEMO_PASSWORD = 'Passw0rd!';

/** Scopes Cognito reserves; every other scope must be a custom `<resourceServer>/<scope>`. */
export const RESERVED_SCOPES: readonly string[] = [
  'openid',
  'email',
  'phone',
  'profile',
  'aws.cognito.signin.user.admin',
];

/**
 * Per-client refresh-token rotation, as Cognito's `RefreshTokenRotation` setting.
 *
 * @see https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RefreshTokenRotationType.html
 */
export interface RefreshTokenRotation {
  /** When on, every refresh returns a new refresh token and the old one dies after the grace period. */
  readonly enabled: boolean;
  /** How long (0–60 s) a rotated-out refresh token still works. 0 means it fails at once. */
  readonly retryGracePeriodSeconds?: number;
}

/** OAuth flows an app client may use; `client_credentials` cannot share a client with `code`. */
export type EmulatorOAuthFlow = 'code' | 'client_credentials';

/**
 * An app client of the emulated user pool.
 *
 * @example
 * ```ts
 * const client: EmulatorClient = {
 *   clientId: 'my-app',
 *   clientSecret: 'my-secret',
 *   callbackUrls: ['http://localhost:3000/postlogin'],
 *   logoutUrls: ['http://localhost:3000/postlogout'],
 *   allowedScopes: ['openid', 'email'],
 * };
 * ```
 */
export interface EmulatorClient {
  /** The app client id (`client_id` on the wire). */
  readonly clientId: string;
  /** Omit for a public client (no client authentication, `client_id` in the body only). */
  readonly clientSecret?: string;
  /** Allowed callback URLs, matched exactly (a trailing slash matters). */
  readonly callbackUrls: readonly string[];
  /** Allowed sign-out URLs for `/logout?logout_uri=…`. */
  readonly logoutUrls?: readonly string[];
  /**
   * Also accept a registered plain-http loopback callback or sign-out URL (`localhost`,
   * `127.0.0.1`, `[::1]`) on any other port: same scheme, host, path and query, any port. A
   * development convenience (RFC 8252 §7.3 asks it of servers for native apps); Cognito itself
   * matches exactly, so it is off by default and on only in the demo client.
   */
  readonly anyLoopbackPort?: boolean;
  /** Scopes the client may request; with no `scope` on the request the client gets all of them. */
  readonly allowedScopes: readonly string[];
  /** Defaults to `['code']`. */
  readonly allowedOAuthFlows?: readonly EmulatorOAuthFlow[];
  /** Access-token lifetime, default 3600. */
  readonly accessTokenValiditySeconds?: number;
  /** ID-token lifetime, default 3600. */
  readonly idTokenValiditySeconds?: number;
  /** Refresh-token lifetime, default 30 days. */
  readonly refreshTokenValiditySeconds?: number;
  /** Default: rotation off, as in Cognito. */
  readonly refreshTokenRotation?: RefreshTokenRotation;
  /** Cognito's `EnableTokenRevocation`, on by default; when off `/oauth2/revoke` answers `invalid_request`. */
  readonly enableTokenRevocation?: boolean;
  /** Sign-in flows of the JSON API this client may use. Default: all of them (a dev default). */
  readonly explicitAuthFlows?: readonly ExplicitAuthFlow[];
}

/**
 * A user of the emulated pool. `sub` is derived from the pool id and username when omitted, so it
 * stays the same across restarts.
 *
 * @example
 * ```ts
 * const user: EmulatorUser = { username: 'dave', password: 'Secret1!', email: 'dave@example.com', groups: ['admin'] };
 * ```
 */
export interface EmulatorUser {
  readonly username: string;
  readonly password: string;
  readonly email?: string;
  /** Default `true` when `email` is set. */
  readonly emailVerified?: boolean;
  readonly phoneNumber?: string;
  readonly phoneNumberVerified?: boolean;
  /** Other attributes (`name`, `given_name`, `custom:tenant`, …); Cognito attributes are strings. */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly groups?: readonly string[];
  /** A UUID; derived from pool id + username when omitted. */
  readonly sub?: string;
  /**
   * Cognito's `UserStatus`. Default `CONFIRMED`. `UNCONFIRMED` users cannot sign in until
   * confirmed; `FORCE_CHANGE_PASSWORD` users must set a new password at their next sign-in.
   */
  readonly status?: UserStatus;
  /** Default `true`; a disabled user cannot sign in. */
  readonly enabled?: boolean;
}

/**
 * Cognito's user statuses that the emulator models.
 *
 * @example
 * ```ts
 * emulator.addUser({ username: 'new', password: 'Temp-Passw0rd!', status: 'FORCE_CHANGE_PASSWORD' });
 * ```
 */
export type UserStatus = 'CONFIRMED' | 'UNCONFIRMED' | 'FORCE_CHANGE_PASSWORD';

/**
 * A group of the pool (groups named by users are created on the fly; declare them to give a
 * description or precedence).
 *
 * @example
 * ```ts
 * const group: EmulatorGroup = { groupName: 'admin', description: 'Administrators', precedence: 1 };
 * ```
 */
export interface EmulatorGroup {
  readonly groupName: string;
  readonly description?: string;
  /** Lower wins when a user is in several groups with roles (Cognito's `Precedence`). */
  readonly precedence?: number;
  readonly roleArn?: string;
}

/**
 * A resource server (an API) and its custom scopes, which clients request as
 * `<identifier>/<scope>`; with an identifier that is a URL it can also be named by the `resource`
 * parameter, which puts it in the access token's `aud`.
 *
 * @example
 * ```ts
 * const api: EmulatorResourceServer = {
 *   identifier: 'https://api.example.com',
 *   name: 'Orders API',
 *   scopes: [{ name: 'orders.read' }, { name: 'orders.write' }],
 * };
 * ```
 */
export interface EmulatorResourceServer {
  readonly identifier: string;
  readonly name?: string;
  readonly scopes: readonly { readonly name: string; readonly description?: string }[];
}

/**
 * Cognito's `ExplicitAuthFlows` for the JSON API's sign-in operations.
 *
 * @example
 * ```ts
 * emulator.addClient({ clientId: 'spa', callbackUrls: [], allowedScopes: ['openid'], explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] });
 * ```
 */
export type ExplicitAuthFlow =
  | 'ALLOW_USER_PASSWORD_AUTH'
  | 'ALLOW_USER_SRP_AUTH'
  | 'ALLOW_REFRESH_TOKEN_AUTH'
  | 'ALLOW_ADMIN_USER_PASSWORD_AUTH';

const EXPLICIT_AUTH_FLOWS: readonly ExplicitAuthFlow[] = [
  'ALLOW_USER_PASSWORD_AUTH',
  'ALLOW_USER_SRP_AUTH',
  'ALLOW_REFRESH_TOKEN_AUTH',
  'ALLOW_ADMIN_USER_PASSWORD_AUTH',
];

/**
 * Switches for behaviour that Cognito does not document (the `[unk]` items of the reference).
 * Library tests flip them to prove the library copes with either answer.
 */
export interface EmulatorSwitches {
  /** Echo `state` on authorize error redirects (default `true`, as RFC 6749 §4.1.2.1 asks). */
  echoStateOnError: boolean;
  /** `prompt=none` without a session: redirect with `error=login_required` (default) or ignore the prompt. */
  promptNone: 'login_required' | 'ignore';
  /** Reject a `code_verifier` when the code had no challenge (RFC 9700 §4.8). Default `false`. */
  rejectPkceDowngrade: boolean;
  /** Reusing a rotated-out refresh token after its grace period revokes the whole family. Default `false`. */
  refreshTokenReuseDetection: boolean;
  /** Answer `invalid_client` to a Basic-authenticated code exchange that carries PKCE (arctic#175). Default `false`. */
  basicAuthWithPkceFails: boolean;
  /** A failed code exchange consumes the code, so a retry gets `invalid_grant`. Default `true`. */
  failedExchangeBurnsCode: boolean;
  /** The `error` for a PKCE verifier mismatch. Default `invalid_grant` (RFC 7636 §4.6). */
  pkceMismatchError: 'invalid_grant' | 'invalid_request';
  /**
   * Refuse `code_verifier`s outside RFC 7636's 43–128 characters. Default `false`: like Cognito,
   * any length of unreserved characters is accepted as long as its SHA-256 matches the challenge
   * (flask-cognito-lib sends 35–43 characters and works against Cognito).
   */
  strictPkceVerifierLength: boolean;
}

/** The defaults of {@link EmulatorSwitches}. */
export const DEFAULT_SWITCHES: Readonly<EmulatorSwitches> = Object.freeze({
  echoStateOnError: true,
  promptNone: 'login_required',
  rejectPkceDowngrade: false,
  refreshTokenReuseDetection: false,
  basicAuthWithPkceFails: false,
  failedExchangeBurnsCode: true,
  pkceMismatchError: 'invalid_grant',
  strictPkceVerifierLength: false,
});

/**
 * The whole emulator configuration, as read from a JSON file or passed to `startEmulator`.
 *
 * @example
 * ```json
 * { "userPoolId": "eu-west-1_Test", "region": "eu-west-1",
 *   "clients": [{ "clientId": "app", "callbackUrls": ["http://localhost:3000/cb"], "allowedScopes": ["openid"] }],
 *   "users": [{ "username": "ann", "password": "Secret1!" }] }
 * ```
 */
export interface EmulatorConfig {
  /** `{region}_{id}`, e.g. `eu-west-1_LocalDemo`; the issuer is `{origin}/{userPoolId}`. */
  readonly userPoolId: string;
  /** Defaults to the part of the pool id before `_`. */
  readonly region?: string;
  readonly clients: readonly EmulatorClient[];
  readonly users: readonly EmulatorUser[];
  /** Groups with a description or precedence; groups named only by users are created as needed. */
  readonly groups?: readonly EmulatorGroup[];
  /**
   * Resource servers and their custom scopes. When any are declared, every custom scope a client
   * allows must belong to one of them (as in Cognito); with none, custom scopes are free-form.
   */
  readonly resourceServers?: readonly EmulatorResourceServer[];
  readonly switches?: Partial<EmulatorSwitches>;
}

/** One invalid configuration, listing every problem found. */
export class EmulatorConfigError extends Error {
  /** Each problem as `path: message`. */
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`Invalid emulator configuration (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'EmulatorConfigError';
    this.problems = problems;
  }
}

/** A client after defaults are applied. */
export interface ResolvedClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly anyLoopbackPort: boolean;
  readonly allowedScopes: readonly string[];
  readonly allowedOAuthFlows: readonly EmulatorOAuthFlow[];
  readonly accessTokenValiditySeconds: number;
  readonly idTokenValiditySeconds: number;
  readonly refreshTokenValiditySeconds: number;
  readonly rotation: { readonly enabled: boolean; readonly retryGracePeriodSeconds: number };
  readonly enableTokenRevocation: boolean;
  readonly explicitAuthFlows: readonly ExplicitAuthFlow[];
}

/** A user after defaults are applied. */
export interface ResolvedUser {
  readonly username: string;
  readonly password: string;
  readonly sub: string;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly phoneNumber: string | undefined;
  readonly phoneNumberVerified: boolean;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
  readonly status: UserStatus;
  readonly enabled: boolean;
  /** When the user was created (or loaded from the configuration), epoch milliseconds. */
  readonly createdAtMs: number;
  /** When the user last changed, epoch milliseconds. */
  readonly updatedAtMs: number;
}

const DEMO_USERS: readonly EmulatorUser[] = [
  { username: 'alice', password: DEMO_PASSWORD, email: 'alice@example.com', groups: ['admin'] },
  { username: 'bob', password: DEMO_PASSWORD, email: 'bob@example.com', groups: ['editor'] },
  { username: 'carol', password: DEMO_PASSWORD, email: 'carol@example.com' },
];

/**
 * A fresh copy of the demo configuration: pool `eu-west-1_LocalDemo`, client `demo-client` /
 * `demo-secret` registered for `/postlogin` and `/postlogout` on `http://localhost:3000` and
 * `http://127.0.0.1:3000` and, as a development default, the same paths on any other loopback
 * port (`anyLoopbackPort`), users `alice`
 * (group `admin`), `bob` (group `editor`) and `carol` (no group), all with {@link DEMO_PASSWORD}.
 *
 * @example
 * ```ts
 * const config = demoConfig();
 * const erin = { username: 'erin', password: 'Erin-Passw0rd!' };
 * const emulator = await startEmulator({ config: { ...config, users: [...config.users, erin] } });
 * ```
 */
export function demoConfig(): EmulatorConfig {
  return {
    userPoolId: 'eu-west-1_LocalDemo',
    region: 'eu-west-1',
    clients: [
      {
        clientId: 'demo-client',
        clientSecret: 'demo-secret',
        callbackUrls: ['http://localhost:3000/postlogin', 'http://127.0.0.1:3000/postlogin'],
        logoutUrls: ['http://localhost:3000/postlogout', 'http://127.0.0.1:3000/postlogout'],
        // A development default of the demo pool only: the example app may run on any PORT.
        anyLoopbackPort: true,
        allowedScopes: ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'],
      },
    ],
    users: DEMO_USERS.map((user) => ({ ...user, groups: [...(user.groups ?? [])] })),
  };
}

/**
 * The demo configuration (frozen); see {@link demoConfig} for a mutable copy.
 *
 * @example
 * ```ts
 * console.log(DEMO_CONFIG.users.map((u) => u.username)); // ['alice', 'bob', 'carol']
 * ```
 */
export const DEMO_CONFIG: EmulatorConfig = deepFreeze(demoConfig());

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POOL_ID_RE = /^[\w-]+_[0-9a-zA-Z]+$/;
const SCOPE_TOKEN_RE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A stable UUID (version-4 layout) for a user, so tokens keep the same `sub` across restarts.
 *
 * @example
 * ```ts
 * stableSub('eu-west-1_LocalDemo', 'alice'); // always the same UUID
 * ```
 */
export function stableSub(userPoolId: string, username: string): string {
  const hex = createHash('sha256').update(`${userPoolId}\0${username}`).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * True when `candidate` is one of `registered`: exactly (Cognito's rule: a trailing slash or
 * another port fails), or with `anyLoopbackPort`, a plain-http loopback URL that differs from a
 * registered one in its port only.
 *
 * @example
 * ```ts
 * isRegisteredUrl('http://localhost:4000/postlogin', ['http://localhost:3000/postlogin'], true); // true
 * isRegisteredUrl('http://localhost:4000/postlogin', ['http://localhost:3000/postlogin'], false); // false
 * ```
 */
export function isRegisteredUrl(
  candidate: string,
  registered: readonly string[],
  anyLoopbackPort: boolean,
): boolean {
  if (registered.includes(candidate)) return true;
  if (!anyLoopbackPort) return false;
  const portless = loopbackWithoutPort(candidate, true);
  return (
    portless !== undefined && registered.some((url) => loopbackWithoutPort(url, false) === portless)
  );
}

/**
 * A plain-http loopback URL with its port removed, else `undefined`. A candidate must already be
 * in the URL parser's canonical form, so backslashes, user info or odd encodings cannot make a
 * URL look like a registered one.
 */
function loopbackWithoutPort(value: string, requireCanonical: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (
    url.protocol !== 'http:' ||
    !LOOPBACK_HOSTS.has(url.hostname) ||
    url.username !== '' ||
    url.password !== '' ||
    value.includes('#') ||
    (requireCanonical && url.href !== value)
  ) {
    return undefined;
  }
  return `http://${url.hostname}${url.pathname}${url.search}`;
}

/** True for a scope that Cognito could know: reserved, or `<resourceServer>/<scope>`. */
export function isWellFormedScope(scope: string): boolean {
  if (!SCOPE_TOKEN_RE.test(scope)) return false;
  if (RESERVED_SCOPES.includes(scope)) return true;
  const slash = scope.lastIndexOf('/');
  return slash > 0 && slash < scope.length - 1;
}

/**
 * A callback or sign-out URL Cognito would accept: absolute, no fragment, HTTPS unless it is plain
 * http on loopback, or a custom app scheme.
 */
function urlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a non-empty string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (value.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return 'http is allowed only for localhost/127.0.0.1/[::1]';
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkLifetime(
  problems: string[],
  path: string,
  value: unknown,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${path}: must be an integer number of seconds from ${min} to ${max}`);
  }
}

function checkStringArray(problems: string[], path: string, value: unknown, required: boolean) {
  if (value === undefined && !required) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    problems.push(`${path}: must be an array of strings`);
    return false;
  }
  return true;
}

/** Problems with one client (paths prefixed with `path`). */
export function clientProblems(raw: unknown, path: string): string[] {
  const problems: string[] = [];
  if (!isRecord(raw)) return [`${path}: must be an object`];
  if (typeof raw.clientId !== 'string' || !/^[\w+.-]+$/.test(raw.clientId)) {
    problems.push(`${path}.clientId: must be a non-empty string of letters, digits, _ + . or -`);
  }
  if (
    raw.clientSecret !== undefined &&
    (typeof raw.clientSecret !== 'string' || raw.clientSecret === '')
  ) {
    problems.push(`${path}.clientSecret: must be a non-empty string (omit it for a public client)`);
  }
  for (const key of ['callbackUrls', 'logoutUrls'] as const) {
    if (checkStringArray(problems, `${path}.${key}`, raw[key], key === 'callbackUrls')) {
      (raw[key] as string[]).forEach((url, index) => {
        const problem = urlProblem(url);
        if (problem) problems.push(`${path}.${key}[${index}]: ${problem}`);
      });
    }
  }
  if (checkStringArray(problems, `${path}.allowedScopes`, raw.allowedScopes, true)) {
    (raw.allowedScopes as string[]).forEach((scope, index) => {
      if (!isWellFormedScope(scope)) {
        problems.push(
          `${path}.allowedScopes[${index}]: "${scope}" is neither a reserved scope nor <resourceServer>/<scope>`,
        );
      }
    });
  }
  if (checkStringArray(problems, `${path}.allowedOAuthFlows`, raw.allowedOAuthFlows, false)) {
    const flows = (raw.allowedOAuthFlows ?? []) as string[];
    if (flows.some((flow) => flow !== 'code' && flow !== 'client_credentials')) {
      problems.push(
        `${path}.allowedOAuthFlows: only "code" and "client_credentials" are supported`,
      );
    }
    if (flows.includes('code') && flows.includes('client_credentials')) {
      problems.push(
        `${path}.allowedOAuthFlows: client_credentials cannot share an app client with code`,
      );
    }
    if (flows.includes('client_credentials') && raw.clientSecret === undefined) {
      problems.push(`${path}: client_credentials needs a clientSecret`);
    }
  }
  checkLifetime(
    problems,
    `${path}.accessTokenValiditySeconds`,
    raw.accessTokenValiditySeconds,
    1,
    86_400,
  );
  checkLifetime(problems, `${path}.idTokenValiditySeconds`, raw.idTokenValiditySeconds, 1, 86_400);
  checkLifetime(
    problems,
    `${path}.refreshTokenValiditySeconds`,
    raw.refreshTokenValiditySeconds,
    1,
    315_360_000,
  );
  if (raw.refreshTokenRotation !== undefined) {
    const rotation = raw.refreshTokenRotation;
    if (!isRecord(rotation) || typeof rotation.enabled !== 'boolean') {
      problems.push(
        `${path}.refreshTokenRotation: must be { enabled: boolean, retryGracePeriodSeconds?: 0..60 }`,
      );
    } else {
      checkLifetime(
        problems,
        `${path}.refreshTokenRotation.retryGracePeriodSeconds`,
        rotation.retryGracePeriodSeconds,
        0,
        60,
      );
    }
  }
  if (checkStringArray(problems, `${path}.explicitAuthFlows`, raw.explicitAuthFlows, false)) {
    for (const flow of (raw.explicitAuthFlows ?? []) as string[]) {
      if (!(EXPLICIT_AUTH_FLOWS as readonly string[]).includes(flow)) {
        problems.push(
          `${path}.explicitAuthFlows: "${flow}" is not one of ${EXPLICIT_AUTH_FLOWS.join(', ')}`,
        );
      }
    }
  }
  for (const key of ['enableTokenRevocation', 'anyLoopbackPort'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') {
      problems.push(`${path}.${key}: must be a boolean`);
    }
  }
  return problems;
}

/** Problems with one user (paths prefixed with `path`). */
export function userProblems(raw: unknown, path: string): string[] {
  const problems: string[] = [];
  if (!isRecord(raw)) return [`${path}: must be an object`];
  if (typeof raw.username !== 'string' || raw.username.trim() === '') {
    problems.push(`${path}.username: must be a non-empty string`);
  }
  if (typeof raw.password !== 'string' || raw.password === '') {
    problems.push(`${path}.password: must be a non-empty string`);
  }
  for (const key of ['email', 'phoneNumber'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') {
      problems.push(`${path}.${key}: must be a string`);
    }
  }
  for (const key of ['emailVerified', 'phoneNumberVerified'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') {
      problems.push(`${path}.${key}: must be a boolean`);
    }
  }
  if (raw.sub !== undefined && (typeof raw.sub !== 'string' || !UUID_RE.test(raw.sub))) {
    problems.push(`${path}.sub: must be a lower-case UUID`);
  }
  checkStringArray(problems, `${path}.groups`, raw.groups, false);
  if (
    raw.status !== undefined &&
    raw.status !== 'CONFIRMED' &&
    raw.status !== 'UNCONFIRMED' &&
    raw.status !== 'FORCE_CHANGE_PASSWORD'
  ) {
    problems.push(`${path}.status: must be "CONFIRMED", "UNCONFIRMED" or "FORCE_CHANGE_PASSWORD"`);
  }
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') {
    problems.push(`${path}.enabled: must be a boolean`);
  }
  if (raw.attributes !== undefined) {
    if (
      !isRecord(raw.attributes) ||
      Object.values(raw.attributes).some((v) => typeof v !== 'string')
    ) {
      problems.push(
        `${path}.attributes: must be an object of string values (Cognito attributes are strings)`,
      );
    }
  }
  return problems;
}

const GROUP_NAME_RE = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/** Problems with one group (paths prefixed with `path`). */
export function groupProblems(raw: unknown, path: string): string[] {
  if (!isRecord(raw)) return [`${path}: must be an object`];
  const problems: string[] = [];
  if (typeof raw.groupName !== 'string' || !GROUP_NAME_RE.test(raw.groupName)) {
    problems.push(`${path}.groupName: must be 1-128 characters without spaces`);
  }
  if (raw.description !== undefined && typeof raw.description !== 'string') {
    problems.push(`${path}.description: must be a string`);
  }
  if (
    raw.precedence !== undefined &&
    (typeof raw.precedence !== 'number' || !Number.isInteger(raw.precedence) || raw.precedence < 0)
  ) {
    problems.push(`${path}.precedence: must be a non-negative integer`);
  }
  if (raw.roleArn !== undefined && typeof raw.roleArn !== 'string') {
    problems.push(`${path}.roleArn: must be a string`);
  }
  return problems;
}

/** Problems with one resource server (paths prefixed with `path`). */
export function resourceServerProblems(raw: unknown, path: string): string[] {
  if (!isRecord(raw)) return [`${path}: must be an object`];
  const problems: string[] = [];
  if (
    typeof raw.identifier !== 'string' ||
    raw.identifier.length > 256 ||
    !SCOPE_TOKEN_RE.test(raw.identifier)
  ) {
    problems.push(`${path}.identifier: must be 1-256 printable characters without spaces`);
  }
  if (raw.name !== undefined && typeof raw.name !== 'string') {
    problems.push(`${path}.name: must be a string`);
  }
  if (!Array.isArray(raw.scopes)) {
    problems.push(`${path}.scopes: must be an array of { name, description? }`);
  } else {
    raw.scopes.forEach((scope: unknown, index) => {
      if (
        !isRecord(scope) ||
        typeof scope.name !== 'string' ||
        !SCOPE_TOKEN_RE.test(scope.name) ||
        scope.name.includes('/')
      ) {
        problems.push(`${path}.scopes[${index}].name: must be a scope name without spaces or "/"`);
      }
    });
  }
  return problems;
}

/** The `<identifier>/<scope>` names the declared resource servers define. */
export function resourceServerScopes(
  servers: readonly EmulatorResourceServer[],
): ReadonlySet<string> {
  return new Set(
    servers.flatMap((server) => server.scopes.map((scope) => `${server.identifier}/${scope.name}`)),
  );
}

/**
 * Once resource servers are declared, a client may only be allowed the reserved scopes and the
 * servers' own: a custom scope no server defines would be a typo that Cognito refuses. Returns
 * one problem per such scope, under `path` (e.g. `clients[0]`); none when no server is declared.
 * The client must already be well-formed.
 *
 * @example
 * ```ts
 * const client: EmulatorClient = {
 *   clientId: 'app',
 *   callbackUrls: ['https://app.example/postlogin'],
 *   allowedScopes: ['openid', 'api/wirte'],
 * };
 * const api: EmulatorResourceServer = { identifier: 'api', name: 'API', scopes: [{ name: 'write' }] };
 * undeclaredScopeProblems(client, [api], 'client');
 * // ['client.allowedScopes: "api/wirte" is not a scope of any declared resource server']
 * ```
 */
export function undeclaredScopeProblems(
  client: EmulatorClient,
  servers: readonly EmulatorResourceServer[],
  path: string,
): string[] {
  if (servers.length === 0) return [];
  const defined = resourceServerScopes(servers);
  return client.allowedScopes
    .filter((scope) => !RESERVED_SCOPES.includes(scope) && !defined.has(scope))
    .map(
      (scope) => `${path}.allowedScopes: "${scope}" is not a scope of any declared resource server`,
    );
}

const SWITCH_VALUES: Record<keyof EmulatorSwitches, readonly unknown[]> = {
  echoStateOnError: [true, false],
  promptNone: ['login_required', 'ignore'],
  rejectPkceDowngrade: [true, false],
  refreshTokenReuseDetection: [true, false],
  basicAuthWithPkceFails: [true, false],
  failedExchangeBurnsCode: [true, false],
  pkceMismatchError: ['invalid_grant', 'invalid_request'],
  strictPkceVerifierLength: [true, false],
};

/**
 * Validates an unknown value (parsed JSON or a programmatic object) as an {@link EmulatorConfig}.
 *
 * @param source - named in the error message, e.g. the file path.
 * @throws EmulatorConfigError naming every problem.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 *
 * const config = parseEmulatorConfig(JSON.parse(readFileSync('emulator.json', 'utf8')), 'emulator.json');
 * ```
 */
export function parseEmulatorConfig(raw: unknown, source = 'config'): EmulatorConfig {
  if (!isRecord(raw))
    throw new EmulatorConfigError(source, ['the configuration must be a JSON object']);
  const problems: string[] = [];
  if (typeof raw.userPoolId !== 'string' || !POOL_ID_RE.test(raw.userPoolId)) {
    problems.push('userPoolId: must look like "<region>_<id>", e.g. "eu-west-1_LocalDemo"');
  }
  if (raw.region !== undefined && (typeof raw.region !== 'string' || raw.region === '')) {
    problems.push('region: must be a non-empty string');
  }
  if (!Array.isArray(raw.clients)) {
    problems.push('clients: must be an array');
  } else {
    const seen = new Set<unknown>();
    raw.clients.forEach((client: unknown, index) => {
      problems.push(...clientProblems(client, `clients[${index}]`));
      const id = isRecord(client) ? client.clientId : undefined;
      if (seen.has(id)) problems.push(`clients[${index}].clientId: duplicate "${String(id)}"`);
      seen.add(id);
    });
  }
  if (!Array.isArray(raw.users)) {
    problems.push('users: must be an array');
  } else {
    const seen = new Set<unknown>();
    raw.users.forEach((user: unknown, index) => {
      problems.push(...userProblems(user, `users[${index}]`));
      const name = isRecord(user) ? user.username : undefined;
      if (seen.has(name)) problems.push(`users[${index}].username: duplicate "${String(name)}"`);
      seen.add(name);
    });
  }
  if (raw.groups !== undefined) {
    if (!Array.isArray(raw.groups)) problems.push('groups: must be an array');
    else {
      raw.groups.forEach((group: unknown, index) => {
        problems.push(...groupProblems(group, `groups[${index}]`));
      });
    }
  }
  if (raw.resourceServers !== undefined) {
    if (!Array.isArray(raw.resourceServers)) problems.push('resourceServers: must be an array');
    else {
      raw.resourceServers.forEach((server: unknown, index) => {
        problems.push(...resourceServerProblems(server, `resourceServers[${index}]`));
      });
      // Only once everything is well-formed (the clients' scopes are then arrays of strings).
      if (problems.length === 0 && Array.isArray(raw.clients)) {
        const servers = raw.resourceServers as EmulatorResourceServer[];
        (raw.clients as EmulatorClient[]).forEach((client, index) => {
          problems.push(...undeclaredScopeProblems(client, servers, `clients[${index}]`));
        });
      }
    }
  }
  if (raw.switches !== undefined) {
    if (!isRecord(raw.switches)) {
      problems.push('switches: must be an object');
    } else {
      for (const [key, value] of Object.entries(raw.switches)) {
        const allowed = SWITCH_VALUES[key as keyof EmulatorSwitches] as
          readonly unknown[] | undefined;
        if (!allowed) problems.push(`switches.${key}: unknown switch`);
        else if (!allowed.includes(value)) {
          problems.push(
            `switches.${key}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
          );
        }
      }
    }
  }
  if (problems.length > 0) throw new EmulatorConfigError(source, problems);
  return raw as unknown as EmulatorConfig;
}

/**
 * Reads and validates a JSON configuration file.
 *
 * @throws EmulatorConfigError when the file is missing, not JSON, or invalid.
 * @example
 * ```ts
 * const config = loadEmulatorConfigFile('./cognito-emulator.json');
 * ```
 */
export function loadEmulatorConfigFile(path: string): EmulatorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EmulatorConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new EmulatorConfigError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseEmulatorConfig(raw, path);
}

/** Applies client defaults. */
export function resolveClient(client: EmulatorClient): ResolvedClient {
  return {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    callbackUrls: [...client.callbackUrls],
    logoutUrls: [...(client.logoutUrls ?? [])],
    anyLoopbackPort: client.anyLoopbackPort ?? false,
    allowedScopes: [...client.allowedScopes],
    allowedOAuthFlows: [...(client.allowedOAuthFlows ?? ['code'])],
    accessTokenValiditySeconds: client.accessTokenValiditySeconds ?? 3600,
    idTokenValiditySeconds: client.idTokenValiditySeconds ?? 3600,
    refreshTokenValiditySeconds: client.refreshTokenValiditySeconds ?? 30 * 86_400,
    rotation: {
      enabled: client.refreshTokenRotation?.enabled ?? false,
      retryGracePeriodSeconds: client.refreshTokenRotation?.retryGracePeriodSeconds ?? 0,
    },
    enableTokenRevocation: client.enableTokenRevocation ?? true,
    explicitAuthFlows: [...(client.explicitAuthFlows ?? EXPLICIT_AUTH_FLOWS)],
  };
}

/** Applies user defaults, including the stable `sub`; `nowMs` stamps its creation. */
export function resolveUser(
  user: EmulatorUser,
  userPoolId: string,
  nowMs: number = Date.now(),
): ResolvedUser {
  return {
    username: user.username,
    password: user.password,
    sub: user.sub ?? stableSub(userPoolId, user.username),
    email: user.email,
    emailVerified: user.emailVerified ?? user.email !== undefined,
    phoneNumber: user.phoneNumber,
    phoneNumberVerified: user.phoneNumberVerified ?? false,
    attributes: { ...(user.attributes ?? {}) },
    groups: [...new Set(user.groups ?? [])],
    status: user.status ?? 'CONFIRMED',
    enabled: user.enabled ?? true,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}
