/**
 * Next.js 16 (App Router) adapter: route handlers for the sign-in flows, a proxy
 * (`proxy.ts`; `middleware.ts` before Next 16) that protects paths and refreshes sessions, and
 * `getIdentity()` / `requireIdentity()` for Server Components, Server Actions and route handlers.
 * It translates; all decisions live in the core (`src/adapters.md`), and the Fetch-API pieces
 * come from `cognito-guard/web`.
 *
 * Configuration is read from `process.env` at the first request, never at build time, so one
 * build runs against the emulator and against a real pool. Next.js builds the proxy, the route
 * handlers and the pages as separate module graphs, each with its own copy of this package; on the
 * Node.js runtime the guard of the environment is kept on the process's global object, so that
 * they share one key set, one verified-token cache and one refresh per session.
 *
 * Runtimes: route handlers, pages and `proxy.ts` run on Node.js; `middleware.ts` runs on the Edge
 * runtime unless it exports `config = { runtime: 'nodejs' }`. Cookie sessions (the default) work
 * on both. A session store (`AWS_COGNITO_SESSION_STORE`) needs Node.js everywhere: on the Edge
 * runtime the guard refuses to start with a {@link ConfigurationError} that says so.
 *
 * @example
 * ```ts
 * // app/login/route.ts
 * import { cognitoGuard } from 'cognito-guard/next';
 * export const GET = cognitoGuard().login();
 * ```
 * @module
 */
// The ambient declarations below are not a module to import; this brings them into every program
// that compiles this file (not kept in the emitted declarations).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./next-modules.d.ts" />
// Values from the bare specifiers Next.js's bundler expects; types from the files, so that the
// declarations resolve under every moduleResolution.
import { connection, NextResponse } from 'next/server';
import type { NextRequest } from 'next/server.js';
import { headers } from 'next/headers';
import { forbidden, notFound, redirect } from 'next/navigation';
import {
  apiGuardFromEnv,
  CognitoApiGuard,
  CognitoGuard,
  ConfigurationError,
  cookieHeaderAfter,
  fromEnv,
  MemorySessionStore,
  type ApiGuardOptions,
  type CallbackOptions,
  type CognitoGuardOptions,
  type CognitoIdentity,
  type ContinueResult,
  type Environment,
  type IncomingRequest,
  type LoginOptions,
  type LogoutOptions,
  type Requirement,
} from '../index.js';
import {
  appendSession,
  cognitoApiGuard as webApiGuard,
  cognitoGuard as webGuard,
  withSession,
  type WebCognitoGuard,
  type WebContinuation,
  type WebProtector,
} from '../web/index.js';

/** A route handler: what `app/**\/route.ts` exports as `GET`, `POST`… */
export type RouteHandler = (request: Request) => Promise<Response>;

/** The proxy function: what `proxy.ts` (or `middleware.ts`) exports. */
export type CognitoProxy = (request: NextRequest) => Response | Promise<Response>;

/**
 * Where the guard's configuration comes from: options, a guard, or a function that returns
 * either (called once, at the first request). Default: `fromEnv(process.env)`.
 */
export type GuardSource =
  CognitoGuardOptions | CognitoGuard | (() => CognitoGuardOptions | CognitoGuard);

/** Where the API guard's configuration comes from. Default: `apiGuardFromEnv(process.env)`. */
export type ApiGuardSource =
  ApiGuardOptions | CognitoApiGuard | (() => ApiGuardOptions | CognitoApiGuard);

/**
 * One protected path of the proxy: what it requires, and how it refuses.
 *
 * @example
 * ```ts
 * const admin: ProtectedPath = { path: '/admin', groups: ['admin'], redirectToLogin: true };
 * ```
 */
