// `npm run bench` (part 3): the protected route with sessions in a store, beside cookie sessions.
//
// Starts the emulator, a throwaway redis-server on loopback and bench/store-server.ts (Express 5,
// built package) in a child process; signs in once per variant for real (hosted login page,
// code exchange), then loads each route over keep-alive connections in alternating rounds and
// prints medians of req/s and of the app process's CPU per request, each as a ratio to the
// unprotected route. Redis's own CPU is not in the app's: the req/s ratio carries it.
//
// Variants: unprotected; sessions in cookies (the default); sessions in Redis (one GET per
// request); sessions in memory (the store layer without the network).
//
// Tuning: BENCH_STORE_ROUNDS (default 5), BENCH_STORE_ROUND_MS (default 2000), BENCH_CONNECTIONS
// (default 32). No assertions: numbers depend on the machine. Run alone: `npx tsx bench/store.ts`
// (with --built, dist/ is taken as built already, as `npm run bench` does).
import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { startEmulator } from '../src/emulator/index.js';
import { TestBrowser } from '../test/support/browser.js';
import { freePort } from '../test/support/http.js';
import { registerClient } from '../test/support/pool.js';
import { login } from '../test/support/sign-in.js';
import { startRedis } from '../test/support/system.js';
import {
  buildPackage,
  get,
  median,
  serverStats,
  startServer,
  stopServer,
  type ServerHandle,
} from './harness.js';
import type { StoreBenchConfig } from './store-server.js';

const ROUNDS = Number(process.env['BENCH_STORE_ROUNDS'] ?? 5);
const ROUND_MS = Number(process.env['BENCH_STORE_ROUND_MS'] ?? 2000);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const CLIENT = { clientId: 'bench-store', clientSecret: 'bench-store-secret' };

interface Variant {
  readonly name: string;
  readonly path: string;
  readonly cookie: string;
}

async function load(
  agent: Agent,
  server: ServerHandle,
  variant: Variant,
  durationMs: number,
): Promise<{ rps: number; cpu: number; unexpected: number; requests: number }> {
  const { port } = server;
  const headers = variant.cookie === '' ? {} : { cookie: variant.cookie };
  const before = (await serverStats(server.child)).cpuMicros;
  let ok = 0;
  let unexpected = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        if ((await get(agent, port, variant.path, headers)) === 200) ok += 1;
        else unexpected += 1;
      }
    }),
  );
  const elapsed = performance.now() - started;
  const after = (await serverStats(server.child)).cpuMicros;
  return {
    rps: (ok * 1000) / elapsed,
    cpu: (after - before) / Math.max(1, ok + unexpected),
    unexpected,
    requests: ok + unexpected,
  };
}

const { values } = parseArgs({ options: { built: { type: 'boolean' } } });
buildPackage(values.built === true);

const emulator = await startEmulator({ port: 0 });
const redis = await startRedis();
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
let server: ServerHandle | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
try {
  registerClient(emulator, origin, {
    ...CLIENT,
    callbackUrls: ['cookie', 'redis', 'memory'].map((v) => `${origin}/${v}/postlogin`),
    logoutUrls: [`${origin}/`],
  });
  const config: StoreBenchConfig = {
    port,
    redisUrl: redis.url,
    region: emulator.region,
    userPoolId: emulator.poolId,
    domain: emulator.domain,
    issuer: emulator.issuer,
    ...CLIENT,
  };
  server = await startServer('./store-server.ts', { BENCH_STORE: JSON.stringify(config) });

  // A real sign-in per variant: the cookies a browser would then send.
  const sessionCookie = async (variant: string): Promise<string> => {
    const browser = new TestBrowser();
    const callback = await login(browser, origin, 'alice', undefined, `/${variant}/login`);
    if (callback.status !== 302) throw new Error(`${variant}: sign-in answered ${callback.status}`);
    return [...browser.cookiesFor(origin)]
      .filter(([name]) => /^cognito_(access_token|id_token|refresh_token|session)/.test(name))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  };
  const variants: Variant[] = [
    { name: 'unprotected', path: '/open', cookie: '' },
    { name: 'sessions in cookies', path: '/cookie', cookie: await sessionCookie('cookie') },
    { name: 'sessions in Redis', path: '/redis', cookie: await sessionCookie('redis') },
    { name: 'sessions in memory', path: '/memory', cookie: await sessionCookie('memory') },
  ];
  // A guard that let everyone in, or a session that did not read back, would make this meaningless.
  for (const variant of variants.slice(1)) {
    if ((await get(agent, port, variant.path, { cookie: variant.cookie })) !== 200)
      throw new Error(`${variant.path} with its session did not answer 200`);
    if ((await get(agent, port, variant.path)) !== 401)
      throw new Error(`${variant.path} without a session did not answer 401`);
  }

  process.stdout.write(
    `\nSession store: ${ROUNDS} rounds × ${ROUND_MS} ms per variant, ${CONNECTIONS} keep-alive ` +
      `connections, node ${process.version}, ${availableParallelism()} CPUs\n`,
  );
  for (const variant of variants) await load(agent, server, variant, 1000);
  await redis.command(['CONFIG', 'RESETSTAT']);
  const results = new Map(
    variants.map((v) => [v.name, [] as { rps: number; cpu: number; requests: number }[]]),
  );
  let unexpected = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const result = await load(agent, server, variant, ROUND_MS);
      results.get(variant.name)!.push(result);
      unexpected += result.unexpected;
    }
    process.stdout.write('.');
  }
  process.stdout.write('\n\n');

  const rps = (name: string): number => median(results.get(name)!.map((r) => r.rps));
  const cpu = (name: string): number => median(results.get(name)!.map((r) => r.cpu));
  const width = Math.max(...variants.map((v) => v.name.length)) + 2;
  console.log(
    `${'route'.padEnd(width)}${'req/s'.padStart(9)}${'ratio'.padStart(7)}${'CPU µs/req'.padStart(12)}${'ratio'.padStart(7)}`,
  );
  for (const variant of variants) {
    console.log(
      variant.name.padEnd(width) +
        Math.round(rps(variant.name)).toLocaleString('en-US').padStart(9) +
        (rps(variant.name) / rps('unprotected')).toFixed(2).padStart(7) +
        cpu(variant.name).toFixed(1).padStart(12) +
        (cpu('unprotected') / cpu(variant.name)).toFixed(2).padStart(7),
    );
  }
  const stats = (await redis.command(['INFO', 'commandstats'])) as string;
  const gets = Number(/^cmdstat_get:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
  const others = [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)]
    .filter(
      ([, name]) => !['get', 'info', 'config|resetstat', 'hello', 'client|setinfo'].includes(name!),
    )
    .map(([, name, calls]) => `${name!} ${calls!}`);
  const redisRequests = results.get('sessions in Redis')!.reduce((sum, r) => sum + r.requests, 0);
  console.log(
    `\nRedis during the measured rounds: ${gets.toLocaleString('en-US')} GET` +
      (others.length > 0 ? `, ${others.join(', ')}` : ', no other command') +
      ` for ${redisRequests.toLocaleString('en-US')} requests to the Redis route`,
  );
  console.log(`non-200 answers under load: ${unexpected}`);
  console.log(
    'Ratios are the unprotected route over the row (higher is better); the CPU ratio is the app\n' +
      "process's alone (Redis runs in its own process), the req/s ratio includes Redis's round trip.",
  );
} finally {
  agent.destroy();
  if (server !== undefined) await stopServer(server.child);
  await redis.close();
  await emulator.stop();
}
