/**
 * Configuration: the typed options object, its validation, and {@link fromEnv}, which reads the
 * environment names flask-cognito-lib uses.
 *
 * Everything is validated once, at construction, and every problem is reported in one
 * {@link ConfigurationError}. An option name that cognito-guard does not know is a problem too:
 * from plain JavaScript a typo such as `secretkey` would otherwise be silently ignored.
 *
 * @module
 */
import { deriveEndpoints, defaultIssuer, type CognitoEndpoints } from './endpoints.js';
import { ConfigurationError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { DEFAULTS, LIMITS } from './limits.js';
import {
  MemorySessionStore,
  sessionStoreFactory,
  type SessionStore,
  type SessionStoreContext,
  type SessionStoreFactory,
} from './store-session.js';

export type { CognitoEndpoints };

/** A URL, or a function of the request that returns one (flask-cognito-lib's `url_for` override). */
export type UrlOption = string | ((request: IncomingRequest) => string);

/**
 * Where cognito-guard reports events. Messages and fields never contain tokens, codes or secrets.
 *
 * @example
 * ```ts
 * const logger: CognitoGuardLogger = { warn: (message, fields) => { console.warn(message, fields); } };
 * ```
 */
export interface CognitoGuardLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Options for {@link CognitoGuard}. Names mirror flask-cognito-lib's settings in camelCase;
 * durations carry their unit. The environment variable each one is read from by {@link fromEnv}
 * is in parentheses.
 *
 * @example
 * ```ts
 * const options: CognitoGuardOptions = {
 *   region: 'eu-west-1',
 *   userPoolId: 'eu-west-1_qwerty',
 *   domain: 'https://app.auth.eu-west-1.amazoncognito.com',
 *   clientId: 'asdfghjkl1234asdf',
 *   clientSecret: process.env.COGNITO_CLIENT_SECRET,
 *   redirectUrl: 'https://example.com/postlogin',
 *   logoutUrl: 'https://example.com/postlogout',
 *   secretKey: process.env.SECRET_KEY ?? '',
 *   scopes: ['openid', 'email'],
 *   refreshFlowEnabled: true,
 * };
 * ```
 */
export interface CognitoGuardOptions {
  /** AWS region of the user pool (`AWS_REGION`). */
  region: string;
  /** User pool id, e.g. `eu-west-1_qwerty` (`AWS_COGNITO_USER_POOL_ID`). */
  userPoolId: string;
  /** The pool's domain origin, e.g. `https://app.auth.eu-west-1.amazoncognito.com` (`AWS_COGNITO_DOMAIN`). */
  domain: string;
  /**
   * The origin the server uses to reach the same domain when it differs from the browser's, e.g.
   * `http://cognito:9229` in docker-compose (`AWS_COGNITO_DOMAIN_INTERNAL`). Token, revoke,
   * userInfo and (when served from the domain's origin) key-set calls go there.
   */
  internalDomain?: string | undefined;
  /** App client id (`AWS_COGNITO_USER_POOL_CLIENT_ID`). */
  clientId: string;
  /** App client secret; leave out for a public client (`AWS_COGNITO_USER_POOL_CLIENT_SECRET`). */
  clientSecret?: string | undefined;
  /** The callback URL registered with Cognito (`AWS_COGNITO_REDIRECT_URL`). */
  redirectUrl: UrlOption;
  /** The sign-out URL registered with Cognito (`AWS_COGNITO_LOGOUT_URL`). */
  logoutUrl: UrlOption;
  /**
   * Secret(s) the cookie encryption keys are derived from (`SECRET_KEY`, plus
   * `SECRET_KEY_FALLBACKS`). The first encrypts; all decrypt, so secrets can be rotated.
   * Each must be at least 32 characters.
   */
  secretKey: string | readonly string[];
  /** Overrides the issuer `https://cognito-idp.{region}.amazonaws.com/{poolId}` (`AWS_COGNITO_ISSUER`). */
  issuer?: string | undefined;
  /**
   * Scopes to request (`AWS_COGNITO_SCOPES`, space- or comma-separated). Must include `openid`
   * (without it Cognito issues no ID token). Default: none sent, and Cognito grants the app
   * client's allowed scopes.
   */
  scopes?: readonly string[] | undefined;
  /** Max-Age of the access/ID-token cookies, at least 1 (`AWS_COGNITO_COOKIE_AGE_SECONDS`), default 1800. */
  cookieMaxAgeSeconds?: number | undefined;
  /** Clock leeway for `exp`/`iat` (`AWS_COGNITO_EXPIRATION_LEEWAY`), default 0, at most 300. */
  expirationLeewaySeconds?: number | undefined;
  /** `Domain` attribute of the token cookies (`AWS_COGNITO_COOKIE_DOMAIN`). */
  cookieDomain?: string | undefined;
  /**
   * `SameSite` of the token cookies (`AWS_COGNITO_COOKIE_SAMESITE`), default `Lax`. With `Strict`
   * the callback ends with a small page that continues to the target, because browsers do not send
   * Strict cookies on the redirect chain that began on Cognito's site.
   */
  cookieSameSite?: 'Lax' | 'Strict' | 'None' | undefined;
  /** Enables the refresh flow and the refresh-token cookie (`AWS_COGNITO_REFRESH_FLOW_ENABLED`), default false. */
  refreshFlowEnabled?: boolean | undefined;
  /** Encrypts the refresh-token cookie (`AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED`), default true. */
  refreshCookieEncrypted?: boolean | undefined;
  /** Max-Age of the refresh-token cookie, at least 1 (`AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS`), default 86400. */
  refreshCookieMaxAgeSeconds?: number | undefined;
  /**
   * Refreshes a session inside the protected request whose access token has expired (or expires
   * within `autoRefreshMarginSeconds`), so the handler runs with fresh tokens and the response
   * carries them (`AWS_COGNITO_AUTO_REFRESH`). Default: on when the refresh flow is enabled.
   */
  autoRefresh?: boolean | undefined;
  /** How long before the access token's expiry an automatic refresh starts (`AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS`), default 60, at most 300. */
  autoRefreshMarginSeconds?: number | undefined;
  /**
   * Keeps sessions server-side (`AWS_COGNITO_SESSION_STORE`): a {@link SessionStore}, or a URL —
   * `redis://host:6379/0` / `rediss://…` (after `import 'cognito-guard/redis'`), or `memory` (one
   * process, for development). Unset: the tokens live in cookies.
   */
  sessionStore?: SessionStore | string | undefined;
  /**
   * Bypasses route protection, for local development only (`AWS_COGNITO_DISABLED`). Logs a warning
   * at startup, and is refused in production unless {@link CognitoGuardOptions.allowDisabledInProduction}.
   */
  disabled?: boolean | undefined;
  /** Lets `disabled` work in production, for an operator who really means it (`AWS_COGNITO_ALLOW_DISABLED_IN_PRODUCTION`). */
  allowDisabledInProduction?: boolean | undefined;
  /**
   * Whether this is a production deployment (`NODE_ENV`). Default: `NODE_ENV === 'production'`;
   * on runtimes without `process` (Cloudflare Workers), true.
   */
  production?: boolean | undefined;
  /**
   * Host names (besides loopback) on which plain-http Cognito URLs are allowed, e.g. `['cognito']`
   * for an emulator container (`AWS_COGNITO_ALLOW_HTTP_HOSTS`, comma-separated). Refused in
   * production.
   */
  allowHttpHosts?: readonly string[] | undefined;
  /**
   * Whether cookies carry `Secure`. Default: on, unless the redirect URL is plain http (loopback,
   * or a host in `allowHttpHosts`).
   */
  secureCookies?: boolean | undefined;
  /** Path of the app's login route, used by the "sign in again" page and `redirectToLogin`. Default `/login`. */
  loginPath?: string | undefined;
  /** Hard timeout for each call to Cognito (token, revoke, JWKS), default 3000 ms. */
  httpTimeoutMs?: number | undefined;
  /** Bound of the verified-token cache, default 10,000 entries; 0 turns the cache off. */
  verifiedTokenCacheSize?: number | undefined;
  /** `fetch` used for every call to Cognito (injectable for tests). */
  fetch?: typeof fetch | undefined;
  /** Where warnings go. Default: `console.warn`. */
  logger?: CognitoGuardLogger | undefined;
  /** Clock in milliseconds (injectable for tests). */
  now?: (() => number) | undefined;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly region: string;
  readonly userPoolId: string;
  readonly domain: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUrl: UrlOption;
  readonly logoutUrl: UrlOption;
  readonly secretKeys: readonly string[];
  readonly scopes: readonly string[] | undefined;
  readonly cookieMaxAgeSeconds: number;
  readonly expirationLeewaySeconds: number;
  readonly cookieDomain: string | undefined;
  readonly cookieSameSite: 'Lax' | 'Strict' | 'None';
  readonly refreshFlowEnabled: boolean;
  readonly refreshCookieEncrypted: boolean;
  readonly refreshCookieMaxAgeSeconds: number;
  readonly autoRefresh: boolean;
  readonly autoRefreshMarginSeconds: number;
  /** `undefined`: sessions live in cookies. */
  readonly sessionStore: SessionStore | undefined;
  readonly disabled: boolean;
  readonly production: boolean;
  readonly secureCookies: boolean;
  readonly loginPath: string;
  readonly httpTimeoutMs: number;
  readonly verifiedTokenCacheSize: number;
  readonly fetch: typeof fetch;
  readonly logger: CognitoGuardLogger;
  readonly now: () => number;
  readonly endpoints: CognitoEndpoints;
  /** True when a Cognito endpoint is plain http (loopback emulator, or an allowed host). */
  readonly allowInsecureHttp: boolean;
}

/**
 * How {@link fromEnv} reads each option; `null` for options that have no environment variable.
 * Being a complete record over the option names, it is also the list of known option names.
 */
interface EnvironmentSource {
  readonly name: string;
  readonly kind: 'required' | 'text' | 'boolean' | 'integer' | 'list' | 'sameSite';
}
const ENVIRONMENT: {
  readonly [K in keyof CognitoGuardOptions]-?: K extends 'secretKey'
    ? EnvironmentSource
    : EnvironmentSource | null;
} = {
  region: { name: 'AWS_REGION', kind: 'required' },
  userPoolId: { name: 'AWS_COGNITO_USER_POOL_ID', kind: 'required' },
  domain: { name: 'AWS_COGNITO_DOMAIN', kind: 'required' },
  internalDomain: { name: 'AWS_COGNITO_DOMAIN_INTERNAL', kind: 'text' },
  clientId: { name: 'AWS_COGNITO_USER_POOL_CLIENT_ID', kind: 'required' },
  clientSecret: { name: 'AWS_COGNITO_USER_POOL_CLIENT_SECRET', kind: 'text' },
  redirectUrl: { name: 'AWS_COGNITO_REDIRECT_URL', kind: 'required' },
  logoutUrl: { name: 'AWS_COGNITO_LOGOUT_URL', kind: 'required' },
  // SECRET_KEY, plus SECRET_KEY_FALLBACKS: read by fromEnv itself.
  secretKey: { name: 'SECRET_KEY', kind: 'required' },
  issuer: { name: 'AWS_COGNITO_ISSUER', kind: 'text' },
  scopes: { name: 'AWS_COGNITO_SCOPES', kind: 'list' },
  cookieMaxAgeSeconds: { name: 'AWS_COGNITO_COOKIE_AGE_SECONDS', kind: 'integer' },
  expirationLeewaySeconds: { name: 'AWS_COGNITO_EXPIRATION_LEEWAY', kind: 'integer' },
  cookieDomain: { name: 'AWS_COGNITO_COOKIE_DOMAIN', kind: 'text' },
  cookieSameSite: { name: 'AWS_COGNITO_COOKIE_SAMESITE', kind: 'sameSite' },
  refreshFlowEnabled: { name: 'AWS_COGNITO_REFRESH_FLOW_ENABLED', kind: 'boolean' },
  refreshCookieEncrypted: { name: 'AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED', kind: 'boolean' },
  refreshCookieMaxAgeSeconds: { name: 'AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS', kind: 'integer' },
  autoRefresh: { name: 'AWS_COGNITO_AUTO_REFRESH', kind: 'boolean' },
  autoRefreshMarginSeconds: { name: 'AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS', kind: 'integer' },
  sessionStore: { name: 'AWS_COGNITO_SESSION_STORE', kind: 'text' },
  disabled: { name: 'AWS_COGNITO_DISABLED', kind: 'boolean' },
  allowDisabledInProduction: { name: 'AWS_COGNITO_ALLOW_DISABLED_IN_PRODUCTION', kind: 'boolean' },
  // NODE_ENV: read by fromEnv itself.
  production: { name: 'NODE_ENV', kind: 'text' },
  allowHttpHosts: { name: 'AWS_COGNITO_ALLOW_HTTP_HOSTS', kind: 'list' },
  secureCookies: null,
  loginPath: null,
  httpTimeoutMs: null,
  verifiedTokenCacheSize: null,
  fetch: null,
  logger: null,
  now: null,
};

/** Every option name, with the environment variable {@link fromEnv} reads it from (if any). */
export const OPTION_ENVIRONMENT_NAMES: ReadonlyMap<keyof CognitoGuardOptions, string | undefined> =
  new Map(
    (Object.keys(ENVIRONMENT) as (keyof CognitoGuardOptions)[]).map((key) => [
      key,
      ENVIRONMENT[key]?.name,
    ]),
  );

/** True for `localhost`, `127.0.0.0/8` and `[::1]`. */
function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}

