/**
 * The server side of Cognito's SRP-6a (`USER_SRP_AUTH` → `PASSWORD_VERIFIER`), so that
 * `amazon-cognito-identity-js` and Amplify sign in unmodified:
 *
 * - the 3072-bit group of RFC 5054 / RFC 3526 with g = 2, and k = H(N | g);
 * - x = H(salt | H(poolName + userId + ":" + password)), v = g^x;
 * - B = k·v + g^b, u = H(A | B), S = (A · v^u)^b;
 * - the key is HKDF-SHA-256(ikm = S, salt = u, info = "Caldera Derived Key"), 16 bytes;
 * - the client proves it with HMAC-SHA-256(key, poolName + userId + secretBlock + timestamp).
 *
 * Every "|" above concatenates Cognito's hex encodings (even length, a leading 00 when the top bit
 * is set, as Java's `BigInteger.toByteArray()`), which both sides must reproduce byte for byte.
 * Arithmetic uses Node's BigInt; hashing, HKDF and HMAC use `node:crypto`.
 *
 * @see https://datatracker.ietf.org/doc/html/rfc5054 (SRP for TLS, the group) and RFC 2945 (SRP).
 */
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** RFC 3526's 3072-bit MODP prime, the group Cognito's SRP uses. */
const N_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
  'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
  '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
  '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
  'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';

/** The group's modulus. */
export const N = BigInt(`0x${N_HEX}`);
/** The group's generator. */
export const g = 2n;

/**
 * Cognito's hex encoding of a non-negative integer: even length, with `00` prepended when the
 * first digit is 8–f (so it reads as positive in two's complement).
 *
 * @example
 * ```ts
 * padHex(0xecn); // '00ec'
 * padHex(0x14n); // '14'
 * ```
 */
export function padHex(value: bigint): string {
  if (value < 0n) throw new RangeError('SRP values are non-negative');
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

/** SHA-256 of the bytes a hex string encodes, as 64 hex digits. */
function hexHash(hex: string): string {
  return createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
}

/** SHA-256 of a UTF-8 string, as 64 hex digits. */
function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function toBigInt(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** The multiplier k = H(N | g). */
const k = toBigInt(hexHash(padHex(N) + padHex(g)));

/**
 * base^exponent mod modulus, by square-and-multiply.
 *
 * @example
 * ```ts
 * modPow(2n, 10n, 1000n); // 24n
 * ```
 */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** A uniformly random positive integer of `bytes` bytes (never zero). */
function randomValue(bytes: number): bigint {
  for (;;) {
    const value = toBigInt(randomBytes(bytes).toString('hex'));
    if (value !== 0n) return value;
  }
}

/**
 * A fresh salt for one sign-in (the emulator stores plain passwords, so it derives the verifier
 * per challenge instead of keeping one per user).
 */
export function newSalt(): bigint {
  return randomValue(16);
}

/**
 * The password verifier v = g^x with x = H(salt | H(poolName + userId + ":" + password)).
 *
 * @param poolName - the part of the pool id after `_`.
 * @param userId - `USER_ID_FOR_SRP` (the username).
 */
export function passwordVerifier(
  poolName: string,
  userId: string,
  password: string,
  salt: bigint,
): bigint {
  const x = toBigInt(hexHash(padHex(salt) + textHash(`${poolName}${userId}:${password}`)));
  return modPow(g, x, N);
}

/**
 * The server's ephemeral pair for a verifier: secret b and public B = k·v + g^b (never 0 mod N).
 */
export function serverEphemeral(verifier: bigint): { b: bigint; B: bigint } {
  for (;;) {
    const b = randomValue(128);
    const B = (k * verifier + modPow(g, b, N)) % N;
    if (B !== 0n) return { b, B };
  }
}

/**
 * Parses the client's public value `SRP_A` (hex). A value that is 0 mod N would let a client
 * compute the shared key without the password, so it is refused (`undefined`), as is non-hex.
 */
export function parseClientPublic(hex: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,2048}$/.test(hex)) return undefined;
  const A = toBigInt(hex);
  return A % N === 0n ? undefined : A;
}

/** What the server knows about one `PASSWORD_VERIFIER` challenge. */
export interface SrpSession {
  readonly A: bigint;
  readonly B: bigint;
  readonly b: bigint;
  readonly verifier: bigint;
}

/**
 * The `PASSWORD_CLAIM_SIGNATURE` the client must send: base64 of
 * HMAC-SHA-256(K, poolName + userId + secretBlock + timestamp), K derived from the shared secret.
 *
 * @param secretBlock - the `SECRET_BLOCK` the server issued, as base64.
 * @param timestamp - the client's `TIMESTAMP`, exactly as sent.
 * @returns `undefined` when u = H(A | B) is 0 (the exchange must be abandoned).
 */
export function expectedSignature(
  session: SrpSession,
  poolName: string,
  userId: string,
  secretBlock: string,
  timestamp: string,
): string | undefined {
  const u = toBigInt(hexHash(padHex(session.A) + padHex(session.B)));
  if (u === 0n) return undefined;
  const S = modPow((session.A * modPow(session.verifier, u, N)) % N, session.b, N);
  const key = Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.from(padHex(S), 'hex'),
      Buffer.from(padHex(u), 'hex'),
      Buffer.from('Caldera Derived Key', 'utf8'),
      16,
    ),
  );
  return createHmac('sha256', key)
    .update(Buffer.from(poolName, 'utf8'))
    .update(Buffer.from(userId, 'utf8'))
    .update(Buffer.from(secretBlock, 'base64'))
    .update(Buffer.from(timestamp, 'utf8'))
    .digest('base64');
}
