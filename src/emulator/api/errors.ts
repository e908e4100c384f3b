/**
 * Cognito's JSON-API answers: success bodies and errors in the AWS JSON 1.1 shape
 * (`{"__type":"NotAuthorizedException","message":"…"}`, HTTP 400, `x-amzn-ErrorType`), which is
 * what the AWS SDKs and amazon-cognito-identity-js parse.
 */
import { randomUUID } from 'node:crypto';

/** The error names the emulator answers with (Cognito's, plus the AWS protocol's own). */
export type ApiErrorType =
  | 'AccessDeniedException'
  | 'CodeMismatchException'
  | 'ExpiredCodeException'
  | 'GroupExistsException'
  | 'InternalErrorException'
  | 'InvalidParameterException'
  | 'InvalidPasswordException'
  | 'LimitExceededException'
  | 'MissingAuthenticationTokenException'
  | 'NotAuthorizedException'
  | 'ResourceNotFoundException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'UnsupportedOperationException'
  | 'UnsupportedTokenTypeException'
  | 'UnsupportedUserStateException'
  | 'UserNotConfirmedException'
  | 'UserNotFoundException'
  | 'UsernameExistsException';

/**
 * A refusal of a JSON-API operation; thrown by an operation, answered by the dispatcher.
 *
 * @example
 * ```ts
 * throw new ApiError('UserNotFoundException', 'User does not exist.');
 * ```
 */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  readonly status: number;

  constructor(type: ApiErrorType, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

const JSON_11 = 'application/x-amz-json-1.1';

/** Headers a browser page may read from a cross-origin answer (the SDKs read these). */
export const EXPOSED_HEADERS = 'x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, date';

function headers(cors: boolean): Record<string, string> {
  return {
    'content-type': JSON_11,
    'x-amzn-requestid': randomUUID(),
    'cache-control': 'no-store',
    ...(cors
      ? { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS }
      : {}),
  };
}

/**
 * A successful operation's answer.
 *
 * @example
 * ```ts
 * const response = apiResponse({ UserSub: '7d3f…', UserConfirmed: false }, true);
 * ```
 */
export function apiResponse(body: unknown, cors = false): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: headers(cors) });
}

/**
 * An error in Cognito's shape: `__type` and `message` in the body, the type again in
 * `x-amzn-ErrorType`.
 *
 * @example
 * ```ts
 * const response = apiErrorResponse(new ApiError('NotAuthorizedException', 'Incorrect username or password.'));
 * ```
 */
export function apiErrorResponse(error: ApiError, cors = false): Response {
  return new Response(JSON.stringify({ __type: error.type, message: error.message }), {
    status: error.status,
    headers: { ...headers(cors), 'x-amzn-errortype': error.type },
  });
}