export interface ProtectedPath extends Requirement {
  /**
   * A path prefix (`'/admin'` covers `/admin` and everything under `/admin/`, not
   * `/administrator`; `'/'` covers every path), or a regular expression tested against the
   * path. The path is tested as received and percent-decoded; either match counts, so an
   * encoded letter cannot walk around a prefix.
   */
  readonly path: string | RegExp;
  /**
   * Send browsers (requests that accept `text/html`) to the login route with `returnTo`, instead
   * of answering 401. Other callers (`fetch`, APIs) still get 401. Default `false`, as in the core.
   */
  readonly redirectToLogin?: boolean | undefined;
  /**
   * Let every request through; a signed-in session is still verified, and refreshed when its
   * access token has expired, so the page renders with fresh tokens. Takes no groups or scopes.
   */
  readonly optional?: boolean | undefined;
}

const PATH_KEYS = new Set(['path', 'groups', 'anyGroup', 'scopes', 'redirectToLogin', 'optional']);

/**
 * What {@link NextCognitoGuard.requireIdentity} requires: groups/scopes, and the page to come
 * back to after signing in.
 *
 * @example
 * ```ts
 * const editors: IdentityRequirement = { groups: ['admin', 'editor'], anyGroup: true, returnTo: '/edit' };
 * ```
 */
export interface IdentityRequirement extends Requirement {
  /**
   * The path to return to after signing in (a Server Component cannot see its own URL). Only
   * same-origin paths are honoured, by the login route.
   */
  readonly returnTo?: string | undefined;
}

/** A route handler's answer once the guard let the request through. */
export type ProtectedHandler = (
  request: Request,
  identity: CognitoIdentity | undefined,
) => Response | Promise<Response>;

// Next.js defines `EdgeRuntime` as a global string on its Edge runtime only.
declare const EdgeRuntime: string | undefined;

function onEdgeRuntime(): boolean {
  return typeof EdgeRuntime === 'string';
}

/** The Edge runtime cannot open TCP connections, and its memory is not that of the Node.js pages. */
const STORE_NEEDS_NODE =
  'a session store (AWS_COGNITO_SESSION_STORE) needs the Node.js runtime, and this is the Edge runtime: use proxy.ts (Next.js 16, always Node.js), or export `config = { runtime: "nodejs" }` from middleware.ts; otherwise keep sessions in cookies (leave AWS_COGNITO_SESSION_STORE unset)';

/**
 * Whether a session store cannot work here: on the Edge runtime, a store given by URL (Redis
 * speaks TCP, which the Edge runtime cannot open) or kept in memory (the Edge runtime's memory is
 * not the Node.js pages'). A store object of the app's own (one over HTTP) is the app's call.
 */
function storeOutOfReach(store: unknown): boolean {
  if (!onEdgeRuntime()) return false;
  return (typeof store === 'string' && store.trim() !== '') || store instanceof MemorySessionStore;
}

/** `process.env` read at call time (never inlined by the bundler), on either runtime. */
function processEnvironment(): Environment {
  const runtime = globalThis as { process?: { env?: Environment } };
  return runtime.process?.env ?? {};
}

const MEMORY_STORE = Symbol.for('cognito-guard/next: memory session store');

/**
 * The memory session store of this process (`AWS_COGNITO_SESSION_STORE=memory`, for development).
 * Next.js loads the proxy, the route handlers and the pages as separate module graphs, each with
 * its own copy of this package: a store per copy would lose every session between the sign-in
 * (a route handler) and the next page. On the Node.js runtime they share the process's global
 * object, so the store is kept there, with the clock of the guard that first needs it.
 */
function processMemoryStore(now: (() => number) | undefined): MemorySessionStore {
  const shared = globalThis as unknown as Partial<Record<symbol, MemorySessionStore>>;
  return (shared[MEMORY_STORE] ??= new MemorySessionStore(now));
}

