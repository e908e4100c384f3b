/**
 * `npm start` (= `npm run example:express`): runs the example app on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import type { Server } from 'node:http';
import { fromEnv, ConfigurationError } from 'cognito-guard';
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { createExampleApp, type ExampleApp } from './app.js';

const environment = await exampleEnvironment();

let server: Server;
let app: ExampleApp;
try {
  app = createExampleApp(fromEnv(environment.env));
  server = app.listen(environment.port);
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

environment.printBanner('Express');
stopOnSignals(async () => {
  server.closeAllConnections();
  server.close();
  // Releases the session store's connections (AWS_COGNITO_SESSION_STORE), if any.
  await app.cognito.guard.close();
}, environment);
