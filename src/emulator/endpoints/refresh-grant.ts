/**
 * The refresh-token grant: a live token of this client's family gets new access and ID tokens
 * (same `origin_jti`, `auth_time` and `event_id`); with rotation on, also a new refresh token
 * while the old one dies after its grace period.
 */
import type { ResolvedClient } from '../config.js';
import { optional, tokenError, tokenResponse } from '../http.js';
import type { UserPool } from '../pool.js';
import type { RefreshRecord } from '../state.js';

/**
 * True when a refresh token may be used by `client` now. Reusing a rotated-out token after its
 * grace period revokes the whole family when reuse detection is switched on.
 */
export function refreshUsable(
  pool: UserPool,
  record: RefreshRecord,
  client: ResolvedClient,
): boolean {
  const { family } = record;
  const now = pool.now();
  if (family.clientId !== client.clientId || family.revoked || family.expiresAtMs <= now) {
    return false;
  }
  if (record.rotatedOutUntilMs !== undefined && record.rotatedOutUntilMs <= now) {
    if (pool.switches.refreshTokenReuseDetection) pool.state.revokeFamily(family);
    return false;
  }
  return true;
}

/** `grant_type=refresh_token`. */
export function refreshGrant(
  pool: UserPool,
  form: URLSearchParams,
  client: ResolvedClient,
): Response {
  if (!client.allowedOAuthFlows.includes('code')) return tokenError('unauthorized_client');
  const token = optional(form, 'refresh_token');
  if (token === undefined) return tokenError('invalid_request');
  const record = pool.state.getRefresh(token);
  if (!record || !refreshUsable(pool, record, client)) return tokenError('invalid_grant');
  const { family } = record;
  const user = pool.users.get(family.username);
  if (!user) return tokenError('invalid_grant');
  const tokens = pool.tokens.issue({
    user,
    client,
    scopes: family.scopes,
    authTime: family.authTime,
    originJti: family.originJti,
    eventId: family.eventId,
    flow: family.flow,
    audience: family.audience,
  });
  const rotated = client.rotation.enabled
    ? pool.state.rotate(record, client.rotation.retryGracePeriodSeconds * 1000)
    : undefined;
  return tokenResponse(tokens, rotated);
}
