import { auth } from '@/lib/auth.js';

/** Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured. */
export const GET = auth.login();
