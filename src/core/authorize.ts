/**
 * Building the authorization request: PKCE, `state`, `nonce`, the authorize URL, and the
 * validation of `returnTo` and per-request authorize parameters.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636 (PKCE)
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.11 (open redirection)
 * @module
 */
import {
  calculatePKCECodeChallenge,
  generateRandomCodeVerifier,
  generateRandomNonce,
  generateRandomState,
} from 'oauth4webapi';
import { LIMITS } from './limits.js';

/**
 * Extra authorize parameters an app may pass per request. Values are Cognito's wire names.
 *
 * @example
 * ```ts
 * app.get('/login/google', auth.login(() => ({ authorizeParams: { identity_provider: 'Google' } })));
 * ```
 */
export interface AuthorizeParams {
  /** Sends the user straight to this IdP (`COGNITO`, `Google`, a SAML/OIDC provider name…). */
  identity_provider?: string | undefined;
  /** Another identifier of a SAML/OIDC IdP. */
  idp_identifier?: string | undefined;
  /** Language of the managed login pages. */
  lang?: string | undefined;
  /** Prefills the username field. */
  login_hint?: string | undefined;
  /** OIDC `prompt` (managed login only): `login`, `none`, `consent`, `select_account`. */
  prompt?: 'login' | 'none' | 'consent' | 'select_account' | undefined;
}

const AUTHORIZE_PARAM_NAMES = [
  'identity_provider',
  'idp_identifier',
  'lang',
  'login_hint',
  'prompt',
] as const;
const PROMPT_VALUES = new Set(['login', 'none', 'consent', 'select_account']);

/** The fresh secrets of one login transaction. */
export interface TransactionSecrets {
  readonly state: string;
  readonly codeVerifier: string;
  readonly codeChallenge: string;
  readonly nonce: string;
}

/**
 * Makes a fresh state, PKCE verifier (43 characters from 32 random bytes) and challenge (S256),
 * and nonce, for every login.
 */
export async function createTransactionSecrets(): Promise<TransactionSecrets> {
  const codeVerifier = generateRandomCodeVerifier();
  return {
    state: generateRandomState(),
    codeVerifier,
    codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
    nonce: generateRandomNonce(),
  };
}

/**
 * Checks the per-request authorize parameters. Returns the problems found (empty when fine).
 */
export function checkAuthorizeParams(params: AuthorizeParams): string[] {
  const problems: string[] = [];
  const record = params as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(AUTHORIZE_PARAM_NAMES as readonly string[]).includes(key)) {
      problems.push(`unsupported authorize parameter ${key}`);
      continue;
    }
    const value = record[key];
    if (value === undefined) continue;
    if (
      typeof value !== 'string' ||
      value === '' ||
      value.length > 512 ||
      /[\x00-\x1f\x7f]/.test(value)
    ) {
      problems.push(`authorize parameter ${key} must be a short printable string`);
    }
  }
  if (params.identity_provider !== undefined && params.idp_identifier !== undefined) {
    problems.push('send identity_provider or idp_identifier, not both');
  }
  if (params.prompt !== undefined && !PROMPT_VALUES.has(params.prompt)) {
    problems.push('prompt must be login, none, consent or select_account');
  }
  return problems;
}

/** Everything the authorize URL is built from. */
export interface AuthorizeUrlInput {
  readonly authorizeEndpoint: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly secrets: TransactionSecrets;
  readonly scopes: readonly string[] | undefined;
  readonly params?: AuthorizeParams | undefined;
}

/**
 * Builds the Cognito authorize URL. Every value is URL-encoded (flask-cognito-lib did not escape
 * parameters), `response_type` is always `code` and the PKCE method always `S256`.
 *
 * @example
 * ```ts
 * const secrets = await createTransactionSecrets();
 * buildAuthorizeUrl({
 *   authorizeEndpoint: 'https://auth.example.com/oauth2/authorize',
 *   clientId: 'my-client',
 *   redirectUri: 'https://app.example.com/postlogin',
 *   secrets,
 *   scopes: ['openid'],
 * });
 * ```
 */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const url = new URL(input.authorizeEndpoint);
  const query = url.searchParams;
  query.set('response_type', 'code');
  query.set('client_id', input.clientId);
  query.set('redirect_uri', input.redirectUri);
  query.set('state', input.secrets.state);
  query.set('nonce', input.secrets.nonce);
  query.set('code_challenge', input.secrets.codeChallenge);
  query.set('code_challenge_method', 'S256');
  if (input.scopes !== undefined && input.scopes.length > 0)
    query.set('scope', input.scopes.join(' '));
  for (const name of AUTHORIZE_PARAM_NAMES) {
    const value = input.params?.[name];
    if (value !== undefined) query.set(name, value);
  }
  return url.toString();
}

/**
 * Returns `value` when it is a safe same-origin relative path (`/path?query#hash`) of at most 512
 * characters once normalised, otherwise `undefined`. Rejects `//host`, `/\host`, schemes,
 * backslashes, control characters and their percent-encoded forms, and anything whose
 * normalised form would itself be refused — so the result is stable:
 * `safeReturnTo(safeReturnTo(x)) === safeReturnTo(x)`.
 *
 * The length cap keeps one crafted link from filling the browser's cookie header with pending
 * logins (the return-to path travels in the login transaction cookie).
 *
 * @example
 * ```ts
 * safeReturnTo('/claims?tab=1'); // '/claims?tab=1'
 * safeReturnTo('//evil.example'); // undefined
 * safeReturnTo('/%2e%2e/%2f/evil.example'); // undefined (normalises to /%2f/evil.example)
 * ```
 */
export function safeReturnTo(value: unknown): string | undefined {
  const normalised = normaliseReturnTo(value);
  // The normalised path must pass the same rules: dot segments can turn an innocent-looking
  // value into one that decodes to `//evil.example`.
  return normalised !== undefined && normaliseReturnTo(normalised) === normalised
    ? normalised
    : undefined;
}

function normaliseReturnTo(value: unknown): string | undefined {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > LIMITS.maxReturnToInputLength
  )
    return undefined;
  if (!value.startsWith('/')) return undefined;
  let decoded = value;
  // Decode repeatedly so that %252F%252F and friends are judged by what they may become.
  for (let round = 0; round < 3; round += 1) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return undefined;
    }
    if (next === decoded) break;
    decoded = next;
  }
  if (/[\x00-\x20\x7f]/.test(value)) return undefined;
  if (!decoded.startsWith('/') || /[\x00-\x1f\x7f]/.test(decoded)) return undefined;
  for (const candidate of [value, decoded]) {
    if (candidate.startsWith('//') || candidate.includes('\\')) return undefined;
  }
  const base = 'https://return-to.invalid';
  let resolved: URL;
  try {
    resolved = new URL(value, base);
  } catch {
    return undefined;
  }
  if (resolved.origin !== base) return undefined;
  const normalised = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  // Dot segments collapse: `/..//evil.example` and `/%2e//evil.example` resolve to
  // `//evil.example`, which a browser reads as another host.
  if (normalised.startsWith('//')) return undefined;
  if (normalised.length > LIMITS.maxReturnToLength) return undefined;
  return normalised;
}
