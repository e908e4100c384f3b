/**
 * The example app on Fastify 5: flask-cognito-lib's example, route for route (the same app as
 * `examples/express`).
 *
 * `createExampleApp` builds the app from guard options, so tests can run it against the
 * emulator; `server.ts` is the `npm run example:fastify` entry point.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { apiGuardOptions, type CognitoGuardOptions } from 'cognito-guard';
import { cognitoApiGuard, cognitoGuard } from 'cognito-guard/fastify';
import { HOME_PAGE } from '../shared/home.js';

/** Builds the example app (not yet listening). */
export async function createExampleApp(
  options: CognitoGuardOptions,
  fastifyOptions: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify(fastifyOptions);
  await app.register(cognitoGuard, { guard: options });
  const auth = app.cognito;

  // POST /refresh and /logout come from plain HTML forms. Fastify answers 415 to a body type it
  // has no parser for, and these routes read no body: accept a small form and ignore it.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => {
      done(null, body);
    },
  );

  app.get('/', (_request, reply) => {
    reply.type('text/html; charset=utf-8').send(HOME_PAGE);
  });

  // Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured.
  app.get('/login', auth.login());

  // Cognito redirects here; tokens are verified and stored in HttpOnly cookies, then the user
  // goes to `returnTo` or /claims.
  app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));

  // Exchanges the encrypted refresh-token cookie for new tokens.
  app.post('/refresh', { preHandler: auth.refresh() }, (_request, reply) => {
    reply.redirect('/claims', 303);
  });

  // Verified claims (access token) and user info (ID token).
  // (`request.cognito` is unset only when AWS_COGNITO_DISABLED turns protection off; code that
  // never runs disabled can use `getIdentity(request)`, typed as present.)
  app.get('/claims', { preHandler: auth.required() }, (request) => ({
    claims: request.cognito?.claims,
    user_info: request.cognito?.userInfo,
  }));

  // Only for members of every listed group. (`onRequest` refuses before the body is read.)
  app.get(
    '/admin',
    { onRequest: auth.required({ groups: ['admin'] }) },
    (request) => request.cognito?.groups ?? [],
  );

  // For members of any listed group.
  app.get(
    '/edit',
    { onRequest: auth.required({ groups: ['admin', 'editor'], anyGroup: true }) },
    (request) => request.cognito?.groups ?? [],
  );

  // Revokes the refresh token, clears the cookies and signs out of Cognito.
  app.get('/logout', auth.logout());
  app.post('/logout', auth.logout());

  // Signs the user out of every device: Cognito's GlobalSignOut (the access token needs the
  // aws.cognito.signin.user.admin scope) ends every refresh token of the user. With a session
  // store (AWS_COGNITO_SESSION_STORE) every other browser is signed out at once; with cookie
  // sessions, at its next refresh (when its access token expires).
  app.post('/logout/everywhere', auth.logout({ everywhere: true }));

  // Beyond flask-cognito-lib's example: a page that greets signed-in users and lets everyone in…
  app.get('/whoami', { preHandler: auth.optional() }, (request) => ({
    signedIn: request.cognito !== undefined,
    username: request.cognito?.claims.username ?? null,
  }));

  // …and an API route for callers that send `Authorization: Bearer <access token>` with the
  // `email` scope (configured by the pool and client alone: no cookies, no redirects).
  await app.register(cognitoApiGuard, { guard: apiGuardOptions(options) });
  app.get('/api/me', { onRequest: app.cognitoApi.required({ scopes: ['email'] }) }, (request) => ({
    sub: request.cognito?.claims.sub,
    scope: request.cognito?.claims.scope,
  }));

  // Cognito redirects here after logout.
  app.get('/postlogout', (_request, reply) => {
    reply.redirect('/');
  });

  return app;
}
