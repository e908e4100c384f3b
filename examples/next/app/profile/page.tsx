/**
 * A Server Component that shows who is signed in. The proxy sends signed-out browsers to sign in
 * and refreshes expired tokens; `requireIdentity()` reads the session the proxy passed on (never
 * writing a cookie: Server Components cannot) and redirects to sign in if there is none.
 */
import { auth } from '@/lib/auth.js';

export default async function Profile() {
  const identity = await auth.requireIdentity({ returnTo: '/profile' });
  const { claims, userInfo, groups } = identity;
  // The ID token's `name` when the pool has one, else the user name.
  const given = userInfo?.['name'];
  const name =
    typeof given === 'string' ? given : (userInfo?.['cognito:username'] ?? claims.username ?? '');
  return (
    <main>
      <h1>{`Signed in as ${name}`}</h1>
      <p>
        Groups: <span id="groups">{groups.length === 0 ? 'none' : groups.join(', ')}</span>
      </p>
      {userInfo?.email === undefined ? null : <p>{`Email: ${userInfo.email}`}</p>}
      <p data-token-id={claims.jti}>
        Access token issued <time id="token-iat">{claims.iat}</time>, valid until{' '}
        <time id="token-exp">{claims.exp}</time> (seconds since 1970).
      </p>
      <p>
        <a href="/">Home</a> · <a href="/logout">Log out</a>
      </p>
    </main>
  );
}
