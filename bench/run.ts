// `npm run bench`: the per-request cost of cognito-guard, as DESIGN.md's goal states it.
//
//   1. bench/verify.ts, the verification micro-benchmark (skip with --http-only);
//   2. Express 5 throughput: the same JSON route unprotected vs behind `auth.required()` with a
//      valid access-token cookie (with --uncached also with a fresh token on most requests, so
//      each request verifies a signature). The server runs in a child process; this process
//      generates the load over keep-alive connections. Variants alternate within each round, in a
//      rotating order, so drift from other work on the machine spreads over all of them. Medians
//      and the protected/unprotected ratio are printed, with the JWKS fetches the emulator served
//      (one per guard is right).
//
// Everything listens on 127.0.0.1 and everything started here is stopped here. No assertions:
// throughput depends on the machine and on what else runs on it.
//
// Tuning: BENCH_HTTP_ROUNDS (default 6), BENCH_HTTP_ROUND_MS (per variant, default 2500),
// BENCH_CONNECTIONS (default 32), BENCH_SERVER_NODE_ARGS (extra node flags for the server);
// bench/verify.ts reads BENCH_ROUNDS and BENCH_ROUND_MS.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { COOKIE_NAMES } from '../src/index.js';
import { DEMO_CONFIG, startEmulator } from '../src/emulator/index.js';
import type { BenchGuardConfig, ParentMessage, ServerMessage } from './express-server.js';

const ROUNDS = Number(process.env['BENCH_HTTP_ROUNDS'] ?? 6);
const ROUND_MS = Number(process.env['BENCH_HTTP_ROUND_MS'] ?? 2500);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const WARMUP_MS = 1500;
// E.g. `BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=.tmp/prof'` to profile the app side.
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GOAL = 0.95;

interface Variant {
  readonly name: string;
  readonly path: string;
  /** Header sets sent in turn (several distinct tokens defeat the verified-token cache). */
  readonly headers: readonly Readonly<Record<string, string>>[];
}

interface LoadResult {
  readonly requestsPerSecond: number;
  /** The app process's CPU time per answered request: unlike req/s, barely moved by the load
   * generator or other processes competing for the same cores. */
  readonly serverCpuMicrosPerRequest: number;
  readonly unexpected: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Runs a node child on a TypeScript file (through tsx) and resolves with its exit code. */
function runScript(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      resolve(code ?? 1);
    });
  });
}

/** One GET over the keep-alive agent; resolves with the status once the body is drained. */
function get(
  agent: Agent,
  port: number,
  path: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve(res.statusCode ?? 0);
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** CONNECTIONS loops, each sending its next request when the previous answer is read. */
async function load(
  agent: Agent,
  server: ServerHandle,
  variant: Variant,
  durationMs: number,
): Promise<LoadResult> {
  const { port } = server;
  const before = await serverStats(server.child);
  let ok = 0;
  let unexpected = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const headers = variant.headers[sent++ % variant.headers.length];
      if ((await get(agent, port, variant.path, headers)) === 200) ok += 1;
      else unexpected += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsedMs = performance.now() - started;
  const after = await serverStats(server.child);
  return {
    requestsPerSecond: (ok * 1000) / elapsedMs,
    serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, ok + unexpected),
    unexpected,
  };
}

interface ServerHandle {
  readonly child: ChildProcess;
  readonly port: number;
}

