/**
 * `POST /oauth2/revoke`: revokes a refresh token's whole family (every refresh token and every
 * access/ID token of that sign-in). Cognito answers 200 for unknown or already-revoked tokens, so
 * the endpoint cannot be used to test whether a token exists.
 */
import { isJwtShaped, json, optional, readForm } from '../http.js';
import type { UserPool } from '../pool.js';
import { authenticateClient } from './client-auth.js';

/** `POST /oauth2/revoke`. */
export async function revoke(pool: UserPool, request: Request): Promise<Response> {
  const form = await readForm(request);
  if (!form) return json(400, { error: 'invalid_request' });
  const auth = authenticateClient(pool, request, form);
  if ('error' in auth) {
    return json(auth.error === 'invalid_client' ? 401 : 400, { error: auth.error });
  }
  const token = optional(form, 'token');
  if (token === undefined || !auth.client.enableTokenRevocation) {
    return json(400, { error: 'invalid_request' });
  }
  if (isJwtShaped(token)) return json(400, { error: 'unsupported_token_type' });
  const record = pool.state.getRefresh(token);
  // Another client's token is left alone (and the answer does not say so).
  if (record && record.family.clientId === auth.client.clientId) {
    pool.state.revokeFamily(record.family);
  }
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}
