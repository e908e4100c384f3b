/**
 * Fastify 5 adapter: two plugins (made with `fastify-plugin`) that translate Fastify requests
 * into the core's neutral shape and the core's results back into Fastify replies. All decisions
 * live in the core (`src/adapters.md`).
 *
 * The plugins decorate the instance they are registered on (`fastify.cognito`,
 * `fastify.cognitoApi`) and its requests (`request.cognito`), and nothing outside it: register
 * them at the root for the whole app, or inside an encapsulated plugin for that plugin alone.
 * Cookies are read from the raw `Cookie` header and every `Set-Cookie` is sent as its own
 * header, so `@fastify/cookie` is optional; with it, `reply.setCookie` works beside ours.
 * The flows read no body, but Fastify answers 415 to a body type it cannot parse: an app whose
 * refresh and sign-out buttons are HTML forms registers `@fastify/formbody` (or a parser for
 * `application/x-www-form-urlencoded`, as the example app does).
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { fromEnv } from 'cognito-guard';
 * import { cognitoGuard, getIdentity } from 'cognito-guard/fastify';
 *
 * const app = Fastify();
 * await app.register(cognitoGuard, { guard: fromEnv(process.env) });
 * const auth = app.cognito;
 * app.get('/login', auth.login());
 * app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
 * app.post('/refresh', { preHandler: auth.refresh() }, (_request, reply) =>
 *   reply.redirect('/claims', 303),
 * );
 * app.get('/logout', auth.logout());
 * app.post('/logout', auth.logout());
 * app.get('/claims', { preHandler: auth.required() }, (request) => getIdentity(request).claims);
 * app.get('/admin', { onRequest: auth.required({ groups: ['admin'] }) }, (request) =>
 *   getIdentity(request).groups,
 * );
 * ```
 * @module
 */
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fastifyPlugin from 'fastify-plugin';
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

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified identity, set by `required()`, `optional()`, `callback()` and `refresh()`;
     * `undefined` otherwise. On a route behind `required()`, {@link getIdentity} reads it typed
     * as present.
     */
    cognito: CognitoIdentity | undefined;
    /** The safe return-to path of a completed login, set by `callback()`. */
    cognitoReturnTo: string | undefined;
  }
  interface FastifyInstance {
    /** The sign-in routes and guards, where the `cognitoGuard` plugin is registered. */
    cognito: FastifyCognitoGuard;
    /** The Bearer-token guard, where the `cognitoApiGuard` plugin is registered. */
    cognitoApi: FastifyCognitoApiGuard;
  }
}

/**
 * A guard hook: use it as a route's `onRequest` (before the body is read: the cheapest place
 * to refuse) or `preHandler`, or add it with `addHook` to protect every route of a plugin.
 *
 * @example
 * ```ts
 * const admins: CognitoHook = app.cognito.required({ groups: ['admin'] });
 * app.get('/admin', { onRequest: admins }, (request) => request.cognito?.groups);
 * ```
 */
export type CognitoHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/**
 * A route handler that always answers by itself.
 *
 * @example
 * ```ts
 * const login: CognitoRouteHandler = app.cognito.login();
 * app.get('/login', login);
 * ```
 */
export type CognitoRouteHandler = (request: FastifyRequest, reply: FastifyReply) => void;

