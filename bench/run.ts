// `npm run bench`: the per-request cost of cognito-guard, as DESIGN.md's goals state them.
//
//   1. bench/verify.ts, the verification micro-benchmark, and bench/protect.ts, the in-process
//      cost of a protected request answered from the verified-token cache (skip with --http-only);
//   2. per framework (Express 5, Fastify 5, …): the same JSON route unprotected vs behind the
//      guard with a valid session cookie, in a server child process built from dist/, loaded over
//      keep-alive connections from this process. Variants alternate within each round, in a
//      rotating order, so drift from other work on the machine spreads over all of them. Medians
//      and ratios; with --uncached (on by default for Express) also every request a new token;
//   3. the import cost of each subpath over its framework alone (process start to import done).
// One table at the end: framework, unprotected and protected req/s, ratio, goal, met or not.
//
// Everything listens on 127.0.0.1 and everything started here is stopped here. No assertions:
// throughput depends on the machine and on what else runs on it.
//
// Tuning: BENCH_HTTP_ROUNDS (default 6), BENCH_HTTP_ROUND_MS (per variant, default 2500),
// BENCH_CONNECTIONS (default 32), BENCH_SERVER_NODE_ARGS (extra node flags for the servers),
// BENCH_FRAMEWORKS (comma-separated subset); bench/verify.ts reads BENCH_ROUNDS and BENCH_ROUND_MS.
// With --built, dist/ is taken as built already (`npm run bench` builds once for all its parts).
import { spawn, spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { COOKIE_NAMES } from '../src/index.js';
import { DEMO_CONFIG, startEmulator } from '../src/emulator/index.js';
import {
  buildPackage,
  get,
  median,
  ROOT,
  serverStats,
  startServer,
  stopServer,
  type ServerHandle,
} from './harness.js';
import type { BenchGuardConfig } from './servers/common.js';

const ROUNDS = Number(process.env['BENCH_HTTP_ROUNDS'] ?? 6);
const ROUND_MS = Number(process.env['BENCH_HTTP_ROUND_MS'] ?? 2500);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const WARMUP_MS = 1500;
// E.g. `BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=.tmp/prof'` to profile the app side.
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

/** A framework under test: its bench server and the goals DESIGN.md sets for it. */
interface Framework {
  readonly name: string;
  readonly server: string;
  /** Protected over unprotected req/s with a warm cache. */
  readonly goal: number;
  /** Every request a new token (cache misses), over unprotected; undefined when not measured. */
  readonly missGoal?: number;
  /** The package subpath and the framework module it adds to, for the import cost. */
  readonly subpath: string;
  readonly frameworkModule: string;
}

const FRAMEWORKS: readonly Framework[] = [
  {
    name: 'Express 5',
    server: 'servers/express.ts',
    goal: 0.95,
    missGoal: 0.6,
    subpath: 'cognito-guard/express',
    frameworkModule: 'express',
  },
  {
    name: 'Fastify 5',
    server: 'servers/fastify.ts',
    goal: 0.9,
    subpath: 'cognito-guard/fastify',
    frameworkModule: 'fastify',
  },
  {
    name: 'Hono 4 (node-server)',
    server: 'servers/hono.ts',
    goal: 0.9,
    subpath: 'cognito-guard/hono',
    frameworkModule: 'hono',
  },
];
const IMPORT_GOAL_MS = 25;

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

const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');

/** What one framework measured. */
interface FrameworkResult {
  readonly framework: Framework;
  readonly unprotected: number;
  readonly protectedRps: number;
  readonly ratio: number;
  readonly cpuRatio: number;
  readonly missRatio: number | undefined;
  readonly jwksFetches: number;
  readonly guards: number;
  readonly unexpected: number;
}

async function httpBench(framework: Framework, withUncached: boolean): Promise<FrameworkResult> {
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
    // Separates what any extra middleware or hook costs from what the guard itself costs.
    { name: 'no-op middleware', path: '/noop', headers: [cookie] },
    { name: 'protected', path: '/protected', headers: [cookie] },
  ];
  if (withUncached) {
    // The /uncached guard has its verified-token cache off: every request verifies its signature.
    const cookies = await Promise.all(Array.from({ length: 2 * CONNECTIONS }, cookieFor));
    variants.push({ name: 'protected, cache misses', path: '/uncached', headers: cookies });
  }
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const guard: BenchGuardConfig = {
    region: emulator.region,
    userPoolId: emulator.poolId,
    domain: emulator.domain,
    issuer: emulator.issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
  };
  const server = await startServer(
    framework.server,
    { BENCH_GUARD: JSON.stringify(guard) },
    SERVER_NODE_ARGS,
  );
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
      `\n${framework.name}: ${ROUNDS} rounds × ${ROUND_MS} ms per variant, ${CONNECTIONS} keep-alive ` +
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
    return {
      framework,
      unprotected: median(base),
      protectedRps: median(rps('protected')),
      ratio: median(rps('protected')) / median(base),
      cpuRatio: baseCpu / median(cpu('protected')),
      missRatio: withUncached ? median(rps('protected, cache misses')) / median(base) : undefined,
      jwksFetches,
      guards: withUncached ? 2 : 1,
      unexpected,
    };
  } finally {
    agent.destroy();
    await stopServer(server.child);
    await emulator.stop();
  }
}

