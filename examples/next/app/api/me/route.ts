import { api } from '@/lib/auth.js';

/**
 * An API route for callers that send `Authorization: Bearer <access token>` with the `email`
 * scope (no cookies, no redirects).
 */
export const GET = api.protect({ scopes: ['email'] }, (_request, identity) =>
  Response.json({ sub: identity?.claims.sub, scope: identity?.claims.scope }),
);
