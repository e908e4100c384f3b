/**
 * Express 4/5 adapter: translates Express requests into the core's neutral shape and the core's
 * results back into Express responses. All decisions live in the core (`src/adapters.md`).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { fromEnv } from 'cognito-guard';
 * import { cognitoGuard, getIdentity } from 'cognito-guard/express';
 *
 * const app = express();
 * const auth = cognitoGuard(fromEnv(process.env));
 * app.get('/login', auth.login());
 * app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
 * app.post('/refresh', auth.refresh(), (_req, res) => {
 *   res.redirect(303, '/claims');
 * });
 * app.get('/logout', auth.logout());
 * app.post('/logout', auth.logout());
 * app.get('/claims', auth.required(), (req, res) => {
 *   res.json(getIdentity(req).claims);
 * });
 * app.get('/admin', auth.required({ groups: ['admin'] }), (req, res) => {
 *   res.json(getIdentity(req).groups);
 * });
 * ```
 * @module
 */
import { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  CognitoApiGuard,
  CognitoGuard,
  ConfigurationError,
  type ApiGuardOptions,
  type CallbackOptions,
  type CognitoGuardOptions,
  type CognitoIdentity,
  type GuardResult,
  type IncomingRequest,
  type LoginOptions,
  type LogoutOptions,
  type OutgoingResponse,
  type ProtectOptions,
  type Requirement,
} from '../index.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The verified identity, set by `required()`, `optional()`, `callback()` and `refresh()`.
       * On a route behind `required()`, {@link getIdentity} reads it without `?.`.
       */
      cognito?: CognitoIdentity | undefined;
      /** The safe return-to path of a completed login, set by `callback()`. */
      cognitoReturnTo?: string | undefined;
    }
  }
}

/** An Express request seen through the core's {@link IncomingRequest}: one object, no closure. */
class ExpressRequest implements IncomingRequest {
  constructor(readonly req: Request) {}
  get method(): string {
    return this.req.method;
  }
  get url(): string {
    return this.req.originalUrl;
  }
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** Sends a core response. */
function send(res: Response, response: OutgoingResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  for (const cookie of response.setCookies) res.append('Set-Cookie', cookie);
  res.end(response.body);
}

/**
 * Where `req.cognito` and `req.cognitoReturnTo` live. Adding an own property to every Express
 * request (whose prototype Express swaps per request) cost about 5 µs of CPU per request —
 * measured, half the whole gap between a protected and an unprotected route. So the two names
 * are accessors over a WeakMap (the request is the key; nothing outlives it), defined once on
 * Node's `IncomingMessage.prototype`, which every Express request of every app and sub-app
 * inherits from. `req.cognito = …` in user code still works, through the setter.
 */
const identities = new WeakMap<object, CognitoIdentity | undefined>();
const returnTos = new WeakMap<object, string | undefined>();

/**
 * Defines the two accessors. Both factories call it, so `req.cognito` works from the first
 * request whichever guard an app uses; a second call changes nothing.
 */
function defineAccessors(): void {
  for (const [name, store] of [
    ['cognito', identities],
    ['cognitoReturnTo', returnTos],
  ] as const) {
    if (Object.prototype.hasOwnProperty.call(IncomingMessage.prototype, name)) continue;
    Object.defineProperty(IncomingMessage.prototype, name, {
      configurable: true,
      enumerable: false,
      get(this: object) {
        return store.get(this);
      },
      set(this: object, value: never) {
        store.set(this, value);
      },
    });
  }
}

/** Either guard: what answers an unexpected failure. */
interface ErrorResponder {
  errorResponse(error: unknown, request: IncomingRequest): OutgoingResponse;
}

/** Applies a result: sends a response, or adds headers/cookies and runs the next handler. */
function apply(req: Request, res: Response, next: NextFunction, result: GuardResult): void {
  if (result.action === 'respond') {
    send(res, result.response);
    return;
  }
  // for…in: no array per request for the (usually empty) headers.
  for (const name in result.headers) res.setHeader(name, result.headers[name] ?? '');
  for (const cookie of result.setCookies) res.append('Set-Cookie', cookie);
  if (result.identity !== undefined) req.cognito = result.identity;
  if (result.returnTo !== undefined) req.cognitoReturnTo = result.returnTo;
  next();
}

/**
 * The middleware of a core entry point (a protector, or a flow): a result the verified-token
 * cache answers is applied at once, without a promise. Express 4 does not catch rejected
 * promises, and Express 5 would answer its own 500 page: a failure gets the guard's answer here,
 * unless a response is already on its way.
 */
function runner(
  run: (incoming: ExpressRequest) => GuardResult | Promise<GuardResult>,
  guard: ErrorResponder,
): RequestHandler {
  return (req, res, next) => {
    const result = run(new ExpressRequest(req));
    // Steady state: the tokens are already verified and the answer needs no promise.
    if (!(result instanceof Promise)) {
      apply(req, res, next, result);
      return;
    }
    result.then(
      (settled) => {
        apply(req, res, next, settled);
      },
      (error: unknown) => {
        if (!res.headersSent) send(res, guard.errorResponse(error, new ExpressRequest(req)));
      },
    );
  };
}

const respondWith = (response: OutgoingResponse): GuardResult => ({ action: 'respond', response });

/**
 * The identity of a request on a route behind `required()`, typed as present.
 *
 * @throws {@link ConfigurationError} when no identity was set: the route is not behind
 *   `required()` (a wiring mistake, not a request problem).
 * @example
 * ```ts
 * app.get('/me', auth.required(), (req, res) => {
 *   res.json({ sub: getIdentity(req).claims.sub });
 * });
 * ```
 */
export function getIdentity(req: Request): CognitoIdentity {
  const identity = req.cognito;
  if (identity === undefined) {
    throw new ConfigurationError([
      'getIdentity(req) was called on a route without auth.required() (or with the guard disabled)',
    ]);
  }
  return identity;
}

/** The Express middleware factories. */
export interface ExpressCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** Redirects to Cognito's login. Options may depend on the request (identity provider, login_hint…). */
  login(options?: LoginOptions | ((req: Request) => LoginOptions)): RequestHandler;
  /**
   * Completes the login at the redirect URL. With `redirectTo`, answers with the redirect;
   * without, the next handler runs with `req.cognito` and `req.cognitoReturnTo` set.
   */
  callback(options?: CallbackOptions): RequestHandler;
  /** Refreshes the session (mount on POST); the next handler runs with `req.cognito` set. */
  refresh(): RequestHandler;
  /**
   * Revokes, clears cookies and sends the browser to Cognito's logout (mount on GET and POST).
   * `{ everywhere: true }` also signs the user out of every device.
   */
  logout(options?: LogoutOptions): RequestHandler;
  /** Protects a route: 401 without a valid sign-in, 403 without the groups/scopes. */
  required(requirement?: Requirement, options?: Omit<ProtectOptions, 'optional'>): RequestHandler;
  /** Sets `req.cognito` when the request is signed in, and lets every request through. */
  optional(): RequestHandler;
}

