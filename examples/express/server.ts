/**
 * `npm start` (= `npm run example:express`): runs the example app on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { once } from 'node:events';
import { fromEnv } from 'cognito-guard';
import { runExample } from '../shared/environment.js';
import { createExampleApp } from './app.js';

await runExample('Express', async ({ env, port }) => {
  const app = createExampleApp(fromEnv(env));
  const server = app.listen(port);
  await once(server, 'listening');
  return async () => {
    server.closeAllConnections();
    server.close();
    // Releases the session store's connections (AWS_COGNITO_SESSION_STORE), if any.
    await app.cognito.guard.close();
  };
});