function guardOf(options: CognitoGuardOptions): CognitoGuard {
  if (storeOutOfReach(options.sessionStore)) throw new ConfigurationError([STORE_NEEDS_NODE]);
  const store = options.sessionStore;
  // The core's own spelling, exactly: anything else (' memory ') is left to the core, which
  // refuses it, rather than meaning memory here and a bad value everywhere else.
  if (store !== 'memory' && store !== 'memory:') return new CognitoGuard(options);
  // Sessions expire on the guard's clock (`now`), as in the store the core builds for `memory`;
  // a clock that is not a function is left for the core to refuse.
  const now = typeof options.now === 'function' ? options.now : undefined;
  return new CognitoGuard({ ...options, sessionStore: processMemoryStore(now) });
}

/** A guard and its Fetch-API adapter, built together by one copy of this package. */
interface GuardAndAdapter {
  readonly guard: CognitoGuard;
  readonly web: WebCognitoGuard;
}

/** The guard of the environment, with what it was built from. */
interface EnvironmentGuard extends GuardAndAdapter {
  readonly fingerprint: string;
}

const ENVIRONMENT_GUARD = Symbol.for('cognito-guard/next: the guard of the environment');

/** The variables a guard is built from (what `fromEnv` reads), to tell two environments apart. */
function fingerprintOf(env: Environment): string {
  return JSON.stringify(
    Object.keys(env)
      .filter((name) => /^(AWS_|SECRET_KEY|NODE_ENV$)/.test(name))
      .sort()
      .map((name) => [name, env[name]]),
  );
}

/** This module graph's look-up of the guard of the environment. */
let environmentGuard: EnvironmentGuard | undefined;

/**
 * The guard configured by the environment, one per process on the Node.js runtime. Next.js
 * builds the proxy, the route handlers and the pages as separate module graphs, each with its own
 * copy of this package; one guard for all of them means one JWKS download, one cache of verified
 * tokens, and concurrent refreshes of a session shared, whichever graph a request reaches. It is
 * kept on the process's global object with the adapter built beside it, so that each copy calls
 * the first copy's code, never mixing classes of two copies. (The Edge runtime has a global
 * object of its own.)
 */
function guardFromEnvironment(): EnvironmentGuard {
  if (environmentGuard !== undefined) return environmentGuard;
  const env = processEnvironment();
  // Refused before fromEnv() reads it: a Redis URL would otherwise fail as a store nobody
  // registered, which does not say that the runtime is the problem.
  if (storeOutOfReach(env['AWS_COGNITO_SESSION_STORE'])) {
    throw new ConfigurationError([STORE_NEEDS_NODE]);
  }
  const fingerprint = fingerprintOf(env);
  const shared = globalThis as unknown as Partial<Record<symbol, EnvironmentGuard>>;
  const existing = shared[ENVIRONMENT_GUARD];
  if (existing?.fingerprint === fingerprint) return (environmentGuard = existing);
  const guard = guardOf(fromEnv(env));
  const built: EnvironmentGuard = { fingerprint, guard, web: webGuard(guard) };
  shared[ENVIRONMENT_GUARD] = built;
  return (environmentGuard = built);
}

/** A value built at its first use and kept; a failure (bad configuration) is thrown each time. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

function resolveGuard(source: GuardSource | undefined): () => GuardAndAdapter {
  if (source === undefined) return guardFromEnvironment;
  return once(() => {
    const given = typeof source === 'function' ? source() : source;
    let guard: CognitoGuard;
    if (given instanceof CognitoGuard) {
      if (storeOutOfReach(given.options.sessionStore)) {
        throw new ConfigurationError([STORE_NEEDS_NODE]);
      }
      guard = given;
    } else guard = guardOf(given);
    return { guard, web: webGuard(guard) };
  });
}

/**
 * Waits for a real request. While Next.js prerenders a route handler at build time (as it does
 * with Cache Components, create-next-app's default), this never resolves, so the build neither
 * runs a sign-in flow nor bakes its answer into a static file; at request time it resolves at
 * once. Called outside Next.js altogether (a unit test calling the handler with a `Request`),
 * there is nothing to wait for: Next.js says so with its "outside a request scope" error.
 */
