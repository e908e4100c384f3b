/**
 * Types of the claims in Cognito access and ID tokens (see AWS's "Understanding the access
 * token" and "Understanding the identity (ID) token").
 *
 * @module
 */

/** Claims of a verified Cognito access token. */
export interface AccessTokenClaims {
  readonly sub: string;
  readonly iss: string;
  readonly client_id: string;
  readonly token_use: 'access';
  readonly scope?: string;
  readonly 'cognito:groups'?: readonly string[];
  readonly username?: string;
  readonly version?: number;
  readonly origin_jti?: string;
  readonly event_id?: string;
  readonly auth_time?: number;
  readonly exp: number;
  readonly iat: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/** Claims of a verified Cognito ID token (flask-cognito-lib's `user_info`). */
export interface IdTokenClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  readonly token_use: 'id';
  readonly 'cognito:groups'?: readonly string[];
  readonly 'cognito:username'?: string;
  readonly email?: string;
  readonly email_verified?: boolean;
  readonly nonce?: string;
  readonly at_hash?: string;
  readonly origin_jti?: string;
  readonly event_id?: string;
  readonly auth_time?: number;
  readonly exp: number;
  readonly iat: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/**
 * The verified identity of a request, as handed to route handlers (`req.cognito`).
 *
 * @example
 * ```ts
 * app.get('/me', auth.required(), (req, res) => {
 *   res.json({ sub: getIdentity(req).claims.sub });
 * });
 * ```
 */
export interface CognitoIdentity {
  /** Verified access-token claims (flask-cognito-lib's `session["claims"]`). */
  readonly claims: AccessTokenClaims;
  /**
   * Verified ID-token claims, when an ID token is held. The name follows flask-cognito-lib's
   * `session["user_info"]`: these are the ID token's claims, not an answer of Cognito's userInfo
   * endpoint.
   */
  readonly userInfo: IdTokenClaims | undefined;
  /** The raw access token, e.g. to call an API Gateway on the user's behalf. */
  readonly accessToken: string;
  /** The raw ID token, when held (asked for by flask-cognito-lib's users). */
  readonly idToken: string | undefined;
  /** The user's groups (`cognito:groups`), empty when none. */
  readonly groups: readonly string[];
}
