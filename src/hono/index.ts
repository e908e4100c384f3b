/**
 * Hono 4 adapter: middleware in Hono's idiom (`c.get('cognito')`, typed through
 * `ContextVariableMap`), on Node (`@hono/node-server`), Cloudflare Workers, Bun, Deno and AWS
 * Lambda alike. It translates; all decisions live in the core (`src/adapters.md`).
 *
 * It stands on `cognito-guard/web` for the Fetch translation (the request view, the response,
 * the session headers and cookies) and calls the core for the flows themselves: a Hono
 * middleware needs the guard's verdict *before* the route handler runs (to set `c.get('cognito')`
 * and call `next()`), which the `(request) => Promise<Response>` handlers of `/web` hide.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { fromEnv } from 'cognito-guard';
 * import { cognitoGuard, getIdentity } from 'cognito-guard/hono';
 *
 * const app = new Hono();
 * const auth = cognitoGuard(fromEnv(process.env));
 * app.get('/login', auth.login());
 * app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
 * app.post('/refresh', auth.refresh(), (c) => c.redirect('/claims', 303));
 * app.on(['GET', 'POST'], '/logout', auth.logout());
 * app.get('/claims', auth.required(), (c) => c.json(getIdentity(c).claims));
 * app.get('/admin', auth.required({ groups: ['admin'] }), (c) => c.json(getIdentity(c).groups));
 * ```
 * @module
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import {
  CognitoApiGuard,
  CognitoGuard,
  ConfigurationError,
  type ApiGuardOptions,
  type CallbackOptions,
  type CognitoGuardOptions,
  type CognitoIdentity,
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
import { appendSession, toResponse, WebRequest } from '../web/index.js';

declare module 'hono' {
  interface ContextVariableMap {
    /**
     * The verified identity, set by `required()`, `optional()`, `callback()` and `refresh()`;
     * `undefined` on other routes (and when the guard is disabled). On a route behind
     * `required()`, {@link getIdentity} reads it without `?.`.
     */
    cognito: CognitoIdentity | undefined;
    /** The safe return-to path of a completed login, set by `callback()` without `redirectTo`. */
    cognitoReturnTo: string | undefined;
  }
}

/** The errorResponse of either guard. */
type ErrorResponder = (error: unknown, request: IncomingRequest) => OutgoingResponse;

/** Adds the session headers and cookies to the response the route produced. */
function decorate(c: Context, result: ContinueResult): void {
  try {
    appendSession(c.res.headers, result);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // The handler returned a response with immutable headers (from fetch()): Hono's setter
    // makes a mutable copy, which then takes the session.
    c.res = new Response(c.res.body, c.res);
    appendSession(c.res.headers, result);
  }
}

/** Applies a result: answers a refusal, or sets the variables, runs the route and decorates it. */
function apply(c: Context, next: Next, result: GuardResult): ReturnType<MiddlewareHandler> {
  if (result.action === 'respond') return Promise.resolve(toResponse(result.response));
  c.set('cognito', result.identity);
  if (result.returnTo !== undefined) c.set('cognitoReturnTo', result.returnTo);
  // A protected route in steady state changes no cookie: no second promise for it.
  if (result.setCookies.length === 0 && isEmpty(result.headers)) return next();
  return next().then(() => {
    decorate(c, result);
    return undefined;
  });
}

function isEmpty(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return false;
  return true;
}

/** The middleware of a protector: applies a cache-answered result without another promise. */
function protectWith(protector: Protector, onError: ErrorResponder): MiddlewareHandler {
  return (c, next) => {
    const view = new WebRequest(c.req.raw);
    const result = protector(view);
    // Steady state: the tokens are already verified and the answer needs no promise.
    if (!(result instanceof Promise)) return apply(c, next, result);
    return result.then(
      (settled) => apply(c, next, settled),
      (error: unknown) => toResponse(onError(error, view)),
    );
  };
}

/** The middleware of a flow whose result may continue to the route (callback, refresh). */
function flowWith(
  flow: (request: IncomingRequest) => Promise<GuardResult>,
  onError: ErrorResponder,
): MiddlewareHandler {
  return async (c, next) => {
    const view = new WebRequest(c.req.raw);
    let result: GuardResult;
    try {
      result = await flow(view);
    } catch (error) {
      return toResponse(onError(error, view));
    }
    return apply(c, next, result);
  };
}

/**
 * The identity of a request on a route behind `required()`, typed as present.
 *
 * @throws {@link ConfigurationError} when no identity was set: the route is not behind
 *   `required()` (a wiring mistake, not a request problem).
 * @example
 * ```ts
 * app.get('/me', auth.required(), (c) => c.json({ sub: getIdentity(c).claims.sub }));
 * ```
 */
