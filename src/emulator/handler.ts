/**
 * The emulator as a Web-standard request handler: `fetch(Request) → Promise<Response>`. It routes
 * the Cognito user-pool endpoints, enforces Cognito's strictness (exact redirect URIs, S256 only,
 * single-use codes, form-encoded token requests, 400 JSON errors) and carries the test controls
 * (faults, clock offset, switches, key rotation, token minting).
 *
 * @see /work/shared/reference/cognito-endpoints.md (A1–A9) for the behaviour copied here.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

import { parseCookie, stringifySetCookie } from 'cookie';

import {
  DEFAULT_SWITCHES,
  DEMO_CONFIG,
  EmulatorConfigError,
  RESERVED_SCOPES,
  clientProblems,
  isWellFormedScope,
  parseEmulatorConfig,
  resolveClient,
  resolveUser,
  userProblems,
} from './config.js';
import type {
  EmulatorClient,
  EmulatorConfig,
  EmulatorSwitches,
  EmulatorUser,
  ResolvedClient,
  ResolvedUser,
} from './config.js';
import { KeyStore } from './key-store.js';
import type { KeyInfo, KeyUse } from './key-store.js';
import { HTML_HEADERS, renderErrorPage, renderLoginPage } from './login-page.js';
import { EmulatorState } from './state.js';
import type { RefreshRecord } from './state.js';
import { TokenIssuer } from './token-issuer.js';
import type { SignInGrant } from './token-issuer.js';

/** Cookie holding the emulator's 1-hour hosted-UI session; named so no app cookie collides. */
export const SESSION_COOKIE = 'cognito_emulator_session';
/** Cookie holding the login form's CSRF token (double-submit). */
export const CSRF_COOKIE = 'cognito_emulator_csrf';

/** Endpoints a fault can be set on. */
export type FaultEndpoint =
  | 'jwks'
  | 'openid-configuration'
  | 'token'
  | 'revoke'
  | 'userInfo'
  | 'authorize'
  | 'login'
  | 'logout';

/**
 * A fault for one endpoint. With `status`/`body` the endpoint answers that instead of its real
 * response; with only `delayMs` it answers normally but late; with `hang` it never answers until
 * the emulator stops.
 *
 * @example
 * ```ts
 * emulator.setFault('jwks', { status: 500, body: '<html>oops</html>', contentType: 'text/html' });
 * emulator.setFault('token', { delayMs: 5000 });
 * emulator.setFault('jwks', { hang: true, times: 1 });
 * ```
 */
export interface EmulatorFault {
  readonly status?: number;
  readonly body?: string;
  /** Default `text/plain; charset=utf-8` when a body is given. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly delayMs?: number;
  readonly hang?: boolean;
  /** Apply to this many requests, then clear itself. Default: until cleared. */
  readonly times?: number;
}

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

/** Per-request facts the transport knows and a Web `Request` does not. */
export interface RequestInfo {
  /** The peer address; `undefined` (in-process) counts as loopback for the admin endpoints. */
  readonly remoteAddress?: string | undefined;
}

/** Options for {@link CognitoEmulator.create}. */
export interface CognitoEmulatorOptions {
  /** Where the emulator is reachable, e.g. `http://127.0.0.1:9229`; the issuer is `{origin}/{poolId}`. */
  readonly origin: string;
  /** Default: {@link DEMO_CONFIG}. */
  readonly config?: EmulatorConfig;
  /** Overrides the config's switches. */
  readonly switches?: Partial<EmulatorSwitches>;
}

type Params = URLSearchParams;

interface AuthorizeRequest {
  readonly client: ResolvedClient;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly loginHint: string | undefined;
  readonly prompt: readonly string[];
}

type Validated =
  | { readonly ok: true; readonly request: AuthorizeRequest }
  | { readonly ok: false; readonly response: Response };

type ClientAuth =
  | { readonly client: ResolvedClient; readonly method: 'basic' | 'post' | 'none' }
  | { readonly error: 'invalid_client' | 'invalid_request' };

const FORM_TYPE = 'application/x-www-form-urlencoded';
const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/;
const USERINFO_400 =
  'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"';
const USERINFO_401 =
  'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."';
const LOOPBACK_RE = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value, 'ascii').digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
  });
}

const TOKEN_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'access-control-allow-origin': '*',
};

/** Cognito's token-endpoint error: HTTP 400 (even for invalid_client), body `{"error":…}` only. */
function tokenError(error: string, status = 400): Response {
  return json(status, { error }, TOKEN_HEADERS);
}

function redirect(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(null, { status: 302, headers });
}

