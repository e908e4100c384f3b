/**
 * The framework-neutral request and response shapes the core speaks.
 *
 * The per-request hot path only needs a method, a URL and a header lookup, so the core takes
 * this minimal shape rather than building a Web `Request` per call. Adapters translate their
 * framework's request into it and copy an {@link OutgoingResponse} back.
 *
 * @module
 */

/**
 * What the core reads from an incoming request.
 *
 * @example
 * ```ts
 * const request: IncomingRequest = {
 *   method: req.method,
 *   url: req.originalUrl,
 *   header: (name) => req.get(name),
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
}

/** What the core asks an adapter to send. */
export interface OutgoingResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers other than `Set-Cookie` (lower-case names). */
  headers: Record<string, string>;
  /** Complete `Set-Cookie` header values, in order. */
  setCookies: string[];
  /** Body text, if any; its type is in `headers['content-type']`. */
  body?: string;
}

/** Builds an empty response with the given status. */
export function emptyResponse(status: number): OutgoingResponse {
  return { status, headers: {}, setCookies: [] };
}
