// What every bench server shares (bench/servers/<framework>.ts, started by bench/run.ts, and
// bench/store-server.ts, started by bench/store.ts): the guard configuration from the parent, the
// JSON body every route returns, importing the built package, and the IPC that reports the port
// and the process's CPU time (bench/harness.ts is the parent's side). A server never runs on its
// own and exits with its parent.
import type { Server } from 'node:http';
import type { CognitoGuardOptions } from '../../src/index.js';

/** What bench/run.ts sends in BENCH_GUARD: the emulator's pool and the app client. */
export interface BenchGuardConfig {
  readonly region: string;
  readonly userPoolId: string;
  readonly domain: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Messages from a bench server to its parent (bench/run.ts, bench/store.ts). */
export type ServerMessage =
  | { readonly type: 'listening'; readonly port: number }
  | {
      readonly type: 'stats';
      /** TCP connections accepted so far. */
      readonly connections: number;
      /** CPU time (user + system) this process has used so far, in microseconds. */
      readonly cpuMicros: number;
    };

/** Messages from the parent to a bench server. */
export type ParentMessage = { readonly type: 'stats' };

/** The body a typical small JSON API returns; identical for every route so only the guard differs. */
export const BODY = { ok: true, items: [1, 2, 3], message: 'hello from a JSON route' } as const;

/** The guard options of every bench server, from the parent's BENCH_GUARD. */
export function benchGuardOptions(): CognitoGuardOptions {
  const config = JSON.parse(process.env['BENCH_GUARD'] ?? 'null') as BenchGuardConfig | null;
  if (config === null || process.send === undefined) {
    process.stderr.write('bench servers are started by bench/run.ts (npm run bench)\n');
    process.exit(2);
  }
  return {
    ...config,
    redirectUrl: 'http://127.0.0.1:3000/postlogin',
    logoutUrl: 'http://127.0.0.1:3000/postlogout',
    secretKey: 'bench-secret-bench-secret-bench-secret-0123',
    logger: { warn: () => undefined },
  };
}

/**
 * Measure what users run: the built package (the parent builds it first). The sources through
 * tsx add esbuild's keepNames wrappers to every closure, which costs µs per request.
 */
export async function importBuilt<T>(subpath: string): Promise<T> {
  return (await import(new URL(`../../dist/${subpath}`, import.meta.url).href)) as T;
}

/** Reports the port, answers stats requests, and exits when the parent goes away. */
export function serveBench(server: Server, port: number, close: () => Promise<void> | void): void {
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  server.keepAliveTimeout = 30_000;
  const send = (message: ServerMessage): void => {
    process.send?.(message);
  };
  send({ type: 'listening', port });
  process.on('message', (message: unknown) => {
    if ((message as Partial<ParentMessage> | null)?.type !== 'stats') return;
    const { user, system } = process.cpuUsage();
    send({ type: 'stats', connections, cpuMicros: user + system });
  });
  // The parent closing the IPC channel (normal end, crash or Ctrl+C) ends this process too.
  process.on('disconnect', () => {
    server.closeAllConnections();
    void Promise.resolve(close()).then(() => process.exit(0));
  });
}
