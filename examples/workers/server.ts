/**
 * `npm run example:workers`: runs the Worker example (`worker.ts`, on `cognito-guard/web`) in
 * workerd, Cloudflare's runtime, on PORT (default 3000), configured by the same environment as
 * every other example (passed to the Worker as its bindings).
 *
 * With no `AWS_COGNITO_DOMAIN` configured, it first starts the bundled Cognito emulator on
 * 127.0.0.1:EMULATOR_PORT (default 9229) with the demo pool, and prints how to log in — so the
 * whole flow works offline, with no AWS account.
 */
import { exampleEnvironment, stopOnSignals } from '../shared/environment.js';
import { startWorker, type RunningWorker } from './workerd.js';

const environment = await exampleEnvironment();

// The Worker's bindings: the configuration it reads, not the whole shell environment.
const bindings = Object.fromEntries(
  Object.entries(environment.env).filter(
    ([name]) => name.startsWith('AWS_') || name === 'SECRET_KEY' || name === 'NODE_ENV',
  ),
);

let worker: RunningWorker;
try {
  worker = await startWorker({
    env: bindings,
    port: environment.port,
    onOutput: (stdout, stderr) => {
      stdout.pipe(process.stdout);
      stderr.pipe(process.stderr);
    },
  });
} catch (error) {
  await environment.stop();
  throw error;
}

environment.printBanner('Cloudflare Workers (workerd)');
stopOnSignals(() => worker.stop(), environment);
