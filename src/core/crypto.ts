/**
 * Cryptographic helpers: a constant-time comparison, SHA-256, HKDF-SHA-256 key derivation from
 * the app's secret(s), and cookie encryption: authenticated encryption (JWE `dir` + `A256GCM`,
 * via jose) with keys derived by HKDF.
 *
 * Each purpose (login transaction, refresh token) gets its own derived key, so a value sealed
 * for one purpose cannot be replayed as another. Several secrets may be configured: the first
 * seals, every one unseals, and the JWE `kid` (a hash of the derived key, not the key) picks
 * the right one without trial decryption.
 *
 * @module
 */
import * as base64url from 'jose/base64url';
import type * as JweDecrypt from 'jose/jwt/decrypt';
import type * as JweEncrypt from 'jose/jwt/encrypt';
import { LIMITS } from './limits.js';

/** What a sealed value is for; each purpose has its own key. */
export type SealPurpose = 'transaction' | 'refresh-token' | 'session';

interface DerivedKey {
  readonly kid: string;
  readonly key: Uint8Array;
}

const encoder = new TextEncoder();

// JWE is needed only when a cookie is sealed or opened (sign-in, refresh, logout), never on a
// protected request's hot path: loading it on first use keeps it out of the app's start-up.
let encrypt: Promise<typeof JweEncrypt> | undefined;
let decrypt: Promise<typeof JweDecrypt> | undefined;
const loadEncrypt = (): Promise<typeof JweEncrypt> => (encrypt ??= import('jose/jwt/encrypt'));
const loadDecrypt = (): Promise<typeof JweDecrypt> => (decrypt ??= import('jose/jwt/decrypt'));

/**
 * Compares two strings in time that depends only on their lengths, so that an attacker cannot
 * learn a secret (a state, a nonce, an `at_hash`) one character at a time.
 *
 * @example
 * ```ts
 * timingSafeEqual('the state in the cookie', 'the state in the query'); // false, in constant time
 * ```
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let difference = left.length ^ right.length;
  for (let i = 0; i < left.length; i += 1) {
    difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  }
  return difference === 0;
}

/** The SHA-256 digest of a string's UTF-8 bytes. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/**
 * 256 bits derived from `secret` by HKDF-SHA-256 for the purpose named by `info`: a key for one
 * purpose tells nothing about the key for another, or about the secret.
 */
export async function hkdf(secret: string, info: string): Promise<Uint8Array<ArrayBuffer>> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: encoder.encode('cognito-guard/v1'),
      info: encoder.encode(info),
    },
    material,
    256,
  );
  return new Uint8Array(bits);
}

async function deriveKey(secret: string, purpose: SealPurpose): Promise<DerivedKey> {
  const key = await hkdf(secret, `cookie-encryption:${purpose}`);
  const kidBytes = await hkdf(secret, `cookie-key-id:${purpose}`);
  return { key, kid: base64url.encode(kidBytes.subarray(0, 9)) };
}

/**
 * Seals and unseals small JSON payloads for cookies.
 *
 * @example
 * ```ts
 * const sealer = new CookieSealer(['a-secret-of-at-least-32-characters!!']);
 * const sealed = await sealer.seal('transaction', { state: 'x' }, 600);
 * const payload = await sealer.unseal('transaction', sealed); // { state: 'x' } or undefined
 * ```
 */
export class CookieSealer {
  readonly #secrets: readonly string[];
  readonly #keys = new Map<SealPurpose, Promise<readonly DerivedKey[]>>();
  readonly #now: () => number;

  /**
   * @param secrets - the first seals; all unseal (rotation).
   * @param now - clock in milliseconds.
   */
  constructor(secrets: readonly string[], now: () => number = Date.now) {
    if (secrets.length === 0) throw new TypeError('at least one secret is required');
    this.#secrets = secrets;
    this.#now = now;
  }

  #keysFor(purpose: SealPurpose): Promise<readonly DerivedKey[]> {
    let keys = this.#keys.get(purpose);
    if (keys === undefined) {
      keys = Promise.all(this.#secrets.map((secret) => deriveKey(secret, purpose)));
      this.#keys.set(purpose, keys);
    }
    return keys;
  }

  /** Encrypts `payload` for `purpose`; it unseals only until `ttlSeconds` have passed. */
  async seal(
    purpose: SealPurpose,
    payload: Record<string, unknown>,
    ttlSeconds: number,
  ): Promise<string> {
    const [current] = await this.#keysFor(purpose);
    if (current === undefined) throw new TypeError('no sealing key');
    const nowSeconds = Math.floor(this.#now() / 1000);
    const { EncryptJWT } = await loadEncrypt();
    return new EncryptJWT(payload)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + ttlSeconds)
      .encrypt(current.key);
  }

  /**
   * Decrypts a sealed value. Returns `undefined` for anything that is not a live value sealed
   * by one of our secrets for this purpose (tampered, expired, other purpose, garbage).
   */
  async unseal(purpose: SealPurpose, sealed: string): Promise<Record<string, unknown> | undefined> {
    // Refuse oversized input before any parsing. A stored session holds whole tokens (an ID token
    // alone can be 6 KB or more: that is why it is in a store), so it gets a larger bound than
    // the values that travel in cookies.
    const maxLength =
      purpose === 'session' ? LIMITS.maxSealedSessionLength : LIMITS.maxSealedValueLength;
    if (sealed.length === 0 || sealed.length > maxLength || sealed.split('.').length !== 5)
      return undefined;
    const keys = await this.#keysFor(purpose);
    const { jwtDecrypt } = await loadDecrypt();
    try {
      const { payload } = await jwtDecrypt(
        sealed,
        (header) => {
          const match = keys.find((k) => k.kid === header.kid);
          if (match === undefined) throw new Error('unknown key id');
          return match.key;
        },
        {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
          currentDate: new Date(this.#now()),
          requiredClaims: ['exp', 'iat'],
        },
      );
      return payload;
    } catch {
      return undefined;
    }
  }
}
