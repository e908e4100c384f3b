/**
 * Where Cognito lives: the issuer and its key set (from the region and pool id, or an explicit
 * issuer) and the OAuth 2.0 endpoints (from the pool's domain).
 *
 * The browser and the server may reach Cognito under different names: in docker-compose the
 * browser opens `http://localhost:9229` while the app's container calls `http://cognito:9229`.
 * `internalDomain` then replaces the origin of every call the server makes (token, revoke,
 * userInfo, and the key set when it is served from the same origin as the domain, as the emulator
 * does); the browser is still sent to `domain`, and tokens are still checked against the issuer.
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-userpools-server-contract-reference.html
 * @module
 */

/** The Cognito endpoints a guard talks to. */
export interface CognitoEndpoints {
  /** Expected `iss` of every token, compared exactly. */
  readonly issuer: string;
  /** Where the server fetches the pool's signing keys. */
  readonly jwksUri: string;
  /** Where the browser is sent to sign in. */
  readonly authorize: string;
  /** Where the server redeems codes and refresh tokens. */
  readonly token: string;
  /** Where the server revokes refresh tokens. */
  readonly revoke: string;
  /** Where the server reads user attributes. */
  readonly userInfo: string;
  /** Where the browser is sent to sign out of Cognito. */
  readonly logout: string;
  /** Cognito's user-pool API (`GlobalSignOut`), `https://cognito-idp.{region}.amazonaws.com/`. */
  readonly userPoolApi: string;
}

/** What the endpoints are derived from. */
export interface EndpointInputs {
  readonly region: string;
  readonly userPoolId: string;
  /** Browser-facing origin of the pool's domain. */
  readonly domain: string;
  /** Server-side origin of the same domain, when it differs (docker-compose). */
  readonly internalDomain?: string | undefined;
  /** Explicit issuer (the emulator); default Cognito's. */
  readonly issuer?: string | undefined;
}

/** Cognito's issuer for a pool. */
export function defaultIssuer(region: string, userPoolId: string): string {
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/**
 * Derives every endpoint.
 *
 * @example
 * ```ts
 * const endpoints = deriveEndpoints({
 *   region: 'eu-west-1',
 *   userPoolId: 'eu-west-1_qwerty',
 *   domain: 'https://app.auth.eu-west-1.amazoncognito.com',
 * });
 * endpoints.jwksUri; // 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_qwerty/.well-known/jwks.json'
 * ```
 */
export function deriveEndpoints(inputs: EndpointInputs): CognitoEndpoints {
  const issuer = inputs.issuer ?? defaultIssuer(inputs.region, inputs.userPoolId);
  const serverSide = inputs.internalDomain ?? inputs.domain;
  let jwksUri = `${issuer}/.well-known/jwks.json`;
  if (inputs.internalDomain !== undefined && jwksUri.startsWith(`${inputs.domain}/`)) {
    jwksUri = `${inputs.internalDomain}${jwksUri.slice(inputs.domain.length)}`;
  }
  // Cognito's API lives on the issuer's host; an explicit issuer (the emulator) serves it at its
  // origin's root, reached like the key set.
  let userPoolApi =
    inputs.issuer === undefined
      ? `https://cognito-idp.${inputs.region}.amazonaws.com/`
      : `${originOf(issuer)}/`;
  if (inputs.internalDomain !== undefined && userPoolApi === `${inputs.domain}/`) {
    userPoolApi = `${inputs.internalDomain}/`;
  }
  return {
    issuer,
    jwksUri,
    authorize: `${inputs.domain}/oauth2/authorize`,
    token: `${serverSide}/oauth2/token`,
    revoke: `${serverSide}/oauth2/revoke`,
    userInfo: `${serverSide}/oauth2/userInfo`,
    logout: `${inputs.domain}/logout`,
    userPoolApi,
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
