/**
 * The example app on AWS Lambda: flask-cognito-lib's example, route for route, as one function
 * behind an API Gateway HTTP API (payload format 2.0, the `$default` route) or a function URL.
 *
 * `createExampleHandler` builds the handler from guard options, so tests can run it through the
 * local bridge against the emulator; `handler.ts` is what you deploy, `server.ts` the
 * `npm run example:lambda` entry point.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { apiGuardOptions, type CognitoGuardOptions } from 'cognito-guard';
import {
  cognitoApiGuard,
  cognitoGuard,
  type ApiGatewayV2Result,
  type LambdaHandler,
} from 'cognito-guard/lambda';
import { HOME_PAGE } from '../shared/home.js';

type Event = APIGatewayProxyEventV2;
type Handler = LambdaHandler<Event, Context>;

/** A payload 2.0 result: what a handler returns, and what the adapter accepts from one. */
const result = (
  statusCode: number,
  headers: Record<string, string>,
  body = '',
): ApiGatewayV2Result => ({ statusCode, headers, body, isBase64Encoded: false });

const json = (value: unknown): ApiGatewayV2Result =>
  result(200, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(value));

const redirect = (status: number, location: string): ApiGatewayV2Result =>
  result(status, { location });

/** Builds the example's handler: one function, routed by method and path. */
export function createExampleHandler(options: CognitoGuardOptions): Handler {
  const auth = cognitoGuard(options);
  const api = cognitoApiGuard(apiGuardOptions(options));
  const logout: Handler = auth.logout();

  const routes: Record<string, Handler> = {
    'GET /': () =>
      Promise.resolve(result(200, { 'content-type': 'text/html; charset=utf-8' }, HOME_PAGE)),
    // Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured.
    'GET /login': auth.login(),
    // Cognito redirects here; tokens are verified and stored in HttpOnly cookies, then the user
    // goes to `returnTo` or /claims.
    'GET /postlogin': auth.callback({ redirectTo: '/claims' }),
    // Exchanges the encrypted refresh-token cookie for new tokens.
    'POST /refresh': auth.refresh(() => redirect(303, '/claims')),
    // Verified claims (access token) and user info (ID token). (`identity` is undefined only when
    // AWS_COGNITO_DISABLED turns protection off.)
    'GET /claims': auth.required((_event, identity) =>
      json({ claims: identity?.claims, user_info: identity?.userInfo }),
    ),
    // Only for members of every listed group.
    'GET /admin': auth.required({ groups: ['admin'] }, (_event, identity) =>
      json(identity?.groups ?? []),
    ),
    // For members of any listed group.
    'GET /edit': auth.required(
      { groups: ['admin', 'editor'], anyGroup: true },
      (_event, identity) => json(identity?.groups ?? []),
    ),
    // Revokes the refresh token, clears the cookies and signs out of Cognito.
    'GET /logout': logout,
    'POST /logout': logout,
    // Signs the user out of every device: Cognito's GlobalSignOut (the access token needs the
    // aws.cognito.signin.user.admin scope) ends every refresh token of the user. With a session
    // store (AWS_COGNITO_SESSION_STORE) every other browser is signed out at once; with cookie
    // sessions, at its next refresh (when its access token expires).
    'POST /logout/everywhere': auth.logout({ everywhere: true }),
    // Beyond flask-cognito-lib's example: a page that greets signed-in users and lets everyone in…
    'GET /whoami': auth.optional((_event, identity) =>
      json({ signedIn: identity !== undefined, username: identity?.claims.username ?? null }),
    ),
    // …and an API route for callers that send `Authorization: Bearer <access token>` with the
    // `email` scope (configured by the pool and client alone: no cookies, no redirects).
    'GET /api/me': api.required({ scopes: ['email'] }, (_event, identity) =>
      json({ sub: identity?.claims.sub, scope: identity?.claims.scope }),
    ),
    // Cognito redirects here after logout.
    'GET /postlogout': () => Promise.resolve(redirect(302, '/')),
  };

  return (event, context) => {
    const route = routes[`${event.requestContext.http.method} ${event.rawPath}`];
    if (route !== undefined) return route(event, context);
    return Promise.resolve(
      result(404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not Found'),
    );
  };
}
