/**
 * The HTTP events AWS Lambda receives — API Gateway REST (payload 1.0), HTTP API (payload 2.0),
 * Application Load Balancer (multi-value headers on or off) and function URLs (payload 2.0) —
 * seen as the core's {@link IncomingRequest}, and responses written back in the shape the event
 * came in.
 *
 * The types here are structural: an event typed with `@types/aws-lambda` (`APIGatewayProxyEvent`,
 * `APIGatewayProxyEventV2`, `ALBEvent`, `LambdaFunctionURLEvent`) is accepted as it is, and every
 * result is assignable to the matching `@types/aws-lambda` result type, but nothing here needs that
 * package installed.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * @module
 */
import { STATUS_CODES } from 'node:http';
import { ConfigurationError, type IncomingRequest, type OutgoingResponse } from '../index.js';

/** Single-value headers or query parameters as AWS sends them (a value may be absent). */
export type SingleValueMap = Readonly<Record<string, string | undefined>>;
/** Multi-value headers or query parameters as AWS sends them. */
export type MultiValueMap = Readonly<Record<string, readonly string[] | undefined>>;

/**
 * An API Gateway REST API event, or an HTTP API event in payload format 1.0.
 *
 * @example
 * ```ts
 * const event: ApiGatewayV1Event = {
 *   httpMethod: 'GET',
 *   path: '/claims',
 *   multiValueHeaders: { Cookie: ['cognito_access_token=eyJ…; cognito_id_token=eyJ…'] },
 *   requestContext: { path: '/prod/claims' },
 * };
 * ```
 */
