/**
 * The proxy (Next.js 16's name for middleware; always the Node.js runtime): protects paths,
 * each with its own groups, and refreshes a session whose access token has expired — on the
 * response for the browser and on the request that goes on to the page, so Server Components
 * rendered for this very request read the new tokens.
 */
import { auth } from '@/lib/auth.js';

export const proxy = auth.proxy([
  // The JSON routes of flask-cognito-lib's example: 401 (or 403) when refused, as everywhere.
  { path: '/claims' },
  { path: '/admin', groups: ['admin'] },
  { path: '/edit', groups: ['admin', 'editor'], anyGroup: true },
  // A page: browsers are sent to sign in, and come back here.
  { path: '/profile', redirectToLogin: true },
  // Everyone passes; a signed-in session is verified (and refreshed) for the route.
  { path: '/whoami', optional: true },
]);

export const config = {
  // Everything but Next's own static files.
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
