/**
 * Security case B66 on routes an Express app declares with `required({ scopes })`, on Express 5
 * and Express 4: scopes are matched exactly, and one Cognito silently dropped is a 403
 * `insufficient_scope`. (The example apps declare no scoped cookie route; the API guard's scope
 * check runs for every adapter in test/conformance/modes.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { cognitoGuard } from '../../src/express/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { EXPRESS_VERSIONS, startExampleApp } from '../support/express.js';
import { decodeJwt } from '../support/jwt.js';
import { beginLogin, signInAt } from '../support/sign-in.js';

describe('scopes required by a route (B66)', () => {
  let emulator: EmulatorHandle;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(async () => {
    await emulator.stop();
  });

  for (const version of EXPRESS_VERSIONS) {
    it(`B66 required scopes are checked exactly; a scope Cognito silently dropped is 403 insufficient_scope (${version})`, async () => {
      const app = await startExampleApp(emulator, {
        express: version,
        register: { clientId: 'b66-scopes', allowedScopes: ['openid', 'email', 'profile'] },
        guard: { clientId: 'b66-scopes', scopes: ['openid', 'email', 'profile', 'phone'] },
        extend: (express, options) => {
          const auth = cognitoGuard(options);
          const routes: Record<string, string[]> = {
            phone: ['phone'],
            openid: ['openid'],
            open: ['open'],
            both: ['openid', 'email'],
            admin: ['aws.cognito.signin.user.admin'],
          };
          for (const [name, scopes] of Object.entries(routes)) {
            express.get(
              `/scoped/${name}`,
              auth.required({ scopes }),
              (_req: Request, res: Response) => {
                res.json({ ok: true });
              },
            );
          }
        },
      });
      try {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, app.appUrl);
        assert.equal(
          new URL(started.authorizeUrl).searchParams.get('scope'),
          'openid email profile phone',
        );
        assert.equal(
          (await browser.request(await signInAt(browser, started.authorizeUrl, 'bob'))).status,
          302,
        );
        const granted = decodeJwt(browser.cookie(app.appUrl, 'cognito_access_token')!).payload
          .scope;
        assert.equal(
          granted,
          'openid email profile',
          'precondition: Cognito dropped phone without saying so',
        );

        const expect: Record<string, number> = {
          phone: 403,
          openid: 200,
          open: 403,
          both: 200,
          admin: 403,
        };
        for (const [name, status] of Object.entries(expect)) {
          const response = await browser.request(`${app.appUrl}/scoped/${name}`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(response.status, status, name);
          if (status === 403) {
            assert.equal(
              response.headers.get('www-authenticate'),
              'Bearer realm="cognito-guard", error="insufficient_scope"',
            );
            assert.equal(JSON.parse(response.body).error, 'ERR_SCOPE_REQUIRED');
          }
        }
      } finally {
        await app.stop();
      }
    });
  }
});
