/**
 * The pool's public documents: the JWKS and the OpenID discovery document under the issuer
 * (`/{poolId}/.well-known/…`), and a small JSON index at `/` for people who open the emulator in a
 * browser.
 */
import { json } from '../http.js';
import type { UserPool } from '../pool.js';

const CORS = { 'access-control-allow-origin': '*' };

/** `GET /{poolId}/.well-known/jwks.json`. */
export function jwks(pool: UserPool): Response {
  return json(200, pool.keys.jwks(), CORS);
}

/** `GET /{poolId}/.well-known/openid-configuration`. */
export function discovery(pool: UserPool): Response {
  // Same members (and order) as a real pool's document; Cognito publishes no revocation or end-session endpoint.
  return json(
    200,
    {
      authorization_endpoint: `${pool.origin}/oauth2/authorize`,
      id_token_signing_alg_values_supported: ['RS256'],
      issuer: pool.issuer,
      jwks_uri: pool.jwksUri,
      response_types_supported: ['code', 'token'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: `${pool.origin}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${pool.origin}/oauth2/userInfo`,
    },
    CORS,
  );
}

/** `GET /`: where everything is. */
export function index(pool: UserPool): Response {
  return json(200, {
    emulator: 'cognito-guard local Cognito emulator',
    domain: pool.origin,
    issuer: pool.issuer,
    jwks_uri: pool.jwksUri,
    openid_configuration: pool.discoveryUrl,
  });
}
