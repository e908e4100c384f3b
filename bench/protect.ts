// In-process cost of a protected request in steady state: `npx tsx bench/protect.ts`.
//
// A guard built from the built package (dist/) answers the same request again and again from its
// verified-token cache — the work every protected request does — with the cookies a real browser
// sends after a sign-in (access, ID and encrypted refresh token). Prints µs per call (median of
// rounds) and, under --expose-gc, the heap each call's result keeps alive. Goal: ≤ 2 µs per hit.
import type * as Core from '../src/index.js';
import { startEmulator } from '../src/emulator/index.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 9);
const BATCH = 200_000;
const GOAL_MICROS = 2;

const core = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Core;

const emulator = await startEmulator({ port: 0 });
const clientId = 'bench-protect';
emulator.addClient({
  clientId,
  clientSecret: 'bench-protect-secret',
  callbackUrls: ['http://127.0.0.1:3000/postlogin'],
  allowedScopes: ['openid', 'email', 'profile'],
});
const guard = new core.CognitoGuard({
  region: emulator.region,
  userPoolId: emulator.poolId,
  domain: emulator.domain,
  issuer: emulator.issuer,
  clientId,
  clientSecret: 'bench-protect-secret',
  redirectUrl: 'http://127.0.0.1:3000/postlogin',
  logoutUrl: 'http://127.0.0.1:3000/postlogout',
  secretKey: 'bench-secret-bench-secret-bench-secret-0123',
  scopes: ['openid', 'email', 'profile'],
  refreshFlowEnabled: true,
  logger: { warn: () => undefined },
});
const access = await emulator.mintToken({ use: 'access', clientId, username: 'alice' });
const id = await emulator.mintToken({ use: 'id', clientId, username: 'alice' });
// A refresh cookie of realistic size (a sealed Cognito refresh token is ~2.4 KB).
const refresh = 'x'.repeat(2400);
const cookie = `cognito_access_token=${access}; cognito_id_token=${id}; cognito_refresh_token=${refresh}`;
const headers: Record<string, string> = {
  cookie,
  accept: 'application/json',
  'user-agent': 'Mozilla/5.0',
};
class Request implements Core.IncomingRequest {
  readonly method = 'GET';
  readonly url = '/claims';
  header(name: string): string | undefined {
    return headers[name];
  }
}
const protect = guard.protector({ groups: ['admin'] });
const request = new Request();
const first = await protect(request);
if (first.action !== 'continue') throw new Error('the token did not verify');

function runBatch(): number {
  const started = performance.now();
  for (let i = 0; i < BATCH; i++) {
    const result = protect(request);
    if (result instanceof Promise || result.action !== 'continue')
      throw new Error('not a cache hit');
  }
  return ((performance.now() - started) * 1000) / BATCH;
}

runBatch();
const times: number[] = [];
for (let r = 0; r < ROUNDS; r++) times.push(runBatch());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? 0;

const gc = (globalThis as { gc?: () => void }).gc;
let allocated = 'n/a (run with --expose-gc)';
if (gc !== undefined) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const keep: unknown[] = new Array<unknown>(20_000);
  for (let i = 0; i < keep.length; i++) keep[i] = protect(request);
  const after = process.memoryUsage().heapUsed;
  allocated = `${Math.round((after - before) / keep.length)} bytes retained per call (results kept alive)`;
}
console.log(
  `protector cache hit (access + ID + refresh cookies, ${cookie.length} bytes): ${median.toFixed(2)} µs per call ` +
    `(min ${times[0]?.toFixed(2)}, max ${times.at(-1)?.toFixed(2)}); goal ≤ ${GOAL_MICROS} µs: ${median <= GOAL_MICROS ? 'met' : 'not met'}`,
);
console.log(`allocation: ${allocated}`);
await emulator.stop();
