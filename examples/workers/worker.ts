/**
 * The example app as a Cloudflare Worker. Its configuration comes from the Worker's environment
 * bindings (`vars` and secrets in `wrangler.toml`/the dashboard), read by `fromEnv(env)` under the
 * same names as everywhere else (`AWS_COGNITO_*`, `SECRET_KEY`).
 *
 * `npm run example:workers` bundles this file and runs it in workerd (Cloudflare's runtime)
 * against the bundled emulator; see `server.ts`.
 */
import { fromEnv, type Environment } from 'cognito-guard';
import type { WebHandler } from 'cognito-guard/web';
import { createExampleApp } from './app.js';

/**
 * One app per isolate, built at the first request: bindings only arrive with a request, and
 * Workers forbid random numbers and timers at module scope.
 */
let app: WebHandler | undefined;

export default {
  fetch(request: Request, env: Environment): Promise<Response> {
    app ??= createExampleApp(fromEnv(env));
    return app(request);
  },
};
