/**
 * `POST /oauth2/token`: form-encoded only, the client authenticated first, then one module per
 * grant (authorization code, refresh token, client credentials). Every error is Cognito's HTTP 400
 * with `{"error":…}` and nothing else.
 */
import { TOKEN_HEADERS, optional, readForm, tokenError } from '../http.js';
import type { UserPool } from '../pool.js';
import { authenticateClient } from './client-auth.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import { codeGrant } from './code-grant.js';
import { refreshGrant } from './refresh-grant.js';

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'];

/** `POST /oauth2/token`. */
export async function token(pool: UserPool, request: Request): Promise<Response> {
  const form = await readForm(request);
  if (!form) return tokenError('invalid_request');
  const grantType = optional(form, 'grant_type');
  if (grantType === undefined) return tokenError('invalid_request');
  if (!GRANTS.includes(grantType)) return tokenError('unsupported_grant_type');
  const auth = authenticateClient(pool, request, form);
  if ('error' in auth) return tokenError(auth.error);
  if (grantType === 'authorization_code') return codeGrant(pool, form, auth.client, auth.method);
  if (grantType === 'refresh_token') return refreshGrant(pool, form, auth.client);
  return clientCredentialsGrant(pool, form, auth.client);
}

/** `OPTIONS /oauth2/token`: the CORS preflight Cognito answers for any origin. */
export function tokenPreflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...TOKEN_HEADERS,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type',
    },
  });
}
