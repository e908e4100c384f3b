/**
 * Fetch-API adapter, for every runtime that speaks Web `Request`/`Response`: Cloudflare Workers,
 * Deno, Bun, SvelteKit, React Router 7, Hono (which has its own idiom in `cognito-guard/hono`).
 * It translates; all decisions live in the core (`src/adapters.md`). It imports nothing from
 * Node, so it runs in workerd as it does in Node.
 *
 * @example
 * ```ts
 * import { fromEnv } from 'cognito-guard';
 * import { cognitoGuard, withSession } from 'cognito-guard/web';
 *
 * const auth = cognitoGuard(fromEnv(process.env));
 * const login = auth.login();
 * const callback = auth.callback({ redirectTo: '/claims' });
 * const signedIn = auth.required();
 *
 * export async function handle(request: Request): Promise<Response> {
 *   const { pathname } = new URL(request.url);
 *   if (pathname === '/login') return login(request);
 *   if (pathname === '/postlogin') return callback(request);
 *   const result = await signedIn(request);
 *   if (result instanceof Response) return result; // 401, 403…
 *   return withSession(result, Response.json({ sub: result.identity?.claims.sub }));
 * }
 * ```
 * @module
 */
import {
  CognitoApiGuard,
  CognitoGuard,
  ConfigurationError,
  type ApiGuardOptions,
  type CallbackOptions,
  type CognitoGuardOptions,
  type ContinueResult,
  type GuardResult,
  type IncomingRequest,
  type LoginOptions,
  type LogoutOptions,
  type OutgoingResponse,
  type ProtectOptions,
  type Protector,
  type Requirement,
} from '../index.js';

/**
 * A Fetch `Request` seen through the core's {@link IncomingRequest}: one object, no closure.
 *
 * The core wants the path and query as received; a Fetch `Request` only has the absolute URL,
 * so the origin is cut off here (the core builds every URL it sends from configuration, never
 * from the request's host).
 *
 * Repeated request headers come joined with `, ` (the Fetch API's rule). For `Cookie` that only
 * happens when a client splits it over several header lines (HTTP/2 clients may, and servers
 * rejoin them with `; `); the tokens then fail to parse and the request is treated as signed
 * out, never as someone else.
 *
 * @example
 * ```ts
 * const view = new WebRequest(new Request('https://app.example/claims?tab=1'));
 * view.url; // '/claims?tab=1'
 * ```
 */
export class WebRequest implements IncomingRequest {
  constructor(readonly request: Request) {}
  get method(): string {
    return this.request.method;
  }
  get url(): string {
    return pathAndQuery(this.request.url);
  }
  header(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }
}

/**
 * `/path?query` of an absolute URL. A fragment is dropped (a server never receives one, but a
 * `Request` built in code may carry it, and it must not end up in the last query parameter).
 */
function pathAndQuery(url: string): string {
  const fragment = url.indexOf('#');
  const whole = fragment === -1 ? url : url.slice(0, fragment);
  const scheme = whole.indexOf('://');
  if (scheme === -1) return whole;
  const path = whole.indexOf('/', scheme + 3);
  if (path !== -1) return whole.slice(path);
  const query = whole.indexOf('?', scheme + 3);
  return query === -1 ? '/' : `/${whole.slice(query)}`;
}

/**
 * A core response as a Fetch `Response`, each cookie its own `Set-Cookie` header.
 *
 * @example
 * ```ts
 * const response = toResponse(await guard.login(new WebRequest(request)));
 * response.headers.getSetCookie(); // ['cognito_txn_…=…; Path=/; HttpOnly; …']
 * ```
 */
export function toResponse(outgoing: OutgoingResponse): Response {
  const headers = new Headers(outgoing.headers);
  for (const cookie of outgoing.setCookies) headers.append('set-cookie', cookie);
  return new Response(outgoing.body ?? null, { status: outgoing.status, headers });
}

/**
 * Adds a continue result's headers and cookies to `headers`, in place.
 *
 * @throws TypeError when `headers` is immutable (those of a `Response` from `fetch()` or
 *   `Response.redirect()`); {@link withSession} copies such a response instead.
 * @example
 * ```ts
 * const result = await cognitoGuard(fromEnv(env)).required()(request);
 * const response = new Response('ok');
 * if (!(result instanceof Response)) appendSession(response.headers, result);
 * ```
 */
