/**
 * AWS Lambda adapter: handlers for functions behind API Gateway (REST, or HTTP API with payload
 * 1.0 or 2.0), an Application Load Balancer (multi-value headers on or off) or a function URL.
 * Each handler reads the event in whichever shape it arrives and answers in the same shape; every
 * decision is the core's (`src/adapters.md`).
 *
 * @example
 * ```ts
 * import { fromEnv } from 'cognito-guard';
 * import { cognitoGuard } from 'cognito-guard/lambda';
 * import type { APIGatewayProxyEventV2 } from 'aws-lambda';
 *
 * const auth = cognitoGuard(fromEnv(process.env));
 * export const login = auth.login();
 * export const callback = auth.callback({ redirectTo: '/claims' });
 * export const logout = auth.logout();
 * export const admin = auth.required({ groups: ['admin'] }, (event: APIGatewayProxyEventV2, identity) => ({
 *   statusCode: 200,
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ groups: identity?.groups }),
 * }));
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
  type CognitoIdentity,
  type ContinueResult,
  type GuardResult,
  type LoginOptions,
  type LogoutOptions,
  type OutgoingResponse,
  type ProtectOptions,
  type Protector,
  type Requirement,
} from '../index.js';
import {
  LambdaRequest,
  toLambdaResult,
  type LambdaHttpEvent,
  type LambdaHttpResponse,
  type LambdaResultFor,
} from './events.js';

export { LambdaRequest, toLambdaResult } from './events.js';
export type {
  AlbEvent,
  AlbResult,
  ApiGatewayV1Event,
  ApiGatewayV1Result,
  ApiGatewayV2Event,
  ApiGatewayV2Result,
  LambdaHttpEvent,
  LambdaHttpResponse,
  LambdaResultFor,
  MultiValueMap,
  SingleValueMap,
} from './events.js';

/** A Lambda handler answering an HTTP event of type `E` in its own shape. */
export type LambdaHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = unknown> = (
  event: E,
  context: C,
) => Promise<LambdaResultFor<E>>;

/**
 * The app's code behind a guarded handler. `identity` is the verified sign-in; it is `undefined`
 * only on `optional()` routes without one, or when `AWS_COGNITO_DISABLED` turns protection off.
 */
export type LambdaRouteHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = unknown> = (
  event: E,
  identity: CognitoIdentity | undefined,
  context: C,
) => LambdaHttpResponse | Promise<LambdaHttpResponse>;

/** The app's code after a completed sign-in, given the return-to path stored at login. */
export type CallbackRouteHandler<E extends LambdaHttpEvent = LambdaHttpEvent, C = unknown> = (
  event: E,
  identity: CognitoIdentity | undefined,
  context: C,
  returnTo: string | undefined,
) => LambdaHttpResponse | Promise<LambdaHttpResponse>;

/** The outcome of {@link LambdaCognitoGuard.protect}: refused with a ready result, or granted. */
export type LambdaProtection<E extends LambdaHttpEvent = LambdaHttpEvent> =
  { readonly granted: false; readonly result: LambdaResultFor<E> } | LambdaGrant<E>;

/** A granted request: its identity, and how to answer it with what the guard must add. */
export interface LambdaGrant<E extends LambdaHttpEvent = LambdaHttpEvent> {
  readonly granted: true;
  /** The verified identity (`undefined` when protection is disabled). */
  readonly identity: CognitoIdentity | undefined;
  /** `response` in the event's shape, with the guard's headers and cookies (a refreshed session). */
  respond(response: LambdaHttpResponse): LambdaResultFor<E>;
}

type OnError = (error: unknown, request: LambdaRequest) => OutgoingResponse;