/** The known name closest to `name` (a likely typo), or `undefined` when none is close. */
function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Problems for keys of `value` that are not in `known`, naming the likely intended key.
 *
 * @param what - what the object is, for the message (`option`, `route requirement key`).
 */
export function unknownKeyProblems(
  value: object,
  known: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  what: string,
): string[] {
  const names = [...known.keys()];
  return Object.keys(value)
    .filter((key) => !known.has(key))
    .map((key) => {
      const suggestion = closestName(key, names);
      return `unknown ${what} "${key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`;
    });
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The rules every configured URL follows. */
interface UrlRules {
  readonly httpHosts: ReadonlySet<string>;
  readonly originOnly?: boolean;
}

/** Checks an absolute URL: https, or http on loopback or an explicitly allowed host. */
function checkUrl(
  name: string,
  value: unknown,
  problems: string[],
  rules: UrlRules,
): URL | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${name} is required`);
    return undefined;
  }
  const url = parseUrl(value);
  if (url === undefined) {
    problems.push(`${name} must be an absolute URL (got an unparsable value)`);
    return undefined;
  }
  const httpAllowed = isLoopbackHost(url.hostname) || rules.httpHosts.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    problems.push(
      `${name} must use https (plain http is allowed only for localhost/127.0.0.1, or for a host listed in allowHttpHosts outside production)`,
    );
  }
  if (url.username !== '' || url.password !== '')
    problems.push(`${name} must not contain credentials`);
  if (url.hash !== '') problems.push(`${name} must not contain a fragment`);
  if (rules.originOnly === true && (url.pathname !== '/' || url.search !== '')) {
    problems.push(
      `${name} must be an origin only, e.g. https://app.auth.eu-west-1.amazoncognito.com`,
    );
  }
  return url;
}

