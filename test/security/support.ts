/**
 * Shared pieces of the security-case suite: an emulator that records what it served, the hostile
 * domain in front of it, app instances built from the example app (optionally with extra routes),
 * a logger that keeps every line, and browser steps finer than `login()` so a test can split a
 * login between a victim and an attacker.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Express } from 'express';
import express5 from 'express';
import express4 from 'express4';
import type { CognitoGuardLogger, CognitoGuardOptions } from '../../src/index.js';
import {
  startEmulator,
  type EmulatorClient,
  type EmulatorHandle,
  type EmulatorSwitches,
  type RequestLogEntry,
} from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { readForm, TestBrowser, type BrowserResponse } from '../support/browser.js';
import {
  CLIENT_ID,
  DEMO_PASSWORD,
  guardOptions,
  listen,
  registerClient,
  type ExpressVersion,
} from '../support/stack.js';
import { startHostileIssuer, type HostileIssuer } from './hostile-issuer.js';

export { CLIENT_ID, DEMO_PASSWORD, TestBrowser, readForm };
export type { BrowserResponse };

/** Ask for JSON error bodies (API caller). */
export const JSON_ACCEPT = { accept: 'application/json' } as const;
/** Ask for HTML error pages (browser). */
export const HTML_ACCEPT = { accept: 'text/html' } as const;

/** Every line a guard logged, with its fields serialised, so a test can search all of it. */
export interface CapturedLog {
  readonly logger: CognitoGuardLogger;
  readonly lines: string[];
  /** Everything logged, as one string. */
  text(): string;
}

export function captureLogger(): CapturedLog {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return {
    logger: { warn: record('warn'), info: record('info') },
    lines,
    text: () => lines.join('\n'),
  };
}

/** A running app instance (the example app, maybe with extra routes). */
export interface App {
  readonly appUrl: string;
  readonly options: CognitoGuardOptions;
  readonly log: CapturedLog;
  stop(): Promise<void>;
}

export interface AppOptions {
  /** Guard option overrides (applied last). */
  readonly guard?: Partial<CognitoGuardOptions>;
  /** Register an emulator app client for this app's callback URL (needed to log in). */
  readonly register?: boolean | Partial<EmulatorClient>;
  readonly express?: ExpressVersion;
  /** Adds routes after the example app's own. */
  readonly extend?: (app: Express, options: CognitoGuardOptions) => void;
}

const factories: Record<ExpressVersion, () => Express> = {
  express5: () => express5(),
  express4: () => express4() as unknown as Express,
};

