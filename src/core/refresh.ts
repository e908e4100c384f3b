/**
 * The refresh flow: exchanges the refresh token, verifies the new tokens, checks they belong to
 * the same user and sign-in, and keeps them where the session lives — including a rotated
 * refresh token (flask-cognito-lib dropped it, which ended the session at the next refresh once
 * rotation was on). Used by `POST /refresh` and by the automatic refresh of a protected route.
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';
import { appOrigin, FlowFailure, type GuardContext } from './context.js';
import {
  CognitoGuardError,
  CrossSiteRequestError,
  RefreshError,
  TokenVerifyError,
} from './errors.js';
import type { IncomingRequest } from './http.js';
import { LIMITS } from './limits.js';
import { isCrossSiteRequest } from './request-rules.js';
import type { PresentedSession } from './session.js';
import { GrantRejectedError } from './token-client.js';
import { refreshOf, toIdentity, verifyTokenResponse } from './tokens.js';

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
  let presented: PresentedSession;
  try {
    presented = await context.sessions.read(request);
  } catch (error) {
    throw asFlowFailure(error, context.sessions.clear(request));
  }
  return refreshSession(context, request, presented);
}

/** A failure as a flow answer: a token problem ends the session; an outage keeps it. */
function asFlowFailure(error: unknown, endSession: readonly string[]): unknown {
  if (error instanceof RefreshError) return new FlowFailure(error, endSession);
  if (error instanceof CognitoGuardError) {
    const rejected = error.status === 401;
    return new FlowFailure(
      rejected
        ? new RefreshError('ERR_REFRESH_REJECTED', error.detail ?? error.message, { cause: error })
        : error,
      rejected ? endSession : [],
    );
  }
  return error;
}

/**
 * Refreshes a presented session, sharing one exchange among concurrent requests of the same
 * session on this instance — and with those that arrive within a few seconds after it succeeded,
 * still carrying the old cookies (the browser had not stored the new ones yet).
 *
 * @throws {FlowFailure} 401 clearing the session when the refresh token is missing, unreadable,
 *   duplicated, revoked or expired; 502–504 (503 for a session store) keeping it when Cognito or
 *   the store is unavailable.
 */
export async function refreshSession(
  context: GuardContext,
  request: IncomingRequest,
  presented: PresentedSession,
): Promise<RefreshSuccess> {
  const endSession = context.sessions.clear(request);
  let stored;
  try {
    stored = await presented.refresh();
  } catch (error) {
    // A refresh cookie sent twice: one of them was planted. Trust neither.
    throw asFlowFailure(
      error instanceof TokenVerifyError
        ? new RefreshError('ERR_REFRESH_REJECTED', 'duplicate refresh cookies', { cause: error })
        : error,
      endSession,
    );
  }
  if (stored === undefined) {
    throw new FlowFailure(
      new RefreshError(
        'ERR_REFRESH_REJECTED',
        presented.refreshable ? 'refresh token not readable' : 'no refresh token',
      ),
      presented.refreshable ? endSession : [],
    );
  }

  const key = stored.refreshToken;
  const shared = context.recentRefreshes.get(key) as Promise<RefreshSuccess> | undefined;
  if (shared !== undefined) return shared;
  const previous = stored;
  const exchange = (async (): Promise<RefreshSuccess> => {
    try {
      const tokens = await context.tokenClient.refresh(previous.refreshToken);
      const { accessClaims, idClaims } = await verifyTokenResponse(context, tokens);
      const sameUser =
        (previous.subject === undefined || previous.subject === accessClaims.sub) &&
        (previous.authTime === undefined ||
          accessClaims.auth_time === undefined ||
          previous.authTime === accessClaims.auth_time);
      if (!sameUser)
        throw new RefreshError(
          'ERR_REFRESH_REJECTED',
          'refreshed tokens belong to another user or sign-in',
        );
      const setCookies = await context.sessions.update(request, {
        subject: accessClaims.sub,
        accessToken: tokens.accessToken,
        idToken: tokens.idToken,
        refresh: refreshOf(tokens, accessClaims, previous),
        rotated: tokens.refreshToken !== undefined && tokens.refreshToken !== previous.refreshToken,
      });
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
      throw asFlowFailure(error, endSession);
    }
  })();
  const { now, httpTimeoutMs } = context.options;
  // In flight: until it settles (an exchange, a key fetch and a store write, each bounded).
  context.recentRefreshes.set(key, exchange, now() + 4 * httpTimeoutMs);
  exchange.then(
    ({ identity }) => {
      // Shared for a few seconds, and never for more than half what is left of the new access
      // token's life: a request arriving later must not be handed tokens that need refreshing
      // themselves (Cognito's tokens live 5 minutes at least, but short-lived ones exist).
      const at = now();
      const halfLife = (identity.claims.exp * 1000 - at) / 2;
      context.recentRefreshes.set(key, exchange, at + Math.min(LIMITS.recentRefreshMs, halfLife));
    },
    () => {
      // A failure is not shared beyond the requests already waiting: the next one tries again.
      context.recentRefreshes.delete(key);
    },
  );
  return exchange;
}
