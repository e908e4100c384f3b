/**
 * `npm run example:lambda`: serves the Lambda example locally on PORT (default 3000) through the
 * API Gateway HTTP API bridge (`cognito-guard/lambda/bridge`): each request becomes a payload
 * format 2.0 event, as on AWS, and the handler's result becomes the response.
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { fromEnv } from 'cognito-guard';
import { serveLambda } from 'cognito-guard/lambda/bridge';
import { runExample } from '../shared/environment.js';
import { createExampleHandler } from './app.js';

await runExample('AWS Lambda, through the local HTTP API bridge', async ({ env, port }) => {
  const handler = createExampleHandler(fromEnv(env));
  const bridge = await serveLambda(handler, { port, host: '127.0.0.1' });
  return () => bridge.close();
});
