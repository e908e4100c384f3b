/**
 * A local bridge for developing Lambda functions that sit behind an API Gateway HTTP API: a Node
 * HTTP server that turns each request into a payload format 2.0 event, invokes the handler, and
 * turns its result into the HTTP response — following AWS's documented mapping, so a handler
 * that works here works behind the real HTTP API (or a function URL, which uses the same payload).
 * No AWS account, Docker or download: it runs your handler in this process. It is a subpath of
 * its own so that a deployed function never loads it.
 *
 * What it reproduces, as AWS documents it:
 * - the event: `rawPath`, `rawQueryString` (without `?`), every cookie in `cookies` (not in
 *   `headers`), lower-case header names with repeated headers joined by commas,
 *   `queryStringParameters` with repeated keys joined by commas, `requestContext.http`, and a
 *   binary body base64-encoded with `isBase64Encoded: true`;
 * - the result: `statusCode`, `headers`, each `cookies` entry as its own `Set-Cookie`, a
 *   base64 `body` decoded when `isBase64Encoded`, and a result without `statusCode` sent as JSON;
 * - the limits: 10,240 bytes of request line and header values, a 10 MB body, a 30-second
 *   integration timeout; a failing handler answers 500 `{"message":"Internal Server Error"}`.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * @example
 * ```ts
 * import { serveLambda } from 'cognito-guard/lambda/bridge';
 *
 * const bridge = await serveLambda(handler, { port: 3000 });
 * console.log(`serving ${bridge.url}`);
 * ```
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  validateHeaderName,
  validateHeaderValue,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP API payload format 2.0 event, as the bridge builds it (assignable to
 * `APIGatewayProxyEventV2` of `@types/aws-lambda`).
 */
export interface HttpApiEvent {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** The invocation context the bridge passes (assignable to `Context` of `@types/aws-lambda`). */
export interface LambdaBridgeContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  /** Kept, as Lambda keeps it, for handlers of old runtimes: prefer returning a promise. */
  done(error?: Error, result?: unknown): void;
  /** Kept for handlers of old runtimes: prefer rejecting a promise. */
  fail(error: Error | string): void;
  /** Kept for handlers of old runtimes: prefer resolving a promise. */
  succeed(messageOrObject: unknown, object?: unknown): void;
}