/** Starts the example app against `emulator` on a fresh loopback port. */
export async function startApp(emulator: EmulatorHandle, options: AppOptions = {}): Promise<App> {
  const server = createServer();
  const port = await listen(server);
  const appUrl = `http://127.0.0.1:${port}`;
  const log = captureLogger();
  const guard = guardOptions(emulator, appUrl, { logger: log.logger, ...options.guard });
  if (options.register !== undefined && options.register !== false) {
    registerClient(emulator, appUrl, {
      clientId: guard.clientId,
      ...(guard.clientSecret === undefined ? {} : { clientSecret: guard.clientSecret }),
      ...(options.register === true ? {} : options.register),
    });
  }
  const app = createExampleApp(guard, factories[options.express ?? 'express5']);
  options.extend?.(app, guard);
  server.on('request', app);
  return {
    appUrl,
    options: guard,
    log,
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

/** An emulator that records every request it served, the hostile domain in front of it, and an app. */
export interface SecurityStack {
  readonly emulator: EmulatorHandle;
  readonly hostile: HostileIssuer;
  readonly app: App;
  readonly appUrl: string;
  /** What the emulator served (paths with secrets masked, as its own log shows them). */
  readonly served: RequestLogEntry[];
  /** How many requests the emulator served on paths starting with `prefix`. */
  servedCount(prefix: string): number;
  stop(): Promise<void>;
}

export interface SecurityStackOptions extends AppOptions {
  readonly switches?: Partial<EmulatorSwitches>;
  /** Put the hostile domain in front of the emulator (default true). */
  readonly viaHostile?: boolean;
}

export async function startSecurityStack(
  options: SecurityStackOptions = {},
): Promise<SecurityStack> {
  const served: RequestLogEntry[] = [];
  const emulator = await startEmulator({
    port: 0,
    ...(options.switches === undefined ? {} : { switches: options.switches }),
    onRequest: (entry) => {
      served.push(entry);
    },
  });
  const hostile = await startHostileIssuer(emulator.domain);
  const app = await startApp(emulator, {
    ...options,
    register: options.register ?? true,
    guard: {
      ...(options.viaHostile === false ? {} : { domain: hostile.url }),
      ...options.guard,
    },
  });
  return {
    emulator,
    hostile,
    app,
    appUrl: app.appUrl,
    served,
    servedCount: (prefix) => served.filter((entry) => entry.path.startsWith(prefix)).length,
    stop: async () => {
      await app.stop();
      await hostile.stop();
      await emulator.stop();
    },
  };
}

/** The JWKS path of an emulator, as its request log shows it. */
export function jwksPath(emulator: EmulatorHandle): string {
  return `/${emulator.poolId}/.well-known/jwks.json`;
}

/** A started login: the authorize URL and the values the app put in it. */
export interface StartedLogin {
  readonly response: BrowserResponse;
  readonly authorizeUrl: string;
  readonly state: string;
  readonly nonce: string;
  /** The Set-Cookie of the transaction cookie. */
  readonly transactionCookie: string;
  /** The transaction cookie's name. */
  readonly transactionCookieName: string;
}

/** `GET {appUrl}{path}` and read the redirect to Cognito's authorize endpoint. */
export async function beginLogin(
  browser: TestBrowser,
  appUrl: string,
  path = '/login',
): Promise<StartedLogin> {
  const response = await browser.request(`${appUrl}${path}`);
  if (response.status !== 302 || response.location === undefined) {
    throw new Error(`expected a redirect to Cognito, got ${response.status}`);
  }
  const url = new URL(response.location);
  const transactionCookie = response.setCookies.find((c) => /^(__Host-)?cognito_txn_/.test(c));
  if (transactionCookie === undefined) throw new Error('no transaction cookie');
  return {
    response,
    authorizeUrl: response.location,
    state: url.searchParams.get('state') ?? '',
    nonce: url.searchParams.get('nonce') ?? '',
    transactionCookie,
    transactionCookieName: transactionCookie.slice(0, transactionCookie.indexOf('=')),
  };
}

/**
 * Signs `username` in at Cognito for `authorizeUrl` and returns the callback URL (code and state)
 * without visiting it. Works with and without a live hosted-UI session in the browser.
 */
export async function signInAt(
  browser: TestBrowser,
  authorizeUrl: string,
  username: string,
): Promise<string> {
  const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri') ?? '';
  const page = await browser.follow(authorizeUrl, { stopAt: (url) => url.startsWith(redirectUri) });
  if (page.status === 302 && page.location?.startsWith(redirectUri) === true) return page.location;
  if (page.status !== 200) throw new Error(`expected the hosted login page, got ${page.status}`);
  const form = readForm(page.body, page.url);
  const submitted = await browser.request(form.action, {
    form: { ...form.fields, username, password: DEMO_PASSWORD },
  });
  if (submitted.location === undefined) throw new Error(`login form answered ${submitted.status}`);
  return submitted.location;
}

/** The callback URL with its query replaced (keeps origin and path). */
export function withQuery(callbackUrl: string, query: string): string {
  const url = new URL(callbackUrl);
  return `${url.origin}${url.pathname}?${query}`;
}

/** Names of the token cookies a response sets to a non-empty value. */
export function sessionCookiesSet(setCookies: readonly string[]): string[] {
  return setCookies
    .filter((c) => /^cognito_(access|id|refresh)_token=[^;]/.test(c))
    .map((c) => c.slice(0, c.indexOf('=')));
}

/** The `Set-Cookie` for `name`, if the response has one. */
export function setCookieFor(setCookies: readonly string[], name: string): string | undefined {
  return setCookies.find((c) => c.startsWith(`${name}=`));
}

/** Decodes a JWT's header and payload without verifying anything (test inspection only). */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}

/** A raw HTTP/1.1 request (any Host header, any header size), for what `fetch` would not send. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        // Our own client must be able to send what an attacker sends.
        maxHeaderSize: 1024 * 1024,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** True when `text` shows a stack trace or an internal error name. */
export function looksLikeStackTrace(text: string): boolean {
  return /\n\s+at |at [\w.<>]+ \(|node:internal|\.ts:\d+|TypeError|ReferenceError/.test(text);
}

/** The Cookie header `browser` would send to `url`. */
export function cookieHeader(browser: TestBrowser, url: string): string {
  return [...browser.cookiesFor(url)].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** Names of the transaction cookies `browser` holds for `url`. */
export function transactionCookies(browser: TestBrowser, url: string): string[] {
  return [...browser.cookiesFor(url).keys()].filter((name) => /^(__Host-)?cognito_txn_/.test(name));
}
