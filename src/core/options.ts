/**
 * Configuration: the typed options object, its validation, and {@link fromEnv}, which reads the
 * environment names flask-cognito-lib uses.
 *
 * Everything is validated once, at construction, and every problem is reported in one
 * {@link ConfigurationError}.
 *
 * @module
 */
import { ConfigurationError } from './errors.js';
import type { IncomingRequest } from './http.js';

/** A URL, or a function of the request that returns one (the seed's `url_for` override). */
export type UrlOption = string | ((request: IncomingRequest) => string);

/** Where cognito-guard reports events. Messages never contain tokens, codes or secrets. */
export interface CognitoGuardLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Options for {@link CognitoGuard}. Names mirror flask-cognito-lib's settings in camelCase;
 * durations carry their unit.
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
 *   secretKey: process.env.SECRET_KEY!,
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
  /** Scopes to request (`AWS_COGNITO_SCOPES`). Default: none sent (Cognito grants the client's allowed scopes). */
  scopes?: readonly string[] | undefined;
  /** Max-Age of the access/ID-token cookies (`AWS_COGNITO_COOKIE_AGE_SECONDS`), default 1800. */
  cookieMaxAgeSeconds?: number | undefined;
  /** Clock leeway for `exp`/`iat` (`AWS_COGNITO_EXPIRATION_LEEWAY`), default 0, at most 300. */
  expirationLeewaySeconds?: number | undefined;
  /** `Domain` attribute of the token cookies (`AWS_COGNITO_COOKIE_DOMAIN`). */
  cookieDomain?: string | undefined;
  /** `SameSite` of the token cookies (`AWS_COGNITO_COOKIE_SAMESITE`), default `Lax`. */
  cookieSameSite?: 'Lax' | 'Strict' | 'None' | undefined;
  /** Enables the refresh flow and the refresh-token cookie (`AWS_COGNITO_REFRESH_FLOW_ENABLED`), default false. */
  refreshFlowEnabled?: boolean | undefined;
  /** Encrypts the refresh-token cookie (`AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED`), default true. */
  refreshCookieEncrypted?: boolean | undefined;
  /** Max-Age of the refresh-token cookie (`AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS`), default 86400. */
  refreshCookieMaxAgeSeconds?: number | undefined;
  /** Bypasses route protection, for local development only (`AWS_COGNITO_DISABLED`). */
  disabled?: boolean | undefined;
  /**
   * Whether cookies carry `Secure`. Default: on, unless the redirect URL is plain-http loopback
   * (local development).
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

/** The Cognito endpoints derived from the options. */
export interface CognitoEndpoints {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly authorize: string;
  readonly token: string;
  readonly revoke: string;
  readonly userInfo: string;
  readonly logout: string;
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
  readonly disabled: boolean;
  readonly secureCookies: boolean;
  readonly loginPath: string;
  readonly httpTimeoutMs: number;
  readonly verifiedTokenCacheSize: number;
  readonly fetch: typeof fetch;
  readonly logger: CognitoGuardLogger;
  readonly now: () => number;
  readonly endpoints: CognitoEndpoints;
  /** True when an endpoint is plain-http loopback (the emulator). */
  readonly allowInsecureHttp: boolean;
}

const MAX_LEEWAY_SECONDS = 300;
const MIN_SECRET_LENGTH = 32;

/** True for `localhost`, `127.0.0.0/8` and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Checks an absolute URL: https, or http on a loopback host only. */
function checkUrl(
  name: string,
  value: unknown,
  problems: string[],
  originOnly = false,
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
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    problems.push(`${name} must use https (plain http is allowed only for localhost/127.0.0.1)`);
  }
  if (url.username !== '' || url.password !== '')
    problems.push(`${name} must not contain credentials`);
  if (url.hash !== '') problems.push(`${name} must not contain a fragment`);
  if (originOnly && (url.pathname !== '/' || url.search !== '')) {
    problems.push(
      `${name} must be an origin only, e.g. https://app.auth.eu-west-1.amazoncognito.com`,
    );
  }
  return url;
}