/** A handler the bridge can invoke: async, or callback-style. */
export type HttpApiHandler = (
  event: HttpApiEvent,
  context: LambdaBridgeContext,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

/** Options of {@link lambdaBridge} and {@link serveLambda}. */
export interface LambdaBridgeOptions {
  /** Port to listen on ({@link serveLambda}); default 0 (any free port). */
  readonly port?: number | undefined;
  /** Address to listen on ({@link serveLambda}); default `127.0.0.1`. */
  readonly host?: string | undefined;
  /** HTTP API's integration timeout: past it the client gets 503. Default 30,000 ms. */
  readonly timeoutMs?: number | undefined;
  /** HTTP API's quota on the request line plus header values. Default 10,240 bytes. */
  readonly maxHeaderBytes?: number | undefined;
  /** HTTP API's payload quota. Default 10 MB. */
  readonly maxBodyBytes?: number | undefined;
  /** The function name the context reports. Default `local`. */
  readonly functionName?: string | undefined;
  /**
   * Called when the handler fails, times out or returns a malformed result (the client only
   * sees a 500/503, as on AWS). Default: one line on stderr with the error's name and message.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A running bridge. */
export interface LambdaBridgeServer {
  /** `http://{host}:{port}` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const QUOTAS = {
  /** "Total combined size of request line and header values": 10,240 bytes (HTTP API quotas). */
  maxHeaderBytes: 10_240,
  /** "Payload size": 10 MB (HTTP API quotas). */
  maxBodyBytes: 10 * 1024 * 1024,
  /** "Maximum integration timeout": 30 seconds (HTTP API quotas). */
  timeoutMs: 30_000,
} as const;

/**
 * Bodies of these types reach the function as text; any other body is base64-encoded with
 * `isBase64Encoded: true` ("if the content type of the request is binary, the body is
 * base64-encoded" — function URLs; the text types are those the load balancer documents).
 */
const TEXT_BODY = /^(text\/|application\/(json|javascript|xml)\b)/i;

/** Answers the bridge gives itself, with the bodies API Gateway uses. */
const GATEWAY_ANSWERS = {
  badRequest: [400, 'Bad Request'],
  tooLarge: [413, 'Request Entity Too Large'],
  headersTooLarge: [431, 'Request Header Fields Too Large'],
  failed: [500, 'Internal Server Error'],
  timedOut: [503, 'Service Unavailable'],
} as const;

/** A handler result the documented mapping cannot turn into a response. */
class MalformedResult extends Error {
  override readonly name = 'MalformedResult';
}

/** The response of a handler result. */
interface HttpAnswer {
  readonly status: number;
  readonly headers: readonly (readonly [string, string | string[]])[];
  readonly body: Buffer;
}

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function requestTime(epochMs: number): string {
  const date = new Date(epochMs);
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * The payload 2.0 event of a request. `requestId` is the one the response carries as
 * `apigw-requestid`: on AWS both are the same id, so a function's logs can be matched to a response.
 */
function httpApiEvent(
  request: IncomingMessage,
  target: { readonly path: string; readonly query: string },
  body: Buffer,
  requestId: string,
): HttpApiEvent {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    if (name === 'cookie') {
      // Every cookie of every Cookie header goes to `cookies`, one entry each.
      for (const cookie of value.split(';')) {
        const trimmed = cookie.trim();
        if (trimmed !== '') cookies.push(trimmed);
      }
    } else {
      const previous = headers[name];
      headers[name] = previous === undefined ? value : `${previous},${value}`;
    }
  }
  const now = Date.now();
  const host = headers['host'] ?? 'localhost';
  const event: HttpApiEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.path,
    rawQueryString: target.query,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method ?? 'GET',
        path: target.path,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (target.query !== '') {
    const parameters: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(target.query)) {
      const previous = parameters[key];
      parameters[key] = previous === undefined ? value : `${previous},${value}`;
    }
    event.queryStringParameters = parameters;
  }
  if (body.length > 0) {
    const text = TEXT_BODY.test(headers['content-type'] ?? '');
    event.body = body.toString(text ? 'utf8' : 'base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive']);

/** Turns a handler's result into a response, as API Gateway does for payload 2.0. */
function httpAnswer(result: unknown): HttpAnswer {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    // "If your Lambda function returns valid JSON and doesn't return a statusCode": 200, JSON.
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return {
      status: 200,
      headers: [['content-type', 'application/json']],
      body: Buffer.from(body, 'utf8'),
    };
  }
  const { statusCode, headers, cookies, body, isBase64Encoded } = result as Record<string, unknown>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode)) {
    throw new MalformedResult('statusCode is not an integer');
  }
  if (statusCode < 100 || statusCode > 599) throw new MalformedResult('statusCode out of range');
  const out: (readonly [string, string | string[]])[] = [];
  const setCookies: string[] = [];
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') throw new MalformedResult('headers is not an object');
    for (const [name, value] of Object.entries(headers)) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new MalformedResult(`header ${name} is not a string, number or boolean`);
      }
      const text = String(value as string | number | boolean);
      validateHeaderName(name);
      validateHeaderValue(name, text);
      const lower = name.toLowerCase();
      if (lower === 'set-cookie') setCookies.push(text);
      else if (!HOP_BY_HOP.has(lower)) out.push([lower, text]);
    }
  }
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies)) throw new MalformedResult('cookies is not an array');
    for (const cookie of cookies) {
      if (typeof cookie !== 'string') throw new MalformedResult('a cookie is not a string');
      validateHeaderValue('set-cookie', cookie);
      setCookies.push(cookie);
    }
  }
  // Each cookie is its own Set-Cookie header, never one header joined with commas.
  if (setCookies.length > 0) out.push(['set-cookie', setCookies]);
  if (body !== undefined && body !== null && typeof body !== 'string') {
    throw new MalformedResult('body is not a string');
  }
  const text = body ?? '';
  return {
    status: statusCode,
    headers: out,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

function gatewayAnswer([status, message]: readonly [number, string]): HttpAnswer {
  return {
    status,
    headers: [['content-type', 'application/json']],
    body: Buffer.from(JSON.stringify({ message }), 'utf8'),
  };
}

function send(response: ServerResponse, answer: HttpAnswer, requestId: string): void {
  if (response.headersSent) return;
  response.statusCode = answer.status;
  for (const [name, value] of answer.headers) response.setHeader(name, value);
  response.setHeader('apigw-requestid', requestId);
  response.setHeader('content-length', answer.body.length);
  response.end(answer.body);
}

/** Path and query of the request target (origin form, or the path of an absolute form). */
function requestTarget(url: string): { path: string; query: string } | undefined {
  if (url.startsWith('/')) {
    const mark = url.indexOf('?');
    return mark === -1
      ? { path: url, query: '' }
      : { path: url.slice(0, mark), query: url.slice(mark + 1) };
  }
  try {
    const parsed = new URL(url);
    return { path: parsed.pathname, query: parsed.search.replace(/^\?/, '') };
  } catch {
    return undefined;
  }
}

/** The byte count HTTP API's header quota is about: the request line and every header value. */
function headerBytes(request: IncomingMessage): number {
  let bytes = Buffer.byteLength(
    `${request.method ?? ''} ${request.url ?? ''} HTTP/${request.httpVersion}`,
  );
  for (let i = 1; i < request.rawHeaders.length; i += 2) {
    bytes += Buffer.byteLength(request.rawHeaders[i] ?? '');
  }
  return bytes;
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Invokes a handler the way the Lambda runtime does: a promise, or the callback, first wins. */
function invoke(
  handler: HttpApiHandler,
  event: HttpApiEvent,
  functionName: string,
  timeoutMs: number,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void => {
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const context: LambdaBridgeContext = {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
      memoryLimitInMB: '128',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: (error, result) => {
        if (error) fail(error);
        else resolve(result);
      },
      fail,
      succeed: (result) => {
        resolve(result);
      },
    };
    try {
      const returned = handler(event, context, (error, result) => {
        if (error !== undefined && error !== null) fail(error);
        else resolve(result);
      });
      if (isThenable(returned)) returned.then(resolve, fail);
      else if (returned !== undefined) resolve(returned);
    } catch (error) {
      fail(error);
    }
  });
}

function defaultOnError(error: unknown): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`lambda bridge: the handler failed (${text})\n`);
}