/** One object per granted request (no closure): what {@link LambdaGrant.respond} needs. */
class Grant<E extends LambdaHttpEvent> implements LambdaGrant<E> {
  readonly granted = true;
  constructor(
    private readonly request: LambdaRequest,
    private readonly result: ContinueResult,
    private readonly onError: OnError,
  ) {}
  get identity(): CognitoIdentity | undefined {
    return this.result.identity;
  }
  respond(response: LambdaHttpResponse): LambdaResultFor<E> {
    return answer<E>(
      this.onError,
      this.request,
      response,
      this.result.headers,
      this.result.setCookies,
    );
  }
}

function toProtection<E extends LambdaHttpEvent>(
  request: LambdaRequest,
  result: GuardResult,
  onError: OnError,
): LambdaProtection<E> {
  return result.action === 'respond'
    ? { granted: false, result: answer<E>(onError, request, result.response) }
    : new Grant<E>(request, result, onError);
}

/** Writes a result, or — when its shape cannot carry it — the core's answer to that error. */
function answer<E extends LambdaHttpEvent>(
  onError: OnError,
  request: LambdaRequest,
  response: LambdaHttpResponse | OutgoingResponse,
  headers?: Readonly<Record<string, string>>,
  cookies?: readonly string[],
): LambdaResultFor<E> {
  try {
    return toLambdaResult<E>(request, response, headers, cookies);
  } catch (error) {
    return toLambdaResult<E>(request, onError(error, request));
  }
}

/**
 * Settles a protector's result; a cache-answered one is used without a promise. An event that is
 * not an HTTP event at all (a function wired to another trigger) is answered, not thrown.
 */
function settle(
  protector: Protector,
  request: LambdaRequest,
  onError: OnError,
): GuardResult | Promise<GuardResult> {
  let result: GuardResult | Promise<GuardResult>;
  try {
    result = protector(request);
  } catch (error) {
    return { action: 'respond', response: onError(error, request) };
  }
  if (!(result instanceof Promise)) return result;
  return result.catch((error: unknown) => ({
    action: 'respond' as const,
    response: onError(error, request),
  }));
}

/**
 * Runs `flow` (a protector, the callback, the refresh), then — if it continues — `handler`, and
 * answers in the event's shape.
 */
function guarded<E extends LambdaHttpEvent, C>(
  flow: Protector,
  handler: (
    event: E,
    result: ContinueResult,
    context: C,
  ) => LambdaHttpResponse | Promise<LambdaHttpResponse>,
  onError: OnError,
): LambdaHandler<E, C> {
  return async (event, context) => {
    const request = new LambdaRequest(event);
    const pending = settle(flow, request, onError);
    const result = pending instanceof Promise ? await pending : pending;
    if (result.action === 'respond') return answer<E>(onError, request, result.response);
    const response = await handler(event, result, context);
    return answer<E>(onError, request, response, result.headers, result.setCookies);
  };
}

/** A handler for a flow that always responds (login, logout). */
function responding<E extends LambdaHttpEvent>(
  flow: (request: LambdaRequest, event: E) => Promise<OutgoingResponse>,
  onError: OnError,
): LambdaHandler<E> {
  return async (event) => {
    const request = new LambdaRequest(event);
    let response: OutgoingResponse;
    try {
      response = await flow(request, event);
    } catch (error) {
      // The app's login options function failed: the library's answer, not a failed invocation
      // (which API Gateway turns into its own 500).
      response = onError(error, request);
    }
    return answer<E>(onError, request, response);
  };
}

