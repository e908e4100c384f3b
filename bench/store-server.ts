// The server side of bench/store.ts (started by it, never on its own): one Express 5 app with the
// same small JSON route unprotected (`/open`) and behind `auth.required()` with sessions in
// cookies (`/cookie`), in Redis (`/redis`) and in this process's memory (`/memory`, the cost of
// the store layer without the network). Each protected variant has its own guard and its own
// login routes (`/<variant>/login`, `/<variant>/postlogin`) so bench/store.ts can sign in for
// real. It serves the built package (dist/), reports over IPC, and exits with its parent.
import express from 'express';
import type { Request, Response } from 'express';

import type * as Core from '../src/index.js';
import type * as ExpressAdapter from '../src/express/index.js';
import type * as RedisStore from '../src/redis/index.js';

/** What bench/store.ts sends in BENCH_STORE. */
export interface StoreBenchConfig {
  readonly port: number;
  readonly redisUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly domain: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Messages from this process to bench/store.ts. */
export type StoreServerMessage =
  { readonly type: 'listening' } | { readonly type: 'stats'; readonly cpuMicros: number };

const config = JSON.parse(process.env['BENCH_STORE'] ?? 'null') as StoreBenchConfig | null;
if (config === null || process.send === undefined) {
  process.stderr.write('bench/store-server.ts is started by bench/store.ts\n');
  process.exit(2);
}
const send = (message: StoreServerMessage): void => {
  process.send?.(message);
};

const dist = (path: string): string => new URL(`../dist/${path}`, import.meta.url).href;
const core = (await import(dist('index.js'))) as typeof Core;
const { cognitoGuard } = (await import(dist('express/index.js'))) as typeof ExpressAdapter;
const { redisSessionStore } = (await import(dist('redis/index.js'))) as typeof RedisStore;

const origin = `http://127.0.0.1:${config.port}`;
const guardFor = (variant: string, sessionStore?: Core.SessionStore): Core.CognitoGuardOptions => ({
  region: config.region,
  userPoolId: config.userPoolId,
  domain: config.domain,
  issuer: config.issuer,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  redirectUrl: `${origin}/${variant}/postlogin`,
  logoutUrl: `${origin}/`,
  secretKey: 'bench-secret-bench-secret-bench-secret-0123',
  refreshFlowEnabled: true,
  logger: { warn: () => undefined },
  ...(sessionStore === undefined ? {} : { sessionStore }),
});

const body = { ok: true, items: [1, 2, 3], message: 'hello from a JSON route' };
const handler = (_req: Request, res: Response): void => {
  res.json(body);
};

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/open', handler);
const redisStore = redisSessionStore(config.redisUrl);
const guards = {
  cookie: cognitoGuard(guardFor('cookie')),
  redis: cognitoGuard(guardFor('redis', redisStore)),
  memory: cognitoGuard(guardFor('memory', new core.MemorySessionStore())),
};
for (const [variant, auth] of Object.entries(guards)) {
  app.get(`/${variant}/login`, auth.login());
  app.get(`/${variant}/postlogin`, auth.callback({ redirectTo: `/${variant}` }));
  app.get(`/${variant}`, auth.required(), handler);
}

const server = app.listen(config.port, '127.0.0.1', () => {
  send({ type: 'listening' });
});
server.keepAliveTimeout = 30_000;
process.on('message', (message: unknown) => {
  if ((message as { type?: string } | null)?.type === 'stats') {
    const { user, system } = process.cpuUsage();
    send({ type: 'stats', cpuMicros: user + system });
  }
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  void redisStore.close().finally(() => process.exit(0));
});