function html(status: number, body: string, cookies: readonly string[] = []): Response {
  const headers = new Headers(HTML_HEADERS);
  for (const cookie of cookies) headers.append('set-cookie', cookie);
  return new Response(body, { status, headers });
}

function methodNotAllowed(allow: string): Response {
  return new Response('Method Not Allowed', {
    status: 405,
    headers: { allow, 'content-type': 'text/plain; charset=utf-8' },
  });
}

/** Parses a form body strictly: every parameter at most once (RFC 6749 §3.1, §3.2). */
async function readForm(request: Request): Promise<Params | undefined> {
  const type = request.headers.get('content-type') ?? '';
  if (type.split(';')[0]?.trim().toLowerCase() !== FORM_TYPE) return undefined;
  const params = new URLSearchParams(await request.text());
  const names = [...params.keys()];
  if (new Set(names).size !== names.length) return undefined;
  return params;
}

function optional(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

function isJwtShaped(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

function sleep(ms: number, cancelled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
    cancelled,
  ]).finally(() => {
    clearTimeout(timer);
  });
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
export class CognitoEmulator {
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

  readonly #keys: KeyStore;
  readonly #issuer: TokenIssuer;
  readonly #state = new EmulatorState();
  readonly #clients = new Map<string, ResolvedClient>();
  readonly #users = new Map<string, ResolvedUser>();
  readonly #faults = new Map<FaultEndpoint, { fault: EmulatorFault; remaining: number }>();
  #clockOffsetSeconds = 0;
  readonly #closed: Promise<void>;
  #close: () => void = () => undefined;

  private constructor(options: CognitoEmulatorOptions, config: EmulatorConfig, keys: KeyStore) {
    this.origin = options.origin.replace(/\/+$/, '');
    this.domain = this.origin;
    this.poolId = config.userPoolId;
    this.region = config.region ?? config.userPoolId.split('_')[0] ?? 'us-east-1';
    this.issuer = `${this.origin}/${this.poolId}`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.discoveryUrl = `${this.issuer}/.well-known/openid-configuration`;
    this.switches = { ...DEFAULT_SWITCHES, ...config.switches, ...options.switches };
    this.#keys = keys;
    this.#issuer = new TokenIssuer(
      keys,
      this.issuer,
      () => Math.floor(Date.now() / 1000) + this.#clockOffsetSeconds,
    );
    for (const client of config.clients) this.#clients.set(client.clientId, resolveClient(client));
    for (const user of config.users) this.#users.set(user.username, resolveUser(user, this.poolId));
    this.#closed = new Promise((resolve) => {
      this.#close = resolve;
    });
  }

  /**
   * Validates the configuration and makes the signing keys.
   *
   * @throws EmulatorConfigError for an invalid configuration or origin.
   */
  static async create(options: CognitoEmulatorOptions): Promise<CognitoEmulator> {
    const config = parseEmulatorConfig(options.config ?? DEMO_CONFIG, 'emulator options');
    let origin: URL;
    try {
      origin = new URL(options.origin);
    } catch {
      throw new EmulatorConfigError('emulator options', [`origin: not a URL: ${options.origin}`]);
    }
    if (origin.pathname !== '/' || origin.search !== '' || origin.hash !== '') {
      throw new EmulatorConfigError('emulator options', [
        'origin: must be scheme://host[:port] only',
      ]);
    }
    return new CognitoEmulator(options, config, await KeyStore.create());
  }

  /** Handles one request. Bound, so it can be passed around as a plain function. */
  readonly fetch = async (request: Request, info: RequestInfo = {}): Promise<Response> => {
    const url = new URL(request.url);
    const route = this.#route(request.method, url.pathname);
    if (route.fault) {
      const faulted = await this.#applyFault(route.fault);
      if (faulted) return faulted;
    }
    return route.handle(request, url, info);
  };

  /** Releases requests held by `hang`/`delayMs` faults; call when stopping. */
  close(): void {
    this.#close();
  }

  // ---- test and admin controls -------------------------------------------------------------

  /**
   * Adds (or replaces) a user.
   *
   * @throws EmulatorConfigError for an invalid user.
   */
  addUser(user: EmulatorUser): ResolvedUser {
    const problems = userProblems(user, 'user');
    if (problems.length > 0) throw new EmulatorConfigError('addUser', problems);
    const resolved = resolveUser(user, this.poolId);
    this.#users.set(resolved.username, resolved);
    return resolved;
  }

  /** Removes a user; its tokens then fail at userInfo and refresh. */
  removeUser(username: string): boolean {
    return this.#users.delete(username);
  }

  /** The users, as resolved (with their `sub`). */
  users(): ResolvedUser[] {
    return [...this.#users.values()];
  }

  /**
   * Adds (or replaces) an app client.
   *
   * @throws EmulatorConfigError for an invalid client.
   */
  addClient(client: EmulatorClient): ResolvedClient {
    const problems = clientProblems(client, 'client');
    if (problems.length > 0) throw new EmulatorConfigError('addClient', problems);
    const resolved = resolveClient(client);
    this.#clients.set(resolved.clientId, resolved);
    return resolved;
  }

  /** The app clients, as resolved. */
  clients(): ResolvedClient[] {
    return [...this.#clients.values()];
  }

  /** Makes new active signing keys (both uses, or one); old keys stay published. */
  rotateKeys(use?: KeyUse): Promise<KeyInfo[]> {
    return this.#keys.rotate(use);
  }

  /** Removes a key from the JWKS (all inactive keys when `kid` is omitted). */
  retireKey(kid?: string): string[] {
    return this.#keys.retire(kid);
  }

  /** The published keys. */
  keys(): KeyInfo[] {
    return this.#keys.list();
  }

  /** Sets (or with `null` clears) the fault of one endpoint. */
  setFault(endpoint: FaultEndpoint, fault: EmulatorFault | null): void {
    if (fault === null) this.#faults.delete(endpoint);
    else this.#faults.set(endpoint, { fault, remaining: fault.times ?? Infinity });
  }

  /** Clears every fault. */
  clearFaults(): void {
    this.#faults.clear();
  }

  /** Shifts `iat`/`exp`/`auth_time` of issued tokens by this many seconds (negative = past). */
  setClockOffset(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new RangeError('clock offset must be a finite number');
    this.#clockOffsetSeconds = Math.trunc(seconds);
  }

  /**
   * Signs an arbitrary access or ID token with the emulator's keys, starting from the claims a
   * real sign-in would produce, so tests can build hostile tokens.
   */
  async mintToken(options: MintTokenOptions): Promise<string> {
    const user =
      (options.username !== undefined ? this.#users.get(options.username) : undefined) ??
      this.#users.values().next().value ??
      resolveUser({ username: options.username ?? 'test-user', password: 'x' }, this.poolId);
    const client =
      (options.clientId !== undefined ? this.#clients.get(options.clientId) : undefined) ??
      this.#clients.values().next().value ??
      resolveClient({
        clientId: options.clientId ?? 'test-client',
        callbackUrls: [],
        allowedScopes: ['openid'],
      });
    const now = this.#issuer.nowSeconds();
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
        ? this.#issuer.accessClaims(grant, now)
        : this.#issuer.idClaims(grant, now, undefined);
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) Reflect.deleteProperty(claims, name);
      else claims[name] = value;
    }
    for (const name of options.omit ?? []) Reflect.deleteProperty(claims, name);
    return this.#issuer.signArbitrary(options.key ?? options.use, claims, options.header);
  }

  // ---- routing ------------------------------------------------------------------------------

  #route(
    method: string,
    path: string,
  ): {
    fault?: FaultEndpoint;
    handle: (request: Request, url: URL, info: RequestInfo) => Promise<Response> | Response;
  } {
    const only =
      (
        allowed: string,
        fn: (request: Request, url: URL, info: RequestInfo) => Promise<Response> | Response,
      ) =>
      (request: Request, url: URL, info: RequestInfo) =>
        allowed.split(',').includes(method) ? fn(request, url, info) : methodNotAllowed(allowed);
    switch (path) {
      case '/oauth2/authorize':
        return {
          fault: 'authorize',
          handle: only('GET', (request, url) => this.#authorize(request, url)),
        };
      case '/login':
        return {
          fault: 'login',
          handle: only('GET,POST', (request, url) =>
            method === 'POST' ? this.#loginPost(request, url) : this.#loginGet(request, url),
          ),
        };
      case '/oauth2/token':
        return {
          fault: 'token',
          handle: (request, url, info) =>
            method === 'OPTIONS'
              ? new Response(null, {
                  status: 204,
                  headers: {
                    ...TOKEN_HEADERS,
                    'access-control-allow-methods': 'POST',
                    'access-control-allow-headers': 'authorization, content-type',
                  },
                })
              : only('POST', (r) => this.#token(r))(request, url, info),
        };
      case '/oauth2/revoke':
        return { fault: 'revoke', handle: only('POST', (request) => this.#revoke(request)) };
      case '/oauth2/userInfo':
        return { fault: 'userInfo', handle: only('GET', (request) => this.#userInfo(request)) };
      case '/logout':
        return {
          fault: 'logout',
          handle: only('GET', (request, url) => this.#logout(request, url)),
        };
      case '/error':
        return {
          handle: only('GET', (_r, url) =>
            html(400, renderErrorPage(url.searchParams.get('error') ?? 'An error occurred.')),
          ),
        };
      case `/${this.poolId}/.well-known/jwks.json`:
        return {
          fault: 'jwks',
          handle: only('GET', () =>
            json(200, this.#keys.jwks(), { 'access-control-allow-origin': '*' }),
          ),
        };
      case `/${this.poolId}/.well-known/openid-configuration`:
        return {
          fault: 'openid-configuration',
          handle: only('GET', () =>
            json(200, this.#discovery(), { 'access-control-allow-origin': '*' }),
          ),
        };
      case '/_emulator/keys':
        return {
          handle: only('GET', (_r, _u, info) => this.#admin(info, () => ({ keys: this.keys() }))),
        };
      case '/_emulator/keys/rotate':
        return {
          handle: only('POST', (request, _u, info) =>
            this.#adminPost(request, info, async (body) => {
              const use = body.use;
              if (use !== undefined && use !== 'access' && use !== 'id') {
                throw new RangeError('use must be "access" or "id"');
              }
              return { added: await this.rotateKeys(use), keys: this.keys() };
            }),
          ),
        };
      case '/_emulator/keys/retire':
        return {
          handle: only('POST', (request, _u, info) =>
            this.#adminPost(request, info, (body) => {
              if (body.kid !== undefined && typeof body.kid !== 'string') {
                throw new RangeError('kid must be a string');
              }
              return Promise.resolve({ retired: this.retireKey(body.kid), keys: this.keys() });
            }),
          ),
        };
      case '/':
        return {
          handle: only('GET', () =>
            json(200, {
              emulator: 'cognito-guard local Cognito emulator',
              domain: this.domain,
              issuer: this.issuer,
              jwks_uri: this.jwksUri,
              openid_configuration: this.discoveryUrl,
            }),
          ),
        };
      default:
        return {
          handle: () =>
            new Response('Not Found', {
              status: 404,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
            }),
        };
    }
  }

  async #applyFault(endpoint: FaultEndpoint): Promise<Response | undefined> {
    const entry = this.#faults.get(endpoint);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#faults.delete(endpoint);
    const { fault } = entry;
    if (fault.hang) {
      await this.#closed;
      return new Response('emulator stopped', { status: 503 });
    }
    if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs, this.#closed);
    if (fault.status === undefined && fault.body === undefined) return undefined;
    return new Response(fault.body ?? '', {
      status: fault.status ?? 200,
      headers: {
        'content-type': fault.contentType ?? 'text/plain; charset=utf-8',
        ...fault.headers,
      },
    });
  }

  #discovery(): Record<string, unknown> {
    // Same members (and order) as a real pool's document; Cognito publishes no revocation or end-session endpoint.
    return {
      authorization_endpoint: `${this.origin}/oauth2/authorize`,
      id_token_signing_alg_values_supported: ['RS256'],
      issuer: this.issuer,
      jwks_uri: this.jwksUri,
      response_types_supported: ['code', 'token'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: `${this.origin}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${this.origin}/oauth2/userInfo`,
    };
  }

  #admin(info: RequestInfo, fn: () => unknown): Response {
    if (info.remoteAddress !== undefined && !LOOPBACK_RE.test(info.remoteAddress)) {
      return json(403, { error: 'admin endpoints answer loopback callers only' });
    }
    return json(200, fn());
  }

  async #adminPost(
    request: Request,
    info: RequestInfo,
    fn: (body: Record<string, unknown>) => Promise<unknown>,
  ): Promise<Response> {
    if (info.remoteAddress !== undefined && !LOOPBACK_RE.test(info.remoteAddress)) {
      return json(403, { error: 'admin endpoints answer loopback callers only' });
    }
    // A JSON content type forces a CORS preflight, so a web page cannot drive these endpoints.
    if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return json(415, { error: 'send Content-Type: application/json' });
    }
    let body: unknown;
    try {
      const text = await request.text();
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return json(400, { error: 'body is not JSON' });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return json(400, { error: 'body must be a JSON object' });
    }
    try {
      return json(200, await fn(body as Record<string, unknown>));
    } catch (error) {
      return json(400, { error: (error as Error).message });
    }
  }

  // ---- /oauth2/authorize and /login ---------------------------------------------------------

  #errorPage(error: string, clientId?: string): Response {
    const target = new URL('/error', this.origin);
    target.searchParams.set('error', error);
    if (clientId !== undefined) target.searchParams.set('client_id', clientId);
    return redirect(target.href);
  }

  #errorRedirect(
    redirectUri: string,
    error: string,
    state: string | undefined,
    description?: string,
  ) {
    const target = new URL(redirectUri);
    target.searchParams.set('error', error);
    if (description !== undefined) target.searchParams.set('error_description', description);
    if (state !== undefined && this.switches.echoStateOnError)
      target.searchParams.set('state', state);
    return redirect(target.href);
  }

  /** Validates authorize parameters in Cognito's order: client + redirect first, never redirecting to an unvalidated URI. */
  #validateAuthorize(params: Params): Validated {
    const clientId = optional(params, 'client_id');
    const redirectUri = optional(params, 'redirect_uri');
    if (clientId === undefined || redirectUri === undefined) {
      return { ok: false, response: this.#errorPage('Required parameters missing') };
    }
    const client = this.#clients.get(clientId);
    if (!client?.callbackUrls.includes(redirectUri) || !client.allowedOAuthFlows.includes('code')) {
      return { ok: false, response: this.#errorPage('redirect_mismatch', clientId) };
    }
    const state = params.get('state') ?? undefined;
    const fail = (error: string, description?: string): Validated => ({
      ok: false,
      response: this.#errorRedirect(redirectUri, error, state, description),
    });
    const responseType = optional(params, 'response_type');
    if (responseType === 'token') return fail('unauthorized_client');
    if (responseType !== 'code') return fail('invalid_request');
    const method = optional(params, 'code_challenge_method');
    const challenge = optional(params, 'code_challenge');
    if (method !== undefined || challenge !== undefined) {
      if (method !== 'S256' || challenge === undefined || !CHALLENGE_RE.test(challenge)) {
        return fail('invalid_request');
      }
    }
    const idp = optional(params, 'identity_provider') ?? optional(params, 'idp_identifier');
    if (idp !== undefined && idp !== 'COGNITO') {
      return fail('invalid_request', 'The emulator has no federated identity providers');
    }
    const scopes = this.#grantScopes(params.get('scope'), client);
    if (scopes === undefined) return fail('invalid_scope');
    return {
      ok: true,
      request: {
        client,
        redirectUri,
        scopes,
        state,
        nonce: params.get('nonce') ?? undefined,
        codeChallenge: challenge,
        loginHint: optional(params, 'login_hint'),
        prompt: (params.get('prompt') ?? '').split(' ').filter(Boolean),
      },
    };
  }

  /**
   * No scope → all the client's scopes; unknown or malformed → `undefined` (invalid_scope);
   * well-formed but not allowed for the client → ignored.
   */
  #grantScopes(requested: string | null, client: ResolvedClient): string[] | undefined {
    if (requested === null || requested.trim() === '') return [...client.allowedScopes];
    const known = new Set([
      ...RESERVED_SCOPES,
      ...[...this.#clients.values()].flatMap((c) => c.allowedScopes),
    ]);
    const names = requested.split(' ').filter(Boolean);
    if (names.some((name) => !isWellFormedScope(name) || !known.has(name))) return undefined;
    const granted = [...new Set(names)].filter((name) => client.allowedScopes.includes(name));
    return granted.length > 0 ? granted : undefined;
  }

  #codeRedirect(
    request: AuthorizeRequest,
    username: string,
    authTime: number,
    cookies: string[] = [],
  ) {
    const code = this.#state.issueCode({
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes: request.scopes,
      username,
      authTime,
      nonce: request.nonce,
    });
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', code);
    if (request.state !== undefined) target.searchParams.set('state', request.state);
    return redirect(target.href, cookies);
  }

  #cookies(request: Request): Record<string, string | undefined> {
    return parseCookie(request.headers.get('cookie') ?? '');
  }

  #setCookie(name: string, value: string, maxAgeSeconds: number): string {
    return stringifySetCookie(name, value, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: maxAgeSeconds,
      secure: this.origin.startsWith('https:'),
    });
  }

  #liveSession(request: Request) {
    const session = this.#state.getSession(this.#cookies(request)[SESSION_COOKIE]);
    return session && this.#users.has(session.username) ? session : undefined;
  }

  #authorize(request: Request, url: URL): Response {
    const validated = this.#validateAuthorize(url.searchParams);
    if (!validated.ok) return validated.response;
    const authorize = validated.request;
    const live = this.#liveSession(request);
    const toLogin = () => redirect(`${this.origin}/login${url.search}`);
    if (authorize.prompt.includes('login')) return toLogin();
    if (live) return this.#codeRedirect(authorize, live.username, live.authTime);
    if (authorize.prompt.includes('none') && this.switches.promptNone === 'login_required') {
      return this.#errorRedirect(authorize.redirectUri, 'login_required', authorize.state);
    }
    return toLogin();
  }

  #loginForm(
    request: Request,
    url: URL,
    status: number,
    username: string | undefined,
    error: string | undefined,
  ): Response {
    const existing = this.#cookies(request)[CSRF_COOKIE];
    const csrf =
      existing && /^[A-Za-z0-9_-]{43}$/.test(existing)
        ? existing
        : randomBytes(32).toString('base64url');
    return html(
      status,
      renderLoginPage({
        action: `/login${url.search}`,
        csrfToken: csrf,
        username,
        error,
        poolId: this.poolId,
      }),
      [this.#setCookie(CSRF_COOKIE, csrf, 3600)],
    );
  }

  #loginGet(request: Request, url: URL): Response {
    const validated = this.#validateAuthorize(url.searchParams);
    if (!validated.ok) return validated.response;
    return this.#loginForm(request, url, 200, validated.request.loginHint, undefined);
  }

  async #loginPost(request: Request, url: URL): Promise<Response> {
    const validated = this.#validateAuthorize(url.searchParams);
    if (!validated.ok) return validated.response;
    const form = await readForm(request);
    if (!form) return html(400, renderErrorPage('The sign-in form must be posted as a form.'));
    const username = form.get('username') ?? '';
    const csrfCookie = this.#cookies(request)[CSRF_COOKIE];
    const csrfField = form.get('_csrf');
    if (!csrfCookie || !csrfField || !safeEqual(csrfCookie, csrfField)) {
      return this.#loginForm(
        request,
        url,
        403,
        username,
        'Your sign-in form expired. Please try again.',
      );
    }
    const user = this.#users.get(username);
    const password = form.get('password') ?? '';
    // Compare against a dummy for unknown users so timing does not reveal who exists.
    const passwordOk =
      safeEqual(password, user?.password ?? `\0${randomUUID()}`) && user !== undefined;
    if (!user || !passwordOk) {
      return this.#loginForm(request, url, 400, username, 'Incorrect username or password.');
    }
    const authTime = this.#issuer.nowSeconds();
    const sessionId = this.#state.createSession(user.username, authTime);
    return this.#codeRedirect(validated.request, user.username, authTime, [
      this.#setCookie(SESSION_COOKIE, sessionId, 3600),
    ]);
  }

  // ---- /logout --------------------------------------------------------------------------------

  #logout(request: Request, url: URL): Response {
    const params = url.searchParams;
    const clientId = optional(params, 'client_id');
    const client = clientId === undefined ? undefined : this.#clients.get(clientId);
    const logoutUri = optional(params, 'logout_uri');
    const redirectUri = optional(params, 'redirect_uri');
    const clear = [this.#setCookie(SESSION_COOKIE, '', 0)];
    const endSession = () => {
      this.#state.deleteSession(this.#cookies(request)[SESSION_COOKIE]);
    };
    if (!client) return this.#errorPage("Required String parameter 'client_id' is not present");
    if (logoutUri !== undefined) {
      if (!client.logoutUrls.includes(logoutUri)) {
        return this.#errorPage("Required String parameter 'redirect_uri' is not present");
      }
      endSession();
      return redirect(logoutUri, clear);
    }
    if (redirectUri !== undefined) {
      if (!client.callbackUrls.includes(redirectUri))
        return this.#errorPage('redirect_mismatch', client.clientId);
      endSession();
      return redirect(`${this.origin}/login${url.search}`, clear);
    }
    return this.#errorPage("Required String parameter 'redirect_uri' is not present");
  }

  // ---- /oauth2/token ------------------------------------------------------------------------

  #authenticateClient(request: Request, form: Params): ClientAuth {
    const header = request.headers.get('authorization');
    const bodyId = optional(form, 'client_id');
    const bodySecret = optional(form, 'client_secret');
    if (header !== null) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      if (!match?.[1]) return { error: 'invalid_client' };
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { error: 'invalid_client' };
      const decode = (value: string) => {
        try {
          return decodeURIComponent(value.replaceAll('+', ' '));
        } catch {
          return value;
        }
      };
      const id = decode(decoded.slice(0, colon));
      const secret = decode(decoded.slice(colon + 1));
      // RFC 6749 §2.3: one authentication method per request.
      if (bodySecret !== undefined) return { error: 'invalid_request' };
      if (bodyId !== undefined && bodyId !== id) return { error: 'invalid_client' };
      const client = this.#clients.get(id);
      if (!client?.clientSecret || !safeEqual(secret, client.clientSecret))
        return { error: 'invalid_client' };
      return { client, method: 'basic' };
    }
    const client = bodyId === undefined ? undefined : this.#clients.get(bodyId);
    if (!client) return { error: 'invalid_client' };
    if (client.clientSecret === undefined) {
      return bodySecret === undefined ? { client, method: 'none' } : { error: 'invalid_client' };
    }
    if (bodySecret === undefined || !safeEqual(bodySecret, client.clientSecret))
      return { error: 'invalid_client' };
    return { client, method: 'post' };
  }

  async #token(request: Request): Promise<Response> {
    const form = await readForm(request);
    if (!form) return tokenError('invalid_request');
    const grantType = optional(form, 'grant_type');
    if (grantType === undefined) return tokenError('invalid_request');
    if (!['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType)) {
      return tokenError('unsupported_grant_type');
    }
    const auth = this.#authenticateClient(request, form);
    if ('error' in auth) return tokenError(auth.error);
    if (grantType === 'authorization_code') return this.#codeGrant(form, auth.client, auth.method);
    if (grantType === 'refresh_token') return this.#refreshGrant(form, auth.client);
    return this.#clientCredentialsGrant(form, auth.client);
  }

  #codeGrant(form: Params, client: ResolvedClient, method: 'basic' | 'post' | 'none'): Response {
    if (!client.allowedOAuthFlows.includes('code')) return tokenError('unauthorized_client');
    const code = optional(form, 'code');
    const redirectUri = optional(form, 'redirect_uri');
    if (code === undefined || redirectUri === undefined) return tokenError('invalid_request');
    const record = this.#state.peekCode(code);
    if (!record) return tokenError('invalid_grant');
    const fail = (error: string) => {
      if (this.switches.failedExchangeBurnsCode) this.#state.burnCode(code);
      return tokenError(error);
    };
    if (record.clientId !== client.clientId) return fail('invalid_grant');
    const verifier = optional(form, 'code_verifier');
    if (this.switches.basicAuthWithPkceFails && method === 'basic' && verifier !== undefined) {
      return fail('invalid_client');
    }
    if (record.redirectUri !== redirectUri) return fail('unauthorized_client');
    if (record.codeChallenge !== undefined) {
      if (verifier === undefined) return fail('invalid_request');
      if (!VERIFIER_RE.test(verifier) || sha256Base64Url(verifier) !== record.codeChallenge) {
        return fail(this.switches.pkceMismatchError);
      }
    } else if (verifier !== undefined && this.switches.rejectPkceDowngrade) {
      return fail('invalid_grant');
    }
    const user = this.#users.get(record.username);
    if (!user) return fail('invalid_grant');
    this.#state.burnCode(code);
    const eventId = randomUUID();
    const { family, refreshToken } = this.#state.createFamily({
      clientId: client.clientId,
      username: user.username,
      scopes: record.scopes,
      authTime: record.authTime,
      eventId,
      expiresAtMs: Date.now() + client.refreshTokenValiditySeconds * 1000,
    });
    const tokens = this.#issuer.issue({
      user,
      client,
      scopes: record.scopes,
      authTime: record.authTime,
      originJti: family.originJti,
      eventId,
      nonce: record.nonce,
    });
    return json(
      200,
      {
        access_token: tokens.access_token,
        ...(tokens.id_token !== undefined ? { id_token: tokens.id_token } : {}),
        refresh_token: refreshToken,
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
      },
      TOKEN_HEADERS,
    );
  }

  #refreshUsable(record: RefreshRecord, client: ResolvedClient): boolean {
    const { family } = record;
    if (family.clientId !== client.clientId || family.revoked || family.expiresAtMs <= Date.now())
      return false;
    if (record.rotatedOutUntilMs !== undefined && record.rotatedOutUntilMs <= Date.now()) {
      if (this.switches.refreshTokenReuseDetection) this.#state.revokeFamily(family);
      return false;
    }
    return true;
  }

  #refreshGrant(form: Params, client: ResolvedClient): Response {
    if (!client.allowedOAuthFlows.includes('code')) return tokenError('unauthorized_client');
    const token = optional(form, 'refresh_token');
    if (token === undefined) return tokenError('invalid_request');
    const record = this.#state.getRefresh(token);
    if (!record || !this.#refreshUsable(record, client)) return tokenError('invalid_grant');
    const { family } = record;
    const user = this.#users.get(family.username);
    if (!user) return tokenError('invalid_grant');
    const tokens = this.#issuer.issue({
      user,
      client,
      scopes: family.scopes,
      authTime: family.authTime,
      originJti: family.originJti,
      eventId: family.eventId,
    });
    const rotated = client.rotation.enabled
      ? this.#state.rotate(record, client.rotation.retryGracePeriodSeconds * 1000)
      : undefined;
    return json(
      200,
      {
        access_token: tokens.access_token,
        ...(tokens.id_token !== undefined ? { id_token: tokens.id_token } : {}),
        ...(rotated !== undefined ? { refresh_token: rotated } : {}),
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
      },
      TOKEN_HEADERS,
    );
  }

  #clientCredentialsGrant(form: Params, client: ResolvedClient): Response {
    if (
      !client.allowedOAuthFlows.includes('client_credentials') ||
      client.clientSecret === undefined
    ) {
      return tokenError('unauthorized_client');
    }
    const custom = client.allowedScopes.filter((scope) => !RESERVED_SCOPES.includes(scope));
    const requested = optional(form, 'scope')?.split(' ').filter(Boolean);
    const scopes = requested ?? custom;
    if (scopes.length === 0 || scopes.some((scope) => !custom.includes(scope)))
      return tokenError('invalid_scope');
    return json(
      200,
      this.#issuer.issueClientCredentials(client, [...new Set(scopes)]),
      TOKEN_HEADERS,
    );
  }

  // ---- /oauth2/revoke -----------------------------------------------------------------------

  async #revoke(request: Request): Promise<Response> {
    const form = await readForm(request);
    if (!form) return json(400, { error: 'invalid_request' });
    const auth = this.#authenticateClient(request, form);
    if ('error' in auth)
      return json(auth.error === 'invalid_client' ? 401 : 400, { error: auth.error });
    const token = optional(form, 'token');
    if (token === undefined || !auth.client.enableTokenRevocation)
      return json(400, { error: 'invalid_request' });
    if (isJwtShaped(token)) return json(400, { error: 'unsupported_token_type' });
    const record = this.#state.getRefresh(token);
    // Cognito answers 200 for unknown or already-revoked tokens; another client's token is left alone.
    if (record && record.family.clientId === auth.client.clientId)
      this.#state.revokeFamily(record.family);
    return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
  }

  // ---- /oauth2/userInfo ---------------------------------------------------------------------

  #userInfo(request: Request): Response {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!match?.[1]) {
      return json(400, { error: 'invalid_request' }, { 'www-authenticate': USERINFO_400 });
    }
    const claims = this.#keys.verify(match[1]);
    const unauthorized = () =>
      json(401, { error: 'invalid_token' }, { 'www-authenticate': USERINFO_401 });
    if (
      !claims ||
      claims.token_use !== 'access' ||
      claims.iss !== this.issuer ||
      typeof claims.exp !== 'number' ||
      claims.exp * 1000 <= Date.now() ||
      typeof claims.scope !== 'string' ||
      typeof claims.username !== 'string'
    ) {
      return unauthorized();
    }
    const scopes = claims.scope.split(' ');
    if (!scopes.includes('openid')) return unauthorized();
    const family =
      typeof claims.origin_jti === 'string' ? this.#state.getFamily(claims.origin_jti) : undefined;
    if (family?.revoked) return unauthorized();
    const user = this.#users.get(claims.username);
    if (!user || user.sub !== claims.sub) return unauthorized();
    return json(200, userInfoBody(user, scopes));
  }
}

const PROFILE_ATTRIBUTES = new Set([
  'name',
  'family_name',
  'given_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
]);

/** userInfo's body: attributes by scope, `*_verified` as strings, and a `username` field. */
function userInfoBody(user: ResolvedUser, scopes: readonly string[]): Record<string, string> {
  const everything = !scopes.some(
    (scope) => scope === 'email' || scope === 'phone' || scope === 'profile',
  );
  const email = everything || scopes.includes('email');
  const phone = everything || scopes.includes('phone');
  const profile = everything || scopes.includes('profile');
  const body: Record<string, string> = { sub: user.sub };
  for (const [name, value] of Object.entries(user.attributes)) {
    if (everything || (profile && (PROFILE_ATTRIBUTES.has(name) || name.startsWith('custom:'))))
      body[name] = value;
  }
  if (phone && user.phoneNumber !== undefined) {
    body.phone_number_verified = String(user.phoneNumberVerified);
    body.phone_number = user.phoneNumber;
  }
  if (email && user.email !== undefined) {
    body.email_verified = String(user.emailVerified);
    body.email = user.email;
  }
  body.username = user.username;
  return body;
}
