/**
 * User operations of the JSON API: the admin ones a test suite scripts users with
 * (AdminCreateUser, AdminSetUserPassword, AdminGetUser, AdminDeleteUser, ListUsers,
 * AdminConfirmSignUp), self-service sign-up (SignUp, ConfirmSignUp) and GetUser. They act on the
 * same users the hosted login page signs in.
 */
import { randomInt, randomUUID } from 'node:crypto';

import { resolveUser } from '../config.js';
import type { ResolvedUser } from '../config.js';
import { safeEqual } from '../http.js';
import { CONFIRMATION_CODE_LIFETIME_MS } from '../pool.js';
import type { UserPool } from '../pool.js';
import { MAX_STATE_ENTRIES } from '../state.js';
import {
  attributesOf,
  checkPasswordPolicy,
  checkSecretHash,
  deliveryDetails,
  requireClient,
  requirePool,
  requireUser,
  temporaryPassword,
  userOfAccessToken,
  userType,
  withAttributes,
} from './common.js';
import { ApiError } from './errors.js';
import {
  attributeList,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringList,
  requiredString,
} from './input.js';
import type { ApiBody } from './input.js';

/** A new user record from a username, password and `[{Name, Value}]` attributes. */
function newUser(
  pool: UserPool,
  username: string,
  password: string,
  status: ResolvedUser['status'],
  attributes: readonly { readonly name: string; readonly value: string }[],
): ResolvedUser {
  if (pool.users.has(username)) {
    throw new ApiError('UsernameExistsException', 'User account already exists');
  }
  // SignUp is open to anyone who can reach the emulator: bound the pool like every other map.
  if (pool.users.size >= MAX_STATE_ENTRIES) {
    throw new ApiError('LimitExceededException', 'The user pool is full (emulator limit).');
  }
  const base = resolveUser({ username, password, status }, pool.poolId, pool.now());
  // A fresh sub per created user (a deleted and re-created user is a different identity).
  return withAttributes({ ...base, sub: randomUUID() }, attributes);
}

/** `AdminCreateUser`: a user in FORCE_CHANGE_PASSWORD with a temporary password. */
export function adminCreateUser(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const username = requiredString(body, 'Username');
  const action = optionalString(body, 'MessageAction');
  if (action !== undefined && action !== 'SUPPRESS' && action !== 'RESEND') {
    throw new ApiError('InvalidParameterException', 'MessageAction must be SUPPRESS or RESEND');
  }
  const given = optionalString(body, 'TemporaryPassword');
  if (given !== undefined) checkPasswordPolicy(given);
  const password = given ?? temporaryPassword();
  let user: ResolvedUser;
  if (action === 'RESEND') {
    const existing = requireUser(pool, username);
    if (existing.status !== 'FORCE_CHANGE_PASSWORD') {
      throw new ApiError(
        'UnsupportedUserStateException',
        'Resend is only possible for a user whose temporary password was not changed yet.',
      );
    }
    user = pool.updateUser(username, { password }) ?? existing;
  } else {
    user = newUser(
      pool,
      username,
      password,
      'FORCE_CHANGE_PASSWORD',
      attributeList(body, 'UserAttributes'),
    );
    pool.putUser(user);
  }
  if (action !== 'SUPPRESS') {
    pool.send({
      kind: 'temporary-password',
      username,
      destination: user.email ?? user.phoneNumber,
      code: password,
    });
  }
  return { User: userType(user) };
}

/** `AdminSetUserPassword`: permanent (CONFIRMED) or temporary (FORCE_CHANGE_PASSWORD). */
export function adminSetUserPassword(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const username = requiredString(body, 'Username');
  const password = requiredString(body, 'Password');
  const permanent = optionalBoolean(body, 'Permanent') ?? false;
  requireUser(pool, username);
  checkPasswordPolicy(password);
  pool.updateUser(username, {
    password,
    status: permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD',
  });
  return {};
}

