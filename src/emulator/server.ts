/**
 * Serves a {@link CognitoEmulator} over `node:http`: a small bridge from Node's request/response
 * to Web `Request`/`Response`, plus {@link startEmulator}, which returns a handle for tests and
 * the CLI.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DEMO_CONFIG, loadEmulatorConfigFile } from './config.js';
import type { EmulatorConfig, EmulatorSwitches } from './config.js';
import { CognitoEmulator, bindControls } from './emulator.js';
import type { EmulatorControls } from './emulator.js';
import type { RequestInfo } from './http.js';
import type { EmulatorMessage } from './pool.js';
import type { Clock } from './state.js';

/** The largest request body the emulator reads (forms are tiny; this only stops abuse). */
const MAX_BODY_BYTES = 1024 * 1024;

/** Query parameters whose values are safe to log; everything else (code, state, tokens…) is masked. */
const LOGGABLE_PARAMS = new Set([
  'client_id',
  'response_type',
  'scope',
  'redirect_uri',
  'logout_uri',
  'code_challenge_method',
  'identity_provider',
  'prompt',
  'lang',
  'error',
]);

/**
 * A path for logs: query values other than harmless ones (client id, scope, redirect URI…) are
 * replaced by `***`, so codes, state, nonces and tokens never reach a terminal.
 *
 * @example
 * ```ts
 * redactPath(new URL('http://x/oauth2/authorize?client_id=a&state=s')); // '/oauth2/authorize?client_id=a&state=***'
 * ```
 */
export function redactPath(url: URL): string {
  if (url.search === '') return url.pathname;
  const parts = [...url.searchParams].map(([name, value]) =>
    LOGGABLE_PARAMS.has(name)
      ? `${encodeURIComponent(name)}=${encodeURIComponent(value)}`
      : `${encodeURIComponent(name)}=***`,
  );
  return `${url.pathname}?${parts.join('&')}`;
}

/** One served request, for logging. Holds no token, code, password or query secret. */
export interface RequestLogEntry {
  readonly method: string;
  /** Path with secret query values masked (see {@link redactPath}). */
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
}

/**
 * Options for {@link startEmulator}.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ port: 0, switches: { refreshTokenReuseDetection: true } });
 * ```
 */
export interface StartEmulatorOptions {
  /** Default 0 (any free port). The CLI uses 9229. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** The pool; default the demo pool. Ignored when `configFile` is given. */
  readonly config?: EmulatorConfig;
  /** A JSON configuration file, validated at start. */
  readonly configFile?: string;
  readonly switches?: Partial<EmulatorSwitches>;
  /**
   * The browser-facing origin, e.g. `http://localhost:9229`, when it differs from
   * `http://{host}:{port}` (behind a proxy, or in docker-compose where the app reaches the
   * emulator as `http://cognito:9229` but the browser as `http://localhost:9229`). The issuer,
   * the discovery document and every hosted-UI link use it, whatever Host header a caller sends.
   */
  readonly publicOrigin?: string;
  /** The older name of {@link publicOrigin}; `publicOrigin` wins when both are given. */
  readonly origin?: string;
  /**
   * More host names on which the control endpoints and Cognito's JSON API answer, besides
   * loopback names and the public origin's (e.g. `['cognito']` in docker-compose).
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The wall clock in milliseconds (default `Date.now`): authorization codes (5 minutes), hosted-UI
   * sessions (1 hour) and refresh tokens expire on it, so a test can move time instead of waiting.
   */
  readonly now?: Clock;
  /** Called for every confirmation code or temporary password the pool "sends". */
  readonly onMessage?: (message: EmulatorMessage) => void;
  /** Called once per request, after the response is sent. */
  readonly onRequest?: (entry: RequestLogEntry) => void;
}

/**
 * A running emulator. The control methods ({@link EmulatorControls}) act on the live pool, so a
 * test can add a user, rotate the keys or inject a fault between two requests.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ port: 0 });
 * emulator.addUser({ username: 'dave', password: 'Secret1!' });
 * await emulator.stop();
 * ```
 */