/** The Lambda handler factories of a {@link CognitoGuard}. */
export interface LambdaCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** Redirects to Cognito's login; options may depend on the event (identity provider…). */
  login<E extends LambdaHttpEvent>(
    options?: LoginOptions | ((event: E) => LoginOptions),
  ): LambdaHandler<E>;
  /**
   * Completes the login at the redirect URL. With `redirectTo`, answers with the redirect; else
   * `handler` answers, given the identity and the return-to path stored at login. One of the two
   * is required, not both.
   */
  callback<E extends LambdaHttpEvent, C = unknown>(
    options?: CallbackOptions,
    handler?: CallbackRouteHandler<E, C>,
  ): LambdaHandler<E, C>;
  /** Refreshes the session (route it for POST); `handler` answers with the new identity. */
  refresh<E extends LambdaHttpEvent, C = unknown>(
    handler: LambdaRouteHandler<E, C>,
  ): LambdaHandler<E, C>;
  /**
   * Revokes, clears the cookies and sends the browser to Cognito's logout (route it for GET and
   * POST). `{ everywhere: true }` also signs the user out of every device.
   */
  logout<E extends LambdaHttpEvent>(options?: LogoutOptions): LambdaHandler<E>;
  /** `handler` runs only for a valid sign-in (401 otherwise) with the groups/scopes given (403). */
  required<E extends LambdaHttpEvent, C = unknown>(
    handler: LambdaRouteHandler<E, C>,
  ): LambdaHandler<E, C>;
  required<E extends LambdaHttpEvent, C = unknown>(
    requirement: Requirement,
    handler: LambdaRouteHandler<E, C>,
    options?: Omit<ProtectOptions, 'optional'>,
  ): LambdaHandler<E, C>;
  /** `handler` runs for every request, with the identity when it is signed in. */
  optional<E extends LambdaHttpEvent, C = unknown>(
    handler: LambdaRouteHandler<E, C>,
  ): LambdaHandler<E, C>;
  /**
   * For your own handler: a valid sign-in's identity, or a ready 401 result. Answer a granted
   * request through `grant.respond(…)`, which adds the cookies of a refreshed session.
   */
  protect<E extends LambdaHttpEvent>(event: E): LambdaProtection<E> | Promise<LambdaProtection<E>>;
  /** Like {@link LambdaCognitoGuard.protect} with requirements, validated once, here. */
  protector(
    requirement?: Requirement,
    options?: ProtectOptions,
  ): <E extends LambdaHttpEvent>(event: E) => LambdaProtection<E> | Promise<LambdaProtection<E>>;
}

/**
 * Creates the Lambda handler factories from options (validated now, once) or an existing
 * {@link CognitoGuard}. Create it outside the handler, so warm invocations reuse its caches.
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * import type { APIGatewayProxyEventV2 } from 'aws-lambda';
 *
 * const auth = cognitoGuard(fromEnv(process.env));
 * export const handler = auth.required(async (event: APIGatewayProxyEventV2, identity) => ({
 *   statusCode: 200,
 *   body: `Hello ${identity?.claims.username ?? 'anyone'}`,
 * }));
 * ```
 */
