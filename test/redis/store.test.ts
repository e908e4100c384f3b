/**
 * `cognito-guard/redis` against a real redis-server: the key layout (one hash slot per user, TTLs
 * on entries and on the index), one GET per read, the URL scheme registration, and what happens
 * when Redis is down, hung, or not there yet — fail fast, recover by itself, never log a password.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoGuard, ConfigurationError, fromEnv, type SessionKey } from '../../src/index.js';
import { redisSessionStore, RedisSessionStore } from '../../src/redis/index.js';
import { findSystemComponent, startRedis, type RedisServer } from '../support/system.js';

const redisSkip = findSystemComponent('redis-server').skip;

const USER = 'dXNlci10YWctMTIzNDU2Nz'; // 22 base64url characters, like an HMAC user tag
const id = (n: number): string => `${String(n).padStart(3, '0')}${'a'.repeat(40)}`;
const key = (n: number, user = USER): SessionKey => ({ user, id: id(n) });

interface Warning {
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): {
  warnings: Warning[];
  warn: (m: string, f?: Record<string, unknown>) => void;
} {
  const warnings: Warning[] = [];
  return {
    warnings,
    warn: (message, fields) => {
      warnings.push({ message, fields });
    },
  };
}

const TEST_CONNECTION_COMMANDS = new Set(['hello', 'client|setinfo', 'info', 'config|resetstat']);

/** Calls of each Redis command since the last `CONFIG RESETSTAT`. */
async function commandCalls(redis: RedisServer): Promise<Record<string, number>> {
  const info = (await redis.command(['INFO', 'commandstats'])) as string;
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    // Leave out the commands of the test's own connection (node-redis's handshake, INFO…).
    if (!TEST_CONNECTION_COMMANDS.has(match[1]!)) calls[match[1]!] = Number(match[2]);
  }
  return calls;
}