export function getIdentity(c: Context): CognitoIdentity {
  const identity = c.get('cognito');
  if (identity === undefined) {
    throw new ConfigurationError([
      'getIdentity(c) was called on a route without auth.required() (or with the guard disabled)',
    ]);
  }
  return identity;
}

/** The Hono middleware factories. */
export interface HonoCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** Redirects to Cognito's login. Options may depend on the request (identity provider…). */
  login(options?: LoginOptions | ((c: Context) => LoginOptions)): MiddlewareHandler;
  /**
   * Completes the login at the redirect URL. With `redirectTo`, answers with the redirect;
   * without, the next handler runs with `c.get('cognito')` and `c.get('cognitoReturnTo')` set,
   * and the session cookies are added to its response.
   */
  callback(options?: CallbackOptions): MiddlewareHandler;
  /** Refreshes the session (mount on POST); the next handler runs with `c.get('cognito')` set. */
  refresh(): MiddlewareHandler;
  /**
   * Revokes, clears cookies and sends the browser to Cognito's logout (mount on GET and POST).
   * `{ everywhere: true }` also signs the user out of every device.
   */
  logout(options?: LogoutOptions): MiddlewareHandler;
  /** Protects a route: 401 without a valid sign-in, 403 without the groups/scopes. */
  required(
    requirement?: Requirement,
    options?: Omit<ProtectOptions, 'optional'>,
  ): MiddlewareHandler;
  /** Sets `c.get('cognito')` when the request is signed in, and lets every request through. */
  optional(): MiddlewareHandler;
}

/**
 * Creates the Hono middleware factories from options (validated now, once) or an existing
 * {@link CognitoGuard}.
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * const auth = cognitoGuard(fromEnv(process.env));
 * app.get('/edit', auth.required({ groups: ['admin', 'editor'], anyGroup: true }), (c) =>
 *   c.json(getIdentity(c).groups),
 * );
 * ```
 */
export function cognitoGuard(options: CognitoGuardOptions | CognitoGuard): HonoCognitoGuard {
  const guard = options instanceof CognitoGuard ? options : new CognitoGuard(options);
  const onError: ErrorResponder = (error, request) => guard.errorResponse(error, request);
  const respondWith =
    (
      flow: (request: IncomingRequest, c: Context) => Promise<OutgoingResponse>,
    ): MiddlewareHandler =>
    async (c) => {
      const view = new WebRequest(c.req.raw);
      try {
        return toResponse(await flow(view, c));
      } catch (error) {
        return toResponse(onError(error, view));
      }
    };
  return {
    guard,
    login: (loginOptions) =>
      respondWith((view, c) =>
        guard.login(view, typeof loginOptions === 'function' ? loginOptions(c) : loginOptions),
      ),
    callback: (callbackOptions = {}) => flowWith(guard.callbackHandler(callbackOptions), onError),
    refresh: () => flowWith((view) => guard.refresh(view), onError),
    logout: (logoutOptions) => respondWith((view) => guard.logout(view, logoutOptions)),
    required: (requirement = {}, protectOptions = {}) =>
      protectWith(guard.protector(requirement, protectOptions), onError),
    optional: () => protectWith(guard.protector({}, { optional: true }), onError),
  };
}

/** The Hono middleware of an API guard. */
export interface HonoCognitoApiGuard {
  /** The framework-neutral API guard underneath. */
  readonly guard: CognitoApiGuard;
  /**
   * Requires a valid `Authorization: Bearer` access token (401 with `WWW-Authenticate`
   * otherwise) carrying the groups/scopes given (403 otherwise); sets `c.get('cognito')`.
   */
  required(requirement?: Requirement): MiddlewareHandler;
}

/**
 * Protects API routes with Cognito access tokens sent as `Authorization: Bearer`, configured by
 * the pool and its app client(s) alone (no redirect URL, logout URL or secret).
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * import { apiGuardFromEnv } from 'cognito-guard';
 * import { cognitoApiGuard } from 'cognito-guard/hono';
 *
 * const api = cognitoApiGuard(apiGuardFromEnv(process.env));
 * app.get('/api/items', api.required({ scopes: ['items/read'] }), (c) =>
 *   c.json({ for: c.get('cognito')?.claims.sub }),
 * );
 * ```
 */
export function cognitoApiGuard(options: ApiGuardOptions | CognitoApiGuard): HonoCognitoApiGuard {
  const guard = options instanceof CognitoApiGuard ? options : new CognitoApiGuard(options);
  const onError: ErrorResponder = (error, request) => guard.errorResponse(error, request);
  return {
    guard,
    required: (requirement = {}) => protectWith(guard.protector(requirement), onError),
  };
}

export { CognitoGuard, CognitoApiGuard };
