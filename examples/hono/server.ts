/**
 * `npm run example:hono`: runs the Hono example app on Node (`@hono/node-server`) on PORT
 * (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { fromEnv } from 'cognito-guard';
import { runExample } from '../shared/environment.js';
import { createExampleApp } from './app.js';

await runExample('Hono', async ({ env, port }) => {
  const app = createExampleApp(fromEnv(env));
  const server = serve({ fetch: app.fetch, port }) as Server;
  await once(server, 'listening');
  return () => {
    server.closeAllConnections();
    server.close();
  };
});
