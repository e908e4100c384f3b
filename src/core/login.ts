/**
 * Starting a login: a fresh transaction (state, PKCE S256, nonce), sealed in its own cookie,
 * and a redirect to Cognito's `/oauth2/authorize`.
 *
 * The transaction cookies of unfinished logins are kept within a byte budget: at most a few are
 * pending at once, and when the browser's Cookie header is already large they are all dropped
 * before a new one is added. Otherwise a crafted link opened a few times (or once, behind nginx's
 * default 8 KB header limit) would make every later request fail with 431.
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
import { CallbackError, SpeculativeRequestError } from './errors.js';
import { queryParameters, type IncomingRequest, type OutgoingResponse } from './http.js';
import { LIMITS } from './limits.js';
import { unknownKeyProblems } from './options.js';
import { isSpeculativeRequest } from './request-rules.js';
import { redirectResponse } from './responses.js';
import {
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
 * const options: LoginOptions = { returnTo: '/reports', authorizeParams: { login_hint: 'alice' } };
 * ```
 */
export interface LoginOptions {
  /**
   * Where to send the user after the callback: a same-origin relative path. Unsafe or overlong
   * values are ignored. Default: the request's `returnTo` query parameter, if safe.
   */
  readonly returnTo?: string | undefined;
  /** Extra Cognito authorize parameters (`identity_provider`, `login_hint`, `lang`, `prompt`…). */
  readonly authorizeParams?: AuthorizeParams | undefined;
}

const LOGIN_OPTION_NAMES = new Set(['returnTo', 'authorizeParams']);

function singleQueryParameter(request: IncomingRequest, name: string): string | undefined {
  const values = queryParameters(request).getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/**
 * The deletions of pending transaction cookies needed before one more is added: the oldest
 * beyond the pending limit (browsers send cookies of one path oldest first), or all of them when
 * the Cookie header is already crowded.
 */
function stalePendingTransactions(
  context: GuardContext,
  cookieHeader: string | undefined,
): string[] {
  if (cookieHeader === undefined) return [];
  const pending = Object.keys(parseCookies(cookieHeader).values).filter(isTransactionCookieName);
  const crowded = new TextEncoder().encode(cookieHeader).length > LIMITS.crowdedCookieHeaderBytes;
  const keep = crowded ? 0 : LIMITS.maxPendingTransactions - 1;
  const attributes = transactionCookieAttributes(context.options);
  return pending
    .slice(0, Math.max(0, pending.length - keep))
    .map((name) => deleteCookie(name, attributes));
}

/** Builds the redirect to Cognito and the transaction cookie. */
export async function startLogin(
  context: GuardContext,
  request: IncomingRequest,
  options: LoginOptions = {},
): Promise<OutgoingResponse> {
  const { options: config } = context;
  // A prefetched login link would leave a transaction cookie behind for a login nobody started.
  if (isSpeculativeRequest(request)) throw new SpeculativeRequestError();
  const params = options.authorizeParams ?? {};
  const problems = [
    ...unknownKeyProblems(options, LOGIN_OPTION_NAMES, 'login option'),
    ...checkAuthorizeParams(params),
  ];
  if (problems.length > 0) throw new CallbackError('ERR_CALLBACK_INVALID', problems.join('; '));

  const returnTo = safeReturnTo(options.returnTo ?? singleQueryParameter(request, 'returnTo'));
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
  const setCookies = stalePendingTransactions(context, request.header('cookie'));
  setCookies.push(
    setCookie(
      transactionCookieName(await stateId(secrets.state), config.secureCookies),
      sealed,
      LIMITS.transactionTtlSeconds,
      transactionCookieAttributes(config),
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
