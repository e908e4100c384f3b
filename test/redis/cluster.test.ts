/**
 * `cognito-guard/redis` on a real Redis Cluster (three masters on loopback, every slot served):
 * each user's keys share one hash slot, so the MULTI writes and the index reads work although the
 * users are spread over the nodes — and the example app signs in, reads and signs out everywhere
 * through a cluster client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCluster } from 'redis';
import { redisSessionStore, type RedisConnection } from '../../src/redis/index.js';
import { TestBrowser } from '../support/browser.js';
import { startStack, type Stack } from '../support/express.js';
import { login } from '../support/sign-in.js';
import { findSystemComponent, startRedisCluster, type RedisCluster } from '../support/system.js';

const redis = findSystemComponent('redis-server');
// redis-cli (Debian's redis-tools) comes with redis-server: one skip reason covers both.
const skip =
  redis.skip ||
  (!existsSync(join(redis.path ?? '', '..', 'redis-cli')) &&
    'redis-cli is not installed next to redis-server; install it with: apt-get install -y redis-tools');

const tag = (): string => randomBytes(16).toString('base64url').slice(0, 22);
const sessionId = (): string => randomBytes(32).toString('base64url');

describe('RedisSessionStore on a Redis Cluster', { skip, timeout: 60_000 }, () => {
  let cluster: RedisCluster;
  let client: RedisConnection;

  before(async () => {
    cluster = await startRedisCluster();
    const connection = createCluster({
      rootNodes: [{ url: `redis://127.0.0.1:${cluster.ports[0]!}` }],
    });
    connection.on('error', () => undefined);
    client = connection;
  });
  after(async () => {
    await client.close();
    await cluster.close();
  });

  it('every key of a user is in one slot; users spread over the nodes; writes, lists and deletes work', async () => {
    const store = redisSessionStore(client);
    const users = Array.from({ length: 12 }, tag);
    for (const user of users) {
      await store.set({ user, id: sessionId() }, `first of ${user}`, 100);
      await store.set({ user, id: sessionId() }, `second of ${user}`, 200);
    }
    const holders = new Set<number>();
    for (const user of users) {
      assert.deepEqual([...(await store.listUser(user))].sort(), [
        `first of ${user}`,
        `second of ${user}`,
      ]);
      const slots = new Set(
        await Promise.all(
          [
            `cognito-guard:{${user}}:sessions`,
            `cognito-guard:{${user}}:session:${sessionId()}`,
          ].map((key) => cluster.command(cluster.ports[0]!, ['CLUSTER', 'KEYSLOT', key])),
        ),
      );
      assert.equal(slots.size, 1, `${user}: one slot`);
    }
    for (const port of cluster.ports) {
      if (((await cluster.command(port, ['DBSIZE'])) as number) > 0) holders.add(port);
    }
    assert.ok(holders.size >= 2, `the users' keys are on ${holders.size} nodes`);

    await store.deleteUser(users[0]!);
    assert.deepEqual(await store.listUser(users[0]!), []);
    assert.equal((await store.listUser(users[1]!)).length, 2, 'other users untouched');
    await store.close();
    assert.equal(client.isOpen, true, 'a client passed in stays open');
  });

  describe('the example app with a cluster client', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({
        guard: {
          sessionStore: redisSessionStore(client),
          scopes: ['openid', 'email', 'profile', 'aws.cognito.signin.user.admin'],
        },
      });
    });
    after(async () => {
      await stack.stop();
    });

    it('signs in, reads the session, and signs out everywhere', async () => {
      const here = new TestBrowser();
      const there = new TestBrowser();
      assert.equal((await login(here, stack.appUrl, 'alice')).status, 302);
      assert.equal((await login(there, stack.appUrl, 'alice')).status, 302);
      assert.equal((await there.request(`${stack.appUrl}/claims`)).status, 200);
      const out = await here.request(`${stack.appUrl}/logout/everywhere`, {
        method: 'POST',
        headers: { origin: stack.appUrl, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(out.status, 200, out.body);
      assert.equal((await there.request(`${stack.appUrl}/claims`)).status, 401);
    });
  });
});