function checkInteger(
  name: string,
  value: unknown,
  fallback: number,
  problems: string[],
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer between ${min} and ${max}`);
    return fallback;
  }
  return value;
}

function checkBoolean(
  name: string,
  value: unknown,
  fallback: boolean,
  problems: string[],
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    problems.push(`${name} must be a boolean`);
    return fallback;
  }
  return value;
}

/**
 * A session store from the option: an object as given, or the factory registered for its URL.
 * The factory runs only once the rest of the configuration is valid (see {@link resolveOptions}),
 * so an invalid configuration never builds a client.
 */
function sessionStoreSource(
  value: unknown,
  problems: string[],
):
  | SessionStore
  | { readonly url: URL; readonly factory: SessionStoreFactory }
  | 'memory'
  | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'object' && value !== null) {
    const store = value as Partial<SessionStore>;
    const methods = ['get', 'set', 'delete', 'listUser', 'deleteUser'] as const;
    if (methods.every((method) => typeof store[method] === 'function'))
      return value as SessionStore;
    problems.push(`sessionStore must implement ${methods.join(', ')}`);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push('sessionStore must be a SessionStore or a URL');
    return undefined;
  }
  if (value === 'memory' || value === 'memory:') return 'memory';
  const url = parseUrl(value);
  const factory = url === undefined ? undefined : sessionStoreFactory(url);
  if (url === undefined) {
    problems.push(
      'sessionStore (AWS_COGNITO_SESSION_STORE) must be a URL such as redis://localhost:6379/0, or memory',
    );
  } else if (factory === undefined) {
    problems.push(
      url.protocol === 'redis:' || url.protocol === 'rediss:'
        ? 'sessionStore (AWS_COGNITO_SESSION_STORE) is a Redis URL: `import "cognito-guard/redis"` once at startup (and `npm install redis`)'
        : `sessionStore (AWS_COGNITO_SESSION_STORE): no store is registered for ${url.protocol}//`,
    );
  } else {
    return { url, factory };
  }
  return undefined;
}

