import type { ProtectedPath } from 'cognito-guard/next';

/**
 * What the proxy protects, path by path (the first path that covers a request applies). Shared
 * by `proxy.ts` and the Edge-runtime `edge/middleware.ts`.
 */
export const PROTECTED_PATHS: readonly ProtectedPath[] = [
  // The JSON routes of flask-cognito-lib's example: 401 (or 403) when refused, as everywhere.
  { path: '/claims' },
  { path: '/admin', groups: ['admin'] },
  { path: '/edit', groups: ['admin', 'editor'], anyGroup: true },
  // A page: browsers are sent to sign in, and come back here.
  { path: '/profile', redirectToLogin: true },
  // Everyone passes; a signed-in session is verified (and refreshed) for the route.
  { path: '/whoami', optional: true },
];
