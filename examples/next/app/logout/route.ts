import { auth } from '@/lib/auth.js';

/** Revokes the refresh token, clears the cookies and signs out of Cognito. */
export const GET = auth.logout();
export const POST = GET;
