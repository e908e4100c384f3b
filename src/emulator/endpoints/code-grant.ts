/**
 * The authorization-code grant: a live code of this client, the same `redirect_uri`, and the PKCE
 * verifier that hashes to the stored challenge. A failed exchange burns the code (Cognito's
 * behaviour, a switch), so an attacker gets one try.
 */
import { createHash } from 'node:crypto';

import type { ResolvedClient } from '../config.js';
import { optional, tokenError, tokenResponse } from '../http.js';
import type { UserPool } from '../pool.js';
import type { ClientAuthMethod } from './client-auth.js';

/** RFC 7636 §4.1: 43–128 unreserved characters (the `strictPkceVerifierLength` switch). */
const RFC_VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/;
/**
 * What Cognito accepts: unreserved characters with no minimum length. flask-cognito-lib strips
 * `-` and `_` from 43 base64url characters, so its verifiers are 35–43 long, and they work against
 * Cognito; the S256 comparison below stays exact whatever the length.
 */
const LENIENT_VERIFIER_RE = /^[A-Za-z0-9._~-]{1,128}$/;

function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value, 'ascii').digest('base64url');
}

/** `grant_type=authorization_code`. */
export function codeGrant(
  pool: UserPool,
  form: URLSearchParams,
  client: ResolvedClient,
  method: ClientAuthMethod,
): Response {
  if (!client.allowedOAuthFlows.includes('code')) return tokenError('unauthorized_client');
  const code = optional(form, 'code');
  const redirectUri = optional(form, 'redirect_uri');
  if (code === undefined || redirectUri === undefined) return tokenError('invalid_request');
  const record = pool.state.peekCode(code);
  if (!record) return tokenError('invalid_grant');
  const fail = (error: string) => {
    if (pool.switches.failedExchangeBurnsCode) pool.state.burnCode(code);
    return tokenError(error);
  };
  if (record.clientId !== client.clientId) return fail('invalid_grant');
  const verifier = optional(form, 'code_verifier');
  if (pool.switches.basicAuthWithPkceFails && method === 'basic' && verifier !== undefined) {
    return fail('invalid_client');
  }
  if (record.redirectUri !== redirectUri) return fail('unauthorized_client');
  // A `resource` here must be the one the user authorized (RFC 8707 §2.2).
  const resource = optional(form, 'resource');
  if (resource !== undefined && resource !== record.resource) return fail('invalid_target');
  if (record.codeChallenge !== undefined) {
    if (verifier === undefined) return fail('invalid_request');
    const shape = pool.switches.strictPkceVerifierLength ? RFC_VERIFIER_RE : LENIENT_VERIFIER_RE;
    if (!shape.test(verifier) || sha256Base64Url(verifier) !== record.codeChallenge) {
      return fail(pool.switches.pkceMismatchError);
    }
  } else if (verifier !== undefined && pool.switches.rejectPkceDowngrade) {
    return fail('invalid_grant');
  }
  const user = pool.users.get(record.username);
  if (!user) return fail('invalid_grant');
  pool.state.burnCode(code);
  const { tokens, refreshToken } = pool.signIn({
    user,
    client,
    scopes: record.scopes,
    authTime: record.authTime,
    flow: 'oauth',
    audience: record.resource,
    nonce: record.nonce,
  });
  return tokenResponse(tokens, refreshToken);
}