/** Builds the store of a {@link sessionStoreSource}; a factory's error is a configuration problem. */
function buildSessionStore(
  source: ReturnType<typeof sessionStoreSource>,
  context: SessionStoreContext & { readonly now: () => number },
  problems: string[],
): SessionStore | undefined {
  if (source === undefined) return undefined;
  if (source === 'memory') return new MemorySessionStore(context.now);
  if (!('factory' in source)) return source;
  try {
    return source.factory(source.url, { timeoutMs: context.timeoutMs, logger: context.logger });
  } catch (error) {
    problems.push(
      `sessionStore (AWS_COGNITO_SESSION_STORE): ${error instanceof Error ? error.message : 'could not be created'}`,
    );
    return undefined;
  }
}

/**
 * Whether this looks like production when the options do not say: `NODE_ENV=production` where
 * there is a `process` (Node, Bun, Deno's compatibility layer); where there is none (Cloudflare
 * Workers and other edge runtimes), production is assumed, so that a development-only setting
 * such as `disabled` is never accepted silently on a deployed Worker — set `production: false`
 * (or a `NODE_ENV` binding read by `fromEnv`) in development there.
 */
function productionByDefault(): boolean {
  const runtime = globalThis as { process?: { env?: Record<string, string | undefined> } };
  if (runtime.process?.env === undefined) return true;
  return runtime.process.env['NODE_ENV'] === 'production';
}

/**
 * Validates options and fills in defaults. Throws one {@link ConfigurationError} naming every
 * problem. Most apps never call this: {@link CognitoGuard} does.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions(fromEnv(process.env));
 * console.log(resolved.endpoints.issuer);
 * ```
 */