export function cognitoGuard(options: CognitoGuardOptions | CognitoGuard): LambdaCognitoGuard {
  const guard = options instanceof CognitoGuard ? options : new CognitoGuard(options);
  const onError: OnError = (error, request) => guard.errorResponse(error, request);
  const protection =
    (protector: Protector) =>
    <E extends LambdaHttpEvent>(event: E): LambdaProtection<E> | Promise<LambdaProtection<E>> => {
      const request = new LambdaRequest(event);
      const pending = settle(protector, request, onError);
      return pending instanceof Promise
        ? pending.then((result) => toProtection<E>(request, result, onError))
        : toProtection<E>(request, pending, onError);
    };
  const signedIn = protection(guard.protector());

  return {
    guard,
    login: <E extends LambdaHttpEvent>(options?: LoginOptions | ((event: E) => LoginOptions)) =>
      responding<E>(
        (request, event) =>
          guard.login(request, typeof options === 'function' ? options(event) : options),
        onError,
      ),
    callback: <E extends LambdaHttpEvent, C>(
      options: CallbackOptions = {},
      handler?: CallbackRouteHandler<E, C>,
    ): LambdaHandler<E, C> => {
      const callback = guard.callbackHandler(options);
      // Both would leave the handler silently unused (with redirectTo the core always answers).
      if ((options.redirectTo !== undefined) === (handler !== undefined)) {
        throw new ConfigurationError([
          'callback() takes either redirectTo or a function that answers the signed-in request (exactly one)',
        ]);
      }
      // With redirectTo the core always responds: this stand-in is never called.
      const then = handler ?? (() => ({ statusCode: 204 }));
      return guarded<E, C>(
        callback,
        (event, result, context) => then(event, result.identity, context, result.returnTo),
        onError,
      );
    },
    refresh: <E extends LambdaHttpEvent, C>(handler: LambdaRouteHandler<E, C>) =>
      guarded<E, C>(
        (request) => guard.refresh(request),
        (event, result, context) => handler(event, result.identity, context),
        onError,
      ),
    logout: <E extends LambdaHttpEvent>(options?: LogoutOptions) =>
      responding<E>((request) => guard.logout(request, options), onError),
    required: <E extends LambdaHttpEvent, C>(
      first: Requirement | LambdaRouteHandler<E, C>,
      second?: LambdaRouteHandler<E, C>,
      protectOptions: Omit<ProtectOptions, 'optional'> = {},
    ): LambdaHandler<E, C> => {
      const [requirement, handler] = typeof first === 'function' ? [{}, first] : [first, second];
      if (handler === undefined) {
        throw new ConfigurationError(['required(requirement, handler): the handler is missing']);
      }
      return guarded<E, C>(
        guard.protector(requirement, protectOptions),
        (event, result, context) => handler(event, result.identity, context),
        onError,
      );
    },
    optional: <E extends LambdaHttpEvent, C>(handler: LambdaRouteHandler<E, C>) =>
      guarded<E, C>(
        guard.protector({}, { optional: true }),
        (event, result, context) => handler(event, result.identity, context),
        onError,
      ),
    protect: signedIn,
    protector: (requirement = {}, protectOptions = {}) =>
      protection(guard.protector(requirement, protectOptions)),
  };
}

/** The Lambda handler factory of a {@link CognitoApiGuard}. */
export interface LambdaCognitoApiGuard {
  /** The framework-neutral API guard underneath. */
  readonly guard: CognitoApiGuard;
  /**
   * `handler` runs only for a valid `Authorization: Bearer` access token (401 with
   * `WWW-Authenticate` otherwise) carrying the groups/scopes given (403 otherwise).
   */
  required<E extends LambdaHttpEvent, C = unknown>(
    requirement: Requirement,
    handler: LambdaRouteHandler<E, C>,
  ): LambdaHandler<E, C>;
}

/**
 * Protects API handlers with Cognito access tokens sent as `Authorization: Bearer`, configured by
 * the pool and its app client(s) alone (no redirect URL, logout URL or secret).
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 * @example
 * ```ts
 * import { apiGuardFromEnv } from 'cognito-guard';
 * import { cognitoApiGuard } from 'cognito-guard/lambda';
 * import type { APIGatewayProxyEventV2 } from 'aws-lambda';
 *
 * const api = cognitoApiGuard(apiGuardFromEnv(process.env));
 * export const handler = api.required({ scopes: ['items/read'] }, (event: APIGatewayProxyEventV2, identity) => ({
 *   statusCode: 200,
 *   body: JSON.stringify({ for: identity?.claims.sub }),
 * }));
 * ```
 */
export function cognitoApiGuard(options: ApiGuardOptions | CognitoApiGuard): LambdaCognitoApiGuard {
  const guard = options instanceof CognitoApiGuard ? options : new CognitoApiGuard(options);
  const onError: OnError = (error, request) => guard.errorResponse(error, request);
  return {
    guard,
    required: <E extends LambdaHttpEvent, C>(
      requirement: Requirement,
      handler: LambdaRouteHandler<E, C>,
    ) =>
      guarded<E, C>(
        guard.protector(requirement),
        (event, result, context) => handler(event, result.identity, context),
        onError,
      ),
  };
}

export { CognitoGuard, CognitoApiGuard };
