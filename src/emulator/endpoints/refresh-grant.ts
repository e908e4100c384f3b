/**
 * The refresh-token grant: a live token of this client's family gets new access and ID tokens
 * (same `origin_jti`, `auth_time` and `event_id`); with rotation on, also a new refresh token
 * while the old one dies after its grace period.
 */
import type { ResolvedClient, ResolvedUser } from '../config.js';
import { optional, tokenError, tokenResponse } from '../http.js';
import type { UserPool } from '../pool.js';
import type { RefreshRecord } from '../state.js';

/**
 * True when a refresh token may be used by `client` now. Reusing a rotated-out token after its
 * grace period revokes the whole family when reuse detection is switched on.
 */
function refreshUsable(pool: UserPool, record: RefreshRecord, client: ResolvedClient): boolean {
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

/** A refresh token `client` may use now, and the user it belongs to; or why it may not. */
export type LiveRefresh =
  | { readonly ok: true; readonly record: RefreshRecord; readonly user: ResolvedUser }
  | {
      readonly ok: false;
      /**
       * `revoked`: a token of this client whose sign-in was revoked; `invalid`: unknown, another
       * client's, expired, or rotated out; `no-user`: its user was deleted; `disabled`: its user
       * is disabled.
       */
      readonly reason: 'revoked' | 'invalid' | 'no-user' | 'disabled';
    };

/**
 * Looks a refresh token up for `client`: the one check behind the refresh grant,
 * REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken, so a token refused by one is refused by all.
 * Each caller words the reason its own way.
 */
export function liveRefresh(pool: UserPool, client: ResolvedClient, token: string): LiveRefresh {
  const record = pool.state.getRefresh(token);
  if (record?.family.revoked === true && record.family.clientId === client.clientId) {
    return { ok: false, reason: 'revoked' };
  }
  if (!record || !refreshUsable(pool, record, client)) return { ok: false, reason: 'invalid' };
  const user = pool.users.get(record.family.username);
  if (!user) return { ok: false, reason: 'no-user' };
  // A disabled user keeps no sign-in alive: Cognito refuses their refresh everywhere.
  if (!user.enabled) return { ok: false, reason: 'disabled' };
  return { ok: true, record, user };
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
  const live = liveRefresh(pool, client, token);
  if (!live.ok) return tokenError('invalid_grant');
  const tokens = pool.reissue(live.record.family, live.user, client);
  const rotated = pool.rotateRefresh(live.record, client);
  return tokenResponse(tokens, rotated);
}
