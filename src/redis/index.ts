/**
 * `cognito-guard/redis`: server-side sessions on Redis (or Valkey, ElastiCache, Redis Cluster)
 * with the `redis` client (node-redis). Importing this module makes
 * `AWS_COGNITO_SESSION_STORE=redis://…` (and `rediss://…`) work; {@link redisSessionStore} builds a
 * store from a URL or from a client you already have.
 *
 * Keys are laid out for Redis Cluster: every key of one user carries the hash tag `{<user tag>}`,
 * so a user's sessions and their index live in one hash slot, and the writes that touch several
 * keys run as one `MULTI` there. Reading a session (the protected route's hot path) is one `GET`.
 *
 * | key | type | holds | expires |
 * | --- | --- | --- | --- |
 * | `cognito-guard:{<user>}:session:<id>` | string | the sealed session | with the session |
 * | `cognito-guard:{<user>}:sessions` | sorted set | the user's session ids, by expiry | with the user's last session |
 *
 * The user tag is an HMAC of the user's `sub`, the id a SHA-256 of the browser's secret, and the
 * value is encrypted with a key derived from `SECRET_KEY`: nothing in Redis signs anyone in or
 * reveals a token.
 *
 * @example
 * ```ts
 * import 'cognito-guard/redis';
 * import { CognitoGuard, fromEnv } from 'cognito-guard';
 *
 * // AWS_COGNITO_SESSION_STORE=redis://localhost:6379/0
 * const guard = new CognitoGuard(fromEnv(process.env));
 * process.on('SIGTERM', () => void guard.close());
 * ```
 * @module
 */
import { createClient, type RedisClientType, type RedisClusterType } from 'redis';
import {
  registerSessionStore,
  type CognitoGuardLogger,
  type SessionKey,
  type SessionStore,
} from '../index.js';

/**
 * A node-redis connection the store can use: a client (`createClient`) or a cluster
 * (`createCluster`).
 *
 * @example
 * ```ts
 * import { createCluster } from 'redis';
 * const cluster: RedisConnection = createCluster({ rootNodes: [{ url: 'redis://10.0.0.1:6379' }] });
 * ```
 */
export type RedisConnection = RedisClientType | RedisClusterType;

/**
 * Options of {@link redisSessionStore}.
 *
 * @example
 * ```ts
 * const options: RedisSessionStoreOptions = { keyPrefix: 'shop:', timeoutMs: 1000 };
 * ```
 */
export interface RedisSessionStoreOptions {
  /**
   * Prepended to every key, default `cognito-guard:`; give each app sharing a Redis its own.
   * It may not contain `{` or `}` (the user's hash tag must be the first braces of a key).
   */
  readonly keyPrefix?: string | undefined;
  /**
   * How long one store operation may take before it fails (and the request answers 503),
   * default 3000 ms — the guard's own deadline (`httpTimeoutMs`) when built from a URL.
   */
  readonly timeoutMs?: number | undefined;
  /** Where connection trouble is reported (once per outage), default `console.warn`. */
  readonly logger?: CognitoGuardLogger | undefined;
  /** Longest wait between two reconnection attempts, default 1000 ms. */
  readonly maxReconnectDelayMs?: number | undefined;
}

const DEFAULT_PREFIX = 'cognito-guard:';
const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 1000;
/** Commands waiting for Redis beyond this many are refused at once (memory stays bounded). */
const MAX_QUEUED_COMMANDS = 10_000;
/** User tags and ids are base64url; anything else would let a key name escape its slot. */
const KEY_PART = /^[A-Za-z0-9_-]{1,128}$/;

/** Redis did not answer in time, or cannot be reached. */
class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

const consoleLogger: CognitoGuardLogger = {
  warn: (message, fields) => {
    console.warn(`[cognito-guard] ${message}`, fields ?? '');
  },
};

function checkPart(value: string, what: string): string {
  if (!KEY_PART.test(value)) throw new TypeError(`invalid session ${what}`);
  return value;
}

function isReady(client: RedisConnection): boolean {
  return client.isReady;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new TypeError(`${name} must be a positive integer`);
  return value;
}

/**
 * A {@link SessionStore} on Redis. Build it with {@link redisSessionStore}.
 *
 * Connection handling, for a store that owns its client (built from a URL):
 * - it connects on first use, not when built;
 * - while Redis is unreachable every call fails at once (no queue of commands waiting for a
 *   server that is not there: each request answers 503 quickly) and the client reconnects in
 *   the background, every `maxReconnectDelayMs` at most, so the app recovers by itself;
 * - a command that gets no answer within `timeoutMs` (a hung server, a network partition)
 *   fails, and the connection is replaced, so commands never pile up behind a dead socket.
 *
 * A client you pass in is yours: the store connects it if it is not open yet, never changes its
 * options, and leaves closing it to you.
 *
 * @example
 * ```ts
 * const store = redisSessionStore('redis://localhost:6379/0');
 * const guard = new CognitoGuard({ ...fromEnv(process.env), sessionStore: store });
 * ```
 */