async function atRequestTime(): Promise<void> {
  let waiting: Promise<void>;
  try {
    waiting = connection();
  } catch (error) {
    if (error instanceof Error && error.message.includes('outside a request scope')) return;
    throw error;
  }
  await waiting;
}

/** The HTTP status a guard error stands for (duck-typed: the error may come from another copy). */
function statusOf(error: unknown): number | undefined {
  const status: unknown =
    typeof error === 'object' && error !== null
      ? (error as { status?: unknown }).status
      : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The request as `getIdentity()` shows it to the core: what carries a session (the cookies, or
 * an `Authorization: Bearer` access token, as the proxy reads them) and nothing else.
 */
class SessionRequest implements IncomingRequest {
  readonly method = 'GET';
  readonly url = '/';
  constructor(
    readonly cookie: string | undefined,
    readonly authorization: string | undefined,
  ) {}
  header(name: string): string | undefined {
    if (name === 'cookie') return this.cookie;
    return name === 'authorization' ? this.authorization : undefined;
  }
}

/**
 * Answers `forbidden()` (403, `forbidden.tsx`) when the app enabled Next's
 * `experimental.authInterrupts`, and `notFound()` (404) otherwise: without the flag,
 * `forbidden()` throws a plain error that would show as a 500.
 */
function refuseForbidden(): never {
  try {
    forbidden();
  } catch (error) {
    // Next's own interruptions carry a digest; anything else means the flag is off.
    if (typeof (error as { digest?: unknown } | null)?.digest === 'string') throw error;
  }
  notFound();
}

/** Whether `pattern` covers `path`. */
function covers(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern !== 'string') {
    pattern.lastIndex = 0;
    return pattern.test(path);
  }
  if (pattern === '/') return true;
  return path === pattern || (path.startsWith(pattern) && path.charCodeAt(pattern.length) === 47);
}

/** Each segment percent-decoded (one that does not decode is kept as sent). */
function decodedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}

function checkPaths(paths: readonly ProtectedPath[]): void {
  const problems: string[] = [];
  const given: unknown = paths;
  if (!Array.isArray(given)) throw new ConfigurationError(['proxy() takes an array of paths']);
  paths.forEach((entry, index) => {
    const where = `proxy path ${index}`;
    if (typeof entry !== 'object' || (entry as unknown) === null) {
      problems.push(`${where} must be an object`);
      return;
    }
    for (const key of Object.keys(entry)) {
      if (!PATH_KEYS.has(key)) problems.push(`${where}: unknown key "${key}"`);
    }
    const { path } = entry;
    if (typeof path === 'string') {
      if (!path.startsWith('/') || (path.length > 1 && path.endsWith('/'))) {
        problems.push(`${where}: path must start with / and not end with one (got "${path}")`);
      }
    } else if (!(path instanceof RegExp)) {
      problems.push(`${where}: path must be a string or a RegExp`);
    }
    // The core refuses this too, for every route; said here so that it fails when declared.
    if (
      entry.optional === true &&
      ((entry.groups?.length ?? 0) > 0 || (entry.scopes?.length ?? 0) > 0)
    ) {
      problems.push(`${where}: an optional path cannot require groups or scopes`);
    }
  });
  if (problems.length > 0) throw new ConfigurationError(problems);
}

/**
 * The proxy's answer to a request the guard let through. With new cookies (a refreshed session),
 * they go on the response for the browser *and* on the request that continues to the page, so
 * the Server Components rendered for this very request read the new tokens.
 */
function continueWith(request: NextRequest, result: ContinueResult): Response {
  if (result.setCookies.length === 0) {
    const response = NextResponse.next();
    appendSession(response.headers, result);
    return response;
  }
  const forwarded = new Headers(request.headers);
  const cookie = cookieHeaderAfter(request.headers.get('cookie') ?? undefined, result.setCookies);
  if (cookie === undefined) forwarded.delete('cookie');
  else forwarded.set('cookie', cookie);
  const response = NextResponse.next({ request: { headers: forwarded } });
  appendSession(response.headers, result);
  return response;
}

