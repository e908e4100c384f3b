/**
 * `npm run example:next`: builds the Next.js example (once; the build is reused while its
 * sources are unchanged) and serves it with `next start` on PORT (default 3000).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account. The app reads its configuration from the
 * environment when it runs (`next start`), never at build time.
 */
import { CognitoGuard, fromEnv } from 'cognito-guard';
import { runExample } from '../shared/environment.js';
import { buildNextExample, startNextExample } from './run.js';

await runExample('Next.js', async ({ env, port }) => {
  // The app reads the same configuration at its first request; a problem is reported now
  // instead, naming every variable at once.
  await new CognitoGuard(fromEnv(env)).close();
  await buildNextExample({ log: console.log });
  const app = await startNextExample({
    port,
    env,
    onOutput: (chunk) => {
      process.stdout.write(chunk);
    },
  });
  return () => app.stop();
});