/** Wall time of one `node` process that imports `modules` in turn, in milliseconds. */
function importMillis(modules: readonly string[]): number {
  const script = modules.map((name) => `await import(${JSON.stringify(name)});`).join('');
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  if (result.status !== 0) throw new Error(`importing ${modules.join(', ')} failed`);
  return performance.now() - started;
}

/** Median extra start-up time of a subpath over its framework alone, over alternating runs. */
function importCost(framework: Framework, runs = 15): number {
  const alone: number[] = [];
  const withSubpath: number[] = [];
  importMillis([framework.frameworkModule, framework.subpath]); // warm the file cache
  for (let i = 0; i < runs; i++) {
    alone.push(importMillis([framework.frameworkModule]));
    withSubpath.push(importMillis([framework.frameworkModule, framework.subpath]));
  }
  return median(withSubpath) - median(alone);
}

function printTable(
  results: readonly FrameworkResult[],
  imports: ReadonlyMap<string, number>,
): void {
  const rows: string[][] = [
    [
      'framework',
      'unprotected req/s',
      'protected req/s',
      'ratio',
      'goal',
      'met',
      'import ms',
      'goal',
    ],
  ];
  for (const result of results) {
    const cost = imports.get(result.framework.name);
    rows.push([
      result.framework.name,
      fmt(result.unprotected),
      fmt(result.protectedRps),
      `${result.ratio.toFixed(2)}×`,
      `≥ ${result.framework.goal.toFixed(2)}×`,
      result.ratio >= result.framework.goal ? 'met' : 'not met',
      cost === undefined ? '—' : `+${cost.toFixed(1)}`,
      `≤ ${IMPORT_GOAL_MS} (${cost !== undefined && cost <= IMPORT_GOAL_MS ? 'met' : 'not met'})`,
    ]);
    if (result.missRatio !== undefined && result.framework.missGoal !== undefined) {
      rows.push([
        `${result.framework.name}, cache misses`,
        fmt(result.unprotected),
        fmt(result.missRatio * result.unprotected),
        `${result.missRatio.toFixed(2)}×`,
        `≥ ${result.framework.missGoal.toFixed(2)}×`,
        result.missRatio >= result.framework.missGoal ? 'met' : 'not met',
        '',
        '',
      ]);
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  console.log('');
  for (const [index, row] of rows.entries()) {
    console.log(`| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
    if (index === 0) console.log(`| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`);
  }
  for (const result of results) {
    console.log(
      `${result.framework.name}: ${result.jwksFetches} JWKS fetches (expected ${result.guards}, one per guard), ` +
        `${result.unexpected} non-200 answers under load; app CPU ratio ${result.cpuRatio.toFixed(2)}×`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'http-only': { type: 'boolean' },
      uncached: { type: 'boolean' },
      built: { type: 'boolean' },
    },
  });
  // The HTTP benchmark serves the built package (dist/), as users run it.
  buildPackage(values.built === true);
  if (values['http-only'] !== true) {
    for (const script of ['./verify.ts', './protect.ts']) {
      console.log(`\n${script}`);
      const code = await runScript(fileURLToPath(new URL(script, import.meta.url)));
      if (code !== 0) throw new Error(`${script} exited with ${code}`);
    }
  }
  const only = process.env['BENCH_FRAMEWORKS']?.split(',').map((name) => name.trim().toLowerCase());
  const frameworks = FRAMEWORKS.filter(
    (framework) =>
      only === undefined || only.some((name) => framework.name.toLowerCase().startsWith(name)),
  );
  const results: FrameworkResult[] = [];
  for (const framework of frameworks) {
    results.push(
      await httpBench(framework, framework.missGoal !== undefined || values.uncached === true),
    );
  }
  const imports = new Map(frameworks.map((framework) => [framework.name, importCost(framework)]));
  printTable(results, imports);
  console.log(
    '\nreq/s and CPU µs/req (app process, user + system) are medians over the rounds; ratios are the' +
      '\nrow over unprotected. Import ms: process start to import done of the subpath with its framework,' +
      '\nminus the framework alone (medians of 15 runs). Numbers move with the machine and whatever else' +
      '\nruns on it; compare ratios from one run.',
  );
}

await main();
