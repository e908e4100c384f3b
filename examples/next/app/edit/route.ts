import { auth } from '@/lib/auth.js';

/** For members of any listed group (the proxy requires admin or editor). */
export async function GET(): Promise<Response> {
  const identity = await auth.getIdentity();
  return Response.json(identity?.groups ?? []);
}
