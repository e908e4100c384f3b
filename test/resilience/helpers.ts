/**
 * Helpers for the resilience suites (faults, fuzzing, bounded memory, scale-out, load): apps on
 * loopback built by the test, an emulator that counts the requests it serves, the checks every
 * response must pass (no 5xx, no off-origin redirect, no stack trace, no echoed token), and
 * in-process requests for `CognitoGuard`. Nothing here prints a token.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { parseSetCookie } from 'cookie';
import type { Express } from 'express';
import type { IncomingRequest } from '../../src/index.js';
import {
  startEmulator,
  type EmulatorHandle,
  type RequestLogEntry,
  type StartEmulatorOptions,
} from '../../src/emulator/index.js';
import type { BrowserResponse } from '../support/browser.js';
import { listen } from '../support/stack.js';

/** A running HTTP server built by a test. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 with an ephemeral port. */
export async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RunningServer> {
  const server = createServer(handler);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** Listens first, then builds the app for its own URL (the redirect URL needs the port). */
export async function serveApp(build: (appUrl: string) => Express): Promise<RunningServer> {
  const built: { app?: Express } = {};
  const running = await serve((req, res) => {
    if (built.app === undefined) res.writeHead(503).end();
    else built.app(req, res);
  });
  built.app = build(running.url);
  return running;
}

/** An emulator that counts what it served, by endpoint. */
export interface CountingEmulator {
  readonly emulator: EmulatorHandle;
  /** Requests served whose path (query masked) starts with `prefix`. */
  count(prefix: string): number;
  /** JWKS requests served so far. */
  jwksFetches(): number;
}

/** Starts an emulator whose `onRequest` log is kept for counting. */
export async function startCountingEmulator(
  options: Omit<StartEmulatorOptions, 'onRequest'> = {},
): Promise<CountingEmulator> {
  const log: RequestLogEntry[] = [];
  const emulator = await startEmulator({
    port: 0,
    ...options,
    onRequest: (entry) => log.push(entry),
  });
  const count = (prefix: string): number =>
    log.filter((entry) => entry.path.startsWith(prefix)).length;
  return {
    emulator,
    count,
    jwksFetches: () => count(`/${emulator.poolId}/.well-known/jwks.json`),
  };
}

/** Frames of a Node stack trace, or file paths of this machine. */
const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|file:\/\/|\.ts:\d+/;

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
 * on purpose), a Location (if any) that is the app's
 * own origin or the emulator's authorize/logout endpoint, no stack trace, no echoed secret.
 */
export function assertSafeResponse(
  response: Pick<BrowserResponse, 'status' | 'body' | 'headers'>,
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
  assert.ok(!STACK_TRACE.test(response.body), `${context}: body carries a stack trace or path`);
  for (const secret of expect.secrets ?? []) {
    if (secret.trim().length < 16) continue;
    assert.ok(!response.body.includes(secret), `${context}: body echoes a value the test sent`);
  }
}

/** The names of the cookies a response sets (not deletes). */
export function cookiesSet(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header))
    .filter((cookie) => cookie.maxAge !== 0 && (cookie.value ?? '') !== '')
    .map((cookie) => cookie.name);
}

/** The names of the cookies a response deletes (Max-Age=0, empty value). */
export function cookiesDeleted(setCookies: readonly string[]): string[] {
  return setCookies
    .map((header) => parseSetCookie(header))
    .filter((cookie) => cookie.maxAge === 0)
    .map((cookie) => cookie.name);
}

/** A request for `CognitoGuard` called in-process (no socket). */
export function inProcessRequest(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
): IncomingRequest {
  const lower = new Map(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return { method, url, header: (name) => lower.get(name) };
}

/** Cookie header for a browser's jar entries of `names`. */
export function cookieHeader(entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** Decodes a JWT's header without verifying it (for asserting on `kid`). */
export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

/** Milliseconds taken by `run`, with its result. */
export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Records unhandled promise rejections while installed; call `stop()` to remove the listener. */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    reasons,
    stop: () => {
      process.off('unhandledRejection', listener);
    },
  };
}

/** How a {@link BrokenUpstream} misbehaves; chosen by the request path (`/{mode}`). */
export type BreakageMode = 'stall-body' | 'reset-mid-body' | 'not-http' | 'close';

/** A TCP server that answers every request in a broken way, below what an HTTP framework allows. */
export interface BrokenUpstream {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a raw TCP server on 127.0.0.1 whose answers are broken at the socket level: headers
 * and then a body that never ends (`stall-body`), a connection reset half-way through the body
 * (`reset-mid-body`), something that is not HTTP (`not-http`), or a close with no answer.
 */
export async function startBrokenUpstream(): Promise<BrokenUpstream> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const mode = /^[A-Z]+ \/([a-z-]+)/.exec(head)?.[1] as BreakageMode | undefined;
      const partial =
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{"keys":[{"kty":"RSA","access_token":"';
      switch (mode) {
        case 'stall-body':
          socket.write(partial);
          break;
        case 'reset-mid-body':
          socket.write(partial, () => socket.resetAndDestroy());
          break;
        case 'not-http':
          socket.end('SSH-2.0-OpenSSH_9.2\r\n');
          break;
        default:
          socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