export function resolveOptions(options: CognitoGuardOptions): ResolvedOptions {
  const problems: string[] = [];
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new ConfigurationError(['options must be an object']);
  }
  problems.push(...unknownKeyProblems(options, OPTION_ENVIRONMENT_NAMES, 'option'));
  const o = options as Partial<CognitoGuardOptions>;

  const requireString = (name: string, value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${name} is required`);
      return '';
    }
    return value;
  };

  const region = requireString('region', o.region);
  const userPoolId = requireString('userPoolId', o.userPoolId);
  const clientId = requireString('clientId', o.clientId);
  if (region !== '' && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    problems.push(`region must look like an AWS region, e.g. eu-west-1`);
  }
  if (userPoolId !== '' && !/^[a-z]{2}(-[a-z]+)+-\d+_[0-9A-Za-z]+$/.test(userPoolId)) {
    problems.push('userPoolId must look like {region}_{id}, e.g. eu-west-1_qwerty');
  } else if (userPoolId !== '' && region !== '' && !userPoolId.startsWith(`${region}_`)) {
    problems.push(`userPoolId ${userPoolId} is not in region ${region}`);
  }
  if (clientId !== '' && !/^[\w+=,.@-]{1,128}$/.test(clientId)) {
    problems.push('clientId has characters Cognito never uses');
  }
  const clientSecret =
    o.clientSecret === undefined || o.clientSecret === '' ? undefined : o.clientSecret;
  if (clientSecret !== undefined && typeof clientSecret !== 'string') {
    problems.push('clientSecret must be a string');
  }

  const production = checkBoolean('production', o.production, productionByDefault(), problems);
  let httpHosts = new Set<string>();
  const allowHttpHosts: unknown = o.allowHttpHosts;
  if (allowHttpHosts !== undefined) {
    if (
      !Array.isArray(allowHttpHosts) ||
      !allowHttpHosts.every(
        (h): h is string => typeof h === 'string' && /^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(h),
      )
    ) {
      problems.push('allowHttpHosts must be an array of host names');
    } else if (production && allowHttpHosts.length > 0) {
      problems.push(
        'allowHttpHosts (plain-http Cognito URLs) is refused in production (NODE_ENV=production)',
      );
    } else {
      httpHosts = new Set(allowHttpHosts.map((h) => h.toLowerCase()));
    }
  }

  const domainUrl = checkUrl('domain', o.domain, problems, { httpHosts, originOnly: true });
  const domain = domainUrl?.origin ?? '';
  const internalDomainUrl =
    o.internalDomain === undefined || o.internalDomain === ''
      ? undefined
      : checkUrl('internalDomain', o.internalDomain, problems, { httpHosts, originOnly: true });

  const issuerInput =
    o.issuer === undefined || o.issuer === '' ? defaultIssuer(region, userPoolId) : o.issuer;
  const issuerUrl = checkUrl('issuer', issuerInput, problems, { httpHosts });
  if (issuerUrl !== undefined && issuerInput.endsWith('/')) {
    problems.push('issuer must not end with a slash (it is compared exactly with the tokens)');
  }

  let redirectUrlIsPlainHttp = false;
  for (const [name, value] of [
    ['redirectUrl', o.redirectUrl],
    ['logoutUrl', o.logoutUrl],
  ] as const) {
    if (typeof value === 'function') continue;
    if (value !== undefined && typeof value !== 'string') {
      problems.push(`${name} must be a URL string or a function of the request`);
      continue;
    }
    const url = checkUrl(name, value, problems, { httpHosts });
    if (name === 'redirectUrl' && url?.protocol === 'http:') redirectUrlIsPlainHttp = true;
  }

  const secrets: unknown[] =
    typeof o.secretKey === 'string' ? [o.secretKey] : Array.isArray(o.secretKey) ? o.secretKey : [];
  if (secrets.length === 0) problems.push('secretKey is required (SECRET_KEY)');
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length < LIMITS.minSecretLength) {
      problems.push(
        `secretKey${secrets.length > 1 ? `[${index}]` : ''} must be at least ${LIMITS.minSecretLength} characters (e.g. \`openssl rand -base64 32\`)`,
      );
    }
  });

  let scopes: readonly string[] | undefined;
  if (o.scopes !== undefined) {
    if (
      !Array.isArray(o.scopes) ||
      o.scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
    ) {
      problems.push('scopes must be an array of scope strings (no spaces, quotes or backslashes)');
    } else if (o.scopes.length > 0 && !o.scopes.includes('openid')) {
      // Without openid Cognito issues no ID token and no nonce, so no sign-in could complete.
      problems.push(
        `scopes must include "openid" (got ${o.scopes.join(' ')}); Cognito issues no ID token without it`,
      );
    } else {
      scopes = o.scopes.length === 0 ? undefined : [...new Set(o.scopes)];
    }
  }

  const cookieSameSite = o.cookieSameSite ?? 'Lax';
  if (!['Lax', 'Strict', 'None'].includes(cookieSameSite)) {
    problems.push('cookieSameSite must be Lax, Strict or None');
  }
  if (o.cookieDomain !== undefined && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(o.cookieDomain)) {
    problems.push('cookieDomain must be a host name such as example.com');
  }
  const loginPath = o.loginPath ?? DEFAULTS.loginPath;
  if (typeof loginPath !== 'string' || (!/^\/[^/\\]/.test(loginPath) && loginPath !== '/'))
    problems.push('loginPath must be a path starting with /');

  const secureCookies = checkBoolean(
    'secureCookies',
    o.secureCookies,
    !redirectUrlIsPlainHttp,
    problems,
  );
  if (!secureCookies && cookieSameSite === 'None') {
    problems.push('cookieSameSite None requires secure cookies');
  }
  const disabled = checkBoolean('disabled', o.disabled, false, problems);
  const allowDisabledInProduction = checkBoolean(
    'allowDisabledInProduction',
    o.allowDisabledInProduction,
    false,
    problems,
  );
  if (disabled && production && !allowDisabledInProduction) {
    problems.push(
      'disabled (AWS_COGNITO_DISABLED) opens every protected route and is refused in production; set allowDisabledInProduction (AWS_COGNITO_ALLOW_DISABLED_IN_PRODUCTION=true) if you really mean it',
    );
  }
  const refreshFlowEnabled = checkBoolean(
    'refreshFlowEnabled',
    o.refreshFlowEnabled,
    false,
    problems,
  );
  const autoRefresh = checkBoolean('autoRefresh', o.autoRefresh, refreshFlowEnabled, problems);
  if (autoRefresh && !refreshFlowEnabled) {
    problems.push('autoRefresh needs refreshFlowEnabled (AWS_COGNITO_REFRESH_FLOW_ENABLED=true)');
  }
  const now = o.now ?? Date.now;
  const sessionStore = sessionStoreSource(o.sessionStore, problems);
  const fetchImpl = o.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') problems.push('fetch must be a function');
  if (
    o.logger !== undefined &&
    typeof (o.logger as Partial<CognitoGuardLogger>).warn !== 'function'
  )
    problems.push('logger must have a warn(message, fields) method');
  if (o.now !== undefined && typeof o.now !== 'function') problems.push('now must be a function');

  const resolved: ResolvedOptions = {
    region,
    userPoolId,
    domain,
    clientId,
    clientSecret,
    redirectUrl: o.redirectUrl ?? '',
    logoutUrl: o.logoutUrl ?? '',
    secretKeys: secrets.filter((s): s is string => typeof s === 'string'),
    scopes,
    cookieMaxAgeSeconds: checkInteger(
      'cookieMaxAgeSeconds',
      o.cookieMaxAgeSeconds,
      DEFAULTS.cookieMaxAgeSeconds,
      problems,
      1,
    ),
    expirationLeewaySeconds: checkInteger(
      'expirationLeewaySeconds',
      o.expirationLeewaySeconds,
      DEFAULTS.expirationLeewaySeconds,
      problems,
      0,
      LIMITS.maxLeewaySeconds,
    ),
    cookieDomain: o.cookieDomain?.replace(/^\./, ''),
    cookieSameSite,
    refreshFlowEnabled,
    refreshCookieEncrypted: checkBoolean(
      'refreshCookieEncrypted',
      o.refreshCookieEncrypted,
      true,
      problems,
    ),
    refreshCookieMaxAgeSeconds: checkInteger(
      'refreshCookieMaxAgeSeconds',
      o.refreshCookieMaxAgeSeconds,
      DEFAULTS.refreshCookieMaxAgeSeconds,
      problems,
      1,
    ),
    autoRefresh,
    autoRefreshMarginSeconds: checkInteger(
      'autoRefreshMarginSeconds',
      o.autoRefreshMarginSeconds,
      DEFAULTS.autoRefreshMarginSeconds,
      problems,
      0,
      LIMITS.maxLeewaySeconds,
    ),
    sessionStore: undefined,
    disabled,
    production,
    secureCookies,
    loginPath,
    httpTimeoutMs: checkInteger(
      'httpTimeoutMs',
      o.httpTimeoutMs,
      DEFAULTS.httpTimeoutMs,
      problems,
      1,
      LIMITS.maxHttpTimeoutMs,
    ),
    verifiedTokenCacheSize: checkInteger(
      'verifiedTokenCacheSize',
      o.verifiedTokenCacheSize,
      DEFAULTS.verifiedTokenCacheSize,
      problems,
      0,
    ),
    fetch: fetchImpl,
    logger: o.logger ?? {
      warn: (message, fields) => {
        console.warn(`[cognito-guard] ${message}`, fields ?? '');
      },
    },
    now,
    endpoints: deriveEndpoints({
      region,
      userPoolId,
      domain,
      internalDomain: internalDomainUrl?.origin,
      issuer: issuerInput,
    }),
    allowInsecureHttp:
      domainUrl?.protocol === 'http:' ||
      internalDomainUrl?.protocol === 'http:' ||
      issuerUrl?.protocol === 'http:',
  };

  if (problems.length > 0) throw new ConfigurationError(problems);
  // Only now, for a configuration that is otherwise valid: a store may build a client.
  const store = buildSessionStore(
    sessionStore,
    { now, timeoutMs: resolved.httpTimeoutMs, logger: resolved.logger },
    problems,
  );
  if (problems.length > 0) throw new ConfigurationError(problems);
  return store === undefined ? resolved : { ...resolved, sessionStore: store };
}

