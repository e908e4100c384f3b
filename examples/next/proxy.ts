/**
 * The proxy (Next.js 16's name for middleware; always the Node.js runtime): protects paths,
 * each with its own groups, and refreshes a session whose access token has expired — on the
 * response for the browser and on the request that goes on to the page, so Server Components
 * rendered for this very request read the new tokens.
 */
import { auth } from '@/lib/auth.js';
import { PROTECTED_PATHS } from '@/lib/protected-paths.js';

export const proxy = auth.proxy(PROTECTED_PATHS);

export const config = {
  // Everything but Next.js's own static files.
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
