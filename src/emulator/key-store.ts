/**
 * The emulator's signing keys. Like Cognito, one RSA-2048 key signs access tokens and another
 * signs ID tokens, so the `kid` of the two tokens of one sign-in differ. Rotation adds a new
 * signing key and keeps the old one published until it is retired, which is what a library's JWKS
 * cache has to survive.
 */
import { generateKeyPair, randomBytes, sign as rsaSign, verify as rsaVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Which token a key signs. */
export type KeyUse = 'access' | 'id';

/** A public JWK as Cognito publishes it (same member order). */
export interface EmulatorJwk {
  readonly alg: 'RS256';
  readonly e: string;
  readonly kid: string;
  readonly kty: 'RSA';
  readonly n: string;
  readonly use: 'sig';
}

/** What callers may learn about a key (never the private part). */
export interface KeyInfo {
  readonly kid: string;
  readonly use: KeyUse;
  /** True for the key currently signing tokens of this use. */
  readonly active: boolean;
  readonly createdAtMs: number;
}

interface StoredKey {
  readonly kid: string;
  readonly use: KeyUse;
  readonly privateKey: KeyObject;
  readonly jwk: EmulatorJwk;
  readonly createdAtMs: number;
}

/** A Cognito-shaped key id: standard base64 of 32 random bytes (44 characters, ends in `=`). */
export function newKid(): string {
  return randomBytes(32).toString('base64');
}

/** Generates one RSA-2048 signing key (async so several can be made in parallel). */
async function generateKey(use: KeyUse): Promise<StoredKey> {
  const { privateKey, publicKey } = await new Promise<{
    privateKey: KeyObject;
    publicKey: KeyObject;
  }>((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (error, pub, priv) => {
      if (error) reject(error);
      else resolve({ privateKey: priv, publicKey: pub });
    });
  });
  const exported = publicKey.export({ format: 'jwk' });
  const kid = newKid();
  return {
    kid,
    use,
    privateKey,
    jwk: {
      alg: 'RS256',
      e: String(exported.e),
      kid,
      kty: 'RSA',
      n: String(exported.n),
      use: 'sig',
    },
    createdAtMs: Date.now(),
  };
}

/** The JSON Cognito writes: like `JSON.stringify`, but `/` escaped as `\/` (observed in real tokens). */
export function cognitoJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('/', '\\/');
}

/**
 * Holds the published keys and the active key for each use.
 *
 * @example
 * ```ts
 * const store = await KeyStore.create();
 * const jwt = store.sign('access', { sub: 'x' });
 * ```
 */
export class KeyStore {
  #keys: StoredKey[];
  #active: Record<KeyUse, StoredKey>;
  /** Lazily made key that is never published, for "valid signature, unknown key" tests. */
  #unpublished: Promise<StoredKey> | undefined;

  private constructor(access: StoredKey, id: StoredKey) {
    this.#keys = [id, access];
    this.#active = { access, id };
  }

  /** Makes the initial two keys (access + ID). */
  static async create(): Promise<KeyStore> {
    const [access, id] = await Promise.all([generateKey('access'), generateKey('id')]);
    return new KeyStore(access, id);
  }

