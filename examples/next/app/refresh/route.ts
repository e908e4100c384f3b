import { auth } from '@/lib/auth.js';

/** Exchanges the encrypted refresh-token cookie for new tokens. */
export const POST = auth.refresh(
  () => new Response(null, { status: 303, headers: { location: '/claims' } }),
);