/** `AdminGetUser`. */
export function adminGetUser(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const user = requireUser(pool, requiredString(body, 'Username'));
  return {
    Username: user.username,
    UserAttributes: attributesOf(user),
    UserCreateDate: user.createdAtMs / 1000,
    UserLastModifiedDate: user.updatedAtMs / 1000,
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

/** `AdminDeleteUser`: the user, every sign-in of theirs and their hosted-UI sessions end. */
export function adminDeleteUser(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const username = requiredString(body, 'Username');
  requireUser(pool, username);
  pool.state.revokeUserFamilies(username);
  pool.deleteUser(username);
  pool.confirmationCodes.delete(username);
  return {};
}

/** `AdminConfirmSignUp`: an UNCONFIRMED user becomes CONFIRMED without a code. */
export function adminConfirmSignUp(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const username = requiredString(body, 'Username');
  const user = requireUser(pool, username);
  if (user.status !== 'UNCONFIRMED') {
    throw new ApiError(
      'NotAuthorizedException',
      `User cannot be confirmed. Current status is ${user.status}`,
    );
  }
  pool.updateUser(username, { status: 'CONFIRMED' });
  pool.confirmationCodes.delete(username);
  return {};
}

/** `SignUp`: an UNCONFIRMED user and a confirmation code "sent" to them. */
export function signUp(pool: UserPool, body: ApiBody) {
  const client = requireClient(pool, body);
  const username = requiredString(body, 'Username');
  const password = requiredString(body, 'Password');
  checkSecretHash(client, optionalString(body, 'SecretHash'), [username]);
  if (pool.users.has(username))
    throw new ApiError('UsernameExistsException', 'User already exists');
  checkPasswordPolicy(password);
  const user = newUser(
    pool,
    username,
    password,
    'UNCONFIRMED',
    attributeList(body, 'UserAttributes'),
  );
  pool.putUser(user);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  pool.confirmationCodes.set(username, {
    code,
    expiresAtMs: pool.now() + CONFIRMATION_CODE_LIFETIME_MS,
  });
  pool.send({
    kind: 'confirmation-code',
    username,
    destination: user.email ?? user.phoneNumber,
    code,
  });
  const delivery = deliveryDetails(user);
  return {
    UserConfirmed: false,
    UserSub: user.sub,
    ...(delivery !== undefined ? { CodeDeliveryDetails: delivery } : {}),
  };
}

/** `ConfirmSignUp`: the code from SignUp confirms the user (and verifies where it was sent). */
export function confirmSignUp(pool: UserPool, body: ApiBody) {
  const client = requireClient(pool, body);
  const username = requiredString(body, 'Username');
  const code = requiredString(body, 'ConfirmationCode');
  checkSecretHash(client, optionalString(body, 'SecretHash'), [username]);
  const user = requireUser(pool, username);
  if (user.status !== 'UNCONFIRMED') {
    throw new ApiError(
      'NotAuthorizedException',
      `User cannot be confirmed. Current status is ${user.status}`,
    );
  }
  const pending = pool.confirmationCodes.get(username);
  if (!pending || pending.expiresAtMs <= pool.now()) {
    throw new ApiError(
      'ExpiredCodeException',
      'Invalid code provided, please request a code again.',
    );
  }
  if (!safeEqual(code, pending.code)) {
    throw new ApiError(
      'CodeMismatchException',
      'Invalid verification code provided, please try again.',
    );
  }
  pool.confirmationCodes.delete(username);
  pool.updateUser(username, {
    status: 'CONFIRMED',
    ...(user.email !== undefined ? { emailVerified: true } : { phoneNumberVerified: true }),
  });
  return {};
}

/** `GetUser`: the signed-in user's own attributes, by access token. */
export function getUser(pool: UserPool, body: ApiBody) {
  const user = userOfAccessToken(pool, requiredString(body, 'AccessToken'));
  return { Username: user.username, UserAttributes: attributesOf(user) };
}

/** Attributes ListUsers can filter on, and how to read each from a user. */
const FILTERABLE: Readonly<Record<string, (user: ResolvedUser) => string | undefined>> = {
  username: (user) => user.username,
  email: (user) => user.email,
  phone_number: (user) => user.phoneNumber,
  name: (user) => user.attributes.name,
  given_name: (user) => user.attributes.given_name,
  family_name: (user) => user.attributes.family_name,
  preferred_username: (user) => user.attributes.preferred_username,
  'cognito:user_status': (user) => user.status,
  status: (user) => (user.enabled ? 'Enabled' : 'Disabled'),
  sub: (user) => user.sub,
};

/**
 * Parses Cognito's ListUsers filter, `attribute = "value"` or `attribute ^= "prefix"` (one
 * condition; `\"` and `\\` escape inside the quotes). Empty means every user.
 */
export function parseUserFilter(
  filter: string | undefined,
): ((user: ResolvedUser) => boolean) | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = /^\s*([\w:]+)\s*(=|\^=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(filter);
  if (!match) throw new ApiError('InvalidParameterException', 'Error while parsing filter.');
  const [, name = '', operator, quoted = ''] = match;
  const read = Object.hasOwn(FILTERABLE, name) ? FILTERABLE[name] : undefined;
  if (!read) throw new ApiError('InvalidParameterException', `Invalid search attribute: ${name}`);
  const value = quoted.replace(/\\(.)/g, '$1');
  return operator === '='
    ? (user) => read(user) === value
    : (user) => read(user)?.startsWith(value) === true;
}

/** An opaque pagination token for an offset (validated on the way back). */
export function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

/** The offset of a pagination token, or `InvalidParameterException`. */
export function pageOffset(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    const offset = (parsed as { offset?: unknown }).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the error below.
  }
  throw new ApiError('InvalidParameterException', 'Invalid pagination token.');
}

/**
 * One page of `items` by the request's `Limit` (0–60; 0 and absent mean 60) and its pagination
 * token, read from `tokenMember` (ListUsers says `PaginationToken`, the group operations
 * `NextToken`), in that order; and the token of the next page when there is one.
 */
export function paged<T>(items: readonly T[], body: ApiBody, tokenMember: string) {
  const limit = optionalInteger(body, 'Limit', 0, 60) ?? 60;
  const offset = pageOffset(optionalString(body, tokenMember));
  const page = items.slice(offset, offset + (limit === 0 ? 60 : limit));
  const next = offset + page.length;
  return { page, nextToken: next < items.length ? pageToken(next) : undefined };
}

/** `ListUsers` with its filter, `AttributesToGet`, `Limit` (≤ 60) and `PaginationToken`. */
export function listUsers(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const matches = parseUserFilter(optionalString(body, 'Filter'));
  const users = [...pool.users.values()].filter((user) => !matches || matches(user));
  // Validation order: Filter, Limit, PaginationToken, then AttributesToGet.
  const { page, nextToken } = paged(users, body, 'PaginationToken');
  const attributeNames = optionalStringList(body, 'AttributesToGet');
  return {
    Users: page.map((user) => userType(user, attributeNames)),
    ...(nextToken !== undefined ? { PaginationToken: nextToken } : {}),
  };
}
