/**
 * `npm run example:next`: builds the Next.js example (once; the build is reused while its
 * sources are unchanged) and serves it with `next start` on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account. The app reads its configuration from the
 * environment when it runs (`next start`), never at build time.
 */
import { CognitoGuard, ConfigurationError, fromEnv } from 'cognito-guard';
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { buildNextExample, startNextExample } from './run.js';

const environment = await exampleEnvironment();

let app: Awaited<ReturnType<typeof startNextExample>>;
try {
  // The app reads the same configuration at its first request; a problem is reported now
  // instead, naming every variable at once.
  new CognitoGuard(fromEnv(environment.env));
  await buildNextExample({ log: console.log });
  app = await startNextExample({
    port: environment.port,
    env: environment.env,
    onOutput: (chunk) => {
      process.stdout.write(chunk);
    },
  });
} catch (error) {
  await environment.stop();
  if (error instanceof ConfigurationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

environment.printBanner('Next.js');
stopOnSignals(() => app.stop(), environment);
