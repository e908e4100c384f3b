/**
 * What every answer must satisfy whatever was sent: no server error, no redirect off the app or
 * Cognito, no stack trace or path of this machine, no echo of a value the test sent.
 *
 * @example
 * ```ts
 * assertSafeResponse(response, { appUrl, emulatorUrl: emulator.domain, secrets: [token] }, label);
 * ```
 */
import assert from 'node:assert/strict';

/** Frames of a stack trace, internal error names, or file paths of this machine. */
const STACK_TRACE =
  /\n\s+at |\bat [\w.<>]+ \(|node:internal|node_modules|\/work\/|file:\/\/|\.ts:\d+|TypeError|ReferenceError/;

/** True when `text` shows a stack trace, an internal error name or a path of this machine. */
export function looksLikeStackTrace(text: string): boolean {
  return STACK_TRACE.test(text);
}

/** What every response must satisfy, whatever was sent. */
export interface SafetyExpectations {
  /** The app's origin: redirects may go there. */
  readonly appUrl: string;
  /** The emulator's origin: redirects may go to its /oauth2/authorize and /logout only. */
  readonly emulatorUrl: string;
  /** Values sent by the test that must never come back in a body (short ones are skipped). */
  readonly secrets?: readonly string[];
  /** Cognito is faulty on purpose: 502/503/504 are then the right answer (never 500). */
  readonly upstreamFault?: boolean;
}

/**
 * Asserts the contract for any request: status < 500 (or 502/503/504 while Cognito is faulty
 * on purpose), a Location (if any) that is the app's own origin or the emulator's
 * authorize/logout endpoint, no stack trace, no echoed secret.
 */
export function assertSafeResponse(
  response: { readonly status: number; readonly body: string; readonly headers: Headers },
  expect: SafetyExpectations,
  context = '',
): void {
  const upstream = expect.upstreamFault === true && [502, 503, 504].includes(response.status);
  assert.ok(
    response.status < 500 || upstream,
    `${context}: status ${response.status} is a server error`,
  );
  const raw = response.headers.get('location');
  if (raw !== null) {
    assert.ok(!/[\u0000-\u001f\\]/.test(raw), `${context}: Location has control chars or \\`);
    // Resolve the way a browser does, against the request's origin.
    const target = new URL(raw, `${expect.appUrl}/`);
    const allowed =
      target.origin === expect.appUrl ||
      (target.origin === expect.emulatorUrl &&
        (target.pathname === '/oauth2/authorize' || target.pathname === '/logout'));
    assert.ok(allowed, `${context}: redirect leaves the app (to ${target.origin})`);
  }
  assert.ok(!looksLikeStackTrace(response.body), `${context}: body carries a stack trace or path`);
  for (const secret of expect.secrets ?? []) {
    if (secret.trim().length < 16) continue;
    assert.ok(!response.body.includes(secret), `${context}: body echoes a value the test sent`);
  }
}

/** Every message an error response may carry (src/core/errors.ts). */
const FIXED_MESSAGES: ReadonlySet<string> = new Set([
  'Authentication is required to access this resource.',
  'Cognito group membership is required to access this resource.',
  'A required scope is missing for this resource.',
  'The sign-in could not be completed. Please start the sign-in again.',
  'Cross-site request refused.',
  'Refresh is not enabled.',
  'The session could not be refreshed. Please sign in again.',
  'The sign-in service is unavailable. Please try again shortly.',
]);

/**
 * Asserts an error answer carries one of the library's fixed, user-facing messages (JSON or
 * HTML) and nothing else: no stack trace, none of `secrets` (tokens, codes, upstream text), and
 * `nosniff`.
 */
export function assertFixedErrorAnswer(
  response: { readonly headers: Headers },
  body: string,
  secrets: readonly string[],
  context: string,
): void {
  assert.ok(!looksLikeStackTrace(body), `${context}: a stack trace`);
  for (const secret of secrets) {
    assert.ok(!body.includes(secret), `${context}: body contains ${secret.slice(0, 12)}…`);
  }
  // Only the fixed, user-facing message: no operator detail, no upstream text.
  const message = /json/.test(response.headers.get('content-type') ?? '')
    ? (JSON.parse(body) as { message: string }).message
    : /<main><h1>[^<]*<\/h1><p>([^<]*)<\/p>/.exec(body)?.[1];
  assert.ok(FIXED_MESSAGES.has(message ?? ''), `${context}: ${message ?? body.slice(0, 80)}`);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', context);
  assert.match(response.headers.get('content-type') ?? '', /^(application\/json|text\/html)/);
}
