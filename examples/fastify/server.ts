/**
 * `npm run example:fastify`: runs the Fastify example app on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { fromEnv } from 'cognito-guard';
import { runExample } from '../shared/environment.js';
import { createExampleApp } from './app.js';

await runExample('Fastify', async ({ env, port }) => {
  const app = await createExampleApp(fromEnv(env));
  await app.listen({ port });
  return () => app.close();
});
