/**
 * `cognito-guard/testing`: a signed-in session in one call, for an app's own tests, under any
 * test runner (node:test, Vitest, Jest: nothing here depends on one).
 *
 * - {@link startTestPool}: a Cognito emulator on a free port with your users, and the
 *   environment to start the app with;
 * - {@link signIn}: a real sign-in through the running app and the emulator's hosted page,
 *   returning the session's cookies;
 * - {@link sessionCookies}: the same cookies without the round trips, for fast tests;
 * - {@link CookieJar}: the jar behind both, a `fetch` that keeps cookies and follows redirects.
 *
 * @example
 * ```ts
 * import { signIn, startTestPool } from 'cognito-guard/testing';
 *
 * const pool = await startTestPool();
 * const appUrl = 'http://127.0.0.1:3000'; // the app, started with pool.envFor(appUrl)
 * const session = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
 * const response = await fetch(`${appUrl}/claims`, { headers: { cookie: session.cookie } });
 * await pool.stop();
 * ```
 *
 * @packageDocumentation
 */
export { CookieJar } from './cookie-jar.js';
export type { TestCookie } from './cookie-jar.js';
export { SignInError, signIn } from './sign-in.js';
export type { CallbackAnswer, SignInOptions, SignInResult, TestSession } from './sign-in.js';
export { sessionCookies } from './session-cookies.js';
export type { EmulatorSource, SessionCookiesOptions } from './session-cookies.js';
export { startTestPool } from './test-pool.js';
export type { TestPool, TestPoolOptions } from './test-pool.js';
export { DEMO_PASSWORD } from '../emulator/index.js';
