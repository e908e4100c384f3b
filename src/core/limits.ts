/**
 * Every default and every limit of cognito-guard, in one place, with the reason for its value.
 * Modules import from here; nothing else defines a number that a reviewer would want to tune.
 *
 * @module
 */

/** Defaults of the options (see `CognitoGuardOptions`). */
export const DEFAULTS = {
  /** Max-Age of the access/ID-token cookies: flask-cognito-lib's default. */
  cookieMaxAgeSeconds: 1800,
  /** Max-Age of the refresh-token cookie: one day, flask-cognito-lib's default. */
  refreshCookieMaxAgeSeconds: 86_400,
  /** Clock leeway for `exp`/`iat`/`nbf`. */
  expirationLeewaySeconds: 0,
  /** Hard timeout of each call to Cognito (token, revoke, JWKS). */
  httpTimeoutMs: 3000,
  /** Tokens remembered as verified (a few MB at most). */
  verifiedTokenCacheSize: 10_000,
  /** Path of the app's login route. */
  loginPath: '/login',
  /** Refresh this long before the access token expires, so a request never races its expiry. */
  autoRefreshMarginSeconds: 60,
} as const;

/** Bounds that protect the guard against hostile input and misconfiguration. */
export const LIMITS = {
  /** Largest clock leeway accepted: more would keep expired tokens alive. */
  maxLeewaySeconds: 300,
  /** Largest timeout accepted for a call to Cognito. */
  maxHttpTimeoutMs: 60_000,
  /** Shortest secret accepted for cookie encryption. */
  minSecretLength: 32,
  /** Longest token read from a cookie or header before any decoding (Cognito's are 1–6 KB). */
  maxTokenLength: 16 * 1024,
  /** Deepest JSON nesting accepted in a token header or payload. */
  maxJsonDepth: 16,
  /** Longest `kid` accepted; Cognito's are 44 characters. */
  maxKidLength: 256,
  /** Browsers only promise to store cookies up to 4,096 bytes (name, value and attributes). */
  maxCookieBytes: 4096,
  /** A token too large for one cookie is split into at most this many (16 KB). */
  maxCookiePieces: 4,
  /**
   * Session cookies beyond this size are still stored, with a warning: nginx refuses a Cookie
   * header over 8 KB by default, and API Gateway caps request line and headers at 10,240 bytes.
   */
  proxyCookieHeaderBytes: 8192,
  /** Session cookies beyond this size are refused: Node itself answers 431 to headers over 16 KB. */
  maxSessionCookieBytes: 14 * 1024,
  /** Longest `returnTo` input looked at; anything longer is ignored without decoding. */
  maxReturnToInputLength: 4096,
  /** Longest `returnTo` kept after normalisation; longer falls back to the default page. */
  maxReturnToLength: 512,
  /** A login transaction lives 10 minutes (Cognito's authorization codes live 5). */
  transactionTtlSeconds: 600,
  /** Pending logins kept per browser (tabs opened at once); older ones are dropped. */
  maxPendingTransactions: 3,
  /**
   * When the request's Cookie header is already this large, pending logins are dropped before a
   * new one is added, so the header a browser sends stays under nginx's default 8 KB limit.
   */
  crowdedCookieHeaderBytes: 5 * 1024,
  /**
   * A successful refresh is shared with requests of the same session for this long (at most half
   * of the new access token's remaining life): a page's parallel requests, or requests sent
   * before the browser stored the new cookies, reuse it instead of spending the refresh token
   * again (one exchange per instance).
   */
  recentRefreshMs: 10_000,
  /** Refreshes remembered per instance for that purpose (in flight or recent). */
  maxRecentRefreshes: 10_000,
  /**
   * Sessions from a session store kept decrypted per instance, so a protected request costs one
   * store read and no decryption while the stored value is unchanged (tokens of a few KB each:
   * tens of MB at most, about what the verified-token cache holds).
   */
  maxRecentSessions: 10_000,
  /** Redeemed login states remembered per instance (a few MB at most). */
  maxConsumedStates: 100_000,
  /** Sealed cookie values larger than this are refused before decryption. */
  maxSealedValueLength: 8192,
  /**
   * Sealed sessions read from a session store larger than this are refused before decryption:
   * three tokens of `maxTokenLength`, base64url-encoded once more by the encryption, with room.
   */
  maxSealedSessionLength: 96 * 1024,
} as const;
