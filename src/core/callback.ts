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
import { transactionCookieAttributes, type GuardContext } from './context.js';
import { CallbackError, CognitoGuardError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { sessionCookies, toIdentity, verifyTokenResponse } from './session.js';
import { GrantRejectedError } from './token-client.js';
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
  readonly setCookies: string[];
}

/** Thrown by {@link completeLogin}: the error, plus the cookies to clear with the error response. */
export class CallbackFailure extends Error {
  constructor(
    readonly error: CognitoGuardError,
    readonly setCookies: string[],
  ) {
    super(error.message);
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  // Compare every byte whatever the lengths, so timing reveals nothing about the prefix.
  let difference = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  }
  return difference === 0;
}

export { timingSafeEqual };

const TOKEN_PARAMETERS = ['access_token', 'id_token', 'token', 'refresh_token'];

/** Handles `GET {redirect_uri}?code&state` (or `?error`). */
export async function completeLogin(
  context: GuardContext,
  request: IncomingRequest,
): Promise<CallbackSuccess> {
  const { options } = context;
  const attributes = transactionCookieAttributes(options);
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const states = params.getAll('state');
  const transactionCookie =
    states.length === 1 && states[0] !== undefined && states[0] !== ''
      ? transactionCookieName(await stateId(states[0]), options.secureCookies)
      : undefined;
  const cookies = parseCookies(
    request.header('cookie'),
    transactionCookie === undefined ? [] : [transactionCookie],
  );

  // Whatever happens, the transaction this callback names is finished (B2, B13).
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
  ): CallbackFailure => new CallbackFailure(new CallbackError(code, detail), clearing);

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
  if (transactionCookie === undefined || cookies.duplicates.has(transactionCookie)) {
    throw fail('ERR_CALLBACK_NO_TRANSACTION', 'no transaction cookie for this state');
  }
  const sealed = cookies.values[transactionCookie];
  if (sealed === undefined)
    throw fail('ERR_CALLBACK_NO_TRANSACTION', 'no transaction cookie for this state');
  const transaction = await unsealTransaction(context.sealer, sealed);
  if (transaction === undefined)
    throw fail('ERR_CALLBACK_NO_TRANSACTION', 'transaction expired or not ours');
  if (!timingSafeEqual(transaction.state, state))
    throw fail('ERR_CALLBACK_STATE_MISMATCH', 'state mismatch');
  if (transaction.issuer !== options.endpoints.issuer) {
    throw fail('ERR_CALLBACK_STATE_MISMATCH', 'transaction was started against another issuer');
  }
  const id = await stateId(state);
  if (context.consumedStates.has(id))
    throw fail('ERR_CALLBACK_NO_TRANSACTION', 'transaction already used');
  // Consume before any network call: a concurrent second redemption fails cleanly (B17).
  context.consumedStates.set(id, true, options.now() + 600_000);

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
    const requireIdToken = options.scopes?.includes('openid') ?? false;
    const tokens = await context.tokenClient.exchangeCode({
      callbackParameters,
      redirectUri: transaction.redirectUri,
      codeVerifier: transaction.codeVerifier,
      expectedNonce: transaction.nonce,
      requireIdToken,
    });
    // A token that fails here is mapped to a 400 below: the sign-in cannot complete.
    const { claims, userInfo } = await verifyTokenResponse(context, tokens, transaction.nonce);
    const setCookies = [
      ...clearing,
      ...(await sessionCookies(
        context,
        { accessToken: tokens.accessToken, idToken: tokens.idToken },
        tokens.refreshToken === undefined
          ? undefined
          : { refreshToken: tokens.refreshToken, subject: claims.sub, authTime: claims.auth_time },
      )),
    ];
    return {
      identity: toIdentity(claims, tokens.accessToken, userInfo, tokens.idToken),
      returnTo: transaction.returnTo,
      setCookies,
    };
  } catch (error) {
    if (error instanceof GrantRejectedError) {
      throw new CallbackFailure(
        new CallbackError('ERR_CALLBACK_REJECTED', `code exchange refused: ${error.oauthError}`),
        clearing,
      );
    }
    if (error instanceof CognitoGuardError) {
      // A token that fails verification here means the sign-in cannot complete: 400, not 401.
      const mapped =
        error.status === 401
          ? new CallbackError('ERR_CALLBACK_REJECTED', error.detail ?? error.message)
          : error;
      throw new CallbackFailure(mapped, clearing);
    }
    throw error;
  }
}