/**
 * The bridge as a Node request listener, for a server of your own.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(lambdaBridge(handler)).listen(3000, '127.0.0.1');
 * ```
 */
export function lambdaBridge(
  handler: HttpApiHandler,
  options: LambdaBridgeOptions = {},
): RequestListener {
  const maxHeaderBytes = options.maxHeaderBytes ?? QUOTAS.maxHeaderBytes;
  const maxBodyBytes = options.maxBodyBytes ?? QUOTAS.maxBodyBytes;
  const timeoutMs = options.timeoutMs ?? QUOTAS.timeoutMs;
  const functionName = options.functionName ?? 'local';
  const onError = options.onError ?? defaultOnError;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomBytes(12).toString('base64url');
    const reply = (answer: HttpAnswer): void => {
      send(response, answer, requestId);
    };
    if (headerBytes(request) > maxHeaderBytes) {
      response.setHeader('connection', 'close');
      reply(gatewayAnswer(GATEWAY_ANSWERS.headersTooLarge));
      return;
    }
    const target = requestTarget(request.url ?? '/');
    if (target === undefined) {
      reply(gatewayAnswer(GATEWAY_ANSWERS.badRequest));
      return;
    }
    const body = await readBody(request, maxBodyBytes);
    if (body === undefined) {
      response.setHeader('connection', 'close');
      reply(gatewayAnswer(GATEWAY_ANSWERS.tooLarge));
      return;
    }
    const event = httpApiEvent(request, target, body, requestId);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout' as const);
      timer.unref();
    });
    try {
      const result = await Promise.race([
        invoke(handler, event, functionName, timeoutMs),
        timedOut,
      ]);
      if (result === 'timeout') {
        onError(new Error(`the handler did not answer within ${timeoutMs} ms`));
        reply(gatewayAnswer(GATEWAY_ANSWERS.timedOut));
        return;
      }
      reply(httpAnswer(result));
    } catch (error) {
      onError(error);
      reply(gatewayAnswer(GATEWAY_ANSWERS.failed));
    } finally {
      clearTimeout(timer);
    }
  };

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      onError(error);
      if (!response.headersSent) send(response, gatewayAnswer(GATEWAY_ANSWERS.failed), '');
      else response.destroy();
    });
  };
}

/**
 * Serves `handler` over HTTP on `options.host`:`options.port` (default 127.0.0.1, any free
 * port) through the payload 2.0 bridge.
 *
 * @example
 * ```ts
 * const bridge = await serveLambda(handler, { port: 3000 });
 * // … later
 * await bridge.close();
 * ```
 */
export async function serveLambda(
  handler: HttpApiHandler,
  options: LambdaBridgeOptions = {},
): Promise<LambdaBridgeServer> {
  const server = createServer(lambdaBridge(handler, options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