/** An environment: `process.env` or any string map. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Reads option values from environment variables, collecting every problem. */
interface EnvironmentReader {
  /** A variable's trimmed value; `undefined` when unset or blank. */
  readonly text: (name: string) => string | undefined;
  /**
   * An option's value from its variable, parsed by its kind (`undefined` when unset, `''` for a
   * missing required one, each reported); `undefined` for an option no variable sets.
   */
  readonly read: (key: keyof CognitoGuardOptions) => unknown;
}

/** An {@link EnvironmentReader} of `env` that adds its problems to `problems`. */
function environmentReader(env: Environment, problems: string[]): EnvironmentReader {
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const read = (key: keyof CognitoGuardOptions): unknown => {
    const source = ENVIRONMENT[key];
    if (source === null) return undefined;
    const { name, kind } = source;
    const value = text(name);
    if (value === undefined) {
      if (kind === 'required') problems.push(`${name} is required`);
      return kind === 'required' ? '' : undefined;
    }
    switch (kind) {
      case 'required':
      case 'text':
        return value;
      case 'list':
        return value.split(/[\s,]+/).filter((s) => s !== '');
      case 'boolean': {
        const lower = value.toLowerCase();
        if (lower === 'true' || lower === '1') return true;
        if (lower === 'false' || lower === '0') return false;
        problems.push(`${name} must be true, false, 1 or 0`);
        return undefined;
      }
      case 'integer':
        if (!/^\d{1,9}$/.test(value)) {
          problems.push(`${name} must be a whole number of seconds`);
          return undefined;
        }
        return Number(value);
      case 'sameSite': {
        const normalised = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
        if (normalised === 'Lax' || normalised === 'Strict' || normalised === 'None')
          return normalised;
        problems.push(`${name} must be Lax, Strict or None`);
        return undefined;
      }
    }
  };
  return { text, read };
}

