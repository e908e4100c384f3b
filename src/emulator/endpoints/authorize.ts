/**
 * `GET /oauth2/authorize`: validates the request in Cognito's order (client and redirect URI
 * first, so an unvalidated URI never receives a redirect), then either issues a code for a live
 * hosted-UI session or sends the browser to `/login` with the same parameters.
 *
 * The validation is shared with `/login`, which accepts every authorize parameter.
 */
import { isRegisteredUrl, isWellFormedScope } from '../config.js';
import type { ResolvedClient } from '../config.js';
import { optional, redirect, requestCookies } from '../http.js';
import type { UserPool } from '../pool.js';
import type { LoginSession } from '../state.js';

/** Cookie holding the emulator's 1-hour hosted-UI session; named so no app cookie collides. */
export const SESSION_COOKIE = 'cognito_emulator_session';

/** A validated authorize request. */
export interface AuthorizeRequest {
  readonly client: ResolvedClient;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly loginHint: string | undefined;
  readonly prompt: readonly string[];
  /** RFC 8707 `resource`: a declared resource server, which becomes the access token's `aud`. */
  readonly resource: string | undefined;
}

/** The authorize request, or the response that refuses it. */
export type Validated =
  | { readonly ok: true; readonly request: AuthorizeRequest }
  | { readonly ok: false; readonly response: Response };

const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Cognito's own error page (a redirect to `/error`), used whenever the app's URI is not trusted.
 * `refused` adds the URL that was refused (`redirect_uri` or `logout_uri`), so the page can name
 * it beside the registered ones.
 */
export function errorPage(
  pool: UserPool,
  error: string,
  clientId?: string,
  refused?: { readonly name: 'redirect_uri' | 'logout_uri'; readonly value: string },
): Response {
  const target = new URL('/error', pool.origin);
  target.searchParams.set('error', error);
  if (clientId !== undefined) target.searchParams.set('client_id', clientId);
  if (refused !== undefined) target.searchParams.set(refused.name, refused.value);
  return redirect(target.href);
}

/** An OAuth error redirect to a redirect URI that has already been validated. */
export function errorRedirect(
  pool: UserPool,
  redirectUri: string,
  error: string,
  state: string | undefined,
  description?: string,
): Response {
  const target = new URL(redirectUri);
  target.searchParams.set('error', error);
  if (description !== undefined) target.searchParams.set('error_description', description);
  if (state !== undefined && pool.switches.echoStateOnError) {
    target.searchParams.set('state', state);
  }
  return redirect(target.href);
}

/**
 * No scope → all the client's scopes; unknown or malformed → `undefined` (invalid_scope);
 * well-formed but not allowed for the client → ignored.
 */
function grantScopes(
  pool: UserPool,
  requested: string | null,
  client: ResolvedClient,
): string[] | undefined {
  if (requested === null || requested.trim() === '') return [...client.allowedScopes];
  const known = pool.knownScopes();
  const names = requested.split(' ').filter(Boolean);
  if (names.some((name) => !isWellFormedScope(name) || !known.has(name))) return undefined;
  const granted = [...new Set(names)].filter((name) => client.allowedScopes.includes(name));
  return granted.length > 0 ? granted : undefined;
}

/** Validates authorize parameters in Cognito's order: client + redirect first, never redirecting to an unvalidated URI. */
export function validateAuthorize(pool: UserPool, params: URLSearchParams): Validated {
  const clientId = optional(params, 'client_id');
  const redirectUri = optional(params, 'redirect_uri');
  if (clientId === undefined || redirectUri === undefined) {
    return { ok: false, response: errorPage(pool, 'Required parameters missing') };
  }
  const client = pool.clients.get(clientId);
  if (
    !client ||
    !isRegisteredUrl(redirectUri, client.callbackUrls, client.anyLoopbackPort) ||
    !client.allowedOAuthFlows.includes('code')
  ) {
    return {
      ok: false,
      response: errorPage(pool, 'redirect_mismatch', clientId, {
        name: 'redirect_uri',
        value: redirectUri,
      }),
    };
  }
  const state = params.get('state') ?? undefined;
  const fail = (error: string, description?: string): Validated => ({
    ok: false,
    response: errorRedirect(pool, redirectUri, error, state, description),
  });
  const responseType = optional(params, 'response_type');
  if (responseType === 'token') return fail('unauthorized_client');
  if (responseType !== 'code') return fail('invalid_request');
  const method = optional(params, 'code_challenge_method');
  const challenge = optional(params, 'code_challenge');
  if (method !== undefined || challenge !== undefined) {
    if (method !== 'S256' || challenge === undefined || !CHALLENGE_RE.test(challenge)) {
      return fail('invalid_request');
    }
  }
  const idp = optional(params, 'identity_provider') ?? optional(params, 'idp_identifier');
  if (idp !== undefined && idp !== 'COGNITO') {
    return fail('invalid_request', 'The emulator has no federated identity providers');
  }
  const scopes = grantScopes(pool, params.get('scope'), client);
  if (scopes === undefined) return fail('invalid_scope');
  // One resource per request; it must name a declared resource server by its URL (RFC 8707 §2).
  const resources = params.getAll('resource');
  const [requestedResource] = resources;
  const resource =
    requestedResource === undefined ? undefined : pool.resourceServer(requestedResource);
  if (resources.length > 1 || (requestedResource !== undefined && resource === undefined)) {
    return fail('invalid_target');
  }
  return {
    ok: true,
    request: {
      client,
      redirectUri,
      scopes,
      state,
      nonce: params.get('nonce') ?? undefined,
      codeChallenge: challenge,
      loginHint: optional(params, 'login_hint'),
      prompt: (params.get('prompt') ?? '').split(' ').filter(Boolean),
      resource,
    },
  };
}

/** Issues a code for a signed-in user and redirects to the app with it (and `state`). */
export function codeRedirect(
  pool: UserPool,
  request: AuthorizeRequest,
  username: string,
  authTime: number,
  cookies: readonly string[] = [],
): Response {
  const code = pool.state.issueCode({
    clientId: request.client.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scopes: request.scopes,
    username,
    authTime,
    nonce: request.nonce,
    resource: request.resource,
  });
  const target = new URL(request.redirectUri);
  target.searchParams.set('code', code);
  if (request.state !== undefined) target.searchParams.set('state', request.state);
  return redirect(target.href, cookies);
}

/**
 * The request's live hosted-UI session, if its user still exists and is enabled: a disabled
 * user's old browser session must not keep handing out codes.
 */
export function liveSession(pool: UserPool, request: Request): LoginSession | undefined {
  const session = pool.state.getSession(requestCookies(request)[SESSION_COOKIE]);
  return session && pool.users.get(session.username)?.enabled === true ? session : undefined;
}

/** `GET /oauth2/authorize`. */
export function authorize(pool: UserPool, request: Request, url: URL): Response {
  const validated = validateAuthorize(pool, url.searchParams);
  if (!validated.ok) return validated.response;
  const authorizeRequest = validated.request;
  const live = liveSession(pool, request);
  const toLogin = () => redirect(`${pool.origin}/login${url.search}`);
  if (authorizeRequest.prompt.includes('login')) return toLogin();
  if (live) return codeRedirect(pool, authorizeRequest, live.username, live.authTime);
  if (authorizeRequest.prompt.includes('none') && pool.switches.promptNone === 'login_required') {
    return errorRedirect(
      pool,
      authorizeRequest.redirectUri,
      'login_required',
      authorizeRequest.state,
    );
  }
  return toLogin();
}