function checkNonNegativeInteger(
  name: string,
  value: unknown,
  fallback: number,
  problems: string[],
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    problems.push(`${name} must be an integer between 0 and ${max}`);
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
 * Validates options and fills in defaults. Throws one {@link ConfigurationError} naming every
 * problem.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions(fromEnv(process.env));
 * console.log(resolved.endpoints.issuer);
 * ```
 */
export function resolveOptions(options: CognitoGuardOptions): ResolvedOptions {
  const problems: string[] = [];
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

  const domainUrl = checkUrl('domain', o.domain, problems, true);
  const domain = domainUrl?.origin ?? '';

  const issuerInput =
    o.issuer === undefined || o.issuer === ''
      ? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
      : o.issuer;
  const issuerUrl = checkUrl('issuer', issuerInput, problems);
  if (issuerUrl !== undefined && issuerInput.endsWith('/')) {
    problems.push('issuer must not end with a slash (it is compared exactly with the tokens)');
  }

  let redirectUrlIsInsecureLoopback = false;
  for (const [name, value] of [
    ['redirectUrl', o.redirectUrl],
    ['logoutUrl', o.logoutUrl],
  ] as const) {
    if (typeof value === 'function') continue;
    const url = checkUrl(name, value, problems);
    if (name === 'redirectUrl' && url?.protocol === 'http:') redirectUrlIsInsecureLoopback = true;
  }

  const secrets: unknown[] =
    typeof o.secretKey === 'string' ? [o.secretKey] : Array.isArray(o.secretKey) ? o.secretKey : [];
  if (secrets.length === 0) problems.push('secretKey is required (SECRET_KEY)');
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      problems.push(
        `secretKey${secrets.length > 1 ? `[${index}]` : ''} must be at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
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
    } else {
      scopes = [...new Set(o.scopes)];
    }
  }

  const cookieSameSite = o.cookieSameSite ?? 'Lax';
  if (!['Lax', 'Strict', 'None'].includes(cookieSameSite)) {
    problems.push('cookieSameSite must be Lax, Strict or None');
  }
  if (o.cookieDomain !== undefined && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(o.cookieDomain)) {
    problems.push('cookieDomain must be a host name such as example.com');
  }
  const loginPath = o.loginPath ?? '/login';
  if (!/^\/[^/\\]/.test(loginPath) && loginPath !== '/')
    problems.push('loginPath must be a path starting with /');

  const secureCookies = checkBoolean(
    'secureCookies',
    o.secureCookies,
    !redirectUrlIsInsecureLoopback,
    problems,
  );
  if (!secureCookies && cookieSameSite === 'None') {
    problems.push('cookieSameSite None requires secure cookies');
  }
  const fetchImpl = o.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') problems.push('fetch must be a function');

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
    cookieMaxAgeSeconds: checkNonNegativeInteger(
      'cookieMaxAgeSeconds',
      o.cookieMaxAgeSeconds,
      1800,
      problems,
    ),
    expirationLeewaySeconds: checkNonNegativeInteger(
      'expirationLeewaySeconds',
      o.expirationLeewaySeconds,
      0,
      problems,
      MAX_LEEWAY_SECONDS,
    ),
    cookieDomain: o.cookieDomain?.replace(/^\./, ''),
    cookieSameSite,
    refreshFlowEnabled: checkBoolean('refreshFlowEnabled', o.refreshFlowEnabled, false, problems),
    refreshCookieEncrypted: checkBoolean(
      'refreshCookieEncrypted',
      o.refreshCookieEncrypted,
      true,
      problems,
    ),
    refreshCookieMaxAgeSeconds: checkNonNegativeInteger(
      'refreshCookieMaxAgeSeconds',
      o.refreshCookieMaxAgeSeconds,
      86_400,
      problems,
    ),
    disabled: checkBoolean('disabled', o.disabled, false, problems),
    secureCookies,
    loginPath,
    httpTimeoutMs:
      checkNonNegativeInteger('httpTimeoutMs', o.httpTimeoutMs, 3000, problems, 60_000) || 3000,
    verifiedTokenCacheSize: checkNonNegativeInteger(
      'verifiedTokenCacheSize',
      o.verifiedTokenCacheSize,
      10_000,
      problems,
    ),
    fetch: fetchImpl,
    logger: o.logger ?? {
      warn: (message, fields) => {
        console.warn(`[cognito-guard] ${message}`, fields ?? '');
      },
    },
    now: o.now ?? Date.now,
    endpoints: {
      issuer: issuerInput,
      jwksUri: `${issuerInput}/.well-known/jwks.json`,
      authorize: `${domain}/oauth2/authorize`,
      token: `${domain}/oauth2/token`,
      revoke: `${domain}/oauth2/revoke`,
      userInfo: `${domain}/oauth2/userInfo`,
      logout: `${domain}/logout`,
    },
    allowInsecureHttp: domainUrl?.protocol === 'http:' || issuerUrl?.protocol === 'http:',
  };

  if (problems.length > 0) throw new ConfigurationError(problems);
  return resolved;
}