  /** The JWKS document: every key not yet retired. */
  jwks(): { keys: EmulatorJwk[] } {
    return { keys: this.#keys.map((key) => key.jwk) };
  }

  /** Public information about every published key. */
  list(): KeyInfo[] {
    return this.#keys.map((key) => ({
      kid: key.kid,
      use: key.use,
      active: this.#active[key.use] === key,
      createdAtMs: key.createdAtMs,
    }));
  }

  /** The kid currently signing tokens of `use`. */
  activeKid(use: KeyUse): string {
    return this.#active[use].kid;
  }

  /**
   * Adds new signing keys (for one use or both) and makes them active; the old keys stay in the
   * JWKS until {@link retire} removes them, so tokens already issued still verify.
   */
  async rotate(use?: KeyUse): Promise<KeyInfo[]> {
    const uses: KeyUse[] = use ? [use] : ['access', 'id'];
    const fresh = await Promise.all(uses.map((u) => generateKey(u)));
    for (const key of fresh) {
      this.#keys.push(key);
      this.#active[key.use] = key;
    }
    return this.list().filter((info) => fresh.some((key) => key.kid === info.kid));
  }

  /**
   * Removes a key from the JWKS; tokens it signed no longer verify. Without `kid`, retires every
   * inactive key. An active key cannot be retired (rotate first).
   *
   * @returns the kids removed.
   * @throws RangeError for an unknown or active kid.
   */
  retire(kid?: string): string[] {
    const activeKids = new Set([this.#active.access.kid, this.#active.id.kid]);
    if (kid === undefined) {
      const removed = this.#keys.filter((key) => !activeKids.has(key.kid)).map((key) => key.kid);
      this.#keys = this.#keys.filter((key) => activeKids.has(key.kid));
      return removed;
    }
    if (!this.#keys.some((key) => key.kid === kid)) throw new RangeError(`unknown kid ${kid}`);
    if (activeKids.has(kid)) {
      throw new RangeError(`kid ${kid} is active; rotate the keys before retiring it`);
    }
    this.#keys = this.#keys.filter((key) => key.kid !== kid);
    return [kid];
  }

  /**
   * Signs a JWS with RS256. `header` defaults to Cognito's `{kid, alg}`; `key` selects a key by use,
   * by kid (published keys only), or `'unpublished'` for a key missing from the JWKS.
   */
  async signWith(
    key: KeyUse | 'unpublished' | { kid: string },
    payload: Record<string, unknown>,
    headerOverrides?: Record<string, unknown>,
  ): Promise<string> {
    let stored: StoredKey;
    if (key === 'unpublished') {
      this.#unpublished ??= generateKey('access');
      stored = await this.#unpublished;
    } else if (typeof key === 'object') {
      const found = this.#keys.find((candidate) => candidate.kid === key.kid);
      if (!found) throw new RangeError(`unknown kid ${key.kid}`);
      stored = found;
    } else {
      stored = this.#active[key];
    }
    return signJws(stored, payload, headerOverrides);
  }

  /** Signs with the active key of `use` (the normal issuing path; synchronous). */
  sign(use: KeyUse, payload: Record<string, unknown>): string {
    return signJws(this.#active[use], payload, undefined);
  }

  /** Verifies a JWS signed by a published key and returns its payload, or `undefined`. */
  verify(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [headerB64 = '', payloadB64 = '', signatureB64 = ''] = parts;
    try {
      const header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as unknown;
      if (typeof header !== 'object' || header === null) return undefined;
      const { kid, alg } = header as { kid?: unknown; alg?: unknown };
      if (alg !== 'RS256') return undefined;
      const stored = this.#keys.find((key) => key.kid === kid);
      if (!stored) return undefined;
      const ok = rsaVerify(
        'sha256',
        Buffer.from(`${headerB64}.${payloadB64}`),
        stored.privateKey,
        Buffer.from(signatureB64, 'base64url'),
      );
      if (!ok) return undefined;
      const payload = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8')) as unknown;
      return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? (payload as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }
}

function signJws(
  key: StoredKey,
  payload: Record<string, unknown>,
  headerOverrides: Record<string, unknown> | undefined,
): string {
  // JSON.stringify drops members set to undefined, which is how an override removes one.
  const header: Record<string, unknown> = { kid: key.kid, alg: 'RS256', ...headerOverrides };
  const input = `${Buffer.from(cognitoJson(header)).toString('base64url')}.${Buffer.from(
    cognitoJson(payload),
  ).toString('base64url')}`;
  const signature = rsaSign('sha256', Buffer.from(input), key.privateKey).toString('base64url');
  return `${input}.${signature}`;
}
