/**
 * The refresh flow: exchanges the (decrypted) refresh token, verifies the new tokens, checks they
 * belong to the same user and sign-in, re-sets the cookies, and stores a rotated refresh token
 * when Cognito returns one (flask-cognito-lib dropped it, which ended the session at the next
 * refresh once rotation was on).
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';
import { COOKIE_NAMES, parseCookies } from './cookies.js';
import { appOrigin, deleteTokenCookies, FlowFailure, type GuardContext } from './context.js';
import { CognitoGuardError, CrossSiteRequestError, RefreshError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { isCrossSiteRequest } from './request-rules.js';
import { readRefreshCookie, sessionCookies, toIdentity, verifyTokenResponse } from './session.js';
import { GrantRejectedError } from './token-client.js';

/** A completed refresh. */
export interface RefreshSuccess {
  readonly identity: CognitoIdentity;
  readonly setCookies: readonly string[];
}

/**
 * Handles `POST /refresh`: only a POST, and only from our own site (a cross-site form must not
 * be able to spend the user's refresh token).
 *
 * @throws {FlowFailure} with the error to answer and the cookies to set with it.
 */
export async function refreshRoute(
  context: GuardContext,
  request: IncomingRequest,
): Promise<RefreshSuccess> {
  const { options } = context;
  if (!options.refreshFlowEnabled)
    throw new FlowFailure(new RefreshError('ERR_REFRESH_DISABLED'), []);
  if (request.method !== 'POST') {
    throw new FlowFailure(new RefreshError('ERR_REFRESH_REJECTED', 'refresh must be a POST'), []);
  }
  if (isCrossSiteRequest(request, appOrigin(options, request))) {
    throw new FlowFailure(new CrossSiteRequestError('cross-site refresh refused'), []);
  }
  return refreshFromCookie(context, request);
}

/**
 * Refreshes the session from the request's refresh cookie, sharing one exchange among concurrent
 * requests of the same session.
 *
 * @throws {FlowFailure} 401 clearing the session when the refresh token is missing, unreadable,
 *   duplicated, revoked or expired; 502–504 keeping the cookies when Cognito is unavailable.
 */
export async function refreshFromCookie(
  context: GuardContext,
  request: IncomingRequest,
): Promise<RefreshSuccess> {
  const { options } = context;
  const cookies = parseCookies(request.header('cookie'), [COOKIE_NAMES.refreshToken]);
  const endSession = deleteTokenCookies(options);
  if (cookies.duplicates.has(COOKIE_NAMES.refreshToken)) {
    throw new FlowFailure(
      new RefreshError('ERR_REFRESH_REJECTED', 'duplicate refresh cookies'),
      endSession,
    );
  }
  const raw = cookies.values[COOKIE_NAMES.refreshToken];
  const stored = await readRefreshCookie(context, raw);
  if (stored === undefined) {
    throw new FlowFailure(
      new RefreshError(
        'ERR_REFRESH_REJECTED',
        raw === undefined ? 'no refresh cookie' : 'refresh cookie not readable',
      ),
      raw === undefined ? [] : endSession,
    );
  }

  const key = stored.refreshToken;
  const inFlight = context.refreshesInFlight.get(key) as Promise<RefreshSuccess> | undefined;
  if (inFlight !== undefined) return inFlight;
  const exchange = (async (): Promise<RefreshSuccess> => {
    try {
      const tokens = await context.tokenClient.refresh(stored.refreshToken);
      const { accessClaims, idClaims } = await verifyTokenResponse(context, tokens);
      const sameUser =
        (stored.subject === undefined || stored.subject === accessClaims.sub) &&
        (stored.authTime === undefined ||
          accessClaims.auth_time === undefined ||
          stored.authTime === accessClaims.auth_time);
      if (!sameUser)
        throw new RefreshError(
          'ERR_REFRESH_REJECTED',
          'refreshed tokens belong to another user or sign-in',
        );
      const rotated = tokens.refreshToken;
      const setCookies = await sessionCookies(
        context,
        { accessToken: tokens.accessToken, idToken: tokens.idToken },
        rotated === undefined
          ? undefined
          : {
              refreshToken: rotated,
              subject: accessClaims.sub,
              authTime: accessClaims.auth_time ?? stored.authTime,
            },
      );
      return {
        identity: toIdentity(accessClaims, tokens.accessToken, idClaims, tokens.idToken),
        setCookies,
      };
    } catch (error) {
      if (error instanceof GrantRejectedError) {
        // Revoked or expired refresh token: the session is over.
        throw new FlowFailure(
          new RefreshError('ERR_REFRESH_REJECTED', `refresh refused: ${error.oauthError}`, {
            cause: error,
          }),
          endSession,
        );
      }
      if (error instanceof RefreshError) throw new FlowFailure(error, endSession);
      if (error instanceof CognitoGuardError) {
        // A token that does not verify ends the session; Cognito being unavailable does not:
        // fail closed without touching the cookies, so the next try can succeed.
        const rejected = error.status === 401;
        throw new FlowFailure(
          rejected
            ? new RefreshError('ERR_REFRESH_REJECTED', error.detail ?? error.message, {
                cause: error,
              })
            : error,
          rejected ? endSession : [],
        );
      }
      throw error;
    } finally {
      context.refreshesInFlight.delete(key);
    }
  })();
  context.refreshesInFlight.set(key, exchange);
  return exchange;
}