/**
 * A refusal as the proxy must send it. Next.js parses a proxy's `Location` as an absolute URL
 * (a path alone fails the request with a 500); one on the request's own host it turns back into
 * the path before answering, so the browser still gets the core's same-origin path.
 */
function refusal(request: NextRequest, response: Response): Response {
  const location = response.headers.get('location');
  if (location?.startsWith('/') === true && !location.startsWith('//')) {
    response.headers.set('location', new URL(location, request.url).href);
  }
  return response;
}

/** A protector's answer in route-handler terms: the refusal, or the handler's response. */
async function answer(
  protector: WebProtector,
  request: Request,
  handler: ProtectedHandler,
): Promise<Response> {
  const result = await protector(request);
  if (result instanceof Response) return result;
  return withSession(result, await handler(request, result.identity));
}

/** The Next.js route handlers, proxy and Server Component helpers of a {@link CognitoGuard}. */
export interface NextCognitoGuard {
  /**
   * The framework-neutral guard underneath, built at first use (from the environment by
   * default). Reading it early (in `instrumentation.ts`) reports a bad configuration at startup.
   */
  readonly guard: CognitoGuard;
  /** `GET` of the login route: redirects to Cognito (`?returnTo=/path` is honoured). */
  login(options?: LoginOptions | ((request: Request) => LoginOptions)): RouteHandler;
  /**
   * `GET` of the redirect URL's route. With `redirectTo`, redirects (to the `returnTo` stored at
   * login, else `redirectTo`); without it, `then` answers and the session cookies are added.
   */
  callback(options?: CallbackOptions, then?: WebContinuation): RouteHandler;
  /** `POST` of the refresh route: refreshes the session; `then` answers (cookies added). */
  refresh(then: WebContinuation): RouteHandler;
  /**
   * `GET` and `POST` of the logout route: revokes, clears the cookies and sends the browser to
   * Cognito's logout. `{ everywhere: true }` signs the user out of every device too.
   */
  logout(options?: LogoutOptions): RouteHandler;
  /**
   * The proxy: protects `paths` (the first that covers the request applies; other requests pass
   * untouched), refreshes sessions whose access token expired, and forwards the new cookies to
   * the page rendered for the same request.
   *
   * @throws {@link ConfigurationError} for a malformed path entry (at once) or requirement (at
   *   the first request).
   */
  proxy(paths: readonly ProtectedPath[]): CognitoProxy;
  /**
   * Protects one route handler by itself (without the proxy): 401/403 as the core answers, an
   * automatic refresh whose cookies go on the handler's response.
   */
  protect(requirement: Requirement, handler: ProtectedHandler): RouteHandler;
  /**
   * The signed-in identity of the request being rendered, or `undefined`: reads the session
   * cookies (or an `Authorization: Bearer` access token, as the proxy does), verifies the
   * tokens (through the verified-token cache), never refreshes and never writes a cookie
   * (Server Components cannot). Behind the proxy, it sees the tokens the proxy has just
   * refreshed.
   *
   * @throws the guard's 5xx error when Cognito's keys cannot be had (the page's error boundary
   *   shows it; the user is not treated as signed out).
   */
  getIdentity(): Promise<CognitoIdentity | undefined>;
  /**
   * The signed-in identity, carrying the groups/scopes given. Not signed in: `redirect()` to the
   * login route (with `returnTo` when given). Signed in without them: `forbidden()` when
   * `experimental.authInterrupts` is on, else `notFound()`.
   *
   * @throws {@link ConfigurationError} when protection is disabled (`AWS_COGNITO_DISABLED`):
   *   there is no identity to return; use {@link NextCognitoGuard.getIdentity} in code that
   *   runs disabled.
   */
  requireIdentity(requirement?: IdentityRequirement): Promise<CognitoIdentity>;
}

