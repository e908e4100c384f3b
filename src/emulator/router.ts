/**
 * Routes a request to its endpoint: the path picks the route, the route lists the methods it
 * answers (405 with `Allow` otherwise) and the fault that can be injected in front of it.
 */
import type { FaultEndpoint, FaultInjector } from './faults.js';
import { methodNotAllowed, notFound } from './http.js';
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

/** One path: its handler per method, and the fault slot in front of it. */
interface Route {
  readonly fault?: FaultEndpoint;
  readonly methods: Readonly<Record<string, Handler>>;
}

function routes(pool: UserPool): Map<string, Route> {
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
    ['/error', { methods: { GET: (_request, url) => errorPageGet(url) } }],
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
      { methods: { GET: (request, _url, info) => listKeys(pool, request, info) } },
    ],
    [
      '/_emulator/keys/rotate',
      { methods: { POST: (request, _url, info) => rotateKeys(pool, request, info) } },
    ],
    [
      '/_emulator/keys/retire',
      { methods: { POST: (request, _url, info) => retireKey(pool, request, info) } },
    ],
    ['/', { methods: { GET: () => index(pool) } }],
  ]);
}

/**
 * The emulator's request handler: route, apply the route's fault (if one is set), then answer.
 *
 * @example
 * ```ts
 * const handle = createRouter(pool, new FaultInjector());
 * const response = await handle(new Request(`${pool.origin}/oauth2/userInfo`), {});
 * ```
 */
export function createRouter(
  pool: UserPool,
  faults: FaultInjector,
): (request: Request, info: RequestInfo) => Promise<Response> {
  const table = routes(pool);
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
