/**
 * `npm run example:fastify`: runs the example app on Fastify 5, on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import type { FastifyInstance } from 'fastify';
import { fromEnv, ConfigurationError } from 'cognito-guard';
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { createExampleApp } from './app.js';

const environment = await exampleEnvironment();

let app: FastifyInstance;
try {
  app = await createExampleApp(fromEnv(environment.env));
  await app.listen({ port: environment.port });
} catch (error) {
  await environment.stop();
  if (error instanceof ConfigurationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

environment.printBanner('Fastify');
stopOnSignals(() => app.close(), environment);