/**
 * The Next.js adapter of a guard: from the environment by default (read at the first request),
 * or from options, a guard, or a function returning either.
 *
 * @example
 * ```ts
 * // lib/auth.ts
 * import { cognitoGuard } from 'cognito-guard/next';
 * export const auth = cognitoGuard();
 *
 * // proxy.ts
 * export const proxy = auth.proxy([
 *   { path: '/admin', groups: ['admin'], redirectToLogin: true },
 *   { path: '/', optional: true },
 * ]);
 *
 * // app/profile/page.tsx
 * export default async function Profile() {
 *   const { claims, groups } = await auth.requireIdentity({ returnTo: '/profile' });
 *   return `${claims.username}: ${groups.join(', ')}`;
 * }
 * ```
 */
export function cognitoGuard(source?: GuardSource): NextCognitoGuard {
  const resolved = resolveGuard(source);
  const guard = (): CognitoGuard => resolved().guard;
  const web = (): WebCognitoGuard => resolved().web;
  /** A handler built at its first request (the guard's configuration is read then). */
  const lazyHandler = (build: (web: WebCognitoGuard) => RouteHandler): RouteHandler => {
    const handler = once(() => build(web()));
    return async (request) => {
      await atRequestTime();
      return handler()(request);
    };
  };

  const getIdentity = async (): Promise<CognitoIdentity | undefined> => {
    // The request first: that is what tells Next.js that the page depends on it, and on the time
    // (a token's expiry), so it renders per request, never at build time (no configuration
    // there) nor in a prerender that caches the answer. The Cookie header as sent, not
    // cookies(), which merges names: the core refuses a session cookie sent twice, a sign of one
    // planted from a sibling domain.
    await atRequestTime();
    const received = await headers();
    const cookie = received.get('cookie') ?? undefined;
    const authorization = received.get('authorization') ?? undefined;
    const current = guard();
    if (current.disabled) return undefined;
    try {
      return await current.authenticate(new SessionRequest(cookie, authorization));
    } catch (error) {
      if (statusOf(error) === 401) return undefined;
      throw error;
    }
  };

  return {
    get guard() {
      return guard();
    },
    login: (options) => lazyHandler((w) => w.login(options)),
    callback: (options = {}, then) => {
      if ((options.redirectTo !== undefined) === (then !== undefined)) {
        throw new ConfigurationError([
          'callback() takes either redirectTo or a function that answers the signed-in request (exactly one)',
        ]);
      }
      return lazyHandler((w) => w.callback(options, then));
    },
    refresh: (then) => lazyHandler((w) => w.refresh(then)),
    logout: (options) => lazyHandler((w) => w.logout(options)),
    proxy: (paths) => {
      checkPaths(paths);
      const routes = once(() =>
        paths.map(({ path, redirectToLogin, optional, ...requirement }) => ({
          path,
          protector:
            optional === true
              ? web().optional()
              : web().required(
                  requirement,
                  redirectToLogin === undefined ? {} : { redirectToLogin },
                ),
        })),
      );
      return (request) => {
        const raw = request.nextUrl.pathname;
        const decoded = raw.includes('%') ? decodedPath(raw) : raw;
        const route = routes().find(
          ({ path }) => covers(path, raw) || (decoded !== raw && covers(path, decoded)),
        );
        if (route === undefined) return NextResponse.next();
        const result = route.protector(request);
        // Steady state: the verified-token cache answered, no promise.
        if (!(result instanceof Promise)) {
          return result instanceof Response
            ? refusal(request, result)
            : continueWith(request, result);
        }
        return result.then((settled) =>
          settled instanceof Response ? refusal(request, settled) : continueWith(request, settled),
        );
      };
    },
    protect: (requirement, handler) => {
      const protector = once(() => web().required(requirement));
      return async (request) => {
        await atRequestTime();
        return answer(protector(), request, handler);
      };
    },
    getIdentity,
    requireIdentity: async (requirement = {}) => {
      const { returnTo, ...rest } = requirement;
      const identity = await getIdentity();
      const current = guard();
      if (identity === undefined) {
        if (current.disabled) {
          throw new ConfigurationError([
            'requireIdentity() has no identity to return while protection is disabled (AWS_COGNITO_DISABLED); use getIdentity() in code that runs disabled',
          ]);
        }
        const query =
          returnTo === undefined ? '' : `?${new URLSearchParams({ returnTo }).toString()}`;
        redirect(`${current.options.loginPath}${query}`);
      }
      try {
        current.authorize(identity, rest);
      } catch (error) {
        if (statusOf(error) === 403) refuseForbidden();
        throw error;
      }
      return identity;
    },
  };
}

