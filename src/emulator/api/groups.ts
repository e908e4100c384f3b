/**
 * Group operations of the JSON API: CreateGroup, ListGroups, AdminAddUserToGroup,
 * AdminRemoveUserFromGroup, AdminListGroupsForUser. Membership is what the tokens'
 * `cognito:groups` claim carries, so a change shows in the next sign-in or refresh.
 */
import type { PoolGroup, UserPool } from '../pool.js';
import { MAX_STATE_ENTRIES } from '../state.js';
import { requirePool, requireUser } from './common.js';
import { ApiError } from './errors.js';
import { optionalInteger, optionalString, requiredString } from './input.js';
import type { ApiBody } from './input.js';
import { paged } from './users.js';

/** Cognito's `GroupType`. */
function groupType(pool: UserPool, group: PoolGroup) {
  return {
    GroupName: group.groupName,
    UserPoolId: pool.poolId,
    ...(group.description !== undefined ? { Description: group.description } : {}),
    ...(group.roleArn !== undefined ? { RoleArn: group.roleArn } : {}),
    ...(group.precedence !== undefined ? { Precedence: group.precedence } : {}),
    LastModifiedDate: group.updatedAtMs / 1000,
    CreationDate: group.createdAtMs / 1000,
  };
}

function requireGroup(pool: UserPool, name: string): PoolGroup {
  const group = pool.groups.get(name);
  if (!group) throw new ApiError('ResourceNotFoundException', 'Group not found.');
  return group;
}

/** `CreateGroup`. */
export function createGroup(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const groupName = requiredString(body, 'GroupName');
  if (/\s/.test(groupName) || groupName.length > 128) {
    throw new ApiError(
      'InvalidParameterException',
      'GroupName must be 1-128 characters without spaces',
    );
  }
  if (pool.groups.has(groupName)) {
    throw new ApiError(
      'GroupExistsException',
      `A group with the name ${groupName} already exists.`,
    );
  }
  if (pool.groups.size >= MAX_STATE_ENTRIES) {
    throw new ApiError('LimitExceededException', 'Too many groups (emulator limit).');
  }
  const description = optionalString(body, 'Description');
  const roleArn = optionalString(body, 'RoleArn');
  const precedence = optionalInteger(body, 'Precedence', 0, 2 ** 31 - 1);
  const group = pool.putGroup({
    groupName,
    ...(description !== undefined ? { description } : {}),
    ...(roleArn !== undefined ? { roleArn } : {}),
    ...(precedence !== undefined ? { precedence } : {}),
  });
  return { Group: groupType(pool, group) };
}

/** `ListGroups`. */
export function listGroups(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const { page, nextToken } = paged([...pool.groups.values()], body, 'NextToken');
  return {
    Groups: page.map((group) => groupType(pool, group)),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

/** `AdminAddUserToGroup` (idempotent). */
export function adminAddUserToGroup(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const user = requireUser(pool, requiredString(body, 'Username'));
  const group = requireGroup(pool, requiredString(body, 'GroupName'));
  if (!user.groups.includes(group.groupName)) {
    pool.updateUser(user.username, { groups: [...user.groups, group.groupName] });
  }
  return {};
}

/** `AdminRemoveUserFromGroup` (idempotent). */
export function adminRemoveUserFromGroup(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const user = requireUser(pool, requiredString(body, 'Username'));
  const group = requireGroup(pool, requiredString(body, 'GroupName'));
  pool.updateUser(user.username, {
    groups: user.groups.filter((name) => name !== group.groupName),
  });
  return {};
}

/** `AdminListGroupsForUser`. */
export function adminListGroupsForUser(pool: UserPool, body: ApiBody) {
  requirePool(pool, body);
  const user = requireUser(pool, requiredString(body, 'Username'));
  const groups = user.groups
    .map((name) => pool.groups.get(name))
    .filter((group): group is PoolGroup => group !== undefined);
  const { page, nextToken } = paged(groups, body, 'NextToken');
  return {
    Groups: page.map((group) => groupType(pool, group)),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}
