/**
 * Builds tokens shaped like Cognito's: claims in the order real tokens carry them, `event_id`
 * shared by the access and ID token of one sign-in, `origin_jti` stable across refreshes, `at_hash`
 * in the ID token, no `aud` in the access token, and opaque refresh tokens that look like
 * Cognito's JWE so a library cannot be tempted to parse them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

import type { ResolvedClient, ResolvedUser } from './config.js';
import type { KeyStore, KeyUse } from './key-store.js';

/** The protected header every real Cognito refresh token starts with. */
export const REFRESH_TOKEN_PREFIX =
  'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ';

/**
 * OIDC Core §3.1.3.8: base64url of the left half of SHA-256 over the access token's ASCII.
 *
 * @example
 * ```ts
 * atHash(accessToken); // 22 characters
 * ```
 */
export function atHash(accessToken: string): string {
  return createHash('sha256')
    .update(accessToken, 'ascii')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * A random refresh token with the part lengths of Cognito's (62/342/16/1284/22, 1,730 in all).
 * It is only a lookup key for server-side state.
 */
export function newRefreshToken(): string {
  const part = (bytes: number) => randomBytes(bytes).toString('base64url');
  return [REFRESH_TOKEN_PREFIX, part(256), part(12), part(963), part(16)].join('.');
}

/** Everything a sign-in (or a refresh of it) contributes to its tokens. */
export interface SignInGrant {
  readonly user: ResolvedUser;
  readonly client: ResolvedClient;
  readonly scopes: readonly string[];
  /** Seconds; the original authentication, unchanged by refresh. */
  readonly authTime: number;
  readonly originJti: string;
  readonly eventId: string;
  readonly nonce?: string | undefined;
  /**
   * `oauth` (default): the hosted UI and token endpoint, whose access tokens carry `version: 2`
   * and whose ID tokens carry `at_hash`. `api`: the JSON API (InitiateAuth…), whose tokens do not.
   */
  readonly flow?: 'oauth' | 'api' | undefined;
  /** The access token's `aud`, set only when the sign-in named a `resource` (RFC 8707). */
  readonly audience?: string | undefined;
}

/** The token-endpoint JSON for a code or refresh grant (refresh token added by the caller). */
export interface IssuedTokens {
  readonly access_token: string;
  readonly id_token?: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

/**
 * Signs access and ID tokens with the active keys of a {@link KeyStore}.
 *
 * @example
 * ```ts
 * import { KeyStore } from './key-store.js';
 *
 * const issuer = new TokenIssuer(await KeyStore.create(), 'http://127.0.0.1:9229/eu-west-1_X', () => Math.floor(Date.now() / 1000));
 * ```
 */
export class TokenIssuer {
  readonly #keys: KeyStore;
  readonly #issuer: string;
  readonly #nowSeconds: () => number;

  /**
   * @param issuer - the `iss` value, `{origin}/{poolId}`.
   * @param nowSeconds - the clock for `iat`/`exp`, including any test offset.
   */
  constructor(keys: KeyStore, issuer: string, nowSeconds: () => number) {
    this.#keys = keys;
    this.#issuer = issuer;
    this.#nowSeconds = nowSeconds;
  }

  /** Access-token claims in Cognito's order. */
  accessClaims(grant: SignInGrant, iat: number): Record<string, unknown> {
    const { user, client } = grant;
    return {
      sub: user.sub,
      ...(user.groups.length > 0 ? { 'cognito:groups': [...user.groups] } : {}),
      iss: this.#issuer,
      ...(grant.flow === 'api' ? {} : { version: 2 }),
      client_id: client.clientId,
      ...(grant.audience !== undefined ? { aud: grant.audience } : {}),
      origin_jti: grant.originJti,
      event_id: grant.eventId,
      token_use: 'access',
      scope: grant.scopes.join(' '),
      auth_time: grant.authTime,
      exp: iat + client.accessTokenValiditySeconds,
      iat,
      jti: randomUUID(),
      username: user.username,
    };
  }

  /** ID-token claims in Cognito's order; attributes other than the verified flags go last. */
  idClaims(
    grant: SignInGrant,
    iat: number,
    accessToken: string | undefined,
  ): Record<string, unknown> {
    const { user, client } = grant;
    return {
      ...(accessToken !== undefined ? { at_hash: atHash(accessToken) } : {}),
      sub: user.sub,
      ...(user.groups.length > 0 ? { 'cognito:groups': [...user.groups] } : {}),
      ...(user.email !== undefined ? { email_verified: user.emailVerified } : {}),
      ...(user.phoneNumber !== undefined
        ? { phone_number_verified: user.phoneNumberVerified }
        : {}),
      iss: this.#issuer,
      'cognito:username': user.username,
      ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
      origin_jti: grant.originJti,
      aud: client.clientId,
      event_id: grant.eventId,
      token_use: 'id',
      auth_time: grant.authTime,
      exp: iat + client.idTokenValiditySeconds,
      iat,
      jti: randomUUID(),
      ...user.attributes,
      ...(user.phoneNumber !== undefined ? { phone_number: user.phoneNumber } : {}),
      ...(user.email !== undefined ? { email: user.email } : {}),
    };
  }

  /** Issues the access token, and the ID token when `openid` was granted (always for the JSON API). */
  issue(grant: SignInGrant): IssuedTokens {
    const iat = this.#nowSeconds();
    const accessToken = this.#keys.sign('access', this.accessClaims(grant, iat));
    const idToken =
      grant.flow === 'api' || grant.scopes.includes('openid')
        ? this.#keys.sign(
            'id',
            this.idClaims(grant, iat, grant.flow === 'api' ? undefined : accessToken),
          )
        : undefined;
    return {
      access_token: accessToken,
      ...(idToken !== undefined ? { id_token: idToken } : {}),
      token_type: 'Bearer',
      expires_in: grant.client.accessTokenValiditySeconds,
    };
  }

  /** A client-credentials access token (the machine's `sub` is the client id). */
  issueClientCredentials(
    client: ResolvedClient,
    scopes: readonly string[],
    audience?: string,
  ): IssuedTokens {
    const iat = this.#nowSeconds();
    const claims = {
      sub: client.clientId,
      ...(audience !== undefined ? { aud: audience } : {}),
      token_use: 'access',
      scope: scopes.join(' '),
      auth_time: iat,
      iss: this.#issuer,
      exp: iat + client.accessTokenValiditySeconds,
      iat,
      version: 2,
      jti: randomUUID(),
      client_id: client.clientId,
    };
    return {
      access_token: this.#keys.sign('access', claims),
      token_type: 'Bearer',
      expires_in: client.accessTokenValiditySeconds,
    };
  }

  /** Signs arbitrary claims with a chosen key, for hostile-token tests. */
  async signArbitrary(
    key: KeyUse | 'unpublished' | { kid: string },
    claims: Record<string, unknown>,
    header?: Record<string, unknown>,
  ): Promise<string> {
    return this.#keys.signWith(key, claims, header);
  }
}