export function appendSession(headers: Headers, result: ContinueResult): void {
  // Set, not append: a response that changes the session must not be cached, whatever the
  // app's handler said.
  for (const name in result.headers) headers.set(name, result.headers[name] ?? '');
  for (const cookie of result.setCookies) headers.append('set-cookie', cookie);
}

/**
 * The app's response with the continue result's headers and cookies added (a completed
 * sign-in, a refreshed session). Returns `response` itself when there is nothing to add or its
 * headers can be changed, a copy when they cannot.
 *
 * @example
 * ```ts
 * const signedIn = cognitoGuard(fromEnv(env)).required();
 * export async function claims(request: Request): Promise<Response> {
 *   const result = await signedIn(request);
 *   if (result instanceof Response) return result;
 *   return withSession(result, Response.json(result.identity?.claims));
 * }
 * ```
 */
export function withSession(result: ContinueResult, response: Response): Response {
  if (result.setCookies.length === 0 && isEmpty(result.headers)) return response;
  try {
    appendSession(response.headers, result);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // Immutable headers: the first change threw, so nothing was applied to the original.
    const copy = new Response(response.body, response);
    appendSession(copy.headers, result);
    return copy;
  }
}

function isEmpty(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return false;
  return true;
}

/** A request handler: `(request) => Promise<Response>`, the shape every Fetch runtime routes to. */
export type WebHandler = (request: Request) => Promise<Response>;

/**
 * What a protector answers: a ready `Response` (401, 403, a redirect to login…) to return as
 * it is, or the core's {@link ContinueResult} with the identity, whose headers and cookies go on
 * the app's response through {@link withSession}.
 */
export type WebProtectResult = Response | ContinueResult;

/**
 * The protection of one route. It answers without a promise when the verified-token cache knows
 * the tokens; `await` works on both.
 *
 * @example
 * ```ts
 * const admins: WebProtector = cognitoGuard(fromEnv(env)).required({ groups: ['admin'] });
 * export async function adminPage(request: Request): Promise<Response> {
 *   const result = await admins(request);
 *   if (result instanceof Response) return result;
 *   return withSession(result, new Response('welcome'));
 * }
 * ```
 */
export type WebProtector = (request: Request) => WebProtectResult | Promise<WebProtectResult>;

/**
 * Builds the app's response once the guard lets a request through: after a completed sign-in
 * (`callback` without `redirectTo`) or a refresh. Its headers and cookies are added for you.
 */
export type WebContinuation = (
  request: Request,
  result: ContinueResult,
) => Response | Promise<Response>;

/** A settled core result in Fetch terms (allocates only for a refusal). */
function settle(result: GuardResult): WebProtectResult {
  return result.action === 'respond' ? toResponse(result.response) : result;
}

/** The errorResponse of either guard. */
type ErrorResponder = (error: unknown, request: IncomingRequest) => OutgoingResponse;

function protectWith(protector: Protector, onError: ErrorResponder): WebProtector {
  return (request) => {
    const view = new WebRequest(request);
    const result = protector(view);
    // Steady state: the tokens are already verified and the answer needs no promise.
    if (!(result instanceof Promise)) return settle(result);
    return result.then(settle, (error: unknown) => toResponse(onError(error, view)));
  };
}

/** The Fetch-API handlers and protectors of a {@link CognitoGuard}. */
export interface WebCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** `GET /login`: redirects to Cognito. Options may depend on the request (identity provider…). */
  login(options?: LoginOptions | ((request: Request) => LoginOptions)): WebHandler;
  /**
   * The redirect URL's route. With `redirectTo`, answers with the redirect (to the `returnTo`
   * stored at login, else `redirectTo`); without it, `then` builds the answer and the session
   * cookies are added to it. One of the two is required.
   */
  callback(options?: CallbackOptions, then?: WebContinuation): WebHandler;
  /** `POST /refresh`: refreshes the session; `then` builds the answer (cookies added). */
  refresh(then: WebContinuation): WebHandler;
  /**
   * `GET` and `POST /logout`: revokes, clears cookies and sends the browser to Cognito's logout.
   * `{ everywhere: true }` also signs the user out of every device.
   */
  logout(options?: LogoutOptions): WebHandler;
  /** Protects a route: 401 without a valid sign-in, 403 without the groups/scopes. */
  required(requirement?: Requirement, options?: Omit<ProtectOptions, 'optional'>): WebProtector;
  /** Lets every request through, with an identity when it is signed in. */
  optional(): WebProtector;
}

