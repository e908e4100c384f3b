/**
 * Cognito's JSON API at `POST /`: the operation comes from `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Operation>`, the input is an `application/x-amz-json-1.1`
 * body, and every refusal is Cognito's error shape, so the AWS SDK (pointed here with `endpoint`)
 * and amazon-cognito-identity-js work unmodified.
 *
 * Request signatures are not verified: any credentials work. Admin operations (those Cognito
 * authorizes with IAM) still need an `Authorization: AWS4-HMAC-SHA256 …` header, which a web
 * page cannot add to a cross-origin request without a preflight this endpoint does not grant, so
 * only the public operations (sign-up, sign-in, token operations) are callable from a browser.
 */
import type { UserPool } from '../pool.js';
import { ApiError, EXPOSED_HEADERS, apiErrorResponse, apiResponse } from './errors.js';
import type { ApiBody } from './input.js';
import {
  adminInitiateAuth,
  adminRespondToAuthChallenge,
  adminUserGlobalSignOut,
  getTokensFromRefreshToken,
  globalSignOut,
  initiateAuth,
  respondToAuthChallenge,
  revokeToken,
} from './auth.js';
import {
  adminAddUserToGroup,
  adminListGroupsForUser,
  adminRemoveUserFromGroup,
  createGroup,
  listGroups,
} from './groups.js';
import {
  adminConfirmSignUp,
  adminCreateUser,
  adminDeleteUser,
  adminGetUser,
  adminSetUserPassword,
  confirmSignUp,
  getUser,
  listUsers,
  signUp,
} from './users.js';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

/** One operation: what it does, and whether Cognito authorizes it with IAM (an admin operation). */
interface Operation {
  readonly run: (pool: UserPool, body: ApiBody) => unknown;
  readonly admin: boolean;
}

const admin = (run: Operation['run']): Operation => ({ run, admin: true });
const open = (run: Operation['run']): Operation => ({ run, admin: false });

/** Every operation the emulator implements. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  AdminAddUserToGroup: admin(adminAddUserToGroup),
  AdminConfirmSignUp: admin(adminConfirmSignUp),
  AdminCreateUser: admin(adminCreateUser),
  AdminDeleteUser: admin(adminDeleteUser),
  AdminGetUser: admin(adminGetUser),
  AdminInitiateAuth: admin(adminInitiateAuth),
  AdminListGroupsForUser: admin(adminListGroupsForUser),
  AdminRemoveUserFromGroup: admin(adminRemoveUserFromGroup),
  AdminRespondToAuthChallenge: admin(adminRespondToAuthChallenge),
  AdminSetUserPassword: admin(adminSetUserPassword),
  AdminUserGlobalSignOut: admin(adminUserGlobalSignOut),
  CreateGroup: admin(createGroup),
  ListGroups: admin(listGroups),
  ListUsers: admin(listUsers),
  ConfirmSignUp: open(confirmSignUp),
  GetTokensFromRefreshToken: open(getTokensFromRefreshToken),
  GetUser: open(getUser),
  GlobalSignOut: open(globalSignOut),
  InitiateAuth: open(initiateAuth),
  RespondToAuthChallenge: open(respondToAuthChallenge),
  RevokeToken: open(revokeToken),
  SignUp: open(signUp),
};

/**
 * The names of the JSON-API operations the emulator implements.
 *
 * @example
 * ```ts
 * COGNITO_API_OPERATIONS.includes('AdminCreateUser'); // true
 * ```
 */
export const COGNITO_API_OPERATIONS: readonly string[] = Object.freeze(Object.keys(OPERATIONS));

function operationOf(request: Request): Operation {
  const target = request.headers.get('x-amz-target');
  if (target === null) {
    throw new ApiError('UnknownOperationException', 'Missing the X-Amz-Target header');
  }
  const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (!operation) throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
  return operation;
}

async function bodyOf(request: Request): Promise<ApiBody> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-amz-json-1.1' && type !== 'application/x-amz-json-1.0') {
    throw new ApiError('SerializationException', 'Send Content-Type: application/x-amz-json-1.1');
  }
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    throw new ApiError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('SerializationException', 'The request body must be a JSON object');
  }
  return body as ApiBody;
}

/** `POST /` with `X-Amz-Target`: runs one operation. */
export async function cognitoApi(pool: UserPool, request: Request): Promise<Response> {
  let cors = false;
  try {
    const operation = operationOf(request);
    cors = !operation.admin;
    if (
      operation.admin &&
      !/^AWS4-HMAC-SHA256\s/.test(request.headers.get('authorization') ?? '')
    ) {
      throw new ApiError(
        'MissingAuthenticationTokenException',
        'Admin operations need a signed request (any credentials work with the emulator)',
        403,
      );
    }
    const body = await bodyOf(request);
    return apiResponse(operation.run(pool, body), cors);
  } catch (error) {
    if (error instanceof ApiError) return apiErrorResponse(error, cors);
    // A defect of the emulator, not of the request: no detail leaves the process.
    return apiErrorResponse(
      new ApiError('InternalErrorException', 'The emulator failed to process the request', 500),
      cors,
    );
  }
}

/**
 * `OPTIONS /`: the CORS preflight browsers send before a public operation. `Authorization` is not
 * among the allowed headers, so a page on another origin cannot call the admin operations.
 */
export function cognitoApiPreflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers':
        'content-type, x-amz-target, x-amz-user-agent, cache-control, amz-sdk-invocation-id, amz-sdk-request',
      'access-control-expose-headers': EXPOSED_HEADERS,
      'access-control-max-age': '600',
    },
  });
}
