/**
 * Reading a JSON-API request body: every member is checked for its type before use, and a bad
 * or missing one is an `InvalidParameterException` naming it, as Cognito's validation does.
 */
import { ApiError } from './errors.js';

/** A request body: a JSON object. */
export type ApiBody = Readonly<Record<string, unknown>>;

function invalid(member: string, constraint: string): ApiError {
  return new ApiError(
    'InvalidParameterException',
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/**
 * A required non-empty string member.
 *
 * @example
 * ```ts
 * const username = requiredString({ Username: 'alice' }, 'Username'); // 'alice'
 * ```
 */
export function requiredString(body: ApiBody, member: string): string {
  const value = body[member];
  if (value === undefined || value === null) throw invalid(member, 'Member must not be null');
  if (typeof value !== 'string' || value === '') {
    throw invalid(member, 'Member must be a non-empty string');
  }
  return value;
}

/** An optional string member (`undefined` when absent or null). */
export function optionalString(body: ApiBody, member: string): string | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(member, 'Member must be a string');
  return value;
}

/** An optional boolean member. */
export function optionalBoolean(body: ApiBody, member: string): boolean | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(member, 'Member must be a boolean');
  return value;
}

/** An optional integer member within bounds. */
export function optionalInteger(
  body: ApiBody,
  member: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(member, `Member must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A string map member (`AuthParameters`, `ChallengeResponses`); `{}` when absent. */
export function stringMap(body: ApiBody, member: string): Readonly<Record<string, string>> {
  const value = body[member];
  if (value === undefined || value === null) return {};
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.values(value).some((item) => typeof item !== 'string')
  ) {
    throw invalid(member, 'Member must be a map of strings');
  }
  return value as Record<string, string>;
}

/** An attribute list member (`UserAttributes`): `[{ Name, Value }]`; `[]` when absent. */
export function attributeList(
  body: ApiBody,
  member: string,
): readonly { readonly name: string; readonly value: string }[] {
  const value = body[member];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(member, 'Member must be a list of { Name, Value }');
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null) {
      throw invalid(member, 'Member must be a list of { Name, Value }');
    }
    const { Name: name, Value: attributeValue } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') {
      throw invalid(`${member}.member.Name`, 'Member must not be null');
    }
    if (attributeValue !== undefined && typeof attributeValue !== 'string') {
      throw invalid(`${member}.member.Value`, 'Member must be a string');
    }
    return { name, value: attributeValue ?? '' };
  });
}

/** A string list member (`AttributesToGet`); `undefined` when absent. */
export function optionalStringList(body: ApiBody, member: string): readonly string[] | undefined {
  const value = body[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalid(member, 'Member must be a list of strings');
  }
  return value as string[];
}
