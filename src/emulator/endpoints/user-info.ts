/**
 * `GET /oauth2/userInfo`: the only online check Cognito offers a relying party. It refuses expired
 * tokens, tokens of a revoked sign-in, tokens of deleted users and tokens without `openid`, and
 * answers the attributes the token's scopes allow, with `*_verified` as strings.
 */
import type { ResolvedUser } from '../config.js';
import { json } from '../http.js';
import type { UserPool } from '../pool.js';

const USERINFO_400 =
  'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"';
const USERINFO_401 =
  'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."';

const PROFILE_ATTRIBUTES = new Set([
  'name',
  'family_name',
  'given_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
]);

/** userInfo's body: attributes by scope, `*_verified` as strings, and a `username` field. */
function userInfoBody(user: ResolvedUser, scopes: readonly string[]): Record<string, string> {
  const everything = !scopes.some(
    (scope) => scope === 'email' || scope === 'phone' || scope === 'profile',
  );
  const email = everything || scopes.includes('email');
  const phone = everything || scopes.includes('phone');
  const profile = everything || scopes.includes('profile');
  const body: Record<string, string> = { sub: user.sub };
  for (const [name, value] of Object.entries(user.attributes)) {
    if (everything || (profile && (PROFILE_ATTRIBUTES.has(name) || name.startsWith('custom:')))) {
      body[name] = value;
    }
  }
  if (phone && user.phoneNumber !== undefined) {
    body.phone_number_verified = String(user.phoneNumberVerified);
    body.phone_number = user.phoneNumber;
  }
  if (email && user.email !== undefined) {
    body.email_verified = String(user.emailVerified);
    body.email = user.email;
  }
  body.username = user.username;
  return body;
}

/** `GET /oauth2/userInfo`. */
export function userInfo(pool: UserPool, request: Request): Response {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
  if (!match?.[1]) {
    return json(400, { error: 'invalid_request' }, { 'www-authenticate': USERINFO_400 });
  }
  // Whatever is wrong with the token (expired, revoked, no `openid`, user gone), the same 401.
  const checked = pool.checkAccessToken(match[1], 'openid');
  if (!checked.ok) {
    return json(401, { error: 'invalid_token' }, { 'www-authenticate': USERINFO_401 });
  }
  return json(200, userInfoBody(checked.user, checked.scopes));
}
