/**
 * Client authentication at the token and revocation endpoints, as Cognito offers it:
 * `client_secret_basic`, `client_secret_post`, or a public client's bare `client_id`, and only one
 * method per request (RFC 6749 §2.3).
 */
import type { ResolvedClient } from '../config.js';
import { optional, safeEqual } from '../http.js';
import type { UserPool } from '../pool.js';

/** How the client authenticated. */
export type ClientAuthMethod = 'basic' | 'post' | 'none';

/** The authenticated client, or the OAuth error to answer. */
export type ClientAuth =
  | { readonly client: ResolvedClient; readonly method: ClientAuthMethod }
  | { readonly error: 'invalid_client' | 'invalid_request' };

function decodeBasicPart(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

/** Authenticates the client of a form request (`Authorization: Basic` or body parameters). */
export function authenticateClient(
  pool: UserPool,
  request: Request,
  form: URLSearchParams,
): ClientAuth {
  const header = request.headers.get('authorization');
  const bodyId = optional(form, 'client_id');
  const bodySecret = optional(form, 'client_secret');
  if (header !== null) {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match?.[1]) return { error: 'invalid_client' };
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { error: 'invalid_client' };
    const id = decodeBasicPart(decoded.slice(0, colon));
    const secret = decodeBasicPart(decoded.slice(colon + 1));
    // RFC 6749 §2.3: one authentication method per request.
    if (bodySecret !== undefined) return { error: 'invalid_request' };
    if (bodyId !== undefined && bodyId !== id) return { error: 'invalid_client' };
    const client = pool.clients.get(id);
    if (!client?.clientSecret || !safeEqual(secret, client.clientSecret)) {
      return { error: 'invalid_client' };
    }
    return { client, method: 'basic' };
  }
  const client = bodyId === undefined ? undefined : pool.clients.get(bodyId);
  if (!client) return { error: 'invalid_client' };
  if (client.clientSecret === undefined) {
    return bodySecret === undefined ? { client, method: 'none' } : { error: 'invalid_client' };
  }
  if (bodySecret === undefined || !safeEqual(bodySecret, client.clientSecret)) {
    return { error: 'invalid_client' };
  }
  return { client, method: 'post' };
}
