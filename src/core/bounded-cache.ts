/**
 * A size-bounded map with least-recently-used eviction and per-entry expiry.
 *
 * Every cache in cognito-guard (verified tokens, consumed transactions) is one of these, so that
 * hostile input (10,000 junk tokens) can never grow memory past a known bound.
 *
 * @example
 * ```ts
 * const cache = new BoundedCache<string, number>(1000);
 * cache.set('a', 1, Date.now() + 60_000);
 * cache.get('a'); // 1
 * ```
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #touchOnRead: boolean;

  /**
   * @param maxEntries - the most entries ever held; the least recently used goes first.
   * @param now - clock in milliseconds (injectable for tests).
   * @param options - `touchOnRead: false` evicts in insertion order instead (a read is then a
   *   single map lookup, for hot paths where insertion order is a good enough proxy).
   */
  constructor(
    maxEntries: number,
    now: () => number = Date.now,
    options: { readonly touchOnRead?: boolean } = {},
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
    this.#maxEntries = maxEntries;
    this.#now = now;
    this.#touchOnRead = options.touchOnRead ?? true;
  }

  /** Number of entries held (expired entries may still count until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** The bound given at construction. */
  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** Returns the live value for `key`, or `undefined` (expired entries are dropped). */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#touchOnRead) {
      // Re-insert to mark as most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  /** True when a live entry exists for `key`. */
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores `value` until `expiresAtMs`, evicting the least recently used entry when full. */
  set(key: K, value: V, expiresAtMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAtMs });
  }

  /**
   * Stores `value` until `expiresAtMs` only if that evicts no live entry: when full, expired
   * entries are dropped first, and if every entry is still live nothing is stored. For records
   * whose entries must survive their whole lifetime (a forgotten entry would be a hole, not a
   * cache miss). Returns whether the value was stored.
   *
   * The sweep stops at the first live entry, so it assumes entries expire in insertion order
   * (one fixed lifetime, and `touchOnRead: false`); it then costs only the expired entries.
   */
  setIfRoom(key: K, value: V, expiresAtMs: number): boolean {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      const now = this.#now();
      for (const [oldKey, entry] of this.#entries) {
        if (entry.expiresAtMs > now) break;
        this.#entries.delete(oldKey);
      }
      if (this.#entries.size >= this.#maxEntries) return false;
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });
    return true;
  }

  /** Removes `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
