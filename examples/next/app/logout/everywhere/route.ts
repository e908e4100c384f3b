import { auth } from '@/lib/auth.js';

/** Signs out as /logout does, and out of every other device too (Cognito's GlobalSignOut). */
export const POST = auth.logout({ everywhere: true });
