/**
 * The system-component helper itself: a missing component gives a skip reason with its install
 * line; redis-server starts on loopback with no persistence, answers, can be stopped, restarted
 * (empty, same port), frozen and thawed, and leaves nothing behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections } from './http.js';
import {
  findSystemComponent,
  RedisReplyError,
  requireSystemComponent,
  startRedis,
  type RedisServer,
} from './system.js';

describe('finding system components', () => {
  it('a missing component skips with its exact Debian install line', () => {
    for (const [name, install] of [
      ['chromium', 'apt-get install -y chromium'],
      ['nginx', 'apt-get install -y nginx-light'],
      ['redis-server', 'apt-get install -y redis-server'],
    ] as const) {
      const found = findSystemComponent(name, ['/nonexistent']);
      assert.equal(found.path, undefined);
      assert.equal(
        found.skip,
        `${name} is not installed (looked in /nonexistent); install it with: ${install}`,
      );
    }
  });

  it('a component is found in the first directory that has it as an executable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cognito-guard-system-'));
    try {
      const stub = join(dir, 'nginx');
      writeFileSync(stub, '#!/bin/sh\n');
      assert.equal(findSystemComponent('nginx', [dir]).path, undefined, 'not executable yet');
      chmodSync(stub, 0o755);
      const found = findSystemComponent('nginx', ['/nonexistent', dir]);
      assert.equal(found.skip, false);
      assert.equal(found.path, stub);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requireSystemComponent returns the path, or throws the install line', () => {
    const found = findSystemComponent('redis-server');
    if (found.skip === false) assert.equal(requireSystemComponent('redis-server'), found.path);
    else
      assert.throws(
        () => requireSystemComponent('redis-server'),
        /apt-get install -y redis-server/,
      );
  });
});

const redis = findSystemComponent('redis-server');

describe('startRedis', { skip: redis.skip }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.close();
  });

  it('answers on a loopback port, with a redis:// URL', async () => {
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    assert.ok(server.running);
    assert.equal(await server.command(['PING']), 'PONG');
    assert.equal(await server.command(['SET', 'k', 'v']), 'OK');
    assert.equal(await server.command(['GET', 'k']), 'v');
    assert.equal(await server.command(['GET', 'missing']), null);
    assert.equal(await server.command(['INCR', 'n']), 1);
    assert.deepEqual(await server.command(['CONFIG', 'GET', 'bind']), ['bind', '127.0.0.1']);
  });

  it('persists nothing: no snapshots, no append-only file, a throwaway directory', async () => {
    assert.deepEqual(await server.command(['CONFIG', 'GET', 'save']), ['save', '']);
    assert.deepEqual(await server.command(['CONFIG', 'GET', 'appendonly']), ['appendonly', 'no']);
    assert.deepEqual(await server.command(['CONFIG', 'GET', 'dir']), ['dir', server.dir]);
    assert.ok(server.dir.includes('cognito-guard-redis-'));
  });

  it('an error reply rejects with RedisReplyError', async () => {
    await assert.rejects(server.command(['NOSUCHCOMMAND']), RedisReplyError);
  });

  it('stop() refuses connections; start() comes back on the same port, empty', async () => {
    await server.command(['SET', 'survives', 'no']);
    await server.stop();
    assert.equal(server.running, false);
    assert.equal(await acceptsConnections(server.port), false);
    await assert.rejects(server.command(['PING']), /ECONNREFUSED/);

    await server.start();
    assert.ok(server.running);
    assert.equal(await server.command(['PING']), 'PONG');
    assert.equal(await server.command(['GET', 'survives']), null, 'a restart starts empty');
  });

  it('freeze() makes it hang (connections open, no answer); thaw() lets it answer again', async () => {
    server.freeze();
    try {
      assert.equal(await acceptsConnections(server.port), true);
      await assert.rejects(server.command(['PING'], 300), /did not answer within 300 ms/);
    } finally {
      server.thaw();
    }
    assert.equal(await server.command(['PING']), 'PONG');
  });

  it('stop() also ends a frozen server', async () => {
    server.freeze();
    await server.stop();
    assert.equal(server.running, false);
    await server.start();
    assert.equal(await server.command(['PING']), 'PONG');
  });

  it('two servers run side by side on different ports', async () => {
    const other = await startRedis();
    try {
      assert.notEqual(other.port, server.port);
      await other.command(['SET', 'where', 'other']);
      assert.equal(await server.command(['GET', 'where']), null);
    } finally {
      await other.close();
    }
    assert.equal(existsSync(other.dir), false, 'close() deletes the directory');
    assert.equal(await acceptsConnections(other.port), false);
  });

  it('with a password, commands without AUTH are refused and the URL carries it', async () => {
    const locked = await startRedis({ password: 'pa ss' });
    try {
      assert.equal(locked.url, `redis://:pa%20ss@127.0.0.1:${locked.port}`);
      assert.equal(await locked.command(['PING']), 'PONG');
      const unauthenticated = await startRedisClientWithoutAuth(locked.port);
      assert.match(unauthenticated, /NOAUTH/);
    } finally {
      await locked.close();
    }
  });
});

/** Sends PING without AUTH and returns the error reply's text. */
async function startRedisClientWithoutAuth(port: number): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('*1\r\n$4\r\nPING\r\n');
    });
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8'));
    });
    socket.once('error', reject);
  });
}
