/**
 * `npm run example:lambda`: serves the Lambda example locally on PORT (default 3000) through the
 * API Gateway HTTP API bridge (`cognito-guard/lambda/bridge`): each request becomes a payload
 * format 2.0 event, as on AWS, and the handler's result becomes the response.
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { fromEnv, ConfigurationError } from 'cognito-guard';
import { serveLambda, type LambdaBridgeServer } from 'cognito-guard/lambda/bridge';
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { createExampleHandler } from './app.js';

const environment = await exampleEnvironment();

let bridge: LambdaBridgeServer;
try {
  const handler = createExampleHandler(fromEnv(environment.env));
  bridge = await serveLambda(handler, { port: environment.port, host: '127.0.0.1' });
} catch (error) {
  await environment.stop();
  if (error instanceof ConfigurationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

environment.printBanner('AWS Lambda, through the local HTTP API bridge');
stopOnSignals(() => bridge.close(), environment);