export interface ApiGatewayV1Event {
  readonly httpMethod: string;
  /** The path below the stage (`/claims`). */
  readonly path: string;
  readonly headers?: SingleValueMap | null | undefined;
  readonly multiValueHeaders?: MultiValueMap | null | undefined;
  /** Percent-decoded by API Gateway. */
  readonly queryStringParameters?: SingleValueMap | null | undefined;
  readonly multiValueQueryStringParameters?: MultiValueMap | null | undefined;
  /** `path` here is the path the browser used, with the stage or base path (`/prod/claims`). */
  readonly requestContext?: { readonly path?: string | undefined } | undefined;
  readonly body?: string | null | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

/**
 * An API Gateway HTTP API event in payload format 2.0, or a Lambda function URL event.
 *
 * @example
 * ```ts
 * const event: ApiGatewayV2Event = {
 *   rawPath: '/claims',
 *   rawQueryString: '',
 *   cookies: ['cognito_access_token=eyJ…', 'cognito_id_token=eyJ…'],
 *   headers: { accept: 'application/json' },
 *   requestContext: { http: { method: 'GET' } },
 * };
 * ```
 */
export interface ApiGatewayV2Event {
  readonly version?: string | undefined;
  readonly rawPath: string;
  readonly rawQueryString?: string | undefined;
  /** Every cookie of the request, one `name=value` each. */
  readonly cookies?: readonly string[] | undefined;
  /** Lower-case names; repeated headers joined with commas. */
  readonly headers?: SingleValueMap | undefined;
  readonly requestContext: { readonly http: { readonly method: string } };
  readonly body?: string | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

/**
 * An Application Load Balancer event. With the target group's multi-value headers on, the event
 * carries `multiValueHeaders` (and the response must too); otherwise `headers`.
 *
 * @example
 * ```ts
 * const event: AlbEvent = {
 *   requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:…' } },
 *   httpMethod: 'GET',
 *   path: '/claims',
 *   multiValueHeaders: { cookie: ['cognito_access_token=eyJ…', 'cognito_id_token=eyJ…'] },
 * };
 * ```
 */
export interface AlbEvent {
  readonly requestContext: { readonly elb: { readonly targetGroupArn: string } };
  readonly httpMethod: string;
  readonly path: string;
  readonly headers?: SingleValueMap | undefined;
  readonly multiValueHeaders?: MultiValueMap | undefined;
  /** Passed on as the client sent them: the load balancer does not decode them. */
  readonly queryStringParameters?: SingleValueMap | undefined;
  readonly multiValueQueryStringParameters?: MultiValueMap | undefined;
  readonly body?: string | null | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

/** Any HTTP event this adapter understands. */
export type LambdaHttpEvent = ApiGatewayV1Event | ApiGatewayV2Event | AlbEvent;

/**
 * A result for API Gateway REST or HTTP API payload 1.0: repeated headers (every `Set-Cookie`) in
 * `multiValueHeaders`.
 */
export interface ApiGatewayV1Result {
  statusCode: number;
  headers: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** A result for HTTP API payload 2.0 and function URLs: each `cookies` entry becomes a `Set-Cookie`. */
export interface ApiGatewayV2Result {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** A result for an Application Load Balancer, in the header shape its event used. */
export interface AlbResult {
  statusCode: number;
  /** The status code and its reason phrase, as the load balancer requires (`302 Found`). */
  statusDescription: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** The result type that answers an event of type `E`. */
export type LambdaResultFor<E> = E extends { readonly requestContext: { readonly elb: unknown } }
  ? AlbResult
  : E extends { readonly rawPath: string }
    ? ApiGatewayV2Result
    : ApiGatewayV1Result;

/**
 * What an app's handler answers, in whichever of the Lambda shapes it prefers (`headers`,
 * `multiValueHeaders`, `cookies`): the adapter rewrites it into the shape the event needs.
 *
 * @example
 * ```ts
 * const response: LambdaHttpResponse = {
 *   statusCode: 200,
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ ok: true }),
 * };
 * ```
 */
export interface LambdaHttpResponse {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly multiValueHeaders?:
    Readonly<Record<string, readonly (string | number | boolean)[]>> | undefined;
  /** Complete `Set-Cookie` values, each sent as its own header. */
  readonly cookies?: readonly string[] | undefined;
  readonly body?: string | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

const V1 = 0;
const V2 = 1;
const ALB_SINGLE = 2;
const ALB_MULTI = 3;
type Shape = typeof V1 | typeof V2 | typeof ALB_SINGLE | typeof ALB_MULTI;

function shapeOf(event: LambdaHttpEvent): Shape {
  if (typeof (event as Partial<ApiGatewayV2Event>).rawPath === 'string') return V2;
  const context = (event as { requestContext?: object | null }).requestContext;
  if (typeof context === 'object' && context !== null && 'elb' in context) {
    // The load balancer sends multiValueHeaders exactly when the target group has them on, and
    // then reads only multiValueHeaders from the response.
    return (event as AlbEvent).multiValueHeaders ? ALB_MULTI : ALB_SINGLE;
  }
  return V1;
}

/** "Total combined size of request line and header values" (API Gateway quotas). */
const API_GATEWAY_HEADER_QUOTA_BYTES = 10_240;

/** A function URL's event has the payload 2.0 shape; its domain says which it is. */
function isFunctionUrl(event: LambdaHttpEvent): boolean {
  const domain = (event as { requestContext?: { domainName?: unknown } }).requestContext
    ?.domainName;
  return typeof domain === 'string' && domain.includes('.lambda-url.');
}

/** Looks a header up by its lower-case name; REST APIs keep the client's spelling of names. */
function lookup<T>(map: Readonly<Record<string, T | undefined>>, name: string): T | undefined {
  const exact = map[name];
  if (exact !== undefined) return exact;
  for (const key in map) {
    if (key.length === name.length && key.toLowerCase() === name) return map[key];
  }
  return undefined;
}

/**
 * HTTP APIs hand the path over percent-decoded, so a `?`, `#` or space in it would read as URL
 * syntax (a decoded `%3F` turning part of the path into a query). Re-encode what can never appear
 * literally in a request path; an encoded path passes unchanged.
 */
function safePath(path: string): string {
  return /[?#\s\x00-\x1f\x7f-\uffff]/.test(path)
    ? path.replace(/[?#\s\x00-\x1f\x7f-\uffff]/g, (c) => encodeURIComponent(c))
    : path;
}

/** Rebuilds a query string from parameters (`encode` for API Gateway, which decodes them). */
function queryString(
  multi: MultiValueMap | null | undefined,
  single: SingleValueMap | null | undefined,
  encode: (text: string) => string,
): string {
  const parts: string[] = [];
  if (multi) {
    for (const [key, values] of Object.entries(multi)) {
      for (const value of values ?? []) parts.push(`${encode(key)}=${encode(value)}`);
    }
  } else if (single) {
    for (const [key, value] of Object.entries(single)) {
      if (value !== undefined) parts.push(`${encode(key)}=${encode(value)}`);
    }
  }
  return parts.join('&');
}

const keepAsSent = (text: string): string => text;

const NO_EVENT: ApiGatewayV1Event = Object.freeze({ httpMethod: 'GET', path: '/' });

/**
 * A Lambda HTTP event seen through the core's {@link IncomingRequest}: one object per request,
 * reading the event in place (the URL is built only if the core asks for it).
 *
 * @example
 * ```ts
 * const result = await guard.protector({ groups: ['admin'] })(new LambdaRequest(event));
 * ```
 */
export class LambdaRequest implements IncomingRequest {
  /** Which of the event shapes this is (how {@link toLambdaResult} writes the answer). */
  readonly shape: Shape;
  /** The event as received. */
  readonly event: LambdaHttpEvent;
  #url: string | undefined;

  constructor(event: LambdaHttpEvent) {
    // A function wired to a non-HTTP trigger (or invoked by hand) may get anything: read it as
    // an empty request, which the core refuses, rather than throw.
    this.event = typeof event === 'object' && (event as unknown) !== null ? event : NO_EVENT;
    this.shape = shapeOf(this.event);
  }

  get method(): string {
    const method =
      this.shape === V2
        ? (this.event as { requestContext?: { http?: { method?: unknown } } }).requestContext?.http
            ?.method
        : (this.event as { httpMethod?: unknown }).httpMethod;
    return typeof method === 'string' ? method.toUpperCase() : 'GET';
  }

  /** The path as the browser used it (with a REST API's stage), and the query. */
  get url(): string {
    if (this.#url !== undefined) return this.#url;
    let path: string;
    let query: string;
    if (this.shape === V2) {
      const event = this.event as ApiGatewayV2Event;
      path = event.rawPath;
      query = (event.rawQueryString ?? '').replace(/^\?/, '');
    } else {
      const event = this.event as ApiGatewayV1Event;
      const browserPath = this.shape === V1 ? event.requestContext?.path : undefined;
      path = typeof browserPath === 'string' && browserPath !== '' ? browserPath : event.path;
      query = queryString(
        event.multiValueQueryStringParameters,
        event.queryStringParameters,
        this.shape === V1 ? encodeURIComponent : keepAsSent,
      );
    }
    path = typeof path === 'string' && path.startsWith('/') ? safePath(path) : '/';
    this.#url = query === '' ? path : `${path}?${query}`;
    return this.#url;
  }

  /**
   * API Gateway caps the request line plus header values at 10,240 bytes (REST and HTTP APIs
   * alike): what this request's other headers leave for the Cookie header. Load balancers (16 KB
   * per header) and function URLs have no such cap here.
   */
  get cookieHeaderLimitBytes(): number | undefined {
    const apiGateway = this.shape === V1 || (this.shape === V2 && !isFunctionUrl(this.event));
    if (!apiGateway) return undefined;
    const encoder = new TextEncoder();
    let used = encoder.encode(`${this.method} ${this.url} HTTP/1.1`).length;
    const headers =
      this.shape === V2
        ? (this.event as ApiGatewayV2Event).headers
        : (this.event as ApiGatewayV1Event).headers;
    for (const name in headers ?? {}) {
      if (name.toLowerCase() === 'cookie') continue;
      used += encoder.encode(headers?.[name] ?? '').length;
    }
    return API_GATEWAY_HEADER_QUOTA_BYTES - used;
  }

  header(name: string): string | undefined {
    if (this.shape === V2) {
      const event = this.event as ApiGatewayV2Event;
      if (name === 'cookie' && event.cookies !== undefined && event.cookies.length > 0) {
        return event.cookies.join('; ');
      }
      return event.headers?.[name];
    }
    const event = this.event as ApiGatewayV1Event;
    if (event.multiValueHeaders) {
      const values = lookup(event.multiValueHeaders, name);
      if (values !== undefined && values.length > 0) {
        return values.join(name === 'cookie' ? '; ' : ', ');
      }
    }
    return event.headers ? lookup(event.headers, name) : undefined;
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_COOKIES: readonly string[] = Object.freeze([]);

/** A core response as a {@link LambdaHttpResponse}. */
function fromOutgoing(response: OutgoingResponse): LambdaHttpResponse {
  return {
    statusCode: response.status,
    headers: response.headers,
    cookies: response.setCookies,
    body: response.body,
  };
}

/**
 * Writes `answer` (the app's response, or the core's) in the shape `request`'s event needs, after the guard's own `headers` (which
 * the app's may override) and `setCookies` (to which the app's are added). Every `Set-Cookie`
 * stays its own header: `cookies` for payload 2.0, `multiValueHeaders` for REST and for a load
 * balancer with multi-value headers.
 *
 * @throws {@link ConfigurationError} when a load balancer without multi-value headers would have
 *   to carry more than one `Set-Cookie`: it has no way to, and dropping any would break the session.
 * @example
 * ```ts
 * const response = toLambdaResult(request, { statusCode: 200, body: 'ok' }, { 'cache-control': 'no-store' }, []);
 * ```
 */
export function toLambdaResult<E extends LambdaHttpEvent>(
  request: LambdaRequest,
  answer: LambdaHttpResponse | OutgoingResponse,
  guardHeaders: Readonly<Record<string, string>> = NO_HEADERS,
  guardCookies: readonly string[] = NO_COOKIES,
): LambdaResultFor<E> {
  const response = 'status' in answer ? fromOutgoing(answer) : answer;
  const headers: Record<string, string[]> = {};
  const cookies = [...guardCookies];
  for (const [name, value] of Object.entries(guardHeaders)) headers[name.toLowerCase()] = [value];
  for (const [name, value] of Object.entries(response.headers ?? NO_HEADERS)) {
    const key = name.toLowerCase();
    if (key === 'set-cookie') cookies.push(String(value));
    else headers[key] = [String(value)];
  }
  for (const [name, values] of Object.entries(response.multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    if (key === 'set-cookie') cookies.push(...values.map(String));
    else headers[key] = values.map(String);
  }
  if (response.cookies) cookies.push(...response.cookies);

  const statusCode = response.statusCode;
  const body = response.body ?? '';
  const isBase64Encoded = response.isBase64Encoded === true;
  const result = ((): ApiGatewayV1Result | ApiGatewayV2Result | AlbResult => {
    switch (request.shape) {
      case V2: {
        // Payload 2.0 joins repeated headers with commas; cookies travel apart.
        const single = joined(headers, ',');
        return cookies.length > 0
          ? { statusCode, headers: single, cookies, body, isBase64Encoded }
          : { statusCode, headers: single, body, isBase64Encoded };
      }
      case V1: {
        const single: Record<string, string> = {};
        const multi: Record<string, string[]> = {};
        for (const [name, values] of Object.entries(headers)) {
          if (values.length === 1) single[name] = values[0] ?? '';
          else multi[name] = values;
        }
        if (cookies.length > 0) multi['set-cookie'] = cookies;
        return Object.keys(multi).length > 0
          ? { statusCode, headers: single, multiValueHeaders: multi, body, isBase64Encoded }
          : { statusCode, headers: single, body, isBase64Encoded };
      }
      case ALB_MULTI: {
        if (cookies.length > 0) headers['set-cookie'] = cookies;
        const statusDescription = describeStatus(statusCode);
        return { statusCode, statusDescription, multiValueHeaders: headers, body, isBase64Encoded };
      }
      case ALB_SINGLE: {
        if (cookies.length > 1) {
          throw new ConfigurationError([
            `a response must set ${cookies.length} cookies, but this load balancer target group sends single-value headers, which carry one Set-Cookie at most: turn on its multi-value headers (attribute lambda.multi_value_headers.enabled)`,
          ]);
        }
        const single = joined(headers, ', ');
        if (cookies[0] !== undefined) single['set-cookie'] = cookies[0];
        const statusDescription = describeStatus(statusCode);
        return { statusCode, statusDescription, headers: single, body, isBase64Encoded };
      }
    }
  })();
  return result as LambdaResultFor<E>;
}

function joined(headers: Record<string, string[]>, separator: string): Record<string, string> {
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) single[name] = values.join(separator);
  return single;
}

/** `302 Found`: the load balancer wants the code and its reason phrase. */
function describeStatus(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}
