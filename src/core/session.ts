/**
 * The session held in cookies after a login: the access and ID tokens (HttpOnly) and the
 * refresh token (HttpOnly, AEAD-encrypted by default, with the identity it belongs to so a
 * refresh can check it got the same user and sign-in back).
 *
 * @module
 */
import type { AccessTokenClaims, CognitoIdentity, IdTokenClaims } from './claims.js';
import { COOKIE_NAMES, CookieTooLargeError, setCookie } from './cookies.js';
import { tokenCookieAttributes, type GuardContext } from './context.js';
import { CognitoError, TokenVerifyError } from './errors.js';
import type { TokenSet } from './token-client.js';

/** What the refresh cookie holds once unsealed. */
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
 */
export async function verifyTokenResponse(
  context: GuardContext,
  tokens: TokenSet,
  nonce?: string,
): Promise<{ accessClaims: AccessTokenClaims; idClaims: IdTokenClaims | undefined }> {
  const accessClaims = await context.verifier.verifyAccessToken(tokens.accessToken, {
    fromTokenEndpoint: true,
  });
  const idClaims =
    tokens.idToken === undefined
      ? undefined
      : await context.verifier.verifyIdToken(tokens.idToken, {
          ...(nonce === undefined ? {} : { nonce }),
          accessToken: tokens.accessToken,
          fromTokenEndpoint: true,
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

/** Builds the identity handed to route handlers. */
export function toIdentity(
  accessClaims: AccessTokenClaims,
  accessToken: string,
  idClaims: IdTokenClaims | undefined,
  idToken: string | undefined,
): CognitoIdentity {
  const groups = accessClaims['cognito:groups'];
  return {
    claims: accessClaims,
    userInfo: idClaims,
    accessToken,
    idToken,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

/**
 * `Set-Cookie` values for a freshly verified session. A cookie that would exceed the browser
 * limit is an error: browsers drop such cookies silently, and the user would be signed out for
 * no visible reason.
 */
export async function sessionCookies(
  context: GuardContext,
  tokens: { readonly accessToken: string; readonly idToken: string | undefined },
  refresh: StoredRefreshToken | undefined,
): Promise<string[]> {
  const { options } = context;
  const attributes = tokenCookieAttributes(options);
  try {
    const cookies = [
      setCookie(
        COOKIE_NAMES.accessToken,
        tokens.accessToken,
        options.cookieMaxAgeSeconds,
        attributes,
      ),
    ];
    if (tokens.idToken !== undefined) {
      cookies.push(
        setCookie(COOKIE_NAMES.idToken, tokens.idToken, options.cookieMaxAgeSeconds, attributes),
      );
    }
    if (refresh !== undefined && options.refreshFlowEnabled) {
      const value = options.refreshCookieEncrypted
        ? await context.sealer.seal(
            'refresh-token',
            {
              rt: refresh.refreshToken,
              ...(refresh.subject === undefined ? {} : { sub: refresh.subject }),
              ...(refresh.authTime === undefined ? {} : { at: refresh.authTime }),
            },
            options.refreshCookieMaxAgeSeconds,
          )
        : refresh.refreshToken;
      cookies.push(
        setCookie(COOKIE_NAMES.refreshToken, value, options.refreshCookieMaxAgeSeconds, attributes),
      );
    }
    return cookies;
  } catch (error) {
    if (error instanceof CookieTooLargeError) {
      throw new CognitoError(
        'ERR_COGNITO_BAD_RESPONSE',
        `${error.message}; reduce the groups/attributes in the token`,
        undefined,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Reads the refresh cookie; `undefined` when absent or not ours (tampered, expired, other secret). */
export async function readRefreshCookie(
  context: GuardContext,
  value: string | undefined,
): Promise<StoredRefreshToken | undefined> {
  if (value === undefined || value === '') return undefined;
  if (!context.options.refreshCookieEncrypted) {
    return { refreshToken: value, subject: undefined, authTime: undefined };
  }
  const payload = await context.sealer.unseal('refresh-token', value);
  if (payload === undefined || typeof payload.rt !== 'string' || payload.rt === '')
    return undefined;
  return {
    refreshToken: payload.rt,
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
    authTime: typeof payload.at === 'number' ? payload.at : undefined,
  };
}
