// The Hono 4 bench server on Node (`@hono/node-server`): `/open`, `/noop` (an empty middleware),
// `/protected` (the guard's `required()` middleware) and `/uncached` (a guard with the
// verified-token cache off).
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type * as HonoAdapter from '../../src/hono/index.js';
import { benchGuardOptions, BODY, importBuilt, serveBench } from './common.js';

const options = benchGuardOptions();
const { cognitoGuard } = await importBuilt<typeof HonoAdapter>('hono/index.js');
const auth = cognitoGuard(options);
const uncached = cognitoGuard({ ...options, verifiedTokenCacheSize: 0 });

const app = new Hono();
app.get('/open', (c) => c.json(BODY));
app.get(
  '/noop',
  async (_c, next) => {
    await next();
  },
  (c) => c.json(BODY),
);
app.get('/protected', auth.required(), (c) => c.json(BODY));
app.get('/uncached', uncached.required(), (c) => c.json(BODY));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  serveBench(server, info.port, () => undefined);
}) as Server;
