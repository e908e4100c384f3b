/**
 * The login transaction: state, PKCE verifier, nonce, return-to, issuer and redirect URI, kept
 * in its own encrypted, HttpOnly, SameSite=Lax cookie for at most ten minutes, consumed once.
 *
 * One cookie per transaction, named after a hash of its state, so that logins started in two
 * tabs do not overwrite each other, and the callback finds its transaction from the
 * `state` it receives.
 *
 * @module
 */
import * as base64url from 'jose/base64url';
import { COOKIE_NAMES } from './cookies.js';
import { sha256, type CookieSealer } from './crypto.js';
import { LIMITS } from './limits.js';

/** What a login transaction remembers between `/login` and the callback. */
export interface LoginTransaction {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly returnTo: string | undefined;
  /** The issuer the login was started against: a callback meant for another pool is refused. */
  readonly issuer: string;
  /** The exact redirect_uri sent to /authorize, sent again to /token. */
  readonly redirectUri: string;
}

/** A stable, short identifier of a state, used in the cookie name. */
export async function stateId(state: string): Promise<string> {
  return base64url.encode((await sha256(state)).subarray(0, 12));
}

/** The cookie name for a transaction: `__Host-` prefixed whenever cookies are Secure. */
export function transactionCookieName(id: string, secure: boolean): string {
  return `${secure ? '__Host-' : ''}${COOKIE_NAMES.transactionPrefix}${id}`;
}

/** True for any transaction cookie name (either prefix). */
export function isTransactionCookieName(name: string): boolean {
  return (
    name.startsWith(COOKIE_NAMES.transactionPrefix) ||
    name.startsWith(`__Host-${COOKIE_NAMES.transactionPrefix}`)
  );
}

/** Encrypts a transaction for its cookie. */
export function sealTransaction(
  sealer: CookieSealer,
  transaction: LoginTransaction,
): Promise<string> {
  return sealer.seal(
    'transaction',
    {
      s: transaction.state,
      v: transaction.codeVerifier,
      n: transaction.nonce,
      ...(transaction.returnTo === undefined ? {} : { r: transaction.returnTo }),
      i: transaction.issuer,
      u: transaction.redirectUri,
    },
    LIMITS.transactionTtlSeconds,
  );
}

/** Decrypts a transaction cookie; `undefined` when it is not a live transaction of ours. */
export async function unsealTransaction(
  sealer: CookieSealer,
  sealed: string,
): Promise<LoginTransaction | undefined> {
  const payload = await sealer.unseal('transaction', sealed);
  if (payload === undefined) return undefined;
  const { s, v, n, r, i, u } = payload;
  if (typeof s !== 'string' || typeof v !== 'string' || typeof n !== 'string') return undefined;
  if (typeof i !== 'string' || typeof u !== 'string') return undefined;
  if (r !== undefined && typeof r !== 'string') return undefined;
  return { state: s, codeVerifier: v, nonce: n, returnTo: r, issuer: i, redirectUri: u };
}
