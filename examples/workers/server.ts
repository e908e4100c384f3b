/**
 * `npm run example:workers`: runs the Worker example (`worker.ts`, on `cognito-guard/web`) in
 * workerd, Cloudflare's runtime, on PORT (default 3000), configured by the same environment as
 * every other example (passed to the Worker as its bindings).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { runExample } from '../shared/environment.js';
import { startWorker } from './workerd.js';

await runExample('Cloudflare Workers (workerd)', async ({ env, port }) => {
  // The Worker's bindings: the configuration it reads, not the whole shell environment.
  const bindings = Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => name.startsWith('AWS_') || name === 'SECRET_KEY' || name === 'NODE_ENV',
    ),
  );
  const worker = await startWorker({
    env: bindings,
    port,
    onOutput: (stdout, stderr) => {
      stdout.pipe(process.stdout);
      stderr.pipe(process.stderr);
    },
  });
  return () => worker.stop();
});
