/**
 * The example app on the Fetch API alone (`cognito-guard/web`): flask-cognito-lib's example, route
 * for route (the same app as `examples/express`), as one `(request) => Promise<Response>`
 * function. It imports nothing from Node: `worker.ts` serves it on Cloudflare Workers (workerd),
 * and the same function serves Deno (`Deno.serve(app)`) or Bun (`Bun.serve({ fetch: app })`).
 */
import { apiGuardOptions, type CognitoGuardOptions, type CognitoIdentity } from 'cognito-guard';
import {
  cognitoApiGuard,
  cognitoGuard,
  withSession,
  type WebHandler,
  type WebProtector,
} from 'cognito-guard/web';
import { HOME_PAGE } from '../shared/home.js';

const redirect = (location: string, status = 302): Response =>
  new Response(null, { status, headers: { location } });

/** A route behind `protector`: refusals are answered by the guard, the rest by `handler`. */
function guarded(
  protector: WebProtector,
  handler: (identity: CognitoIdentity | undefined) => Response,
): WebHandler {
  return async (request) => {
    const result = await protector(request);
    if (result instanceof Response) return result;
    return withSession(result, handler(result.identity));
  };
}

/** Builds the example app: one function from request to response. */
export function createExampleApp(options: CognitoGuardOptions): WebHandler {
  const auth = cognitoGuard(options);
  const api = cognitoApiGuard(apiGuardOptions(options));
  const logout = auth.logout();

  const routes: Record<string, WebHandler> = {
    'GET /': () =>
      Promise.resolve(
        new Response(HOME_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }),
      ),

    // Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured.
    'GET /login': auth.login(),

    // Cognito redirects here; tokens are verified and stored in HttpOnly cookies, then the user
    // goes to `returnTo` or /claims.
    'GET /postlogin': auth.callback({ redirectTo: '/claims' }),

    // Exchanges the encrypted refresh-token cookie for new tokens (cookies added to the answer).
    'POST /refresh': auth.refresh(() => redirect('/claims', 303)),

    // Verified claims (access token) and user info (ID token). (The identity is unset only when
    // AWS_COGNITO_DISABLED turns protection off.)
    'GET /claims': guarded(auth.required(), (identity) =>
      Response.json({ claims: identity?.claims, user_info: identity?.userInfo }),
    ),

    // Only for members of every listed group.
    'GET /admin': guarded(auth.required({ groups: ['admin'] }), (identity) =>
      Response.json(identity?.groups ?? []),
    ),

    // For members of any listed group.
    'GET /edit': guarded(
      auth.required({ groups: ['admin', 'editor'], anyGroup: true }),
      (identity) => Response.json(identity?.groups ?? []),
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
    'GET /whoami': guarded(auth.optional(), (identity) =>
      Response.json({
        signedIn: identity !== undefined,
        username: identity?.claims.username ?? null,
      }),
    ),

    // …and an API route for callers that send `Authorization: Bearer <access token>` with the
    // `email` scope (configured by the pool and client alone: no cookies, no redirects).
    'GET /api/me': guarded(api.required({ scopes: ['email'] }), (identity) =>
      Response.json({ sub: identity?.claims.sub, scope: identity?.claims.scope }),
    ),

    // Cognito redirects here after logout.
    'GET /postlogout': () => Promise.resolve(redirect('/')),
  };

  return (request) => {
    const route = routes[`${request.method} ${new URL(request.url).pathname}`];
    return route === undefined
      ? Promise.resolve(new Response('Not Found', { status: 404 }))
      : route(request);
  };
}
