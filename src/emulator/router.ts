/**
 * Routes a request to its endpoint: the path picks the route, the route lists the methods it
 * answers (405 with `Allow` otherwise) and the fault that can be injected in front of it. The
 * control endpoints and Cognito's JSON API also check the Host header.
 */
import type { FaultEndpoint, FaultInjector } from './faults.js';
import { json, methodNotAllowed, notFound } from './http.js';
import type { Handler, RequestInfo } from './http.js';
import type { UserPool } from './pool.js';
import { authorize } from './endpoints/authorize.js';
import { listKeys, retireKey, rotateKeys } from './endpoints/control.js';
import { errorPageGet, loginGet, loginPost } from './endpoints/login.js';
import { logout } from './endpoints/logout.js';
import { revoke } from './endpoints/revoke.js';
import { token, tokenPreflight } from './endpoints/token.js';
import { userInfo } from './endpoints/user-info.js';
import { discovery, index, jwks } from './endpoints/well-known.js';
import { cognitoApi, cognitoApiPreflight } from './api/dispatch.js';
import { ApiError, apiErrorResponse } from './api/errors.js';

/** One path: its handler per method, and the fault slot in front of it. */
interface Route {
  readonly fault?: FaultEndpoint;
  readonly methods: Readonly<Record<string, Handler>>;
}

/** Wraps a handler so it answers only requests whose Host may drive the emulator. */
type HostGuard = (handler: Handler, refuse?: (host: string) => Response) => Handler;

/** Host names every emulator answers its control endpoints on. */
const LOOPBACK_HOST_RE = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** The host name of a `Host` header value (lower case, no port), or `undefined` when malformed. */
function hostName(value: string): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.exec(value);
  return match?.[1]?.toLowerCase();
}

function refusalText(host: string): string {
  return `Host ${host} is not allowed here. The control endpoints and the Cognito API answer loopback host names and the public origin's; add others with the allowedHosts option (CLI: --allowed-host).`;
}

function hostRefused(host: string): Response {
  return json(403, { error: refusalText(host) });
}

function apiHostRefused(host: string): Response {
  return apiErrorResponse(new ApiError('AccessDeniedException', refusalText(host), 403));
}

function routes(pool: UserPool, guard: HostGuard): Map<string, Route> {
  return new Map<string, Route>([
    [
      '/oauth2/authorize',
      { fault: 'authorize', methods: { GET: (request, url) => authorize(pool, request, url) } },
    ],
    [
      '/login',
      {
        fault: 'login',
        methods: {
          GET: (request, url) => loginGet(pool, request, url),
          POST: (request, url) => loginPost(pool, request, url),
        },
      },
    ],
    [
      '/oauth2/token',
      {
        fault: 'token',
        methods: { POST: (request) => token(pool, request), OPTIONS: () => tokenPreflight() },
      },
    ],
    ['/oauth2/revoke', { fault: 'revoke', methods: { POST: (request) => revoke(pool, request) } }],
    [
      '/oauth2/userInfo',
      { fault: 'userInfo', methods: { GET: (request) => userInfo(pool, request) } },
    ],
    [
      '/logout',
      { fault: 'logout', methods: { GET: (request, url) => logout(pool, request, url) } },
    ],
    ['/error', { methods: { GET: (_request, url) => errorPageGet(pool, url) } }],
    [
      `/${pool.poolId}/.well-known/jwks.json`,
      { fault: 'jwks', methods: { GET: () => jwks(pool) } },
    ],
    [
      `/${pool.poolId}/.well-known/openid-configuration`,
      { fault: 'openid-configuration', methods: { GET: () => discovery(pool) } },
    ],
    [
      '/_emulator/keys',
      { methods: { GET: guard((request, _url, info) => listKeys(pool, request, info)) } },
    ],
    [
      '/_emulator/keys/rotate',
      { methods: { POST: guard((request, _url, info) => rotateKeys(pool, request, info)) } },
    ],
    [
      '/_emulator/keys/retire',
      { methods: { POST: guard((request, _url, info) => retireKey(pool, request, info)) } },
    ],
    [
      '/',
      {
        fault: 'api',
        methods: {
          GET: () => index(pool),
          POST: guard((request) => cognitoApi(pool, request), apiHostRefused),
          OPTIONS: () => cognitoApiPreflight(),
        },
      },
    ],
  ]);
}

/**
 * The emulator's request handler: route, refuse a foreign Host on the guarded routes, apply the
 * route's fault (if one is set), then answer.
 *
 * The Host check defends against DNS rebinding: a web page whose own host name has been pointed
 * at 127.0.0.1 can send same-origin requests to the emulator, but they carry that page's host
 * name, never a loopback one.
 *
 * @param allowedHosts - more host names to answer on (e.g. `cognito` in docker-compose).
 * @example
 * ```ts
 * import { FaultInjector } from './faults.js';
 *
 * const handle = createRouter(pool, new FaultInjector(), ['cognito']);
 * const response = await handle(new Request(`${pool.origin}/oauth2/userInfo`), {});
 * ```
 */
export function createRouter(
  pool: UserPool,
  faults: FaultInjector,
  allowedHosts: readonly string[] = [],
): (request: Request, info: RequestInfo) => Promise<Response> {
  const allowed = new Set([
    new URL(pool.origin).hostname,
    ...allowedHosts.map((host) => host.toLowerCase()),
  ]);
  const guard: HostGuard =
    (handler, refuse = hostRefused) =>
    (request, url, info) => {
      // In-process requests may carry no Host; their URL names the emulator itself.
      const header = request.headers.get('host') ?? url.host;
      const host = hostName(header);
      return host !== undefined && (LOOPBACK_HOST_RE.test(host) || allowed.has(host))
        ? handler(request, url, info)
        : refuse(host ?? header);
    };
  const table = routes(pool, guard);
  return async (request, info) => {
    const url = new URL(request.url);
    const route = table.get(url.pathname);
    if (!route) return notFound();
    if (route.fault !== undefined) {
      const faulted = await faults.apply(route.fault);
      if (faulted) return faulted;
    }
    // Own properties only: a method named like an Object.prototype member is not a route.
    const handler = Object.hasOwn(route.methods, request.method)
      ? route.methods[request.method]
      : undefined;
    if (!handler) return methodNotAllowed(Object.keys(route.methods).join(','));
    return handler(request, url, info);
  };
}
