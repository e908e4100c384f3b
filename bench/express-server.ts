// The server side of `npm run bench` (started by bench/run.ts, never on its own): one Express 5
// app serving the same small JSON body unprotected (`/open`) and behind `auth.required()`
// (`/protected`), plus `/uncached`, behind a second guard with the verified-token cache turned off
// (verifiedTokenCacheSize 0), which bench/run.ts feeds many distinct tokens,
// so the cache's share of the per-request cost can be shown. It runs in its own process so the load
// generator does not share its event loop, reports its port over IPC, and exits when the parent
// goes away.
import type { AddressInfo } from 'node:net';

import express from 'express';
import type { Request, Response } from 'express';

import type { CognitoGuardOptions } from '../src/index.js';
import type * as ExpressAdapter from '../src/express/index.js';

/** What bench/run.ts sends in BENCH_GUARD: the emulator's pool and the app client. */
export interface BenchGuardConfig {
  readonly region: string;
  readonly userPoolId: string;
  readonly domain: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Messages from this process to bench/run.ts. */
export type ServerMessage =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'stats';
      /** TCP connections accepted so far. */
      readonly connections: number;
      /** CPU time (user + system) this process has used so far, in microseconds. */
      readonly cpuMicros: number;
    };

/** Messages from bench/run.ts to this process. */
export type ParentMessage = { readonly type: 'stats' };

function send(message: ServerMessage): void {
  process.send?.(message);
}

const config = JSON.parse(process.env['BENCH_GUARD'] ?? 'null') as BenchGuardConfig | null;
if (config === null || process.send === undefined) {
  process.stderr.write('bench/express-server.ts is started by bench/run.ts (npm run bench)\n');
  process.exit(2);
}

const options: CognitoGuardOptions = {
  ...config,
  redirectUrl: 'http://127.0.0.1:3000/postlogin',
  logoutUrl: 'http://127.0.0.1:3000/postlogout',
  secretKey: 'bench-secret-bench-secret-bench-secret-0123',
  logger: { warn: () => undefined },
};
// Measure what users run: the built package (bench/run.ts builds it first). Running the sources
// through tsx adds esbuild's keepNames wrappers to every closure, which costs µs per request.
const { cognitoGuard } = (await import(
  new URL('../dist/express/index.js', import.meta.url).href
)) as typeof ExpressAdapter;
const auth = cognitoGuard(options);
const uncached = cognitoGuard({ ...options, verifiedTokenCacheSize: 0 });

// The body a typical small JSON API returns; identical for every route so only the guard differs.
const body = { ok: true, items: [1, 2, 3], message: 'hello from a JSON route' };
const handler = (_req: Request, res: Response): void => {
  res.json(body);
};

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/open', handler);
app.get(
  '/noop',
  (_req, _res, next) => {
    next();
  },
  handler,
);
app.get('/protected', auth.required(), handler);
app.get('/uncached', uncached.required(), handler);

let connections = 0;
const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const server = app.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
server.on('connection', () => {
  connections += 1;
});
server.keepAliveTimeout = 30_000;

process.on('message', (message: unknown) => {
  if ((message as Partial<ParentMessage> | null)?.type === 'stats')
    send({ type: 'stats', connections, cpuMicros: cpuMicros() });
});
// The parent closing the IPC channel (normal end, crash or Ctrl+C) ends this process too.
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
});
