/**
 * The example app on Hono: flask-cognito-lib's example, route for route (the same app as
 * `examples/express`). `createExampleApp` builds it from guard options, so the conformance suite
 * can start it; `server.ts` serves it on Node with `@hono/node-server`. The app itself is plain
 * Hono and runs unchanged on Workers, Bun, Deno or Lambda (`hono/aws-lambda`).
 */
import { Hono } from 'hono';
import { apiGuardOptions, type CognitoGuardOptions } from 'cognito-guard';
import { cognitoApiGuard, cognitoGuard } from 'cognito-guard/hono';
import { HOME_PAGE } from '../shared/home.js';

/** Builds the example app. */
export function createExampleApp(options: CognitoGuardOptions): Hono {
  const app = new Hono();
  const auth = cognitoGuard(options);

  app.get('/', (c) => c.html(HOME_PAGE));

  // Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured.
  app.get('/login', auth.login());

  // Cognito redirects here; tokens are verified and stored in HttpOnly cookies, then the user
  // goes to `returnTo` or /claims.
  app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));

  // Exchanges the encrypted refresh-token cookie for new tokens.
  app.post('/refresh', auth.refresh(), (c) => c.redirect('/claims', 303));

  // Verified claims (access token) and user info (ID token).
  // (`c.get('cognito')` is unset only when AWS_COGNITO_DISABLED turns protection off; code that
  // never runs disabled can use `getIdentity(c)`, typed as present.)
  app.get('/claims', auth.required(), (c) =>
    c.json({ claims: c.get('cognito')?.claims, user_info: c.get('cognito')?.userInfo }),
  );

  // Only for members of every listed group.
  app.get('/admin', auth.required({ groups: ['admin'] }), (c) =>
    c.json(c.get('cognito')?.groups ?? []),
  );

  // For members of any listed group.
  app.get('/edit', auth.required({ groups: ['admin', 'editor'], anyGroup: true }), (c) =>
    c.json(c.get('cognito')?.groups ?? []),
  );

  // Revokes the refresh token, clears the cookies and signs out of Cognito.
  app.on(['GET', 'POST'], '/logout', auth.logout());

  // Signs the user out of every device: Cognito's GlobalSignOut (the access token needs the
  // aws.cognito.signin.user.admin scope) ends every refresh token of the user. With a session
  // store (AWS_COGNITO_SESSION_STORE) every other browser is signed out at once; with cookie
  // sessions, at its next refresh (when its access token expires).
  app.post('/logout/everywhere', auth.logout({ everywhere: true }));

  // Beyond flask-cognito-lib's example: a page that greets signed-in users and lets everyone in…
  app.get('/whoami', auth.optional(), (c) => {
    const identity = c.get('cognito');
    return c.json({
      signedIn: identity !== undefined,
      username: identity?.claims.username ?? null,
    });
  });

  // …and an API route for callers that send `Authorization: Bearer <access token>` with the
  // `email` scope (configured by the pool and client alone: no cookies, no redirects).
  const api = cognitoApiGuard(apiGuardOptions(options));
  app.get('/api/me', api.required({ scopes: ['email'] }), (c) =>
    c.json({ sub: c.get('cognito')?.claims.sub, scope: c.get('cognito')?.claims.scope }),
  );

  // Cognito redirects here after logout.
  app.get('/postlogout', (c) => c.redirect('/'));

  return app;
}
