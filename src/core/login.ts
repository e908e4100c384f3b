/**
 * Starting a login: a fresh transaction (state, PKCE S256, nonce), sealed in its own cookie,
 * and a redirect to Cognito's `/oauth2/authorize`.
 *
 * @module
 */
import {
  buildAuthorizeUrl,
  checkAuthorizeParams,
  createTransactionSecrets,
  safeReturnTo,
  type AuthorizeParams,
} from './authorize.js';
import { deleteCookie, parseCookies, setCookie } from './cookies.js';
import { resolveUrl, transactionCookieAttributes, type GuardContext } from './context.js';
import { CallbackError } from './errors.js';
import type { IncomingRequest, OutgoingResponse } from './http.js';
import { redirectResponse } from './responses.js';
import {
  MAX_PENDING_TRANSACTIONS,
  TRANSACTION_TTL_SECONDS,
  isTransactionCookieName,
  sealTransaction,
  stateId,
  transactionCookieName,
} from './transaction.js';

/**
 * Per-request login options.
 *
 * @example
 * ```ts
 * await guard.login(request, { returnTo: '/reports', authorizeParams: { login_hint: 'alice' } });
 * ```
 */
export interface LoginOptions {
  /**
   * Where to send the user after the callback: a same-origin relative path. Unsafe values are
   * ignored. Default: the request's `returnTo` query parameter, if safe.
   */
  readonly returnTo?: string | undefined;
  /** Extra Cognito authorize parameters (`identity_provider`, `login_hint`, `lang`, `prompt`…). */
  readonly authorizeParams?: AuthorizeParams | undefined;
}

function queryParam(request: IncomingRequest, name: string): string | undefined {
  const query = request.url.indexOf('?');
  if (query === -1) return undefined;
  const values = new URLSearchParams(request.url.slice(query + 1)).getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/** Builds the redirect to Cognito and the transaction cookie. */
export async function startLogin(
  context: GuardContext,
  request: IncomingRequest,
  options: LoginOptions = {},
): Promise<OutgoingResponse> {
  const { options: config } = context;
  const params = options.authorizeParams ?? {};
  const problems = checkAuthorizeParams(params);
  if (problems.length > 0) throw new CallbackError('ERR_CALLBACK_INVALID', problems.join('; '));

  const returnTo = safeReturnTo(options.returnTo ?? queryParam(request, 'returnTo'));
  const redirectUri = resolveUrl(config.redirectUrl, request);
  const secrets = await createTransactionSecrets();
  const sealed = await sealTransaction(context.sealer, {
    state: secrets.state,
    codeVerifier: secrets.codeVerifier,
    nonce: secrets.nonce,
    returnTo,
    issuer: config.endpoints.issuer,
    redirectUri,
  });
  const attributes = transactionCookieAttributes(config);
  const setCookies: string[] = [];

  // Bound the number of pending transactions so the Cookie header cannot grow without limit.
  const pending = Object.keys(parseCookies(request.header('cookie')).values).filter(
    isTransactionCookieName,
  );
  for (const name of pending.slice(
    0,
    Math.max(0, pending.length - (MAX_PENDING_TRANSACTIONS - 1)),
  )) {
    setCookies.push(deleteCookie(name, attributes));
  }
  setCookies.push(
    setCookie(
      transactionCookieName(await stateId(secrets.state), config.secureCookies),
      sealed,
      TRANSACTION_TTL_SECONDS,
      attributes,
    ),
  );

  const location = buildAuthorizeUrl({
    authorizeEndpoint: config.endpoints.authorize,
    clientId: config.clientId,
    redirectUri,
    secrets,
    scopes: config.scopes,
    params,
  });
  return redirectResponse(location, setCookies);
}
