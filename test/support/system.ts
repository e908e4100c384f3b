/**
 * System components some tests need — Debian packages, not npm ones: Chromium, nginx and
 * redis-server. Each test that needs one asks here: it gets the binary's path, or, when the
 * component is missing, a skip reason that carries the exact install line, so the suite skips
 * visibly (and `npm test -- --require-all`, as CI runs it, fails instead of passing quietly).
 *
 * It also starts them the same way everywhere: Chromium with the flags a root, offline machine
 * needs; nginx and redis-server as child processes on loopback, in a throwaway directory, stopped
 * at the end — and killed with the test process if a test times out, so no daemon outlives a run.
 *
 * @example
 * ```ts
 * const redis = findSystemComponent('redis-server');
 * describe('sessions on Redis', { skip: redis.skip }, () => {
 *   let server: RedisServer;
 *   before(async () => { server = await startRedis(); });
 *   after(async () => { await server.close(); });
 * });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/emulator/config.js';
import { sleep } from './async.js';
import { acceptsConnections, freePort } from './http.js';

// ---------------------------------------------------------------------------------------------
// Finding components

/** A system component a test can need. */
export type SystemComponent = 'chromium' | 'nginx' | 'redis-server';

interface ComponentSpec {
  /** Where Debian puts it (nginx lives in /usr/sbin, which a non-root PATH often lacks). */
  readonly dir: string;
  /** The Debian install line, printed in the skip reason. */
  readonly install: string;
}

const COMPONENTS: Readonly<Record<SystemComponent, ComponentSpec>> = {
  chromium: { dir: '/usr/bin', install: 'apt-get install -y chromium' },
  nginx: { dir: '/usr/sbin', install: 'apt-get install -y nginx-light' },
  'redis-server': { dir: '/usr/bin', install: 'apt-get install -y redis-server' },
};

/** Where a component is, or why the tests that need it skip. */
export type ComponentLookup =
  | { readonly name: SystemComponent; readonly path: string; readonly skip: false }
  | { readonly name: SystemComponent; readonly path: undefined; readonly skip: string };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds `name` in its Debian directory, then on `PATH` (or only in `searchDirs` when given). When
 * it is missing, `skip` is the reason to give `describe`/`it`, ending with the install line.
 *
 * `COGNITO_GUARD_HIDE_COMPONENTS=chromium,nginx` makes the named components look missing to the
 * default lookup, to see (and test) the skips on a machine that has them.
 *
 * @example
 * ```ts
 * const nginx = findSystemComponent('nginx');
 * it('through nginx', { skip: nginx.skip }, async () => { ... });
 * ```
 */
export function findSystemComponent(
  name: SystemComponent,
  searchDirs?: readonly string[],
): ComponentLookup {
  const { dir, install } = COMPONENTS[name];
  const dirs = searchDirs ?? [dir, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  const hidden =
    searchDirs === undefined &&
    (process.env.COGNITO_GUARD_HIDE_COMPONENTS ?? '').split(',').includes(name);
  const path = hidden ? undefined : dirs.map((d) => join(d, name)).find(isExecutable);
  if (path !== undefined) return { name, path, skip: false };
  const where = hidden
    ? 'hidden by COGNITO_GUARD_HIDE_COMPONENTS'
    : searchDirs === undefined
      ? `looked in ${dir} and on PATH`
      : `looked in ${searchDirs.join(', ')}`;
  return {
    name,
    path: undefined,
    skip: `${name} is not installed (${where}); install it with: ${install}`,
  };
}

/** The path of `name`, or an error carrying the install line (for code that cannot skip). */
export function requireSystemComponent(name: SystemComponent): string {
  const found = findSystemComponent(name);
  if (found.skip !== false) throw new Error(found.skip);
  return found.path;
}

// ---------------------------------------------------------------------------------------------
// Child processes that must not outlive the test process

/** Running children, each with the signal that ends it at once, children and all. */
const children = new Map<ChildProcess, NodeJS.Signals>();
/** Throwaway directories to delete if the process ends before their owner's stop(). */
const directories = new Set<string>();

function killChildren(): void {
  for (const [child, signal] of children) {
    child.kill(signal);
    // A frozen (SIGSTOPped) process acts on SIGTERM only once continued.
    child.kill('SIGCONT');
  }
  children.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killChildren();
  // Then die of the same signal, as the process would have without this handler.
  process.kill(process.pid, signal);
}

let guarded = false;

/** Makes a throwaway directory that is deleted at exit if its owner has not deleted it. */
function throwawayDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  directories.add(dir);
  return dir;
}

/** Deletes a directory made by throwawayDir(). */
function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  directories.delete(dir);
}

