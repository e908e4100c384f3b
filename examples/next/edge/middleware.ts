/**
 * The same protection on the Edge runtime: `middleware.ts` (the name before Next.js 16, still
 * read, and the Edge runtime's only door in 16) in place of `proxy.ts` — a project has one or
 * the other. Move this file to the project's root and delete `proxy.ts` to run it; the tests
 * build the example that way too.
 *
 * Cookie sessions work here as on Node.js. A session store (AWS_COGNITO_SESSION_STORE) does
 * not: Redis needs TCP, which the Edge runtime cannot open, and the guard refuses to start,
 * saying so. Use `proxy.ts`, or `export const config = { runtime: 'nodejs', … }` here. (This file
 * builds its guard itself rather than importing lib/auth.ts, which brings in the Redis client.)
 */
import { cognitoGuard } from 'cognito-guard/next';
import { PROTECTED_PATHS } from '@/lib/protected-paths.js';

export const middleware = cognitoGuard().proxy(PROTECTED_PATHS);

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
