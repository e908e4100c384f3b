/**
 * The refresh flow: exchanges the (decrypted) refresh token, verifies the new tokens, checks they
 * belong to the same user and sign-in (B48), re-sets the cookies and stores a rotated refresh
 * token when Cognito returns one (seed fault: rotated refresh token dropped).
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';
import { COOKIE_NAMES, parseCookies } from './cookies.js';
import { deleteTokenCookies, isCrossSiteRequest, type GuardContext } from './context.js';
import { CognitoGuardError, CrossSiteRequestError, RefreshError } from './errors.js';
import type { IncomingRequest } from './http.js';
import { readRefreshCookie, sessionCookies, toIdentity, verifyTokenResponse } from './session.js';
import { GrantRejectedError } from './token-client.js';

/** A completed refresh. */
export interface RefreshSuccess {
  readonly identity: CognitoIdentity;
  readonly setCookies: string[];
}

/** Thrown by {@link refreshSession}: the error and the cookies to send with the error response. */
export class RefreshFailure extends Error {
  constructor(
    readonly error: CognitoGuardError,
    readonly setCookies: string[],
  ) {
    super(error.message);
  }
}

/** Handles `POST /refresh`. */
export async function refreshSession(
  context: GuardContext,
  request: IncomingRequest,
): Promise<RefreshSuccess> {
  const { options } = context;
  if (!options.refreshFlowEnabled)
    throw new RefreshFailure(new RefreshError('ERR_REFRESH_DISABLED'), []);
  if (request.method !== 'POST') {
    throw new RefreshFailure(
      new RefreshError('ERR_REFRESH_REJECTED', 'refresh must be a POST'),
      [],
    );
  }
  if (isCrossSiteRequest(options, request)) {
    throw new RefreshFailure(new CrossSiteRequestError('cross-site refresh refused'), []);
  }
  const cookies = parseCookies(request.header('cookie'), [COOKIE_NAMES.refreshToken]);
  const endSession = deleteTokenCookies(options);
  if (cookies.duplicates.has(COOKIE_NAMES.refreshToken)) {
    throw new RefreshFailure(
      new RefreshError('ERR_REFRESH_REJECTED', 'duplicate refresh cookies'),
      endSession,
    );
  }
  const raw = cookies.values[COOKIE_NAMES.refreshToken];
  const stored = await readRefreshCookie(context, raw);
  if (stored === undefined) {
    throw new RefreshFailure(
      new RefreshError(
        'ERR_REFRESH_REJECTED',
        raw === undefined ? 'no refresh cookie' : 'refresh cookie not readable',
      ),
      raw === undefined ? [] : endSession,
    );
  }

  // Single-flight per session: concurrent refreshes share one exchange (B47).
  const key = raw ?? '';
  let inFlight = context.refreshesInFlight.get(key) as Promise<RefreshSuccess> | undefined;
  if (inFlight === undefined) {
    inFlight = (async (): Promise<RefreshSuccess> => {
      try {
        const tokens = await context.tokenClient.refresh(stored.refreshToken);
        const { claims, userInfo } = await verifyTokenResponse(context, tokens);
        const sameUser =
          (stored.subject === undefined || stored.subject === claims.sub) &&
          (stored.authTime === undefined ||
            claims.auth_time === undefined ||
            stored.authTime === claims.auth_time);
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
                subject: claims.sub,
                authTime: claims.auth_time ?? stored.authTime,
              },
        );
        return {
          identity: toIdentity(claims, tokens.accessToken, userInfo, tokens.idToken),
          setCookies,
        };
      } catch (error) {
        if (error instanceof GrantRejectedError) {
          // Revoked or expired refresh token: the session is over (B45).
          throw new RefreshFailure(
            new RefreshError('ERR_REFRESH_REJECTED', `refresh refused: ${error.oauthError}`),
            endSession,
          );
        }
        if (error instanceof RefreshError) throw new RefreshFailure(error, endSession);
        if (error instanceof CognitoGuardError) {
          // Cognito unavailable: fail closed without touching the cookies (B49).
          const mapped =
            error.status === 401
              ? new RefreshError('ERR_REFRESH_REJECTED', error.detail ?? error.message)
              : error;
          throw new RefreshFailure(mapped, error.status === 401 ? endSession : []);
        }
        throw error;
      } finally {
        context.refreshesInFlight.delete(key);
      }
    })();
    context.refreshesInFlight.set(key, inFlight);
  }
  return inFlight;
}