/**
 * Creates the Fetch-API handlers and protectors from options (validated now, once) or an
 * existing {@link CognitoGuard}. Build them once, outside the request handler.
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * const auth = cognitoGuard(fromEnv(env));
 * const refresh = auth.refresh(() => new Response(null, { status: 303, headers: { location: '/claims' } }));
 * const admins = auth.required({ groups: ['admin'] });
 * ```
 */
export function cognitoGuard(options: CognitoGuardOptions | CognitoGuard): WebCognitoGuard {
  const guard = options instanceof CognitoGuard ? options : new CognitoGuard(options);
  const onError: ErrorResponder = (error, request) => guard.errorResponse(error, request);

  /** A flow whose continue result `then` answers (its session cookies added); a refusal as it is. */
  const continuing =
    (flow: (request: IncomingRequest) => Promise<GuardResult>, then: WebContinuation): WebHandler =>
    async (request) => {
      const view = new WebRequest(request);
      let result: GuardResult;
      try {
        result = await flow(view);
      } catch (error) {
        return toResponse(guard.errorResponse(error, view));
      }
      if (result.action === 'respond') return toResponse(result.response);
      return withSession(result, await then(request, result));
    };

  return {
    guard,
    login: (loginOptions) => async (request) => {
      const view = new WebRequest(request);
      try {
        const resolved = typeof loginOptions === 'function' ? loginOptions(request) : loginOptions;
        return toResponse(await guard.login(view, resolved));
      } catch (error) {
        return toResponse(guard.errorResponse(error, view));
      }
    },
    callback: (callbackOptions = {}, then) => {
      if ((callbackOptions.redirectTo !== undefined) === (then !== undefined)) {
        throw new ConfigurationError([
          'callback() takes either redirectTo or a function that answers the signed-in request (exactly one)',
        ]);
      }
      // With redirectTo the core always answers itself and never continues.
      const onSignedIn: WebContinuation =
        then ??
        (() => {
          throw new ConfigurationError(['callback() continued without a function to answer it']);
        });
      return continuing(guard.callbackHandler(callbackOptions), onSignedIn);
    },
    refresh: (then) => continuing((view) => guard.refresh(view), then),
    logout: (logoutOptions) => async (request) => {
      const view = new WebRequest(request);
      try {
        return toResponse(await guard.logout(view, logoutOptions));
      } catch (error) {
        return toResponse(guard.errorResponse(error, view));
      }
    },
    required: (requirement = {}, protectOptions = {}) =>
      protectWith(guard.protector(requirement, protectOptions), onError),
    optional: () => protectWith(guard.protector({}, { optional: true }), onError),
  };
}

/** The Fetch-API protector of an API guard. */
export interface WebCognitoApiGuard {
  /** The framework-neutral API guard underneath. */
  readonly guard: CognitoApiGuard;
  /**
   * Requires a valid `Authorization: Bearer` access token (401 with `WWW-Authenticate`
   * otherwise) carrying the groups/scopes given (403 otherwise).
   */
  required(requirement?: Requirement): WebProtector;
}

/**
 * Protects API routes with Cognito access tokens sent as `Authorization: Bearer`, configured by
 * the pool and its app client(s) alone (no redirect URL, logout URL or secret).
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * import { apiGuardFromEnv } from 'cognito-guard';
 * import { cognitoApiGuard } from 'cognito-guard/web';
 *
 * const readers = cognitoApiGuard(apiGuardFromEnv(env)).required({ scopes: ['items/read'] });
 * export async function items(request: Request): Promise<Response> {
 *   const result = await readers(request);
 *   if (result instanceof Response) return result;
 *   return Response.json({ for: result.identity?.claims.sub });
 * }
 * ```
 */
export function cognitoApiGuard(options: ApiGuardOptions | CognitoApiGuard): WebCognitoApiGuard {
  const guard = options instanceof CognitoApiGuard ? options : new CognitoApiGuard(options);
  const onError: ErrorResponder = (error, request) => guard.errorResponse(error, request);
  return {
    guard,
    required: (requirement = {}) => protectWith(guard.protector(requirement), onError),
  };
}

export { CognitoGuard, CognitoApiGuard };
export type { ContinueResult };