/** A Fastify request seen through the core's {@link IncomingRequest}: one object, no closure. */
class FastifyIncoming implements IncomingRequest {
  constructor(readonly request: FastifyRequest) {}
  get method(): string {
    return this.request.method;
  }
  get url(): string {
    // As the client sent it, before any `rewriteUrl`.
    return this.request.originalUrl;
  }
  header(name: string): string | undefined {
    const value = this.request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/** Adds headers and cookies to the reply. Fastify appends each `set-cookie` to those already set
 * (ours, or the app's through `@fastify/cookie`), so every cookie stays its own header. */
function addHeaders(
  reply: FastifyReply,
  headers: Readonly<Record<string, string>>,
  setCookies: readonly string[],
): void {
  // for…in: no entries array on the hot path (the core's headers are plain objects).
  for (const name in headers) reply.header(name, headers[name]);
  for (const cookie of setCookies) reply.header('set-cookie', cookie);
}

function send(reply: FastifyReply, response: OutgoingResponse): void {
  reply.code(response.status);
  addHeaders(reply, response.headers, response.setCookies);
  void reply.send(response.body);
}

/** Either guard: what answers an unexpected failure. */
interface ErrorResponder {
  errorResponse(error: unknown, request: IncomingRequest): OutgoingResponse;
}

/** Applies a result: replies, or adds headers/cookies and the identity and lets Fastify go on. */
function apply(
  incoming: FastifyIncoming,
  reply: FastifyReply,
  result: GuardResult,
  done: HookHandlerDoneFunction | undefined,
  guard: ErrorResponder,
): void {
  if (result.action === 'respond') {
    send(reply, result.response);
  } else if (done === undefined) {
    const wiring = ['callback() without redirectTo must run as a preHandler hook'];
    send(reply, guard.errorResponse(new ConfigurationError(wiring), incoming));
  } else {
    addHeaders(reply, result.headers, result.setCookies);
    const { request } = incoming;
    if (result.identity !== undefined) request.cognito = result.identity;
    if (result.returnTo !== undefined) request.cognitoReturnTo = result.returnTo;
    done();
  }
}

/**
 * Runs a core entry point as a hook (`done` given) or a route handler (no `done`).
 *
 * Hooks use Fastify's callback style, not `async`: an async hook allocates a promise per
 * request and resumes on a microtask, while here a result the verified-token cache answers is
 * applied at once and `done()` runs synchronously. Only a token that must be verified
 * (or a flow that calls Cognito) goes through a promise. A hook that replies does not call
 * `done`, so Fastify runs nothing else; an answer that arrives after the reply was sent
 * (another hook timed the request out, or hijacked it) is dropped.
 */
function runner(
  run: (incoming: FastifyIncoming) => GuardResult | Promise<GuardResult>,
  guard: ErrorResponder,
) {
  return (request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): void => {
    const incoming = new FastifyIncoming(request);
    const result = run(incoming);
    if (!(result instanceof Promise)) {
      apply(incoming, reply, result, done, guard);
      return;
    }
    result.then(
      (settled) => {
        if (!reply.sent) apply(incoming, reply, settled, done, guard);
      },
      (error: unknown) => {
        if (!reply.sent) send(reply, guard.errorResponse(error, incoming));
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
 * app.get('/me', { preHandler: app.cognito.required() }, (request) => ({
 *   sub: getIdentity(request).claims.sub,
 * }));
 * ```
 */
export function getIdentity(request: Pick<FastifyRequest, 'cognito'>): CognitoIdentity {
  if (request.cognito === undefined) {
    throw new ConfigurationError([
      'getIdentity(request) was called on a route without auth.required() (or with the guard disabled)',
    ]);
  }
  return request.cognito;
}

/**
 * The routes and guards of the `cognitoGuard` plugin, as `fastify.cognito`. Each method
 * validates its options when called (at startup), not per request.
 *
 * @example
 * ```ts
 * const auth: FastifyCognitoGuard = app.cognito;
 * app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
 * app.get('/edit', { preHandler: auth.required({ groups: ['admin', 'editor'], anyGroup: true }) }, (request) =>
 *   getIdentity(request).groups,
 * );
 * ```
 */
export interface FastifyCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** Redirects to Cognito's login. Options may depend on the request (identity provider, login_hint…). */
  login(options?: LoginOptions | ((request: FastifyRequest) => LoginOptions)): CognitoRouteHandler;
  /**
   * Completes the login at the redirect URL. With `redirectTo`, a route handler that answers
   * with the redirect; without, a `preHandler` hook after which the route's handler runs with
   * `request.cognito` and `request.cognitoReturnTo` set.
   */
  callback(options: CallbackOptions & { readonly redirectTo: string }): CognitoRouteHandler;
  callback(options?: CallbackOptions): CognitoHook;
  /** Refreshes the session (a hook for a POST route); the handler runs with `request.cognito` set. */
  refresh(): CognitoHook;
  /**
   * Revokes, clears cookies and sends the browser to Cognito's logout (route GET and POST to it).
   * `{ everywhere: true }` also signs the user out of every device.
   */
  logout(options?: LogoutOptions): CognitoRouteHandler;
  /** Protects a route: 401 without a valid sign-in, 403 without the groups/scopes. */
  required(requirement?: Requirement, options?: Omit<ProtectOptions, 'optional'>): CognitoHook;
  /** Sets `request.cognito` when the request is signed in, and lets every request through. */
  optional(): CognitoHook;
}

/**
 * The guard of the `cognitoApiGuard` plugin, as `fastify.cognitoApi`.
 *
 * @example
 * ```ts
 * app.get('/api/items', { onRequest: app.cognitoApi.required({ scopes: ['items/read'] }) }, () => []);
 * ```
 */
export interface FastifyCognitoApiGuard {
  /** The framework-neutral API guard underneath. */
  readonly guard: CognitoApiGuard;
  /**
   * Requires a valid `Authorization: Bearer` access token (401 with `WWW-Authenticate`
   * otherwise) carrying the groups/scopes given (403 otherwise); sets `request.cognito`.
   */
  required(requirement?: Requirement): CognitoHook;
}

/**
 * Options of the `cognitoGuard` plugin.
 *
 * @example
 * ```ts
 * await app.register(cognitoGuard, { guard: fromEnv(process.env) });
 * ```
 */
export interface CognitoGuardPluginOptions {
  /** Guard options (validated at registration, once) or an existing {@link CognitoGuard}. */
  readonly guard: CognitoGuardOptions | CognitoGuard;
}

/**
 * Options of the `cognitoApiGuard` plugin.
 *
 * @example
 * ```ts
 * await app.register(cognitoApiGuard, { guard: new CognitoApiGuard(apiGuardFromEnv(process.env)) });
 * ```
 */
export interface CognitoApiGuardPluginOptions {
  /** API guard options (validated at registration, once) or an existing {@link CognitoApiGuard}. */
  readonly guard: ApiGuardOptions | CognitoApiGuard;
}

function guardRoutes(guard: CognitoGuard): FastifyCognitoGuard {
  const protect = (requirement: Requirement, options: ProtectOptions): CognitoHook =>
    runner(guard.protector(requirement, options), guard);
  return {
    guard,
    // Async, so that an options function of the app's that throws rejects, and the runner
    // answers it as any failure instead of Fastify's 500 with the error's text.
    login: (options) =>
      runner(async (incoming) => {
        const resolved = typeof options === 'function' ? options(incoming.request) : options;
        return respondWith(await guard.login(incoming, resolved));
      }, guard),
    // Validated now (an unknown key fails at startup); the same function serves as hook and handler.
    callback: (options: CallbackOptions = {}) => runner(guard.callbackHandler(options), guard),
    refresh: () => runner((incoming) => guard.refresh(incoming), guard),
    logout: (options) =>
      runner((incoming) => guard.logout(incoming, options).then(respondWith), guard),
    required: (requirement = {}, options = {}) => protect(requirement, options),
    optional: () => protect({}, { optional: true }),
  };
}

/**
 * A `fastify-plugin` plugin (so its decorators reach the context it is registered in) whose
 * setup errors, such as an invalid configuration, reject the registration.
 */
function plugin<Options extends CognitoGuardPluginOptions | CognitoApiGuardPluginOptions>(
  name: string,
  setup: (fastify: FastifyInstance, options: Options) => void,
): FastifyPluginCallback<Options> {
  const register: FastifyPluginCallback<Options> = (fastify, options, done) => {
    try {
      setup(fastify, options);
      // Declared once per context, so every request has the same shape (no property added later).
      if (!fastify.hasRequestDecorator('cognito')) {
        fastify.decorateRequest('cognito', undefined);
        fastify.decorateRequest('cognitoReturnTo', undefined);
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };
  return fastifyPlugin(register, { fastify: '5.x', name });
}

/**
 * The sign-in plugin: decorates the instance it is registered on with `cognito`
 * ({@link FastifyCognitoGuard}) and its requests with `cognito` and `cognitoReturnTo`.
 *
 * @throws {@link ConfigurationError} at registration, naming every configuration problem.
 * @example
 * ```ts
 * await app.register(cognitoGuard, { guard: fromEnv(process.env) });
 * app.get('/admin', { preHandler: app.cognito.required({ groups: ['admin'] }) }, (request) =>
 *   getIdentity(request).groups,
 * );
 * ```
 */
export const cognitoGuard = plugin<CognitoGuardPluginOptions>(
  'cognito-guard',
  (fastify, options) => {
    const { guard } = options;
    if (guard instanceof CognitoGuard) {
      fastify.decorate('cognito', guardRoutes(guard));
      return;
    }
    // A guard built here is ours to release: its session store's connections close with the app.
    const owned = new CognitoGuard(guard);
    fastify.decorate('cognito', guardRoutes(owned));
    fastify.addHook('onClose', () => owned.close());
  },
);

/**
 * The API plugin: protects routes with Cognito access tokens sent as `Authorization: Bearer`,
 * configured by the pool and its app client(s) alone (no redirect URL, logout URL or secret).
 * Decorates the instance with `cognitoApi` ({@link FastifyCognitoApiGuard}).
 *
 * @throws {@link ConfigurationError} at registration, naming every configuration problem.
 * @example
 * ```ts
 * import { apiGuardFromEnv } from 'cognito-guard';
 * import { cognitoApiGuard } from 'cognito-guard/fastify';
 *
 * await app.register(cognitoApiGuard, { guard: apiGuardFromEnv(process.env) });
 * app.get('/api/items', { onRequest: app.cognitoApi.required({ scopes: ['items/read'] }) }, (request) =>
 *   ({ for: request.cognito?.claims.sub }),
 * );
 * ```
 */
export const cognitoApiGuard = plugin<CognitoApiGuardPluginOptions>(
  'cognito-guard-api',
  (fastify, options) => {
    const guard =
      options.guard instanceof CognitoApiGuard ? options.guard : new CognitoApiGuard(options.guard);
    fastify.decorate('cognitoApi', {
      guard,
      required: (requirement = {}) => runner(guard.protector(requirement), guard),
    } satisfies FastifyCognitoApiGuard);
  },
);

export { CognitoGuard, CognitoApiGuard };