/**
 * Tracks `child` so it is ended with `signal` when the test process ends, however it ends
 * (nginx needs SIGTERM: killing its master with SIGKILL would leave its worker running).
 */
function adopt(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!guarded) {
    guarded = true;
    process.on('exit', killChildren);
    // node --test ends a file that exceeded its timeout with SIGTERM; 'exit' does not run then.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, onTerminatingSignal);
    }
  }
  children.set(child, signal);
  child.once('exit', () => {
    children.delete(child);
  });
}

/**
 * Ends `child` with the test process, however that ends (a file's timeout included): for servers
 * a test starts through another module (`next start` for the Next.js example).
 *
 * @example
 * ```ts
 * const app = await startNextExample({ port, env });
 * endWithTestProcess(app.process);
 * ```
 */
export function endWithTestProcess(child: ChildProcess): void {
  adopt(child);
}

/** Resolves when `child` has exited (at once if it already has). */
function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

/** Stops `child` with SIGTERM, then SIGKILL if it is still there after `graceMs`. */
async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  // A stopped process only acts on SIGTERM once continued.
  child.kill('SIGCONT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => {
      resolve('late');
    }, graceMs);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/** Keeps the last few KB a child printed, for the error message when it fails to start. */
function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

// ---------------------------------------------------------------------------------------------
// Waiting for a child

/** Polls `ready` every 25 ms until it is true, `child` exits, or `timeoutMs` passes. */
async function waitUntil(
  child: ChildProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    if (await ready()) return 'ready';
    await sleep(25);
  }
  return 'timeout';
}

// ---------------------------------------------------------------------------------------------
// Chromium

/**
 * Flags for Debian's Chromium here: as root (no sandbox), no GPU, and no background traffic —
 * nothing may leave the machine.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Debian's Chromium headless through playwright-core. Call it only where
 * `findSystemComponent('chromium').skip` is false; otherwise it throws with the install line.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * try { ... } finally { await browser.close(); }
 * ```
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = requireSystemComponent('chromium');
  // Loaded here so that suites using only nginx or Redis do not load playwright.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS] });
}

/** Where a Chromium sign-in on the emulator's hosted page starts and ends. */
export interface HostedSignIn {
  /** The emulator's domain (its hosted login page's origin). */
  readonly emulatorDomain: string;
  readonly username: string;
  /** Default: the demo users' password. */
  readonly password?: string;
  /** Where the app sends the browser once signed in (`${appUrl}/claims`). */
  readonly landing: string;
}

/**
 * Signs in on the emulator's hosted login page, which `page` shows or is on its way to (the
 * caller navigated there: the app's /login, a "Log in" link, a protected page): fills in the user
 * name and password, submits, and waits until the browser is back at `landing`.
 *
 * @example
 * ```ts
 * await page.goto(`${appUrl}/login`);
 * await signInOnHostedPage(page, { emulatorDomain, username: 'alice', landing: `${appUrl}/claims` });
 * ```
 */
export async function signInOnHostedPage(page: Page, signIn: HostedSignIn): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(signIn.emulatorDomain));
  await page.getByLabel(/user ?name/i).fill(signIn.username);
  await page.getByLabel(/password/i).fill(signIn.password ?? DEMO_PASSWORD);
  await Promise.all([
    page.waitForURL(signIn.landing),
    page.getByRole('button', { name: /sign in/i }).click(),
  ]);
}

// ---------------------------------------------------------------------------------------------
// nginx

/** nginx running as a child process of the test. */
export interface NginxServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface StartNginxOptions {
  /** The port nginx listens on (chosen by the caller when the apps must know it first). */
  readonly port?: number;
  /** Loopback ports of the app instances, proxied round-robin. */
  readonly upstreams: readonly number[];
  /** Extra directives for the `location /` block (replaces the defaults below). */
  readonly locationDirectives?: string;
}

/**
 * Runs nginx in the foreground on 127.0.0.1, round-robin over `upstreams`, with a throwaway
 * prefix directory (config, pid, logs, temp files) removed at `stop()`.
 *
 * The default `location /` forwards the Host header, gives the callback's ~6 KB of Set-Cookie
 * headers room (nginx's default 4 KB buffer answers 502 "upstream sent too big header";
 * deployments need this too), and never retries a failed step on the next instance, so a
 * failure shows as one.
 *
 * @example
 * ```ts
 * const nginx = await startNginx({ upstreams: [a.port, b.port] });
 * try { await fetch(`${nginx.url}/claims`); } finally { await nginx.stop(); }
 * ```
 */