/** An environment: `process.env` or any string map. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from environment variables with the names flask-cognito-lib uses.
 * Booleans accept only `true`/`false`/`1`/`0`; integers only digits. Every missing required
 * name and every bad value is reported together in one {@link ConfigurationError}.
 *
 * @example
 * ```ts
 * const guard = new CognitoGuard(fromEnv(process.env));
 * ```
 */
export function fromEnv(env: Environment): CognitoGuardOptions {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const required = (name: string): string => {
    const value = text(name);
    if (value === undefined) problems.push(`${name} is required`);
    return value ?? '';
  };
  const bool = (name: string): boolean | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    problems.push(`${name} must be true, false, 1 or 0`);
    return undefined;
  };
  const integer = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!/^\d{1,9}$/.test(value)) {
      problems.push(`${name} must be a whole number of seconds`);
      return undefined;
    }
    return Number(value);
  };

  const sameSiteRaw = text('AWS_COGNITO_COOKIE_SAMESITE');
  let cookieSameSite: CognitoGuardOptions['cookieSameSite'];
  if (sameSiteRaw !== undefined) {
    const normalised = sameSiteRaw.charAt(0).toUpperCase() + sameSiteRaw.slice(1).toLowerCase();
    if (normalised === 'Lax' || normalised === 'Strict' || normalised === 'None')
      cookieSameSite = normalised;
    else problems.push('AWS_COGNITO_COOKIE_SAMESITE must be Lax, Strict or None');
  }
  const scopesRaw = text('AWS_COGNITO_SCOPES');
  const secretKey = required('SECRET_KEY');
  const fallbacks = (text('SECRET_KEY_FALLBACKS') ?? '').split(/[\s,]+/).filter((s) => s !== '');

  const options: CognitoGuardOptions = {
    region: required('AWS_REGION'),
    userPoolId: required('AWS_COGNITO_USER_POOL_ID'),
    domain: required('AWS_COGNITO_DOMAIN'),
    clientId: required('AWS_COGNITO_USER_POOL_CLIENT_ID'),
    clientSecret: text('AWS_COGNITO_USER_POOL_CLIENT_SECRET'),
    redirectUrl: required('AWS_COGNITO_REDIRECT_URL'),
    logoutUrl: required('AWS_COGNITO_LOGOUT_URL'),
    secretKey: fallbacks.length > 0 ? [secretKey, ...fallbacks] : secretKey,
    issuer: text('AWS_COGNITO_ISSUER'),
    scopes: scopesRaw?.split(/[\s,]+/).filter((s) => s !== ''),
    cookieMaxAgeSeconds: integer('AWS_COGNITO_COOKIE_AGE_SECONDS'),
    expirationLeewaySeconds: integer('AWS_COGNITO_EXPIRATION_LEEWAY'),
    cookieDomain: text('AWS_COGNITO_COOKIE_DOMAIN'),
    cookieSameSite,
    refreshFlowEnabled: bool('AWS_COGNITO_REFRESH_FLOW_ENABLED'),
    refreshCookieEncrypted: bool('AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED'),
    refreshCookieMaxAgeSeconds: integer('AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS'),
    disabled: bool('AWS_COGNITO_DISABLED'),
  };
  if (problems.length > 0) throw new ConfigurationError(problems);
  return options;
}