/**
 * Reads the configuration from environment variables with the names flask-cognito-lib uses
 * (and a few of cognito-guard's own; see the README's option table). Booleans accept only
 * `true`/`false`/`1`/`0`; integers only digits. Every missing required name and every bad value
 * is reported together in one {@link ConfigurationError}.
 *
 * @example
 * ```ts
 * const guard = new CognitoGuard(fromEnv(process.env));
 * ```
 */
export function fromEnv(env: Environment): CognitoGuardOptions {
  const problems: string[] = [];
  const { text, read } = environmentReader(env, problems);

  const options: Record<string, unknown> = {};
  for (const key of Object.keys(ENVIRONMENT) as (keyof CognitoGuardOptions)[]) {
    if (ENVIRONMENT[key] === null || key === 'production' || key === 'secretKey') continue;
    options[key] = read(key);
  }
  const secretKey = read('secretKey') as string;
  const fallbacks = (text('SECRET_KEY_FALLBACKS') ?? '').split(/[\s,]+/).filter((s) => s !== '');
  options['secretKey'] = fallbacks.length > 0 ? [secretKey, ...fallbacks] : secretKey;
  const nodeEnv = text('NODE_ENV');
  if (nodeEnv !== undefined) options['production'] = nodeEnv === 'production';
  if (problems.length > 0) throw new ConfigurationError(problems);
  return options as unknown as CognitoGuardOptions;
}

/**
 * Options of {@link CognitoApiGuard}: an API that accepts Cognito access tokens as
 * `Authorization: Bearer` needs only the pool and its app client(s) — no redirect or logout URL,
 * no secret, no domain.
 *
 * @example
 * ```ts
 * const options: ApiGuardOptions = {
 *   region: 'eu-west-1',
 *   userPoolId: 'eu-west-1_qwerty',
 *   clientId: ['web-client', 'mobile-client'],
 * };
 * ```
 */
export interface ApiGuardOptions {
  /** AWS region of the user pool (`AWS_REGION`). */
  region: string;
  /** User pool id (`AWS_COGNITO_USER_POOL_ID`). */
  userPoolId: string;
  /**
   * The app client(s) whose access tokens are accepted (`AWS_COGNITO_USER_POOL_CLIENT_ID`,
   * comma-separated), or `null` for any client of the pool — an explicit choice, never a default.
   */
  clientId: string | readonly string[] | null;
  /** Overrides the issuer (`AWS_COGNITO_ISSUER`), e.g. the emulator's. */
  issuer?: string | undefined;
  /** Where the server fetches the key set when it differs from the issuer's origin (`AWS_COGNITO_DOMAIN_INTERNAL`). */
  internalDomain?: string | undefined;
  /** Host names (besides loopback) allowed over plain http (`AWS_COGNITO_ALLOW_HTTP_HOSTS`). */
  allowHttpHosts?: readonly string[] | undefined;
  /** Clock leeway for `exp`/`iat` (`AWS_COGNITO_EXPIRATION_LEEWAY`), default 0, at most 300. */
  expirationLeewaySeconds?: number | undefined;
  /** Whether this is a production deployment. Default: `NODE_ENV === 'production'`. */
  production?: boolean | undefined;
  /** Hard timeout of each key-set fetch, default 3000 ms. */
  httpTimeoutMs?: number | undefined;
  /** Bound of the verified-token cache, default 10,000 entries; 0 turns the cache off. */
  verifiedTokenCacheSize?: number | undefined;
  /** `fetch` used for the key set (injectable for tests). */
  fetch?: typeof fetch | undefined;
  /** Where warnings go. Default: `console.warn`. */
  logger?: CognitoGuardLogger | undefined;
  /** Clock in milliseconds (injectable for tests). */
  now?: (() => number) | undefined;
}

/** {@link ApiGuardOptions} after validation. */
export interface ResolvedApiGuardOptions {
  readonly clientId: string | readonly string[] | null;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly expirationLeewaySeconds: number;
  readonly httpTimeoutMs: number;
  readonly verifiedTokenCacheSize: number;
  readonly fetch: typeof fetch;
  readonly logger: CognitoGuardLogger;
  readonly now: () => number;
}

const API_OPTION_NAMES = new Set<string>([
  'region',
  'userPoolId',
  'clientId',
  'issuer',
  'internalDomain',
  'allowHttpHosts',
  'expirationLeewaySeconds',
  'production',
  'httpTimeoutMs',
  'verifiedTokenCacheSize',
  'fetch',
  'logger',
  'now',
]);

/**
 * Validates {@link ApiGuardOptions} by the same rules as the full options (it fills in what an
 * API never uses and reuses {@link resolveOptions}), and reports every problem at once.
 */
