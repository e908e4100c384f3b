/**
 * `npm run example:hono`: runs the Hono example app on Node (`@hono/node-server`) on PORT
 * (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { fromEnv, ConfigurationError } from 'cognito-guard';
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { createExampleApp } from './app.js';

const environment = await exampleEnvironment();

let server: Server;
try {
  const app = createExampleApp(fromEnv(environment.env));
  server = serve({ fetch: app.fetch, port: environment.port }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
} catch (error) {
  await environment.stop();
  if (error instanceof ConfigurationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

environment.printBanner('Hono');
stopOnSignals(() => {
  server.closeAllConnections();
  server.close();
}, environment);