async function connectedClients(redis: RedisServer): Promise<number> {
  const info = (await redis.command(['INFO', 'clients'])) as string;
  // Minus the connection that asked.
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]) - 1;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe('RedisSessionStore on a real redis-server', { skip: redisSkip }, () => {
  let redis: RedisServer;
  let store: RedisSessionStore;

  before(async () => {
    redis = await startRedis();
    store = redisSessionStore(redis.url, { logger: recordingLogger() });
  });
  after(async () => {
    await store.close();
    await redis.close();
  });
  beforeEach(async () => {
    await redis.command(['FLUSHALL']);
  });

  it('connects on first use, not when built', async () => {
    const fresh = redisSessionStore(redis.url, { logger: recordingLogger() });
    try {
      const idle = await connectedClients(redis);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await connectedClients(redis), idle);
      assert.equal(await fresh.get(key(1)), undefined);
      assert.equal(await connectedClients(redis), idle + 1);
    } finally {
      await fresh.close();
    }
  });

  it('keeps every key of a user under the hash tag {user}, with TTLs on the entry and the index', async () => {
    await store.set(key(1), 'sealed-1', 100);
    await store.set(key(2), 'sealed-2', 300);
    await store.set(key(3), 'sealed-3', 50);
    await store.set(key(4, 'b3RoZXItdXNlci10YWctMD'), 'other', 100);
    const keys = ((await redis.command(['KEYS', '*'])) as string[]).sort();
    assert.deepEqual(
      keys,
      [
        `cognito-guard:{${USER}}:session:${id(1)}`,
        `cognito-guard:{${USER}}:session:${id(2)}`,
        `cognito-guard:{${USER}}:session:${id(3)}`,
        `cognito-guard:{${USER}}:sessions`,
        `cognito-guard:{b3RoZXItdXNlci10YWctMD}:session:${id(4)}`,
        `cognito-guard:{b3RoZXItdXNlci10YWctMD}:sessions`,
      ].sort(),
    );
    for (const name of keys) {
      const ttl = (await redis.command(['TTL', name])) as number;
      assert.ok(ttl > 0, `${name} expires (TTL ${ttl})`);
    }
    const ttlOf = async (name: string) => (await redis.command(['TTL', name])) as number;
    assert.ok(Math.abs((await ttlOf(`cognito-guard:{${USER}}:session:${id(1)}`)) - 100) <= 1);
    assert.ok(Math.abs((await ttlOf(`cognito-guard:{${USER}}:session:${id(3)}`)) - 50) <= 1);
    // The index lives exactly as long as the user's longest session: not shortened by a
    // shorter one written later, never longer than the longest.
    assert.ok(Math.abs((await ttlOf(`cognito-guard:{${USER}}:sessions`)) - 300) <= 1);
    assert.equal(await redis.command(['TYPE', `cognito-guard:{${USER}}:sessions`]), 'zset');
    assert.equal(await store.get(key(2)), 'sealed-2');
  });

  it('the index forgets expired sessions, and disappears with the last one', async () => {
    await store.set(key(1), 'short', 1);
    await store.set(key(2), 'long', 100);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await store.get(key(1)), undefined, 'Redis expired the entry');
    assert.deepEqual(await store.listUser(USER), ['long']);
    await store.set(key(3), 'new', 100);
    const members = (await redis.command([
      'ZRANGE',
      `cognito-guard:{${USER}}:sessions`,
      '0',
      '-1',
    ])) as string[];
    assert.deepEqual(members.sort(), [id(2), id(3)], 'a write prunes the expired id');
    await store.delete(key(2));
    await store.delete(key(3));
    assert.deepEqual(await redis.command(['KEYS', '*']), [], 'nothing is left behind');
  });

  it('lists and deletes all sessions of one user, and only theirs', async () => {
    const other = 'b3RoZXItdXNlci10YWctMD';
    await store.set(key(1), 'a', 100);
    await store.set(key(2), 'b', 100);
    await store.set(key(3, other), 'c', 100);
    assert.deepEqual([...(await store.listUser(USER))].sort(), ['a', 'b']);
    await store.deleteUser(USER);
    assert.deepEqual(await store.listUser(USER), []);
    assert.equal(await store.get(key(1)), undefined);
    assert.equal(await store.get(key(3, other)), 'c');
    assert.deepEqual(await redis.command(['KEYS', `*{${USER}}*`]), []);
    await store.deleteUser('bm8tc2Vzc2lvbnMtYXQtYW'); // a user with no session: nothing to do
  });

  it('a read is one GET: one command, one round trip', async () => {
    await store.set(key(1), 'value', 100);
    await redis.command(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < 5; i += 1) assert.equal(await store.get(key(1)), 'value');
    assert.deepEqual(await commandCalls(redis), { get: 5 });
  });

  it('refuses key parts that are not base64url before reaching Redis', async () => {
    for (const bad of [
      { user: `${USER}}x{`, id: id(1) },
      { user: USER, id: 'a b' },
      { user: '', id: id(1) },
    ]) {
      await assert.rejects(store.get(bad), TypeError);
    }
  });

  it('registers redis: and rediss: for AWS_COGNITO_SESSION_STORE', async () => {
    const guard = new CognitoGuard(fromEnv(envWithStore(`${redis.url}/0`)));
    try {
      const fromUrl = guard.options.sessionStore;
      assert.ok(fromUrl instanceof RedisSessionStore);
      await fromUrl.set(key(9), 'through the URL', 10);
      assert.equal(await store.get(key(9)), 'through the URL');
    } finally {
      await guard.close();
    }
    const tls = new CognitoGuard(fromEnv(envWithStore('rediss://cache.example.com:6380/0')));
    assert.ok(tls.options.sessionStore instanceof RedisSessionStore, 'rediss: too');
    await tls.close();
  });

  it('a malformed URL or option is a configuration error at startup', () => {
    assert.throws(
      () => new CognitoGuard(fromEnv(envWithStore('redis://127.0.0.1:6379/not-a-db'))),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.includes('sessionStore (AWS_COGNITO_SESSION_STORE): Invalid pathname'),
    );
    assert.throws(() => redisSessionStore(redis.url, { keyPrefix: 'a{b}' }), /keyPrefix/);
    assert.throws(() => redisSessionStore(redis.url, { timeoutMs: 0 }), /timeoutMs/);
  });
});