export function resolveApiGuardOptions(options: ApiGuardOptions): ResolvedApiGuardOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new ConfigurationError(['options must be an object']);
  }
  const problems = unknownKeyProblems(options, API_OPTION_NAMES, 'option');
  const clientIds: unknown = options.clientId;
  const list =
    clientIds === null
      ? []
      : typeof clientIds === 'string'
        ? [clientIds]
        : (clientIds as unknown[]);
  if (
    clientIds !== null &&
    (!Array.isArray(list) ||
      list.length === 0 ||
      list.some((id) => typeof id !== 'string' || !/^[\w+=,.@-]{1,128}$/.test(id)))
  ) {
    problems.push('clientId must be an app client id, a list of them, or null for any client');
  }
  let full: ResolvedOptions | undefined;
  try {
    // What an API never uses is filled with placeholders so the shared rules can run; the
    // client id is checked above (it may be a list, or null). internalDomain is checked under
    // its own name, so a problem with it names the option the caller set.
    full = resolveOptions({
      region: options.region,
      userPoolId: options.userPoolId,
      issuer: options.issuer,
      internalDomain: options.internalDomain,
      allowHttpHosts: options.allowHttpHosts,
      expirationLeewaySeconds: options.expirationLeewaySeconds,
      production: options.production,
      httpTimeoutMs: options.httpTimeoutMs,
      verifiedTokenCacheSize: options.verifiedTokenCacheSize,
      fetch: options.fetch,
      logger: options.logger,
      now: options.now,
      clientId: 'api',
      domain: 'https://api-guard.invalid',
      redirectUrl: 'https://api-guard.invalid/',
      logoutUrl: 'https://api-guard.invalid/',
      secretKey: 'an API guard derives no cookie key from this value',
    });
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || full === undefined) throw new ConfigurationError(problems);
  const internal = options.internalDomain;
  let jwksUri = full.endpoints.jwksUri;
  if (internal !== undefined && internal !== '') {
    const issuerUrl = new URL(full.endpoints.issuer);
    jwksUri = `${new URL(internal).origin}${issuerUrl.pathname}/.well-known/jwks.json`;
  }
  return {
    clientId: options.clientId,
    issuer: full.endpoints.issuer,
    jwksUri,
    expirationLeewaySeconds: full.expirationLeewaySeconds,
    httpTimeoutMs: full.httpTimeoutMs,
    verifiedTokenCacheSize: full.verifiedTokenCacheSize,
    fetch: full.fetch,
    logger: full.logger,
    now: full.now,
  };
}

/**
 * Reads {@link ApiGuardOptions} from the environment: `AWS_REGION`, `AWS_COGNITO_USER_POOL_ID`,
 * `AWS_COGNITO_USER_POOL_CLIENT_ID` (comma-separated for several clients, `*` for any client of
 * the pool), and optionally `AWS_COGNITO_ISSUER`, `AWS_COGNITO_DOMAIN_INTERNAL`,
 * `AWS_COGNITO_ALLOW_HTTP_HOSTS`, `AWS_COGNITO_EXPIRATION_LEEWAY`, `NODE_ENV`.
 *
 * @example
 * ```ts
 * const api = new CognitoApiGuard(apiGuardFromEnv(process.env));
 * ```
 */
export function apiGuardFromEnv(env: Environment): ApiGuardOptions {
  const problems: string[] = [];
  const { text, read } = environmentReader(env, problems);
  const region = read('region') as string;
  const userPoolId = read('userPoolId') as string;
  const clients = read('clientId') as string;
  const leeway = read('expirationLeewaySeconds') as number | undefined;
  const hosts = read('allowHttpHosts') as string[] | undefined;
  const nodeEnv = text('NODE_ENV');
  if (problems.length > 0) throw new ConfigurationError(problems);
  const list = clients.split(/[\s,]+/).filter((id) => id !== '');
  return {
    region,
    userPoolId,
    clientId: clients === '*' ? null : list.length === 1 ? (list[0] ?? '') : list,
    issuer: read('issuer') as string | undefined,
    internalDomain: read('internalDomain') as string | undefined,
    allowHttpHosts: hosts,
    expirationLeewaySeconds: leeway,
    ...(nodeEnv === undefined ? {} : { production: nodeEnv === 'production' }),
  };
}

/**
 * The API guard's options for the same pool and app client as a web app's guard: an app that
 * serves pages (with {@link CognitoGuard}) and an API (with {@link CognitoApiGuard}) configures
 * both from one set of options.
 *
 * @example
 * ```ts
 * const options = fromEnv(process.env);
 * const api = new CognitoApiGuard(apiGuardOptions(options));
 * ```
 */
export function apiGuardOptions(options: CognitoGuardOptions): ApiGuardOptions {
  return {
    region: options.region,
    userPoolId: options.userPoolId,
    clientId: options.clientId,
    issuer: options.issuer,
    internalDomain: options.internalDomain,
    allowHttpHosts: options.allowHttpHosts,
    expirationLeewaySeconds: options.expirationLeewaySeconds,
    production: options.production,
    httpTimeoutMs: options.httpTimeoutMs,
    verifiedTokenCacheSize: options.verifiedTokenCacheSize,
    fetch: options.fetch,
    logger: options.logger,
    now: options.now,
  };
}
