/**
 * The tokens of a session: what a refresh needs besides the refresh token itself (the user and
 * sign-in it belongs to, so a refresh can check it got the same ones back), the verification of a
 * token-endpoint response, and the identity handed to route handlers.
 *
 * @module
 */
import type { AccessTokenClaims, CognitoIdentity, IdTokenClaims } from './claims.js';
import type { GuardContext } from './context.js';
import { TokenVerifyError } from './errors.js';
import type { TokenSet } from './token-client.js';

/** A refresh token and the sign-in it belongs to. */
export interface StoredRefreshToken {
  readonly refreshToken: string;
  /** `sub` of the session's user, when known. */
  readonly subject: string | undefined;
  /** `auth_time` of the original sign-in, when known. */
  readonly authTime: number | undefined;
}

/**
 * Verifies the tokens of a token-endpoint response (callback or refresh): the access token, the
 * ID token when present (with `at_hash`, and `nonce` at the callback), and that both name the
 * same user. Throws `TokenVerifyError` (or `CognitoError` when the keys cannot be had).
 *
 * @param fromTokenEndpoint - the tokens came straight from our own call to the token endpoint
 *   (default), so an unknown key id is a rotation worth a JWKS refetch; `false` for tokens handed
 *   in by the app.
 */
export async function verifyTokenResponse(
  context: GuardContext,
  tokens: TokenSet,
  nonce?: string,
  fromTokenEndpoint = true,
): Promise<{ accessClaims: AccessTokenClaims; idClaims: IdTokenClaims | undefined }> {
  const accessClaims = await context.verifier.verifyAccessToken(tokens.accessToken, {
    fromTokenEndpoint,
  });
  const idClaims =
    tokens.idToken === undefined
      ? undefined
      : await context.verifier.verifyIdToken(tokens.idToken, {
          ...(nonce === undefined ? {} : { nonce }),
          accessToken: tokens.accessToken,
          fromTokenEndpoint,
        });
  requireSameUser(accessClaims, idClaims);
  return { accessClaims, idClaims };
}

/**
 * The ID and access tokens of one session must name the same user: flask-cognito-lib kept them
 * in separate cookies without checking, so one user's ID token could ride on another's session.
 * Throws `TokenVerifyError`.
 */
export function requireSameUser(
  accessClaims: AccessTokenClaims,
  idClaims: IdTokenClaims | undefined,
): void {
  if (idClaims !== undefined && idClaims.sub !== accessClaims.sub) {
    throw new TokenVerifyError('ID and access tokens name different users');
  }
}

const NO_GROUPS: readonly string[] = Object.freeze([]);

/** Builds the identity handed to route handlers. */
export function toIdentity(
  accessClaims: AccessTokenClaims,
  accessToken: string,
  idClaims: IdTokenClaims | undefined,
  idToken: string | undefined,
): CognitoIdentity {
  // The verifier has checked `cognito:groups` is an array of strings, and froze the claims.
  return {
    claims: accessClaims,
    userInfo: idClaims,
    accessToken,
    idToken,
    groups: accessClaims['cognito:groups'] ?? NO_GROUPS,
  };
}

/** The tokens a session keeps (in cookies or in a session store). */
export interface SessionTokens {
  /** The user (`sub` of the verified access token). */
  readonly subject: string;
  readonly accessToken: string;
  readonly idToken: string | undefined;
  /** `undefined` when Cognito returned none, or the refresh flow is off. */
  readonly refresh: StoredRefreshToken | undefined;
  /** Whether `refresh` is new: a sign-in, or a refresh that Cognito answered with a rotated token. */
  readonly rotated: boolean;
}

/** The refresh material of a verified token response, keeping the original sign-in's facts. */
export function refreshOf(
  tokens: TokenSet,
  accessClaims: AccessTokenClaims,
  previous?: StoredRefreshToken,
): StoredRefreshToken | undefined {
  const refreshToken = tokens.refreshToken ?? previous?.refreshToken;
  if (refreshToken === undefined) return undefined;
  return {
    refreshToken,
    subject: accessClaims.sub,
    authTime: accessClaims.auth_time ?? previous?.authTime,
  };
}
