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
import { BoundedCache } from './bounded-cache.js';
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

interface SharedRefresh {
  readonly exchange: Promise<RefreshSuccess>;
  /** The first ticket handed out after the exchange succeeded; `undefined` while in flight. */
  boundary: number | undefined;
}

/**
 * The refreshes of one instance that requests of the same session share, keyed by the refresh
 * token they spend: one exchange for a page's parallel requests, however their reading of the
 * session cookies interleaves with it.
 *
 * A request takes a ticket when its handling starts. An exchange in flight is shared with every
 * request; a finished one only with requests that started before it finished — they were sent
 * with the old cookies. A request that starts later with the old refresh token gets a new
 * exchange of its own: after a logout (revoked) or past a rotation's grace period, Cognito's
 * refusal must reach it, not a remembered success.
 *
 * @example
 * ```ts
 * const refreshes = new RecentRefreshes(Date.now);
 * const ticket = refreshes.ticket();
 * ```
 */
export class RecentRefreshes {
  #nextTicket = 0;
  readonly #now: () => number;
  readonly #entries: BoundedCache<string, SharedRefresh>;

  /** @param now - clock in milliseconds. */
  constructor(now: () => number) {
    this.#now = now;
    this.#entries = new BoundedCache(LIMITS.maxRecentRefreshes, now, { touchOnRead: false });
  }

  /** A ticket for a request that may refresh, taken when its handling starts. */
  ticket(): number {
    return this.#nextTicket++;
  }

  /** The exchange a request with `ticket` shares for `refreshToken`, if any. */
  shared(refreshToken: string, ticket: number): Promise<RefreshSuccess> | undefined {
    const entry = this.#entries.get(refreshToken);
    if (entry === undefined) return undefined;
    return entry.boundary === undefined || ticket < entry.boundary ? entry.exchange : undefined;
  }

  /**
   * Records an exchange: shared while in flight (at most `inFlightMs`), then with the requests
   * that started before it succeeded, for at most `LIMITS.recentRefreshMs` (and half what is left
   * of the new access token's life); forgotten if it fails (the next request tries again).
   */
  record(refreshToken: string, exchange: Promise<RefreshSuccess>, inFlightMs: number): void {
    const entry: SharedRefresh = { exchange, boundary: undefined };
    this.#entries.set(refreshToken, entry, this.#now() + inFlightMs);
    exchange.then(
      ({ identity }) => {
        entry.boundary = this.#nextTicket;
        // Never longer than half what is left of the new access token's life: a request must
        // not be handed tokens that need refreshing themselves.
        const at = this.#now();
        const halfLife = (identity.claims.exp * 1000 - at) / 2;
        if (this.#entries.get(refreshToken) === entry) {
          this.#entries.set(refreshToken, entry, at + Math.min(LIMITS.recentRefreshMs, halfLife));
        }
      },
      () => {
        if (this.#entries.get(refreshToken) === entry) this.#entries.delete(refreshToken);
      },
    );
  }
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
  const ticket = context.recentRefreshes.ticket();
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
    throw asFlowFailure(error, () => context.sessions.clear(request));
  }
  return refreshSession(context, request, presented, ticket);
}

/**
 * A failure as a flow answer: a token problem ends the session (the cookies `endSession` builds);
 * an outage keeps it.
 */
function asFlowFailure(error: unknown, endSession: () => readonly string[]): unknown {
  if (error instanceof RefreshError) return new FlowFailure(error, endSession());
  if (error instanceof CognitoGuardError) {
    const rejected = error.status === 401;
    return new FlowFailure(
      rejected
        ? new RefreshError('ERR_REFRESH_REJECTED', error.detail ?? error.message, { cause: error })
        : error,
      rejected ? endSession() : [],
    );
  }
  return error;
}

/**
 * Refreshes a presented session, sharing one exchange among the concurrent requests of the same
 * session on this instance (see {@link RecentRefreshes}); `ticket` is the request's, taken when
 * its handling started.
 *
 * @throws {FlowFailure} 401 clearing the session when the refresh token is missing, unreadable,
 *   duplicated, revoked or expired; 502–504 (503 for a session store) keeping it when Cognito or
 *   the store is unavailable.
 */
export async function refreshSession(
  context: GuardContext,
  request: IncomingRequest,
  presented: PresentedSession,
  ticket: number,
): Promise<RefreshSuccess> {
  // Built only on a failure that ends the session: most refreshes succeed or share one.
  const endSession = (): readonly string[] => context.sessions.clear(request);
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
      presented.refreshable ? endSession() : [],
    );
  }

  const key = stored.refreshToken;
  const shared = context.recentRefreshes.shared(key, ticket);
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
          endSession(),
        );
      }
      throw asFlowFailure(error, endSession);
    }
  })();
  // In flight: until it settles (an exchange, a key fetch and a store write, each bounded).
  context.recentRefreshes.record(key, exchange, 4 * context.options.httpTimeoutMs);
  return exchange;
}
