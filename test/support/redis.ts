/**
 * A real redis-server for tests (Debian's `/usr/bin/redis-server`): started on a free loopback
 * port in a throwaway directory, stopped (and the directory deleted) by `close()`, and killed with
 * the test process if a test times out, so no server outlives a run.
 *
 * A minimal helper for the session tests; its shape follows the shared one being added to
 * `test/support/system.ts` (`startRedis()`, `command`, `stop`/`start`, `freeze`/`thaw`, `close`),
 * plus `persistent` (an append-only file, so a restarted server still has its sessions).
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * try { await redis.command(['KEYS', '*']); } finally { await redis.close(); }
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** `false` when redis-server is installed, else the reason to skip (with the install line). */
export const redisSkip: string | false = (() => {
  try {
    accessSync(REDIS_SERVER, constants.X_OK);
    return false;
  } catch {
    return `${REDIS_SERVER} is not installed; install it with: apt-get install -y redis-server`;
  }
})();

/** A reply from Redis, as node-redis decodes it. */
export type RedisReply = string | number | null | RedisReply[];

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Sends one command on a fresh connection (a test's view into Redis, e.g. `KEYS *`). */
  command(args: readonly string[], timeoutMs?: number): Promise<RedisReply>;
  /** Stops the server (SIGTERM): connections are refused until `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections open, nothing is ever answered. */
  freeze(): void;
  /** Lets a frozen server run again. */
  thaw(): void;
  /** Stops the server for good and deletes its directory. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartRedisOptions {
  /** Keep data across `stop()`/`start()` (append-only file, fsync on every write). */
  readonly persistent?: boolean;
}

const running = new Set<ChildProcess>();
let guarded = false;
function adopt(child: ChildProcess): void {
  if (!guarded) {
    guarded = true;
    const killAll = (): void => {
      for (const c of running) {
        c.kill('SIGKILL');
      }
    };
    process.on('exit', killAll);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        killAll();
        process.kill(process.pid, signal);
      });
    }
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function send(url: string, args: readonly string[], timeoutMs: number): Promise<RedisReply> {
  const client = createClient({
    url,
    disableOfflineQueue: false,
    socket: { connectTimeout: timeoutMs, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async (): Promise<RedisReply> => {
        await client.connect();
        const reply: unknown = await client.sendCommand([...args]);
        return reply as RedisReply;
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`redis did not answer ${args[0] ?? ''} within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
}

/**
 * Starts redis-server on a free loopback port and waits until it answers PING.
 *
 * @example
 * ```ts
 * const redis = await startRedis({ persistent: true });
 * await redis.stop();   // the app answers 503 now
 * await redis.start();  // and recovers by itself, sessions intact
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-guard-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let closed = false;

  const launch = async (): Promise<void> => {
    const persistence = options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
      : ['--appendonly', 'no', '--save', ''];
    const started = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence],
      { cwd: dir, stdio: 'ignore' },
    );
    adopt(started);
    child = started;
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (started.exitCode !== null) break;
      try {
        if ((await send(url, ['PING'], 500)) === 'PONG') return;
      } catch {
        // not up yet
      }
      await sleep(25);
    }
    started.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async (): Promise<void> => {
    if (child === undefined) return;
    const current = child;
    current.kill('SIGCONT');
    current.kill('SIGTERM');
    await exited(current);
  };

  await launch();
  return {
    port,
    url,
    command: (args, timeoutMs = 2000) => send(url, args, timeoutMs),
    stop,
    start: async () => {
      if (closed) throw new Error('this redis-server was closed');
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of three masters on loopback, started by a test. */
export interface RedisCluster {
  /** The nodes' ports. */
  readonly ports: readonly number[];
  /** Sends one command to the node on `port`. */
  command(port: number, args: readonly string[]): Promise<RedisReply>;
  /** Stops every node and deletes their directories. */
  close(): Promise<void>;
}

/** A port `p` such that `p` and its cluster-bus port `p + 10000` were free a moment ago. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const probes = [port, port + 10_000].map(
      (candidate) =>
        new Promise<boolean>((resolve) => {
          const probe = createServer();
          probe.once('error', () => {
            resolve(false);
          });
          probe.listen(candidate, '127.0.0.1', () => {
            probe.close(() => {
              resolve(true);
            });
          });
        }),
    );
    if ((await Promise.all(probes)).every(Boolean)) return port;
  }
}

/**
 * Starts three redis-server nodes in cluster mode and joins them (`redis-cli --cluster create`,
 * no replicas): every hash slot is served, spread over the three.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * try { … createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.ports[0]}` }] }) … }
 * finally { await cluster.close(); }
 * ```
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dirs: string[] = [];
  const nodes: ChildProcess[] = [];
  const ports: number[] = [];
  const close = async (): Promise<void> => {
    for (const node of nodes) node.kill('SIGTERM');
    await Promise.all(nodes.map(exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i += 1) {
      const port = await freeClusterPort();
      const dir = mkdtempSync(join(tmpdir(), 'cognito-guard-redis-cluster-'));
      dirs.push(dir);
      ports.push(port);
      const node = spawn(
        REDIS_SERVER,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      adopt(node);
      nodes.push(node);
    }
    for (const port of ports) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          if ((await send(`redis://127.0.0.1:${port}`, ['PING'], 500)) === 'PONG') break;
        } catch {
          if (attempt > 200) throw new Error(`cluster node on ${port} did not start`);
        }
        await sleep(25);
      }
    }
    const created = spawn(
      '/usr/bin/redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve) => created.once('exit', resolve));
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${String(code)}`);
    for (let attempt = 0; ; attempt += 1) {
      const info = String(await send(`redis://127.0.0.1:${ports[0]!}`, ['CLUSTER', 'INFO'], 1000));
      if (info.includes('cluster_state:ok')) break;
      if (attempt > 200) throw new Error('the cluster did not become ready');
      await sleep(50);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    ports,
    command: (port, args) => send(`redis://127.0.0.1:${port}`, args, 2000),
    close,
  };
}