export async function startNginx(options: StartNginxOptions): Promise<NginxServer> {
  const binary = requireSystemComponent('nginx');
  const port = options.port ?? (await freePort());
  const dir = throwawayDir('cognito-guard-nginx-');
  const location =
    options.locationDirectives ??
    `proxy_pass http://app;
      proxy_set_header Host $http_host;
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
      proxy_busy_buffers_size 32k;
      proxy_next_upstream off;`;
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
${options.upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      ${location}
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child = spawn(binary, ['-p', dir, '-e', join(dir, 'error.log'), '-c', confPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  adopt(child, 'SIGTERM');
  const output = captureOutput(child);
  const stop = async (): Promise<void> => {
    await terminate(child);
    removeDir(dir);
  };
  const outcome = await waitUntil(child, () => acceptsConnections(port), 5_000);
  if (outcome === 'ready') return { url: `http://127.0.0.1:${port}`, port, stop };
  await stop();
  throw new Error(`nginx did not start (${outcome}): ${output().slice(-500)}`);
}

// ---------------------------------------------------------------------------------------------
// Redis

/** A reply from Redis: simple and bulk strings, integers, nil, and arrays of those. */
export type RedisReply = string | number | null | RedisReply[];

/** An error reply from Redis (`-ERR …`, `-NOAUTH …`). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

/** A redis-server started by a test. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  readonly url: string;
  /** The throwaway working directory (nothing is persisted in it, unless `persistent`). */
  readonly dir: string;
  /** Whether the server is running (false between `stop()` and `start()`). */
  readonly running: boolean;
  /**
   * Sends one command on a fresh connection and returns the reply (a test's view into Redis,
   * e.g. `KEYS *`). Rejects after `timeoutMs` (default 2 s): a frozen server never answers.
   */
  command(args: readonly string[], timeoutMs?: number): Promise<RedisReply>;
  /**
   * Stops the server (SIGTERM): connections are refused until `start()`. Its data is gone,
   * unless it was started `persistent`.
   */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty unless `persistent`) and waits until it answers PING. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections open, but nothing is ever answered. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
  /** Stops the server for good and deletes its directory. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartRedisOptions {
  /** Sets `requirepass`; clients must AUTH (the URL carries it). */
  readonly password?: string;
  /**
   * Keeps the data across `stop()`/`start()`, as a production Redis does (an append-only file in
   * the throwaway directory, written through on every command): for tests of an outage that must
   * lose nothing.
   */
  readonly persistent?: boolean;
}

/** Encodes a command as a RESP array of bulk strings. */
function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one RESP reply at `offset`; undefined while the buffer holds only part of it. */
function parseReply(
  buffer: Buffer,
  offset = 0,
): { value: RedisReply | RedisReplyError; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length === -1) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count === -1) return { value: null, end: next };
      const items: RedisReply[] = [];
      let end = next;
      for (let i = 0; i < count; i += 1) {
        const item = parseReply(buffer, end);
        if (item === undefined) return undefined;
        if (item.value instanceof RedisReplyError) return item;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

/** Sends `commands` on one connection and resolves with the last reply. */
function sendCommands(
  port: number,
  commands: readonly (readonly string[])[],
  timeoutMs: number,
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let replies = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error: Error | undefined, value?: RedisReply): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(value ?? null);
    };
    socket.once('error', (error) => {
      finish(error);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const reply = parseReply(buffer);
        if (reply === undefined) return;
        buffer = buffer.subarray(reply.end);
        if (reply.value instanceof RedisReplyError) {
          finish(reply.value);
          return;
        }
        replies += 1;
        if (replies === commands.length) {
          finish(undefined, reply.value);
          return;
        }
      }
    });
    socket.write(Buffer.concat(commands.map(encodeCommand)));
  });
}