function envWithStore(url: string): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_COGNITO_USER_POOL_ID: 'eu-west-1_abc',
    AWS_COGNITO_DOMAIN: 'https://auth.example.com',
    AWS_COGNITO_USER_POOL_CLIENT_ID: 'client',
    AWS_COGNITO_REDIRECT_URL: 'https://app.example.com/postlogin',
    AWS_COGNITO_LOGOUT_URL: 'https://app.example.com/postlogout',
    SECRET_KEY: 'registration-test-secret-registration-test',
    AWS_COGNITO_SESSION_STORE: url,
  };
}

describe('RedisSessionStore when Redis fails', { skip: redisSkip, timeout: 60_000 }, () => {
  let redis: RedisServer;

  before(async () => {
    redis = await startRedis({ persistent: true });
  });
  after(async () => {
    await redis.close();
  });

  it('Redis stopped: calls fail at once, nothing is lost, and the store recovers by itself', async () => {
    const logger = recordingLogger();
    const store = redisSessionStore(redis.url, { logger, timeoutMs: 1500 });
    try {
      await store.set(key(1), 'kept', 100);
      await redis.stop();
      // The first call after the drop may wait for the socket to notice; the next ones fail fast.
      await assert.rejects(store.get(key(1)));
      for (let i = 0; i < 3; i += 1) {
        const started = Date.now();
        await assert.rejects(store.get(key(1)), /unreachable|offline|closed/i);
        assert.ok(Date.now() - started < 100, `failed in ${Date.now() - started} ms`);
      }
      assert.equal(logger.warnings.length, 1, 'one warning per outage');
      assert.match(logger.warnings[0]!.message, /Redis\) unreachable/);

      await redis.start();
      const waited = await until(async () => {
        try {
          return (await store.get(key(1))) === 'kept';
        } catch {
          return false;
        }
      }, 5000);
      assert.ok(waited < 3000, `recovered ${waited} ms after Redis came back`);
    } finally {
      await store.close();
    }
  });

  it('Redis hung (SIGSTOP): a call fails at the deadline, and the store reconnects once it answers again', async () => {
    const store = redisSessionStore(redis.url, { logger: recordingLogger(), timeoutMs: 500 });
    try {
      await store.set(key(2), 'frozen', 100);
      redis.freeze();
      const started = Date.now();
      await assert.rejects(store.get(key(2)), /no answer within 500 ms/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 1000, `failed after ${elapsed} ms`);
      // While it stays hung, later calls fail without waiting again.
      const next = Date.now();
      await assert.rejects(store.get(key(2)));
      assert.ok(Date.now() - next < 600);
      redis.thaw();
      await until(async () => {
        try {
          return (await store.get(key(2))) === 'frozen';
        } catch {
          return false;
        }
      }, 5000);
    } finally {
      redis.thaw();
      await store.close();
    }
  });

  it('Redis not there at startup: the first call fails within the deadline; the store connects when Redis comes', async () => {
    await redis.stop();
    const logger = recordingLogger();
    const store = redisSessionStore(`redis://:s3cret-pass@127.0.0.1:${redis.port}`, {
      logger,
      timeoutMs: 800,
    });
    try {
      const started = Date.now();
      await assert.rejects(store.get(key(3)));
      assert.ok(Date.now() - started < 1200);
      await redis.start();
      // Redis has no password here, so AUTH fails: still a clean failure, and never the password.
      await assert.rejects(store.get(key(3)));
      for (const warning of logger.warnings) {
        assert.doesNotMatch(JSON.stringify(warning), /s3cret-pass/);
      }
    } finally {
      await store.close();
    }
  });

  it('close() closes the connection; calls after it fail', async () => {
    const store = redisSessionStore(redis.url, { logger: recordingLogger() });
    await store.set(key(4), 'x', 10);
    const before = await connectedClients(redis);
    await store.close();
    await until(async () => (await connectedClients(redis)) === before - 1, 2000);
    await assert.rejects(store.get(key(4)), /closed/);
  });

  it('a client passed in is used as is and left open by close()', async () => {
    const { createClient } = await import('redis');
    const client = createClient({ url: redis.url });
    client.on('error', () => undefined);
    const store = redisSessionStore(client);
    try {
      await store.set(key(5), 'mine', 10);
      assert.equal(await client.get(`cognito-guard:{${USER}}:session:${id(5)}`), 'mine');
      await store.close();
      assert.equal(client.isOpen, true);
    } finally {
      client.destroy();
    }
  });
});