/** The route-handler protection of an API guard. */
export interface NextCognitoApiGuard {
  /** The framework-neutral API guard underneath, built at first use. */
  readonly guard: CognitoApiGuard;
  /**
   * Requires a valid `Authorization: Bearer` access token (401 with `WWW-Authenticate`
   * otherwise) carrying the groups/scopes given (403 otherwise), then runs `handler`.
   */
  protect(requirement: Requirement, handler: ProtectedHandler): RouteHandler;
}

/**
 * Protects API route handlers with Cognito access tokens sent as `Authorization: Bearer`:
 * configured by the pool and its app client(s) alone, from the environment by default
 * (`apiGuardFromEnv(process.env)` at the first request). Cookies are not read.
 *
 * @example
 * ```ts
 * // app/api/items/route.ts
 * import { cognitoApiGuard } from 'cognito-guard/next';
 * export const GET = cognitoApiGuard().protect({ scopes: ['items/read'] }, (_request, identity) =>
 *   Response.json({ for: identity?.claims.sub }),
 * );
 * ```
 */
export function cognitoApiGuard(source?: ApiGuardSource): NextCognitoApiGuard {
  const guard = once((): CognitoApiGuard => {
    const given =
      source === undefined
        ? apiGuardFromEnv(processEnvironment())
        : typeof source === 'function'
          ? source()
          : source;
    return given instanceof CognitoApiGuard ? given : new CognitoApiGuard(given);
  });
  const web = once(() => webApiGuard(guard()));
  return {
    get guard() {
      return guard();
    },
    protect: (requirement, handler) => {
      const protector = once(() => web().required(requirement));
      return async (request) => {
        await atRequestTime();
        return answer(protector(), request, handler);
      };
    },
  };
}

/** The adapter of the guard configured by the environment, behind the functions below. */
const fromEnvironment = once(() => cognitoGuard());

/**
 * {@link NextCognitoGuard.getIdentity} of the guard configured by the environment.
 *
 * @example
 * ```ts
 * // app/page.tsx
 * import { getIdentity } from 'cognito-guard/next';
 * export default async function Home() {
 *   const identity = await getIdentity();
 *   return identity === undefined ? 'Signed out' : `Hello ${identity.claims.username}`;
 * }
 * ```
 */
export function getIdentity(): Promise<CognitoIdentity | undefined> {
  return fromEnvironment().getIdentity();
}

/**
 * {@link NextCognitoGuard.requireIdentity} of the guard configured by the environment.
 *
 * @example
 * ```ts
 * // app/admin/page.tsx
 * import { requireIdentity } from 'cognito-guard/next';
 * export default async function Admin() {
 *   const { claims } = await requireIdentity({ groups: ['admin'], returnTo: '/admin' });
 *   return `Welcome, ${claims.username}`;
 * }
 * ```
 */
export function requireIdentity(requirement?: IdentityRequirement): Promise<CognitoIdentity> {
  return fromEnvironment().requireIdentity(requirement);
}

export { CognitoGuard, CognitoApiGuard };
export type { CognitoIdentity, ContinueResult };
