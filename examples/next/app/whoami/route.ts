import { auth } from '@/lib/auth.js';

/** Beyond flask-cognito-lib's example: greets signed-in users and lets everyone in. */
export async function GET(): Promise<Response> {
  const identity = await auth.getIdentity();
  return Response.json({
    signedIn: identity !== undefined,
    username: identity?.claims.username ?? null,
  });
}
