/**
 * The Hono example app as a Cloudflare Worker: the same `createExampleApp`, configured from the
 * Worker's environment bindings (`fromEnv(env)`, the same `AWS_COGNITO_*` and `SECRET_KEY` names).
 * The conformance suite runs it in workerd (`examples/workers/workerd.ts`).
 */
import type { Hono } from 'hono';
import { fromEnv, type Environment } from 'cognito-guard';
import { createExampleApp } from './app.js';

/**
 * One app per isolate, built at the first request: bindings only arrive with a request, and
 * Workers forbid random numbers and timers at module scope.
 */
let app: Hono | undefined;

export default {
  fetch(request: Request, env: Environment): Response | Promise<Response> {
    app ??= createExampleApp(fromEnv(env));
    return app.fetch(request, env);
  },
};
