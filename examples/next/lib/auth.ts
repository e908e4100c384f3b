/**
 * The app's guards, configured from the environment at the first request (never at build time,
 * so one build runs against the emulator and against a real pool): the same `AWS_COGNITO_*` and
 * `SECRET_KEY` as `npm start`.
 */
// Registers redis:// and rediss:// for AWS_COGNITO_SESSION_STORE (sessions in Redis). Only the
// Node.js runtime can reach Redis: proxy.ts, route handlers and pages import this module; the
// Edge-runtime middleware (edge/middleware.ts) does not. Without a session store, drop the line
// and the `redis` package.
import 'cognito-guard/redis';
import { cognitoApiGuard, cognitoGuard } from 'cognito-guard/next';

/** Sign-in routes, the proxy, and the identity of Server Components. */
export const auth = cognitoGuard();

/** Callers that send `Authorization: Bearer <access token>` (configured by the pool and client alone). */
export const api = cognitoApiGuard();
