import { auth } from '@/lib/auth.js';

/**
 * Verified claims (access token) and user info (ID token). The proxy refused the request unless
 * it is signed in; the identity is read again here, as Next.js recommends for every route.
 * (It is undefined only when AWS_COGNITO_DISABLED turns protection off.)
 */
export async function GET(): Promise<Response> {
  const identity = await auth.getIdentity();
  return Response.json({ claims: identity?.claims, user_info: identity?.userInfo });
}
