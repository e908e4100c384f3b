/**
 * Express 4/5 adapter: translates Express requests into the core's neutral shape and copies the
 * core's responses back. All logic lives in the core; nothing here can turn an error into a 500.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { cognitoGuard } from 'cognito-guard/express';
 * import { fromEnv } from 'cognito-guard';
 *
 * const app = express();
 * const auth = cognitoGuard(fromEnv(process.env));
 * app.get('/login', auth.login());
 * app.get('/postlogin', auth.callback({ redirectTo: '/claims' }));
 * app.post('/refresh', auth.refresh(), (req, res) => res.redirect(303, '/claims'));
 * app.get('/logout', auth.logout());
 * app.get('/claims', auth.required(), (req, res) => res.json(req.cognito));
 * app.get('/admin', auth.required({ groups: ['admin'] }), (req, res) => res.json(req.cognito?.groups));
 * ```
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  CognitoGuard,
  type CognitoGuardOptions,
  type CognitoIdentity,
  type IncomingRequest,
  type LoginOptions,
  type OutgoingResponse,
  type ProtectOptions,
  type ProtectOutcome,
  type Requirement,
} from '../index.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified identity, set by `required()`, `callback()` and `refresh()`. */
      cognito?: CognitoIdentity;
      /** The safe return-to path of a completed login, set by `callback()`. */
      cognitoReturnTo?: string;
    }
  }
}

/** Translates an Express request for the core. */
export function toIncomingRequest(req: Request): IncomingRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function appendCookies(res: Response, setCookies: readonly string[]): void {
  for (const cookie of setCookies) res.append('Set-Cookie', cookie);
}

/** Sends a core response. */
export function sendResponse(res: Response, response: OutgoingResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  appendCookies(res, response.setCookies);
  res.end(response.body);
}

/** Per-route options of {@link ExpressCognitoGuard.callback}. */
export interface CallbackRouteOptions {
  /**
   * Redirect after a successful login to the stored `returnTo`, else to this path. Without it,
   * the next handler runs with `req.cognito` and `req.cognitoReturnTo` set.
   */
  readonly redirectTo?: string | undefined;
}

/** The Express middleware factories. */
export interface ExpressCognitoGuard {
  /** The framework-neutral guard underneath. */
  readonly guard: CognitoGuard;
  /** Redirects to Cognito's login. Options may depend on the request (identity provider, login_hint…). */
  login(options?: LoginOptions | ((req: Request) => LoginOptions)): RequestHandler;
  /** Completes the login at the redirect URL. */
  callback(options?: CallbackRouteOptions): RequestHandler;
  /** Refreshes the session (mount on POST); the next handler runs with `req.cognito` set. */
  refresh(): RequestHandler;
  /** Revokes, clears cookies and redirects to Cognito's logout. */
  logout(): RequestHandler;
  /** Protects a route: 401 without a valid sign-in, 403 without the groups/scopes. */
  required(requirement?: Requirement, options?: ProtectOptions): RequestHandler;
}

/**
 * Creates the Express middleware factories from options (validated now, once) or an existing
 * {@link CognitoGuard}.
 *
 * @throws {@link ConfigurationError} naming every configuration problem.
 */
export function cognitoGuard(options: CognitoGuardOptions | CognitoGuard): ExpressCognitoGuard {
  const guard = options instanceof CognitoGuard ? options : new CognitoGuard(options);

  // Express 4 does not catch rejected promises; every handler settles its own.
  const handle =
    (run: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler =>
    (req, res, next) => {
      run(req, res, next).catch((error: unknown) => {
        if (!res.headersSent) sendResponse(res, guard.errorResponse(error, toIncomingRequest(req)));
      });
    };

  return {
    guard,
    login: (options) =>
      handle(async (req, res) => {
        const resolved = typeof options === 'function' ? options(req) : options;
        sendResponse(res, await guard.login(toIncomingRequest(req), resolved));
      }),
    callback: (options = {}) =>
      handle(async (req, res, next) => {
        const outcome = await guard.callback(toIncomingRequest(req));
        if (!outcome.ok) {
          sendResponse(res, outcome.response);
          return;
        }
        appendCookies(res, outcome.setCookies);
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Referrer-Policy', 'no-referrer');
        req.cognito = outcome.identity;
        if (outcome.returnTo !== undefined) req.cognitoReturnTo = outcome.returnTo;
        if (options.redirectTo !== undefined) {
          res.redirect(302, outcome.returnTo ?? options.redirectTo);
          return;
        }
        next();
      }),
    refresh: () =>
      handle(async (req, res, next) => {
        const outcome = await guard.refresh(toIncomingRequest(req));
        if (!outcome.ok) {
          sendResponse(res, outcome.response);
          return;
        }
        appendCookies(res, outcome.setCookies);
        res.setHeader('Cache-Control', 'no-store');
        req.cognito = outcome.identity;
        next();
      }),
    logout: () =>
      handle(async (req, res) => {
        sendResponse(res, await guard.logout(toIncomingRequest(req)));
      }),
    required: (requirement = {}, protectOptions = {}) => {
      const checked = guard.requirement(requirement);
      const finish = (req: Request, res: Response, next: NextFunction, outcome: ProtectOutcome) => {
        if (!outcome.ok) {
          sendResponse(res, outcome.response);
          return;
        }
        if (outcome.identity !== undefined) req.cognito = outcome.identity;
        next();
      };
      const verify = handle(async (req, res, next) => {
        finish(
          req,
          res,
          next,
          await guard.protect(toIncomingRequest(req), checked, protectOptions),
        );
      });
      return (req, res, next) => {
        // Steady state: the tokens are already verified, so answer without a promise.
        const cached = guard.protectFromCache(toIncomingRequest(req), checked, protectOptions);
        if (cached === undefined) {
          verify(req, res, next);
          return;
        }
        finish(req, res, next, cached);
      };
    },
  };
}

export { CognitoGuard };
