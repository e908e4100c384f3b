/**
 * Helpers shared by the Express seed-table and seed-fault suites: custom apps on loopback, a
 * recording (and optionally tampering) `fetch` for the guard's calls to Cognito, and cookie
 * assertions. Nothing here prints a token: assertions compare names, schemes and lengths.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Express } from 'express';
import express5 from 'express';
import express4 from 'express4';
import { parseSetCookie } from 'cookie';
import { listen, type ExpressVersion, type TestBrowser } from '../support/stack.js';

/** An Express app of the given major version. */
export function expressApp(version: ExpressVersion): Express {
  return version === 'express5' ? express5() : (express4() as unknown as Express);
}

/** A running app built by the caller (its URL is known before it is built). */
export interface RunningApp {
  readonly appUrl: string;
  stop(): Promise<void>;
}

/** Listens on 127.0.0.1:0, then builds the app for its URL. */
export async function startApp(build: (appUrl: string) => Express): Promise<RunningApp> {
  const server = createServer();
  const port = await listen(server);
  const appUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  };
  try {
    server.on('request', build(appUrl));
  } catch (error) {
    // A configuration error at startup must not leave the socket open.
    await stop();
    throw error;
  }
  return { appUrl, stop };
}

/** One call the guard made to Cognito. */
export interface RecordedCall {
  readonly path: string;
  /** The scheme of the Authorization header (`Basic`), or undefined when absent. */
  readonly authScheme: string | undefined;
  /** The client id inside HTTP Basic credentials, when present. */
  readonly basicClientId: string | undefined;
  /** The form body's parameters. */
  readonly body: URLSearchParams;
}

/** Rewrites a token-endpoint JSON answer (to feed the guard tokens that must be refused). */
export type TokenTamper = (json: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** A `fetch` for the guard that records every call and can rewrite token responses. */
export interface RecordingFetch {
  readonly fetch: typeof fetch;
  readonly calls: RecordedCall[];
  /** Set to rewrite the next token-endpoint responses; `undefined` to stop. */
  tamper: TokenTamper | undefined;
  /** Calls to a path ending with `suffix` (`/oauth2/token`, `/oauth2/revoke`). */
  to(suffix: string): RecordedCall[];
}

export function recordingFetch(): RecordingFetch {
  const recorder: RecordingFetch = {
    calls: [],
    tamper: undefined,
    to: (suffix) => recorder.calls.filter((call) => call.path.endsWith(suffix)),
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const body = request.method === 'POST' ? await request.clone().text() : '';
      const authorization = request.headers.get('authorization') ?? undefined;
      let basicClientId: string | undefined;
      if (authorization?.startsWith('Basic ') === true) {
        const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
        basicClientId = decodeURIComponent(decoded.slice(0, decoded.indexOf(':')));
      }
      const path = new URL(request.url).pathname;
      recorder.calls.push({
        path,
        authScheme: authorization?.split(' ')[0],
        basicClientId,
        body: new URLSearchParams(body),
      });
      const response = await fetch(request);
      const tamper = recorder.tamper;
      if (tamper === undefined || !path.endsWith('/oauth2/token') || response.status !== 200)
        return response;
      const json = (await response.json()) as Record<string, unknown>;
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      return new Response(JSON.stringify(await tamper(json)), { status: 200, headers });
    },
  };
  return recorder;
}

/** Decodes a JWT payload (no verification; tests only). */
export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

const SESSION_COOKIE_NAMES = ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'];

/** Names of session cookies that a response sets to a value (not deletions). */
export function sessionCookiesSet(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header))
    .filter((c) => SESSION_COOKIE_NAMES.includes(c.name) && c.value !== '' && c.maxAge !== 0)
    .map((c) => c.name);
}

/** Asserts a failed response set no session cookie (no half-set session). */
export function assertNoSessionCookies(setCookies: readonly string[], context: string): void {
  assert.deepEqual(sessionCookiesSet(setCookies), [], `${context}: no session cookie is set`);
}

/** The `Set-Cookie` header of `name`, parsed, or undefined. */
export function findCookie(
  setCookies: readonly string[],
  name: string,
):
  | { readonly header: string; readonly value: string; readonly maxAge: number | undefined }
  | undefined {
  for (const header of setCookies) {
    const parsed = parseSetCookie(header);
    if (parsed.name === name) return { header, value: parsed.value ?? '', maxAge: parsed.maxAge };
  }
  return undefined;
}

/** Asserts `name` is deleted by the response (empty value, Max-Age=0). */
export function assertCleared(setCookies: readonly string[], name: string): string {
  const cookie = findCookie(setCookies, name);
  assert.ok(cookie !== undefined, `${name} is cleared`);
  assert.equal(cookie.value, '', `${name} is emptied`);
  assert.equal(cookie.maxAge, 0, `${name} has Max-Age=0`);
  return cookie.header;
}

/** Transaction cookie names (`cognito_txn_…`, `__Host-cognito_txn_…`) in a response. */
export function transactionCookies(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header).name)
    .filter((name) => /^(__Host-)?cognito_txn_/.test(name));
}

/** Starts a login and returns the authorize URL and the transaction cookie it set. */
export async function beginLogin(
  browser: TestBrowser,
  url: string,
): Promise<{ authorize: URL; state: string; transactionCookie: string; setCookies: string[] }> {
  const response = await browser.request(url);
  assert.equal(response.status, 302, `${url} redirects to Cognito`);
  const authorize = new URL(response.location!);
  const [transactionCookie] = transactionCookies(response.setCookies);
  assert.ok(transactionCookie !== undefined, 'a transaction cookie is set');
  return {
    authorize,
    state: authorize.searchParams.get('state') ?? '',
    transactionCookie,
    setCookies: response.setCookies,
  };
}

/** A logger that keeps warnings for assertions. */
export function capturingLogger(): {
  readonly warnings: { message: string; fields: Record<string, unknown> | undefined }[];
  warn(message: string, fields?: Record<string, unknown>): void;
} {
  const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  return {
    warnings,
    warn: (message, fields) => {
      warnings.push({ message, fields });
    },
  };
}
