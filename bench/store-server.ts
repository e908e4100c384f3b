// The server side of bench/store.ts (started by it, never on its own): one Express 5 app with the
// same small JSON route unprotected (`/open`) and behind `auth.required()` with sessions in
// cookies (`/cookie`), in Redis (`/redis`) and in this process's memory (`/memory`, the cost of
// the store layer without the network). Each protected variant has its own guard and its own
// login routes (`/<variant>/login`, `/<variant>/postlogin`) so bench/store.ts can sign in for
// real. It serves the built package (dist/), reports over IPC as every bench server does
// (bench/servers/common.ts), and exits with its parent.
import express from 'express';
import type { Request, Response } from 'express';

import type * as Core from '../src/index.js';
import type * as ExpressAdapter from '../src/express/index.js';
import type * as RedisStore from '../src/redis/index.js';
import { BODY, importBuilt, serveBench } from './servers/common.js';

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

const config = JSON.parse(process.env['BENCH_STORE'] ?? 'null') as StoreBenchConfig | null;
if (config === null || process.send === undefined) {
  process.stderr.write('bench/store-server.ts is started by bench/store.ts\n');
  process.exit(2);
}

const core = await importBuilt<typeof Core>('index.js');
const { cognitoGuard } = await importBuilt<typeof ExpressAdapter>('express/index.js');
const { redisSessionStore } = await importBuilt<typeof RedisStore>('redis/index.js');

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

const handler = (_req: Request, res: Response): void => {
  res.json(BODY);
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
  serveBench(server, config.port, async () => {
    server.close();
    await redisStore.close().catch(() => undefined);
  });
});