export class RedisSessionStore implements SessionStore {
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #logger: CognitoGuardLogger;
  /** Makes a new client, given the store's deadline; `undefined` for a client passed in (never replaced). */
  readonly #create: ((timeoutMs: number) => RedisConnection) | undefined;
  #client: RedisConnection | undefined;
  /** The first connection of the current client, while it is being made. */
  #connecting: Promise<void> | undefined;
  /** False from a connection error (or a hung command) until the client is ready again. */
  #healthy = true;
  #closed = false;

  /** @internal Use {@link redisSessionStore}. */
  constructor(
    connection: RedisConnection | ((timeoutMs: number) => RedisConnection),
    options: RedisSessionStoreOptions = {},
  ) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (/[{}]/.test(prefix)) throw new TypeError('keyPrefix may not contain { or }');
    this.#prefix = prefix;
    this.#timeoutMs = positiveInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.#logger = options.logger ?? consoleLogger;
    if (typeof connection === 'function') {
      this.#create = connection;
    } else {
      this.#create = undefined;
      this.#adopt(connection);
    }
  }

  /** The key of one session. */
  #sessionKey(key: SessionKey): string {
    return `${this.#prefix}{${checkPart(key.user, 'user')}}:session:${checkPart(key.id, 'id')}`;
  }

  /** The key of a user's index (the ids of their sessions, scored by expiry in ms). */
  #indexKey(user: string): string {
    return `${this.#prefix}{${checkPart(user, 'user')}}:sessions`;
  }

  /** Starts using `client`: its connection events drive {@link RedisSessionStore.#healthy}. */
  #adopt(client: RedisConnection): void {
    this.#client = client;
    client.on('error', (error: unknown) => {
      if (client !== this.#client) return;
      this.#markDown(error instanceof Error ? error.message : 'connection error');
    });
    client.on('ready', () => {
      if (client !== this.#client) return;
      if (!this.#healthy) this.#logger.info?.('session store (Redis) is reachable again');
      this.#healthy = true;
    });
  }

  /** Reports an outage once, when it begins (never the URL: it may hold a password). */
  #markDown(detail: string): void {
    if (this.#healthy) {
      this.#logger.warn(
        'session store (Redis) unreachable: requests that need a session answer 503 until it is back; reconnecting',
        { detail },
      );
    }
    this.#healthy = false;
  }

  /** A ready client, or a quick failure while Redis is unreachable. */
  async #connection(): Promise<RedisConnection> {
    if (this.#closed) throw new RedisUnavailableError('the session store is closed');
    let client = this.#client;
    if (client === undefined) {
      if (this.#create === undefined) throw new RedisUnavailableError('no Redis client');
      client = this.#create(this.#timeoutMs);
      this.#adopt(client);
    }
    if (client.isReady) return client;
    if (!client.isOpen) {
      // Errors surface as 'error' events (above) and as the failure of the calls waiting here.
      this.#connecting = client.connect().then(
        () => undefined,
        (error: unknown) => {
          if (client === this.#client)
            this.#markDown(error instanceof Error ? error.message : 'connect failed');
        },
      );
    }
    // Reconnecting after a failure: fail now rather than queue behind a server that is gone.
    if (!this.#healthy || this.#connecting === undefined) {
      throw new RedisUnavailableError('Redis is unreachable (reconnecting)');
    }
    // The first connection of this client: worth waiting for, within the deadline.
    await this.#connecting;
    // (Read again: the await above may have changed it.)
    if (!isReady(client)) throw new RedisUnavailableError('Redis is unreachable');
    return client;
  }

  /**
   * Runs one operation within the deadline. A command that Redis accepted but never answered
   * means a hung server or a dead network path: the owned client is replaced, failing whatever
   * else waits on it, so nothing piles up behind it.
   */
  async #run<T>(operation: string, run: (client: RedisConnection) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stalled: RedisConnection | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new RedisUnavailableError(`${operation}: no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    try {
      const client = await Promise.race([this.#connection(), deadline]);
      stalled = client;
      const result = await Promise.race([run(client), deadline]);
      stalled = undefined;
      return result;
    } catch (error) {
      if (stalled !== undefined && error instanceof RedisUnavailableError) this.#replace(stalled);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops a client that stopped answering; the next call connects a new one. */
  #replace(client: RedisConnection): void {
    if (this.#create === undefined || client !== this.#client) return;
    this.#markDown('no answer within the deadline; reconnecting');
    this.#client = undefined;
    this.#connecting = undefined;
    client.destroy();
  }

  async get(key: SessionKey): Promise<string | undefined> {
    const sessionKey = this.#sessionKey(key);
    // One GET: the only Redis round trip of a protected request.
    return this.#run('get', async (client) => (await client.get(sessionKey)) ?? undefined);
  }

  async set(key: SessionKey, value: string, ttlSeconds: number): Promise<void> {
    const sessionKey = this.#sessionKey(key);
    const indexKey = this.#indexKey(key.user);
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return this.#run('set', async (client) => {
      const now = Date.now();
      await client
        .multi()
        .set(sessionKey, value, { EX: ttl })
        .zAdd(indexKey, { score: now + ttl * 1000, value: key.id })
        // Ids of sessions that have expired since: the index lists live sessions only.
        .zRemRangeByScore(indexKey, '-inf', now)
        // The index lives as long as the user's longest session, never longer: NX gives a new
        // index this session's lifetime, GT extends an existing one only when this one is longer.
        .expire(indexKey, ttl, 'NX')
        .expire(indexKey, ttl, 'GT')
        .exec();
    });
  }

  async delete(key: SessionKey): Promise<void> {
    const sessionKey = this.#sessionKey(key);
    const indexKey = this.#indexKey(key.user);
    return this.#run('delete', async (client) => {
      await client.multi().del(sessionKey).zRem(indexKey, key.id).exec();
    });
  }

  async listUser(user: string): Promise<readonly string[]> {
    const indexKey = this.#indexKey(user);
    return this.#run('list', async (client) => {
      const ids = await client.zRangeByScore(indexKey, Date.now(), '+inf');
      if (ids.length === 0) return [];
      const values = await client.mGet(ids.map((id) => this.#sessionKey({ user, id })));
      return values.filter((value): value is string => typeof value === 'string');
    });
  }

  async deleteUser(user: string): Promise<void> {
    const indexKey = this.#indexKey(user);
    return this.#run('delete user', async (client) => {
      // Read and drop the index in one step: a session started meanwhile gets a new index and
      // survives (it began after the sign-out), none started before is missed.
      const replies: unknown[] = await client.multi().zRange(indexKey, 0, -1).del(indexKey).exec();
      const ids: unknown = replies[0];
      const keys = (Array.isArray(ids) ? (ids as unknown[]) : [])
        .filter((id): id is string => typeof id === 'string' && KEY_PART.test(id))
        .map((id) => this.#sessionKey({ user, id }));
      if (keys.length > 0) await client.del(keys);
    });
  }

  /**
   * Closes the connection of a store built from a URL (pending answers are awaited); a client
   * you passed in stays open. Calls after `close()` fail.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined || this.#create === undefined) return;
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
  }
}

/**
 * A Redis session store from a URL (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for
 * TLS) or from a node-redis client or cluster you configured yourself.
 *
 * @throws {TypeError} for an invalid URL or option.
 * @example
 * ```ts
 * import { createCluster } from 'redis';
 * const store = redisSessionStore('rediss://user:pass@cache.example.com:6380/0', { timeoutMs: 1000 });
 * const clustered = redisSessionStore(createCluster({ rootNodes: [{ url: 'redis://10.0.0.1:6379' }] }));
 * ```
 */
