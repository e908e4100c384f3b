/**
 * The example app: flask-cognito-lib's example, route for route, on Express.
 *
 * `createExampleApp` builds the app from guard options, so tests can run it on Express 4 or 5
 * against the emulator; `server.ts` is the `npm start` entry point.
 */
import type { Express, Request, Response } from 'express';
import express from 'express';
import { apiGuardOptions, type CognitoGuardOptions } from 'cognito-guard';
import { cognitoApiGuard, cognitoGuard, type ExpressCognitoGuard } from 'cognito-guard/express';
import { HOME_PAGE } from '../shared/home.js';

/** The `express` factory to build with (Express 5 by default; tests also pass Express 4). */
export type ExpressFactory = () => Express;

/** The example app, with its guard (`app.cognito.guard.close()` releases a session store). */
export type ExampleApp = Express & { readonly cognito: ExpressCognitoGuard };

/** Builds the example app. */
export function createExampleApp(
  options: CognitoGuardOptions,
  createExpress: ExpressFactory = express,
): ExampleApp {
  const app = createExpress();
  app.disable('x-powered-by');
  const auth = cognitoGuard(options);

  app.get('/', (_req: Request, res: Response) => {
    res.type('html').send(HOME_PAGE);
  });

  // Redirects to the Cognito hosted UI; `?returnTo=/path` (same-origin paths only) is honoured.
  app.get('/login', auth.login());

  // Cognito redirects here; tokens are verified and stored in HttpOnly cookies, then the user
  // goes to `returnTo` or /claims.
  app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));

  // Exchanges the encrypted refresh-token cookie for new tokens.
  app.post('/refresh', auth.refresh(), (_req: Request, res: Response) => {
    res.redirect(303, '/claims');
  });

  // Verified claims (access token) and user info (ID token).
  // (`req.cognito` is unset only when AWS_COGNITO_DISABLED turns protection off; code that never
  // runs disabled can use `getIdentity(req)`, typed as present.)
  app.get('/claims', auth.required(), (req: Request, res: Response) => {
    res.json({ claims: req.cognito?.claims, user_info: req.cognito?.userInfo });
  });

  // Only for members of every listed group.
  app.get('/admin', auth.required({ groups: ['admin'] }), (req: Request, res: Response) => {
    res.json(req.cognito?.groups ?? []);
  });

  // For members of any listed group.
  app.get(
    '/edit',
    auth.required({ groups: ['admin', 'editor'], anyGroup: true }),
    (req: Request, res: Response) => {
      res.json(req.cognito?.groups ?? []);
    },
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
  app.get('/whoami', auth.optional(), (req: Request, res: Response) => {
    res.json({
      signedIn: req.cognito !== undefined,
      username: req.cognito?.claims.username ?? null,
    });
  });

  // …and an API route for callers that send `Authorization: Bearer <access token>` with the
  // `email` scope (configured by the pool and client alone: no cookies, no redirects).
  const api = cognitoApiGuard(apiGuardOptions(options));
  app.get('/api/me', api.required({ scopes: ['email'] }), (req: Request, res: Response) => {
    res.json({ sub: req.cognito?.claims.sub, scope: req.cognito?.claims.scope });
  });

  // Cognito redirects here after logout.
  app.get('/postlogout', (_req: Request, res: Response) => {
    res.redirect('/');
  });

  return Object.assign(app, { cognito: auth });
}
