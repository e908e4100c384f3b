/**
 * The login callback: validates what Cognito sent back against the transaction cookie, redeems
 * the code (PKCE), verifies both tokens (nonce, at_hash), and sets the session cookies.
 *
 * Order matters: nothing is exchanged until the transaction is found, unsealed, matched in
 * constant time and marked consumed; no cookie but the transaction's deletion is set until
 * every token has verified.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.7 (CSRF)
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @module
 */
import * as oauth from 'oauth4webapi';
import type { CognitoIdentity } from './claims.js';
import { deleteCookie, parseCookies } from './cookies.js';
import { FlowFailure, transactionCookieAttributes, type GuardContext } from './context.js';
import { timingSafeEqual } from './crypto.js';
import {
  CallbackError,
  CognitoGuardError,
  SignInCapacityError,
  SpeculativeRequestError,
} from './errors.js';
import { queryParameters, type IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import { isSpeculativeRequest } from './request-rules.js';
import { refreshOf, toIdentity, verifyTokenResponse } from './tokens.js';
import { GrantRejectedError, type TokenSet } from './token-client.js';
import {
  isTransactionCookieName,
  stateId,
  transactionCookieName,
  unsealTransaction,
} from './transaction.js';

/** A completed login. */
export interface CallbackSuccess {
  readonly identity: CognitoIdentity;
  /** The safe return-to path stored at login, if any. */
  readonly returnTo: string | undefined;
  /** Session cookies plus the deletion of the transaction cookie. */
  readonly setCookies: readonly string[];
}

/**
 * Verifies the tokens of a sign-in (both name the same user; `nonce` when given) and keeps them
 * as the request's new session: the end of every sign-in, whether the tokens came from the code
 * exchange or from {@link CognitoGuard.startSession}.
 */
export async function beginSession(
  context: GuardContext,
  request: IncomingRequest,
  tokens: TokenSet,
  nonce?: string,
  fromTokenEndpoint = true,
): Promise<{ identity: CognitoIdentity; setCookies: readonly string[] }> {
  const { accessClaims, idClaims } = await verifyTokenResponse(
    context,
    tokens,
    nonce,
    fromTokenEndpoint,
  );
  const setCookies = await context.sessions.start(request, {
    subject: accessClaims.sub,
    accessToken: tokens.accessToken,
    idToken: tokens.idToken,
    refresh: context.options.refreshFlowEnabled ? refreshOf(tokens, accessClaims) : undefined,
    rotated: true,
  });
  return {
    identity: toIdentity(accessClaims, tokens.accessToken, idClaims, tokens.idToken),
    setCookies,
  };
}

const TOKEN_PARAMETERS = ['access_token', 'id_token', 'token', 'refresh_token'];

/**
 * Handles `GET {redirect_uri}?code&state` (or `?error`).
 *
 * @throws {FlowFailure} with the error to answer and the cookies to clear.
 */
export async function completeLogin(
  context: GuardContext,
  request: IncomingRequest,
): Promise<CallbackSuccess> {
  const { options } = context;
  // Redeeming the code for a prefetch would burn it, and the real navigation would then fail.
  if (isSpeculativeRequest(request)) throw new FlowFailure(new SpeculativeRequestError(), []);
  const attributes = transactionCookieAttributes(options);
  const params = queryParameters(request);
  const states = params.getAll('state');
  const id =
    states.length === 1 && states[0] !== undefined && states[0] !== ''
      ? await stateId(states[0])
      : undefined;
  const transactionCookie =
    id === undefined ? undefined : transactionCookieName(id, options.secureCookies);
  const cookies = parseCookies(
    request.header('cookie'),
    transactionCookie === undefined ? [] : [transactionCookie],
  );

  // Whatever happens, the transaction this callback names is finished.
  const clearing: string[] = [];
  if (transactionCookie !== undefined) {
    if (cookies.values[transactionCookie] !== undefined)
      clearing.push(deleteCookie(transactionCookie, attributes));
  } else {
    // No usable state: end every pending transaction rather than leave one half-used.
    for (const name of Object.keys(cookies.values).filter(isTransactionCookieName)) {
      clearing.push(deleteCookie(name, attributes));
    }
  }
  const fail = (
    code: ConstructorParameters<typeof CallbackError>[0],
    detail: string,
  ): FlowFailure => new FlowFailure(new CallbackError(code, detail), clearing);

  if (request.method !== 'GET' && request.method !== 'HEAD')
    throw fail('ERR_CALLBACK_INVALID', 'callback must be a GET');
  if (TOKEN_PARAMETERS.some((name) => params.has(name)) || request.url.includes('#')) {
    throw fail('ERR_CALLBACK_INVALID', 'tokens in the callback URL (implicit flow) are refused');
  }
  for (const name of ['code', 'state', 'error', 'iss']) {
    if (params.getAll(name).length > 1)
      throw fail('ERR_CALLBACK_INVALID', `repeated ${name} parameter`);
  }
  const state = states[0];
  if (state === undefined || state === '') {
    throw fail(
      params.has('error') ? 'ERR_CALLBACK_ERROR_RESPONSE' : 'ERR_CALLBACK_INVALID',
      'callback without state',
    );
  }
  const sealed = transactionCookie === undefined ? undefined : cookies.values[transactionCookie];
  if (
    id === undefined ||
    transactionCookie === undefined ||
    sealed === undefined ||
    cookies.duplicates.has(transactionCookie)
  ) {
    throw fail(
      'ERR_CALLBACK_NO_TRANSACTION',
      'no transaction cookie for this state (was the sign-in started on another host name than the redirect URL, or in another browser?)',
    );
  }
  const transaction = await unsealTransaction(context.sealer, sealed);
  if (transaction === undefined)
    throw fail(
      'ERR_CALLBACK_NO_TRANSACTION',
      'transaction expired or sealed with another SECRET_KEY',
    );
  if (!timingSafeEqual(transaction.state, state))
    throw fail('ERR_CALLBACK_STATE_MISMATCH', 'state mismatch');
  if (transaction.issuer !== options.endpoints.issuer) {
    throw fail('ERR_CALLBACK_STATE_MISMATCH', 'transaction was started against another issuer');
  }
  if (context.consumedStates.has(id))
    throw fail('ERR_CALLBACK_NO_TRANSACTION', 'transaction already used');
  // Consume before any network call, so a concurrent second redemption fails cleanly. The record
  // is kept as long as the transaction could be unsealed; when it is full of live entries the
  // sign-in waits rather than forget one.
  if (
    !context.consumedStates.setIfRoom(id, true, options.now() + LIMITS.transactionTtlSeconds * 1000)
  ) {
    throw new FlowFailure(
      new SignInCapacityError('the record of redeemed sign-ins is full'),
      clearing,
    );
  }

  if (params.has('error')) {
    const oauthError = params.get('error') ?? '';
    const safeCode = /^[a-z_]{1,64}$/.test(oauthError) ? oauthError : 'unrecognised';
    throw fail('ERR_CALLBACK_ERROR_RESPONSE', `Cognito returned error=${safeCode}`);
  }
  if (!params.has('code') || params.get('code') === '')
    throw fail('ERR_CALLBACK_INVALID', 'callback without code');

  let callbackParameters: URLSearchParams;
  try {
    callbackParameters = oauth.validateAuthResponse(
      { issuer: options.endpoints.issuer },
      { client_id: options.clientId },
      params,
      transaction.state,
    );
  } catch {
    throw fail('ERR_CALLBACK_INVALID', 'callback parameters rejected');
  }

  try {
    const tokens = await context.tokenClient.exchangeCode({
      callbackParameters,
      redirectUri: transaction.redirectUri,
      codeVerifier: transaction.codeVerifier,
      expectedNonce: transaction.nonce,
      requireIdToken: options.scopes !== undefined,
    });
    const session = await beginSession(context, request, tokens, transaction.nonce);
    return {
      identity: session.identity,
      returnTo: transaction.returnTo,
      setCookies: [...clearing, ...session.setCookies],
    };
  } catch (error) {
    if (error instanceof GrantRejectedError) {
      throw new FlowFailure(
        new CallbackError(
          'ERR_CALLBACK_REJECTED',
          `code exchange refused: ${error.oauthError}${error.reason === undefined ? '' : ` (${error.reason})`}`,
          { cause: error },
        ),
        clearing,
      );
    }
    if (error instanceof CognitoGuardError) {
      // A token that fails verification here means the sign-in cannot complete: 400, not 401.
      const mapped =
        error.status === 401
          ? new CallbackError('ERR_CALLBACK_REJECTED', error.detail ?? error.message, {
              cause: error,
            })
          : error;
      throw new FlowFailure(mapped, clearing);
    }
    throw error;
  }
}