/**
 * Starts Debian's redis-server on a free loopback port, in a throwaway directory, with no
 * persistence (no RDB snapshots, no AOF: a restart starts empty), and waits until it answers
 * PING. Throws with the install line when redis-server is missing: check
 * `findSystemComponent('redis-server').skip` first.
 *
 * For fault tests, `stop()`/`start()` take it away and bring it back on the same port (clients
 * see refused connections, then an empty server), and `freeze()`/`thaw()` make it hang.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * try {
 *   const app = buildApp({ sessionStore: redis.url });
 *   await redis.stop();   // the app should answer 503 now
 *   await redis.start();  // and recover by itself
 * } finally {
 *   await redis.close();
 * }
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = requireSystemComponent('redis-server');
  const dir = throwawayDir('cognito-guard-redis-');
  const auth: readonly (readonly string[])[] =
    options.password === undefined ? [] : [['AUTH', options.password]];
  let child: ChildProcess | undefined;
  let port = 0;
  let frozen = false;
  let closed = false;
  /** What the last failed start printed (redis logs to stdout here). */
  let lastOutput = '';

  const launch = async (): Promise<'ready' | 'exited' | 'timeout'> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      // No snapshots; an append-only file only when asked to persist (a restart then keeps the
      // data), else nothing persists and a restart starts empty.
      '--save',
      '',
      ...(options.persistent === true
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no']),
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ];
    const started = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    adopt(started);
    child = started;
    frozen = false;
    const output = captureOutput(started);
    const outcome = await waitUntil(
      started,
      async () => {
        try {
          return (await sendCommands(port, [...auth, ['PING']], 500)) === 'PONG';
        } catch {
          return false;
        }
      },
      10_000,
    );
    if (outcome !== 'ready') {
      await terminate(started);
      lastOutput = output();
    }
    return outcome;
  };

  // Another process can take the port between freePort() and redis binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    port = await freePort();
    const outcome = await launch();
    if (outcome === 'ready') break;
    if (attempt === 4 || !/address already in use/i.test(lastOutput)) {
      removeDir(dir);
      throw new Error(`redis-server did not start (${outcome}): ${lastOutput.slice(-500)}`);
    }
  }

  const passwordPart =
    options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const isRunning = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null;
  const server: RedisServer = {
    port,
    url: `redis://${passwordPart}127.0.0.1:${port}`,
    dir,
    get running() {
      return isRunning();
    },
    command: (args, timeoutMs = 2_000) => sendCommands(port, [...auth, args], timeoutMs),
    stop: async () => {
      if (child !== undefined) await terminate(child);
      frozen = false;
    },
    start: async () => {
      if (closed) throw new Error('this redis-server was closed');
      if (isRunning()) return;
      const outcome = await launch();
      if (outcome !== 'ready')
        throw new Error(`redis-server did not restart (${outcome}): ${lastOutput.slice(-500)}`);
    },
    freeze: () => {
      if (!isRunning()) throw new Error('redis-server is not running');
      child?.kill('SIGSTOP');
      frozen = true;
    },
    thaw: () => {
      if (frozen) child?.kill('SIGCONT');
      frozen = false;
    },
    close: async () => {
      closed = true;
      await server.stop();
      removeDir(dir);
    },
  };
  return server;
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
    const free = await Promise.all(
      [port, port + 10_000].map(
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
      ),
    );
    if (free.every(Boolean)) return port;
  }
}

/**
 * Starts three redis-server nodes in cluster mode and joins them with `redis-cli --cluster
 * create` (no replicas): every hash slot is served, spread over the three. Needs redis-cli (Debian's
 * redis-tools, which redis-server depends on) next to redis-server.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * try {
 *   const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${cluster.ports[0]}` }] });
 * } finally {
 *   await cluster.close();
 * }
 * ```
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const binary = requireSystemComponent('redis-server');
  const cli = join(binary, '..', 'redis-cli');
  const nodes: { child: ChildProcess; dir: string; port: number }[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map(({ child }) => terminate(child)));
    for (const { dir } of nodes) removeDir(dir);
  };
  try {
    for (let i = 0; i < 3; i += 1) {
      const port = await freeClusterPort();
      const dir = throwawayDir('cognito-guard-redis-cluster-');
      const child = spawn(
        binary,
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
          ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', ''],
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      adopt(child);
      nodes.push({ child, dir, port });
    }
    for (const { child, port } of nodes) {
      const ready = async (): Promise<boolean> => {
        try {
          return (await sendCommands(port, [['PING']], 500)) === 'PONG';
        } catch {
          return false;
        }
      };
      if ((await waitUntil(child, ready, 10_000)) !== 'ready')
        throw new Error(`cluster node on port ${port} did not start`);
    }
    const create = spawn(
      cli,
      [
        ...['--cluster', 'create', ...nodes.map(({ port }) => `127.0.0.1:${port}`)],
        ...['--cluster-replicas', '0', '--cluster-yes'],
      ],
      { stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve) => {
      create.once('exit', resolve);
      create.once('error', () => {
        resolve(-1);
      });
    });
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${String(code)}`);
    const [first] = nodes;
    const formed = async (): Promise<boolean> =>
      String(await sendCommands(first!.port, [['CLUSTER', 'INFO']], 1000)).includes(
        'cluster_state:ok',
      );
    if ((await waitUntil(first!.child, formed, 10_000)) !== 'ready')
      throw new Error('the Redis Cluster did not become ready');
  } catch (error) {
    await close();
    throw error;
  }
  return {
    ports: nodes.map(({ port }) => port),
    command: (port, args) => sendCommands(port, [args], 2000),
    close,
  };
}
