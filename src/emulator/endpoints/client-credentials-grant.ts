/**
 * The client-credentials grant (machine to machine): a confidential client allowed the flow gets
 * an access token for custom scopes only (its resource servers' scopes); no `scope` means all of
 * its custom scopes, and `resource` puts a resource server's identifier in `aud`.
 */
import { RESERVED_SCOPES } from '../config.js';
import type { ResolvedClient } from '../config.js';
import { TOKEN_HEADERS, json, optional, tokenError } from '../http.js';
import type { UserPool } from '../pool.js';

/** `grant_type=client_credentials`. */
export function clientCredentialsGrant(
  pool: UserPool,
  form: URLSearchParams,
  client: ResolvedClient,
): Response {
  if (
    !client.allowedOAuthFlows.includes('client_credentials') ||
    client.clientSecret === undefined
  ) {
    return tokenError('unauthorized_client');
  }
  const custom = client.allowedScopes.filter((scope) => !RESERVED_SCOPES.includes(scope));
  const requested = optional(form, 'scope')?.split(' ').filter(Boolean);
  const scopes = requested ?? custom;
  if (scopes.length === 0 || scopes.some((scope) => !custom.includes(scope))) {
    return tokenError('invalid_scope');
  }
  // RFC 8707: `resource` names a declared resource server, which becomes the token's `aud`.
  const requestedResource = optional(form, 'resource');
  const resource =
    requestedResource === undefined ? undefined : pool.resourceServer(requestedResource);
  if (requestedResource !== undefined && resource === undefined) {
    return tokenError('invalid_target');
  }
  return json(
    200,
    pool.tokens.issueClientCredentials(client, [...new Set(scopes)], resource),
    TOKEN_HEADERS,
  );
}
