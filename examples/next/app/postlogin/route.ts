import { auth } from '@/lib/auth.js';

/**
 * Cognito redirects here (AWS_COGNITO_REDIRECT_URL); tokens are verified and stored in HttpOnly
 * cookies, then the user goes to `returnTo` or /claims.
 */
export const GET = auth.callback({ redirectTo: '/claims' });