export interface EmulatorHandle extends EmulatorControls {
  /** The base URL, e.g. `http://127.0.0.1:52711` (also the user-pool domain). */
  readonly url: string;
  /** Same as {@link url}: what the library calls `AWS_COGNITO_DOMAIN`. */
  readonly domain: string;
  /** `{url}/{poolId}`; set `AWS_COGNITO_ISSUER` to this. */
  readonly issuer: string;
  readonly poolId: string;
  readonly region: string;
  readonly port: number;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** Live switches for undocumented Cognito behaviour; assign properties to change them. */
  readonly switches: EmulatorSwitches;
  /** The in-process handler (no socket). */
  readonly fetch: (request: Request, info?: RequestInfo) => Promise<Response>;
  /** The underlying emulator (the same controls, plus everything else it offers). */
  readonly emulator: CognitoEmulator;
  /** Stops listening, releases hanging requests and closes every connection. Idempotent. */
  stop(): Promise<void>;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Adapts a Web `fetch` handler to `node:http`. The URL is built from the configured origin, not
 * the Host header, so a spoofed Host cannot change what the emulator thinks it is.
 */
export function nodeBridge(
  origin: string,
  handle: (request: Request, info: RequestInfo) => Promise<Response>,
  onRequest?: (entry: RequestLogEntry) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', origin);
    const finish = (status: number) => {
      onRequest?.({
        method,
        path: redactPath(url),
        status,
        durationMs: Math.round(performance.now() - started),
      });
    };
    void (async () => {
      let response: Response;
      try {
        const headers = new Headers();
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
          headers.append(req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '');
        }
        const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
        const request = new Request(url, {
          method,
          headers,
          ...(body !== undefined && body.length > 0 ? { body: new Uint8Array(body) } : {}),
        });
        response = await handle(request, { remoteAddress: req.socket.remoteAddress });
      } catch (error) {
        response =
          error instanceof BodyTooLarge
            ? new Response('Payload Too Large', { status: 413 })
            : new Response('Internal emulator error', { status: 500 });
      }
      if (res.destroyed) return;
      const payload = Buffer.from(await response.arrayBuffer());
      res.statusCode = response.status;
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') res.setHeader(name, value);
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) res.setHeader('set-cookie', cookies);
      res.setHeader('content-length', payload.length);
      res.end(method === 'HEAD' ? undefined : payload);
      finish(response.status);
    })();
  };
}

function originFor(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/**
 * Starts a local Cognito user pool on `node:http`.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'cognito-guard/emulator';
 *
 * const emulator = await startEmulator({ port: 0 });
 * process.env.AWS_COGNITO_DOMAIN = emulator.domain;
 * process.env.AWS_COGNITO_ISSUER = emulator.issuer;
 * // … run the app's tests …
 * await emulator.stop();
 * ```
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<EmulatorHandle> {
  const config =
    options.configFile !== undefined
      ? loadEmulatorConfigFile(options.configFile)
      : (options.config ?? DEMO_CONFIG);
  const host = options.host ?? '127.0.0.1';
  const publicOrigin = options.publicOrigin ?? options.origin;
  // Everything slow or fallible (validation, RSA key generation) happens before the port opens,
  // so a tool that waits for the port never meets a half-started emulator.
  const build = await CognitoEmulator.prepare({
    config,
    ...(publicOrigin !== undefined ? { origin: publicOrigin } : {}),
    ...(options.switches !== undefined ? { switches: options.switches } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.allowedHosts !== undefined ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.onMessage !== undefined ? { onMessage: options.onMessage } : {}),
  });
  let bridge: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    // The pool is built synchronously in the 'listening' callback, before the event loop can
    // deliver a connection; this guard only keeps the types honest.
    if (bridge) bridge(req, res);
    else res.writeHead(503).end();
  });
  const emulator = await new Promise<CognitoEmulator>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      try {
        const { port } = server.address() as AddressInfo;
        const ready = build(publicOrigin ?? originFor(host, port));
        bridge = nodeBridge(ready.origin, ready.fetch, options.onRequest);
        resolve(ready);
      } catch (error) {
        server.close();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    ...bindControls(emulator),
    url: emulator.origin,
    domain: emulator.domain,
    issuer: emulator.issuer,
    poolId: emulator.poolId,
    region: emulator.region,
    port,
    jwksUri: emulator.jwksUri,
    discoveryUrl: emulator.discoveryUrl,
    switches: emulator.switches,
    fetch: emulator.fetch,
    emulator,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        emulator.close();
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