export function redisSessionStore(
  connection: string | URL | RedisConnection,
  options: RedisSessionStoreOptions = {},
): RedisSessionStore {
  if (typeof connection !== 'string' && !(connection instanceof URL)) {
    return new RedisSessionStore(connection, options);
  }
  const url = String(connection);
  const maxDelayMs = positiveInteger(
    options.maxReconnectDelayMs,
    DEFAULT_MAX_RECONNECT_DELAY_MS,
    'maxReconnectDelayMs',
  );
  // No per-command timeout of the client's own: every command runs within the store's deadline
  // (timeoutMs), which also replaces a client that stopped answering (RedisSessionStore.#run).
  const create = (timeoutMs: number): RedisConnection =>
    createClient({
      url,
      // A command while disconnected fails at once instead of waiting for a reconnection that
      // may never come: the request answers 503 within its deadline.
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      socket: {
        connectTimeout: timeoutMs,
        // Keep trying for as long as the app runs (the default gives up after a socket
        // timeout), quickly at first, then every maxDelayMs at most.
        reconnectStrategy: (retries: number) =>
          Math.min(50 * 2 ** retries, maxDelayMs) + Math.floor(Math.random() * 100),
      },
    });
  // The store validates timeoutMs, and gives it to `create` as the connect timeout.
  const store = new RedisSessionStore(create, options);
  // Parse the URL now, so a malformed one is a configuration error at startup.
  create(DEFAULT_TIMEOUT_MS).destroy();
  return store;
}

registerSessionStore('redis:', (url, context) =>
  redisSessionStore(url, { timeoutMs: context.timeoutMs, logger: context.logger }),
);
registerSessionStore('rediss:', (url, context) =>
  redisSessionStore(url, { timeoutMs: context.timeoutMs, logger: context.logger }),
);
