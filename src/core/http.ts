/**
 * The framework-neutral request and response shapes the core speaks, and the results an adapter
 * translates back into its framework (the adapter contract is written out in `src/adapters.md`).
 *
 * The per-request hot path only needs a method, a URL and a header lookup, so the core takes
 * this minimal shape rather than building a Web `Request` per call.
 *
 * @module
 */
import type { CognitoIdentity } from './claims.js';

/**
 * What the core reads from an incoming request.
 *
 * @example
 * ```ts
 * const request: IncomingRequest = {
 *   method: 'GET',
 *   url: '/claims?tab=1',
 *   header: (name) => (name === 'cookie' ? 'cognito_access_token=eyJ…' : undefined),
 * };
 * ```
 */
export interface IncomingRequest {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path and query as received, e.g. `/postlogin?code=…&state=…`. */
  readonly url: string;
  /**
   * Looks up a header by lower-case name. Repeated headers are joined as Node joins them
   * (`cookie` with `; `, others with `, `). Returns `undefined` when absent.
   */
  header(name: string): string | undefined;
  /**
   * The most bytes the platform in front lets the `Cookie` header take on a next request like
   * this one, when it caps the request's headers (API Gateway: 10,240 bytes of request line and
   * header values, minus this request's other headers). Adapters for such platforms set it: a
   * session whose cookies would not fit is then refused at sign-in, with advice, instead of
   * being set and refused with 431 on every later request, logout included. `undefined`: no cap
   * beyond the library's own.
   */
  readonly cookieHeaderLimitBytes?: number | undefined;
}

/**
 * A complete response for the adapter to send.
 *
 * @example
 * ```ts
 * const response: OutgoingResponse = { status: 302, headers: { location: '/claims' }, setCookies: [] };
 * ```
 */
export interface OutgoingResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers other than `Set-Cookie` (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** Complete `Set-Cookie` header values, in order; each must be sent as its own header. */
  readonly setCookies: readonly string[];
  /** Body text, if any; its type is in `headers['content-type']`. */
  readonly body?: string | undefined;
}

/**
 * The guard is done with the request: send `response` and run nothing else.
 *
 * @example
 * ```ts
 * if (result.action === 'respond') {
 *   res.status(result.response.status).set(result.response.headers).send(result.response.body);
 * }
 * ```
 */
export interface RespondResult {
  readonly action: 'respond';
  readonly response: OutgoingResponse;
}

/**
 * The request may go on to the app's handler: add `headers` and `setCookies` to whatever the
 * handler sends, and hand it `identity`.
 *
 * @example
 * ```ts
 * if (result.action === 'continue') {
 *   for (const cookie of result.setCookies) res.append('Set-Cookie', cookie);
 *   if (result.identity !== undefined) req.cognito = result.identity;
 * }
 * ```
 */
export interface ContinueResult {
  readonly action: 'continue';
  /** The verified identity; `undefined` when the guard is disabled or the route is optional. */
  readonly identity: CognitoIdentity | undefined;
  /** Headers the response must carry (e.g. `cache-control: no-store` when cookies change). */
  readonly headers: Readonly<Record<string, string>>;
  /** Cookies the response must set (a completed sign-in, a refreshed session). */
  readonly setCookies: readonly string[];
  /** The safe return-to path stored at login (callback only). */
  readonly returnTo?: string | undefined;
}

/** What every guard entry point returns: respond now, or continue to the app's handler. */
export type GuardResult = RespondResult | ContinueResult;

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_COOKIES: readonly string[] = Object.freeze([]);

/** A result that sends `response`. */
export function respond(response: OutgoingResponse): RespondResult {
  return { action: 'respond', response };
}

/** A result that continues with `identity`, and nothing to add to the response. */
export function proceed(identity: CognitoIdentity | undefined): ContinueResult {
  return { action: 'continue', identity, headers: NO_HEADERS, setCookies: NO_COOKIES };
}

/** The path of a request URL, without its query; a request-target in absolute form is reduced to its path. */
export function requestPath(request: IncomingRequest): string {
  const { url } = request;
  if (url.startsWith('/') && !url.startsWith('//')) {
    const query = url.search(/[?#]/);
    return query === -1 ? url : url.slice(0, query);
  }
  try {
    return new URL(url, 'http://request.invalid').pathname;
  } catch {
    return '/';
  }
}

/** The query parameters of a request URL. */
export function queryParameters(request: IncomingRequest): URLSearchParams {
  const query = request.url.indexOf('?');
  return new URLSearchParams(query === -1 ? '' : request.url.slice(query + 1));
}
