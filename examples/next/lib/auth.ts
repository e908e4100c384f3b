/**
 * The app's guards, configured from the environment at the first request (never at build time,
 * so one build runs against the emulator and against a real pool): the same `AWS_COGNITO_*` and
 * `SECRET_KEY` as `npm start`.
 */
import { cognitoApiGuard, cognitoGuard } from 'cognito-guard/next';

/** Sign-in routes, the proxy, and the identity of Server Components. */
export const auth = cognitoGuard();

/** Callers that send `Authorization: Bearer <access token>` (configured by the pool and client alone). */
export const api = cognitoApiGuard();