/**
 * Creates the Express middleware factories from options (validated now, once) or an existing
 * {@link CognitoGuard}.
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * const auth = cognitoGuard(fromEnv(process.env));
 * app.get('/admin', auth.required({ groups: ['admin'] }), (req, res) => {
 *   res.json(getIdentity(req).groups);
 * });
 * ```
 */
export function cognitoGuard(options: CognitoGuardOptions | CognitoGuard): ExpressCognitoGuard {
  const guard = options instanceof CognitoGuard ? options : new CognitoGuard(options);
  defineAccessors();
  const protect = (requirement: Requirement, protectOptions: ProtectOptions): RequestHandler =>
    runner(guard.protector(requirement, protectOptions), guard);

  return {
    guard,
    // Async, so that an options function of the app's that throws rejects, and is answered as
    // any failure instead of with Express's 500 page.
    login: (options) =>
      runner(async (incoming) => {
        const resolved = typeof options === 'function' ? options(incoming.req) : options;
        return respondWith(await guard.login(incoming, resolved));
      }, guard),
    callback: (options = {}) => runner(guard.callbackHandler(options), guard),
    refresh: () => runner((incoming) => guard.refresh(incoming), guard),
    logout: (options) =>
      runner((incoming) => guard.logout(incoming, options).then(respondWith), guard),
    required: (requirement = {}, protectOptions = {}) => protect(requirement, protectOptions),
    optional: () => protect({}, { optional: true }),
  };
}

/** The Express middleware of an API guard. */
export interface ExpressCognitoApiGuard {
  /** The framework-neutral API guard underneath. */
  readonly guard: CognitoApiGuard;
  /**
   * Requires a valid `Authorization: Bearer` access token (401 with `WWW-Authenticate`
   * otherwise) carrying the groups/scopes given (403 otherwise); sets `req.cognito`.
   */
  required(requirement?: Requirement): RequestHandler;
}

/**
 * Protects API routes with Cognito access tokens sent as `Authorization: Bearer`, configured by
 * the pool and its app client(s) alone (no redirect URL, logout URL or secret).
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * import { apiGuardFromEnv } from 'cognito-guard';
 * import { cognitoApiGuard } from 'cognito-guard/express';
 *
 * const api = cognitoApiGuard(apiGuardFromEnv(process.env));
 * app.get('/api/items', api.required({ scopes: ['items/read'] }), (req, res) => {
 *   res.json({ for: req.cognito?.claims.sub });
 * });
 * ```
 */
export function cognitoApiGuard(
  options: ApiGuardOptions | CognitoApiGuard,
): ExpressCognitoApiGuard {
  const guard = options instanceof CognitoApiGuard ? options : new CognitoApiGuard(options);
  defineAccessors();
  return {
    guard,
    required: (requirement = {}) => runner(guard.protector(requirement), guard),
  };
}

export { CognitoGuard, CognitoApiGuard };
