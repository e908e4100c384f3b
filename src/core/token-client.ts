/**
 * The calls cognito-guard makes to Cognito's token and revocation endpoints, through
 * oauth4webapi, with hard timeouts and with every failure mapped to an error that says what the
 * user should see.
 *
 * - Transport failure → {@link CognitoError} (503 unreachable, 504 timeout).
 * - An unusable answer (5xx, HTML, truncated JSON, missing fields) → {@link CognitoError} 502.
 * - Cognito refusing our client credentials (`invalid_client`, `unauthorized_client`) →
 *   {@link CognitoError} 502 `ERR_COGNITO_CLIENT_REJECTED` (an operator problem).
 * - Cognito refusing the grant (`invalid_grant`, …) → {@link GrantRejectedError}, which the
 *   flows turn into a 400 (callback) or 401 (refresh).
 *
 * @see https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 * @module
 */
import * as oauth from 'oauth4webapi';
import { CognitoError } from './errors.js';

/** Tokens returned by the token endpoint (not yet verified). */
export interface TokenSet {
  readonly accessToken: string;
  readonly idToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly expiresIn: number | undefined;
  readonly scope: string | undefined;
}

/** Cognito refused the grant itself (the code or refresh token), with an OAuth error code. */
export class GrantRejectedError extends Error {
  /**
   * @param oauthError - Cognito's OAuth error code, or `id_token_rejected`.
   * @param reason - for an ID token refused by a claim check, which claim (`iss mismatch`), so the
   *   operator's log points at the misconfiguration.
   */
  constructor(
    readonly oauthError: string,
    readonly reason?: string,
    options?: ErrorOptions,
  ) {
    super(`Cognito rejected the grant: ${oauthError}`, options);
  }
}

/** Settings for {@link CognitoTokenClient}. */
export interface TokenClientOptions {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  /** Cognito's user-pool API, for `GlobalSignOut`. */
  readonly userPoolApi: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
  /** Allows plain-http endpoints (loopback emulator only; validated by the options). */
  readonly allowInsecureHttp: boolean;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * The request never got an answer: the connection was refused, reset or lost. Runtimes word this
 * differently (Node's fetch rejects with a `TypeError`, workerd with a plain `Error` such as
 * "Network connection lost"), so the fetch is wrapped and any rejection that is not a timeout is
 * marked with this class, for a 503 with Retry-After instead of a 502 "bad response".
 */
class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
}

/** `fetchImpl`, with every failure to get an answer (other than a timeout) an {@link UnreachableError}. */
function markUnreachable(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImpl(input, init);
    } catch (error) {
      if (isTimeout(error) || (error instanceof Error && isTimeout(error.cause))) throw error;
      throw new UnreachableError('no answer from Cognito', { cause: error });
    }
  };
}

/**
 * Maps anything thrown while talking to Cognito to a cognito-guard error. Never includes
 * response bodies or tokens in the detail.
 */
