import { auth } from '@/lib/auth.js';

/** Only for members of every listed group (the proxy requires group admin). */
export async function GET(): Promise<Response> {
  const identity = await auth.getIdentity();
  return Response.json(identity?.groups ?? []);
}
