/**
 * A scriptable hostile (or broken) Cognito domain on 127.0.0.1, for the security cases the
 * emulator's switches, faults and `mintToken` cannot produce on their own: an ID token with
 * another nonce, another user's tokens on refresh, a token response with missing fields, and a
 * record of exactly what the library put on the wire (Basic auth encoding, redirect_uri,
 * code_verifier).
 *
 * It is a reverse proxy in front of an emulator's domain. Every request is recorded (headers and
 * body) and forwarded; a test may replace the answer of `/oauth2/token` or `/oauth2/revoke`, or
 * make the whole domain refuse connections or hang, as an unreachable or stalled Cognito would.
 * The issuer (and so the JWKS) stays the emulator's, so scripted tokens can be minted with the
 * emulator's real keys and differ only in the claim under test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from './http.js';

/** One request the library sent to the hostile domain. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body parsed as a form (empty for other bodies). */
  readonly form: URLSearchParams;
  /** The body of the answer sent back (scripted or forwarded), once sent. */
  answer: string | undefined;
}

/** The real answer of the upstream emulator, for a script to inspect or rewrite. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  json(): Record<string, unknown>;
}

/** What a script answers instead of the upstream. */
export interface ScriptedResponse {
  readonly status: number;
  /** A string is sent as is; an object as JSON. */
  readonly body: string | Readonly<Record<string, unknown>>;
  /** Default `application/json;charset=UTF-8`. */
  readonly contentType?: string;
}

/**
 * Decides the answer to one request. Return `undefined` to pass the upstream answer through.
 * `upstream()` forwards the request (at most once) and returns what the emulator said.
 */
export type Script = (
  request: CapturedRequest,
  upstream: () => Promise<UpstreamResponse>,
) => Promise<ScriptedResponse | undefined> | ScriptedResponse | undefined;

/** How the domain behaves as a whole. */
export type HostileMode = 'proxy' | 'refuse' | 'hang';

export interface HostileIssuer {
  /** The origin to configure as the guard's `domain`. */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: CapturedRequest[];
  /** Requests to `/oauth2/token`, optionally only those of one grant type. */
  tokenRequests(grantType?: string): CapturedRequest[];
  /** Script for `/oauth2/token`; `undefined` passes through. */
  onToken: Script | undefined;
  /** Script for `/oauth2/revoke`; `undefined` passes through. */
  onRevoke: Script | undefined;
  /**
   * `proxy` forwards; `refuse` destroys every connection at once (Cognito unreachable); `hang`
   * never answers until {@link HostileIssuer.stop}.
   */
  mode: HostileMode;
  /** Forgets the recorded requests and scripts, back to a plain proxy. */
  reset(): void;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'content-encoding',
]);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function capture(req: IncomingMessage, body: string): CapturedRequest {
  const url = new URL(req.url ?? '/', 'http://hostile.invalid');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const isForm = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    form: new URLSearchParams(isForm ? body : ''),
    answer: undefined,
  };
}

/**
 * Starts a hostile domain in front of `upstream` (an emulator's domain origin).
 *
 * @example
 * ```ts
 * const hostile = await startHostileIssuer(emulator.domain);
 * hostile.onToken = async (_request, upstream) => {
 *   const real = (await upstream()).json();
 *   return { status: 200, body: { ...real, id_token: forged } };
 * };
 * ```
 */
export async function startHostileIssuer(upstream: string): Promise<HostileIssuer> {
  const requests: CapturedRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const request = capture(req, body);
      requests.push(request);
      if (handle.mode === 'refuse') {
        req.socket.destroy();
        return;
      }
      if (handle.mode === 'hang') {
        hanging.add(res);
        return;
      }
      let forwarded: UpstreamResponse | undefined;
      const forward = async (): Promise<UpstreamResponse> => {
        if (forwarded !== undefined) return forwarded;
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (!HOP_BY_HOP.has(name)) headers.set(name, value);
        }
        const response = await fetch(new URL(req.url ?? '/', upstream), {
          method: request.method,
          headers,
          ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body }),
          redirect: 'manual',
        });
        const text = await response.text();
        forwarded = {
          status: response.status,
          headers: response.headers,
          body: text,
          json: () => JSON.parse(text) as Record<string, unknown>,
        };
        return forwarded;
      };
      const script =
        request.path === '/oauth2/token'
          ? handle.onToken
          : request.path === '/oauth2/revoke'
            ? handle.onRevoke
            : undefined;
      const scripted = script === undefined ? undefined : await script(request, forward);
      if (scripted !== undefined) {
        const payload =
          typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body);
        res.writeHead(scripted.status, {
          'content-type': scripted.contentType ?? 'application/json;charset=UTF-8',
          'cache-control': 'no-store',
        });
        request.answer = payload;
        res.end(payload);
        return;
      }
      const real = await forward();
      res.statusCode = real.status;
      real.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name) && name !== 'set-cookie') res.setHeader(name, value);
      });
      const cookies = real.headers.getSetCookie();
      if (cookies.length > 0) res.setHeader('set-cookie', cookies);
      request.answer = real.body;
      res.end(real.body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const port = await listenOn(server);

  const handle: HostileIssuer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokenRequests: (grantType) =>
      requests.filter(
        (r) =>
          r.path === '/oauth2/token' &&
          (grantType === undefined || r.form.get('grant_type') === grantType),
      ),
    onToken: undefined,
    onRevoke: undefined,
    mode: 'proxy',
    reset() {
      requests.length = 0;
      handle.onToken = undefined;
      handle.onRevoke = undefined;
      handle.mode = 'proxy';
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
  return handle;
}

/**
 * The client id and secret of a request's HTTP Basic credentials, form-decoded as RFC 6749
 * §2.3.1 asks (`+` is a space); `undefined` without Basic credentials.
 *
 * @example
 * ```ts
 * assert.equal(basicCredentials(hostile.tokenRequests()[0]!)?.clientId, 'my-client');
 * ```
 */
export function basicCredentials(
  request: CapturedRequest,
): { readonly clientId: string; readonly clientSecret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(request.headers['authorization'] ?? '');
  if (match === null) return undefined;
  const userPass = Buffer.from(match[1]!, 'base64').toString('utf8');
  const separator = userPass.indexOf(':');
  const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return {
    clientId: decode(userPass.slice(0, separator)),
    clientSecret: decode(userPass.slice(separator + 1)),
  };
}