/** Starts bench/express-server.ts and waits for its port. */
function startServer(guard: BenchGuardConfig): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...SERVER_NODE_ARGS,
        '--import',
        'tsx',
        fileURLToPath(new URL('./express-server.ts', import.meta.url)),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, NODE_ENV: 'production', BENCH_GUARD: JSON.stringify(guard) },
      },
    );
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the bench server did not start within 30 s'));
    }, 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench server exited early (code ${String(code)})`));
    });
    child.on('message', (message: ServerMessage) => {
      if (message.type !== 'listening') return;
      clearTimeout(timer);
      resolve({ child, port: message.port });
    });
  });
}

function serverStats(
  child: ChildProcess,
): Promise<Extract<ServerMessage, { readonly type: 'stats' }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ServerMessage): void => {
      if (message.type !== 'stats') return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'stats' } satisfies ParentMessage);
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => {
      resolve();
    });
    // Closing the IPC channel makes the server exit; the kill is the fallback.
    child.disconnect();
    setTimeout(() => child.kill(), 2000).unref();
  });
}

const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');

async function httpBench(withUncached: boolean): Promise<void> {
  let jwksFetches = 0;
  const emulator = await startEmulator({
    port: 0,
    onRequest: (entry) => {
      if (entry.path.endsWith('/.well-known/jwks.json')) jwksFetches += 1;
    },
  });
  const client = DEMO_CONFIG.clients[0];
  if (client?.clientSecret === undefined)
    throw new Error('the demo pool has no confidential client');
  const cookieFor = async (): Promise<Record<string, string>> => ({
    cookie: `${COOKIE_NAMES.accessToken}=${await emulator.mintToken({ use: 'access', clientId: client.clientId })}`,
  });
  const cookie = await cookieFor();
  const variants: Variant[] = [
    { name: 'unprotected', path: '/open', headers: [cookie] },
    // Separates what any extra Express middleware costs from what the guard itself costs.
    { name: 'no-op middleware', path: '/noop', headers: [cookie] },
    { name: 'auth.required()', path: '/protected', headers: [cookie] },
  ];
  if (withUncached) {
    // The /uncached guard has its verified-token cache off: every request verifies its signature.
    const cookies = await Promise.all(Array.from({ length: 2 * CONNECTIONS }, cookieFor));
    variants.push({ name: 'auth.required(), cache misses', path: '/uncached', headers: cookies });
  }
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const server = await startServer({
    region: emulator.region,
    userPoolId: emulator.poolId,
    domain: emulator.domain,
    issuer: emulator.issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
  });
  try {
    // A guard that let everyone in, or a token that did not verify, would make this meaningless.
    for (const variant of variants) {
      const status = await get(agent, server.port, variant.path, variant.headers[0]);
      if (status !== 200) throw new Error(`${variant.path} with the token answered ${status}`);
      if (variant.path !== '/open' && variant.path !== '/noop') {
        const anonymous = await get(agent, server.port, variant.path);
        if (anonymous !== 401)
          throw new Error(`${variant.path} without a token answered ${anonymous}`);
      }
    }
    process.stdout.write(
      `\nExpress 5 throughput: ${ROUNDS} rounds × ${ROUND_MS} ms per variant, ${CONNECTIONS} keep-alive ` +
        `connections, node ${process.version}, ${availableParallelism()} CPUs\n`,
    );
    for (const variant of variants) await load(agent, server, variant, WARMUP_MS);

    const results = new Map<string, LoadResult[]>(variants.map((variant) => [variant.name, []]));
    let unexpected = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate which variant goes first so a slow patch of the machine hits each in turn.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const variant of order) {
        const result = await load(agent, server, variant, ROUND_MS);
        results.get(variant.name)!.push(result);
        unexpected += result.unexpected;
      }
      process.stdout.write('.');
    }
    process.stdout.write('\n\n');

    const rps = (name: string): number[] =>
      results.get(name)!.map((result) => result.requestsPerSecond);
    const cpu = (name: string): number[] =>
      results.get(name)!.map((result) => result.serverCpuMicrosPerRequest);
    const base = rps('unprotected');
    const baseCpu = median(cpu('unprotected'));
    const nameWidth = Math.max(...variants.map((variant) => variant.name.length)) + 2;
    const rounds = Array.from({ length: ROUNDS }, (_, i) => `r${i + 1}`.padStart(6)).join('');
    console.log(
      `${'route'.padEnd(nameWidth)}${'req/s'.padStart(8)}${'ratio'.padStart(7)}` +
        `${'CPU µs/req'.padStart(12)}${'ratio'.padStart(7)}   per-round req/s ratio:${rounds}`,
    );
    for (const variant of variants) {
      const values = rps(variant.name);
      const perRound = values
        .map((value, i) => (value / (base[i] ?? value)).toFixed(2).padStart(6))
        .join('');
      const cpuMicros = median(cpu(variant.name));
      console.log(
        variant.name.padEnd(nameWidth) +
          fmt(median(values)).padStart(8) +
          (median(values) / median(base)).toFixed(2).padStart(7) +
          cpuMicros.toFixed(1).padStart(12) +
          (baseCpu / cpuMicros).toFixed(2).padStart(7) +
          ''.padStart(25) +
          perRound,
      );
    }
    console.log(
      '\nreq/s and CPU µs/req (app process, user + system) are medians over the rounds; each ratio is' +
        '\nunprotected over the row (higher is better). The CPU ratio is what throughput would be if the' +
        '\napp had a core to itself; the req/s ratio also carries the load generator and other processes.',
    );
    const ratio = median(rps('auth.required()')) / median(base);
    const cpuRatio = baseCpu / median(cpu('auth.required()'));
    console.log(
      `\nprotected/unprotected: ${ratio.toFixed(2)}× by req/s, ${cpuRatio.toFixed(2)}× by app CPU ` +
        `(goal: ≥ ${GOAL}× req/s, ${ratio >= GOAL ? 'met' : 'not met'} on this run)`,
    );
    const guards = withUncached ? 2 : 1;
    console.log(
      `JWKS fetches during the run: ${jwksFetches} (expected ${guards}, one per guard instance)`,
    );
    console.log(
      `TCP connections opened to the app: ${(await serverStats(server.child)).connections}; ` +
        `non-200 answers under load: ${unexpected}`,
    );
  } finally {
    agent.destroy();
    await stopServer(server.child);
    await emulator.stop();
  }
}

async function main(): Promise<void> {
  // The HTTP benchmark serves the built package (dist/), as users run it.
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const { values } = parseArgs({
    options: { 'http-only': { type: 'boolean' }, uncached: { type: 'boolean' } },
  });
  if (values['http-only'] !== true) {
    console.log('Token verification (bench/verify.ts)');
    const code = await runScript(fileURLToPath(new URL('./verify.ts', import.meta.url)));
    if (code !== 0) throw new Error(`bench/verify.ts exited with ${code}`);
  }
  await httpBench(values.uncached === true);
  console.log(
    '\nNumbers move with the machine and whatever else runs on it; compare ratios from one run.',
  );
}

await main();