function mapUpstreamError(error: unknown, operation: string): Error {
  if (error instanceof GrantRejectedError || error instanceof CognitoError) return error;
  if (isTimeout(error) || (error instanceof Error && isTimeout(error.cause))) {
    return new CognitoError('ERR_COGNITO_TIMEOUT', `${operation}: no answer in time`, undefined, {
      cause: error,
    });
  }
  if (error instanceof oauth.ResponseBodyError) {
    // OAuth error codes are short lower-case words; anything else may be an echo of what we
    // sent (a code, a refresh token) and must never reach a log.
    const code = /^[a-z_]{1,64}$/.test(error.error) ? error.error : 'unrecognised_error';
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      return new CognitoError(
        'ERR_COGNITO_CLIENT_REJECTED',
        `${operation}: ${code} (check the client id/secret and callback URL)`,
        code,
        { cause: error },
      );
    }
    if (error.status >= 400 && error.status < 500) return new GrantRejectedError(code);
    return new CognitoError(
      'ERR_COGNITO_BAD_RESPONSE',
      `${operation}: HTTP ${error.status} ${code}`,
      code,
      { cause: error },
    );
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new CognitoError(
      'ERR_COGNITO_CLIENT_REJECTED',
      `${operation}: HTTP ${error.status} challenge`,
      undefined,
      { cause: error },
    );
  }
  if (
    error instanceof oauth.OperationProcessingError &&
    (error.code === oauth.JWT_CLAIM_COMPARISON ||
      error.code === oauth.JWT_TIMESTAMP_CHECK ||
      // A required ID-token claim (e.g. `nonce`) is missing: oauth4webapi attaches the claims.
      (error.code === oauth.INVALID_RESPONSE &&
        typeof error.cause === 'object' &&
        error.cause !== null &&
        'claims' in error.cause))
  ) {
    // The ID token in the response failed a claim check (nonce, aud, iss, exp…): the sign-in
    // must not complete, but Cognito itself is healthy. Name the claim (never its value).
    const claim =
      typeof error.cause === 'object' && error.cause !== null && 'claim' in error.cause
        ? String(error.cause.claim)
        : undefined;
    const reason =
      claim !== undefined && /^[a-z_]{1,16}$/.test(claim)
        ? `${claim} mismatch`
        : error.code === oauth.JWT_TIMESTAMP_CHECK
          ? 'expired or not yet valid'
          : 'a required claim is missing';
    return new GrantRejectedError('id_token_rejected', reason, { cause: error });
  }
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.UnsupportedOperationError
  ) {
    return new CognitoError(
      'ERR_COGNITO_BAD_RESPONSE',
      `${operation}: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  if (error instanceof UnreachableError || error instanceof TypeError) {
    // The connection failed (fetch() rejects with a TypeError in Node for that).
    return new CognitoError(
      'ERR_COGNITO_UNREACHABLE',
      `${operation}: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  return new CognitoError(
    'ERR_COGNITO_BAD_RESPONSE',
    `${operation}: unexpected failure`,
    undefined,
    {
      cause: error,
    },
  );
}

/**
 * Exchanges codes and refresh tokens, and revokes refresh tokens. Confidential clients
 * authenticate with HTTP Basic (`client_secret_basic`, id and secret form-encoded first, RFC
 * 6749 §2.3.1); public clients send `client_id` in the body.
 *
 * @example
 * ```ts
 * const { endpoints } = guard.options;
 * const client = new CognitoTokenClient({ issuer: endpoints.issuer, tokenEndpoint: endpoints.token,
 *   revocationEndpoint: endpoints.revoke, userPoolApi: endpoints.userPoolApi,
 *   clientId: 'my-client', clientSecret: 'my-secret',
 *   timeoutMs: 3000, fetch, allowInsecureHttp: false });
 * const tokens = await client.refresh(refreshToken);
 * ```
 */
export class CognitoTokenClient {
  readonly #as: oauth.AuthorizationServer;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #options: TokenClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: TokenClientOptions) {
    this.#options = options;
    this.#fetch = markUnreachable(options.fetch);
    this.#as = {
      issuer: options.issuer,
      token_endpoint: options.tokenEndpoint,
      revocation_endpoint: options.revocationEndpoint,
    };
    this.#client = { client_id: options.clientId };
    this.#auth =
      options.clientSecret === undefined
        ? oauth.None()
        : oauth.ClientSecretBasic(options.clientSecret);
  }

  #requestOptions(): oauth.TokenEndpointRequestOptions {
    return {
      signal: AbortSignal.timeout(this.#options.timeoutMs),
      [oauth.customFetch]: this.#fetch,
      // Plain http only for a loopback emulator; the options refuse it for any other host.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      [oauth.allowInsecureRequests]: this.#options.allowInsecureHttp,
    };
  }

  /**
   * Redeems an authorization code. `callbackParameters` must come from
   * `oauth.validateAuthResponse`, so the state check can't be skipped.
   */
  async exchangeCode(input: {
    readonly callbackParameters: URLSearchParams;
    readonly redirectUri: string;
    readonly codeVerifier: string;
    readonly expectedNonce: string;
    readonly requireIdToken: boolean;
  }): Promise<TokenSet> {
    try {
      const response = await oauth.authorizationCodeGrantRequest(
        this.#as,
        this.#client,
        this.#auth,
        input.callbackParameters,
        input.redirectUri,
        input.codeVerifier,
        this.#requestOptions(),
      );
      const result = await oauth.processAuthorizationCodeResponse(
        this.#as,
        this.#client,
        response,
        {
          expectedNonce: input.expectedNonce,
          requireIdToken: input.requireIdToken,
        },
      );
      return toTokenSet(result);
    } catch (error) {
      throw mapUpstreamError(error, 'code exchange');
    }
  }

  /** Exchanges a refresh token for new tokens (and a new refresh token when rotation is on). */
  async refresh(refreshToken: string): Promise<TokenSet> {
    try {
      const response = await oauth.refreshTokenGrantRequest(
        this.#as,
        this.#client,
        this.#auth,
        refreshToken,
        this.#requestOptions(),
      );
      return toTokenSet(await oauth.processRefreshTokenResponse(this.#as, this.#client, response));
    } catch (error) {
      throw mapUpstreamError(error, 'refresh');
    }
  }

  /** Signs the user out of every device at Cognito (see {@link globalSignOut}). */
  globalSignOut(accessToken: string): Promise<void> {
    return globalSignOut(this.#options, accessToken);
  }

  /** Revokes a refresh token (and every token issued from it). */
  async revoke(refreshToken: string): Promise<void> {
    try {
      const response = await oauth.revocationRequest(
        this.#as,
        this.#client,
        this.#auth,
        refreshToken,
        this.#requestOptions(),
      );
      await oauth.processRevocationResponse(response);
    } catch (error) {
      throw mapUpstreamError(error, 'revoke');
    }
  }
}

/**
 * Signs the user out of every device at Cognito (`GlobalSignOut`, authorised by the access token,
 * which needs the `aws.cognito.signin.user.admin` scope): every refresh token of the user stops
 * working, so every session ends at its next refresh.
 *
 * @see https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GlobalSignOut.html
 */
export async function globalSignOut(
  options: TokenClientOptions,
  accessToken: string,
): Promise<void> {
  let response: Response;
  // Called unbound (markUnreachable calls it as a plain function): Workers' fetch throws
  // "Illegal invocation" when called as a method of another object.
  try {
    response = await markUnreachable(options.fetch)(options.userPoolApi, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.GlobalSignOut',
      },
      body: JSON.stringify({ AccessToken: accessToken }),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw mapUpstreamError(error, 'global sign-out');
  }
  if (response.status === 200) {
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  let type = 'unrecognised';
  try {
    const body = (await response.json()) as { __type?: unknown };
    // Cognito's error names are CamelCase words; anything else is not logged.
    if (typeof body.__type === 'string' && /^[A-Za-z]{1,64}$/.test(body.__type)) type = body.__type;
  } catch {
    // Not JSON: the type stays unrecognised.
  }
  throw new CognitoError(
    response.status >= 500 ? 'ERR_COGNITO_BAD_RESPONSE' : 'ERR_COGNITO_CLIENT_REJECTED',
    `global sign-out: HTTP ${response.status} ${type}`,
  );
}

function toTokenSet(result: oauth.TokenEndpointResponse): TokenSet {
  if (result.token_type !== 'bearer') {
    throw new CognitoError(
      'ERR_COGNITO_BAD_RESPONSE',
      `token_type ${result.token_type} is not Bearer`,
    );
  }
  return {
    accessToken: result.access_token,
    idToken: result.id_token,
    refreshToken: result.refresh_token,
    expiresIn: result.expires_in,
    scope: result.scope,
  };
}
