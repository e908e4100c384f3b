/**
 * The rows of flask-cognito-lib's feature table (and two of its faults) that only an app wiring
 * the Express adapter itself can show, on Express 5 and Express 4: the factory's validation,
 * redirect and logout URLs as functions of the request, per-request authorize parameters, the
 * app's own handler after the callback (`req.cognito`, `req.cognitoReturnTo`), `redirectToLogin`,
 * all-of group checks on a route the app declares, and routing mistakes the adapter must refuse.
 *
 * Everything a user sees through the example app is in test/conformance/ and runs for every
 * adapter (flask-cognito-lib-table.test.ts, flask-cognito-lib-faults.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { ConfigurationError, type AuthorizeParams, type IncomingRequest } from '../../src/index.js';
import { cognitoGuard } from '../../src/express/index.js';
import { DEMO_PASSWORD, startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { readForm, TestBrowser, HTML_ACCEPT, JSON_ACCEPT } from '../support/browser.js';
import {
  assertCleared,
  assertNoSessionCookies,
  SESSION_COOKIES,
  sessionCookiesSet,
  transactionCookieNames,
} from '../support/cookies.js';
import { EXPRESS_VERSIONS, expressApp } from '../support/express.js';
import { serveBuilt, type RunningServer } from '../support/http.js';
import { guardOptions, registerClient } from '../support/pool.js';
import { assertFixedErrorAnswer } from '../support/safety.js';
import { beginLogin, login } from '../support/sign-in.js';

/** The `/fr` tenant prefix of a request, for the request-dependent URL options. */
const tenantPrefix = (request: IncomingRequest): string =>
  request.url.startsWith('/fr/') ? '/fr' : '';

for (const version of EXPRESS_VERSIONS) {
  describe(`flask-cognito-lib's feature table, on routes an Express app declares (${version})`, () => {
    let emulator: EmulatorHandle;
    /** A custom app built with `cognitoGuard` (client `custom-client`). */
    let custom: RunningServer;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      emulator.addUser({
        username: 'dave',
        password: DEMO_PASSWORD,
        email: 'dave@example.com',
        groups: ['admin', 'editor'],
      });
      custom = await serveBuilt((appUrl) => {
        registerClient(emulator, appUrl, {
          clientId: 'custom-client',
          callbackUrls: [`${appUrl}/postlogin`, `${appUrl}/fr/postlogin`],
          logoutUrls: [`${appUrl}/postlogout`, `${appUrl}/fr/postlogout`],
        });
        const auth = cognitoGuard(
          guardOptions(emulator, appUrl, {
            clientId: 'custom-client',
            // flask-cognito-lib's `url_for(..., _external=True)` override: URLs per request.
            redirectUrl: (request) => `${appUrl}${tenantPrefix(request)}/postlogin`,
            logoutUrl: (request) => `${appUrl}${tenantPrefix(request)}/postlogout`,
          }),
        );
        const app = expressApp(version);
        app.get(['/login', '/fr/login'], auth.login());
        app.get(
          '/login/hint',
          auth.login((req) => {
            const hint = req.query.hint;
            return typeof hint === 'string' ? { authorizeParams: { login_hint: hint } } : {};
          }),
        );
        app.get(
          '/login/idp',
          auth.login(() => ({
            authorizeParams: { identity_provider: 'COGNITO', lang: 'fr', prompt: 'login' },
          })),
        );
        app.get(
          '/login/idp-identifier',
          auth.login(() => ({ authorizeParams: { idp_identifier: 'example.com' } })),
        );
        app.get(
          '/login/both',
          auth.login(() => ({
            authorizeParams: { identity_provider: 'Google', idp_identifier: 'example.com' },
          })),
        );
        app.get(
          '/login/unknown-param',
          auth.login(() => ({
            authorizeParams: { redirect_uri: 'https://evil.example' } as AuthorizeParams,
          })),
        );
        app.get(
          '/login/silent',
          auth.login(() => ({ authorizeParams: { prompt: 'none' } })),
        );
        app.get(
          '/login/to-reports',
          auth.login(() => ({ returnTo: '/reports?tab=2' })),
        );
        // No redirectTo: the app's own handler completes the response (flask-cognito-lib's view).
        app.get(['/postlogin', '/fr/postlogin'], auth.callback(), (req: Request, res: Response) => {
          res.json({
            username: req.cognito?.claims.username,
            email: req.cognito?.userInfo?.email,
            groups: req.cognito?.groups,
            hasTokens:
              typeof req.cognito?.accessToken === 'string' &&
              typeof req.cognito.idToken === 'string',
            returnTo: req.cognitoReturnTo ?? null,
          });
        });
        app.get(
          '/page',
          auth.required({}, { redirectToLogin: true }),
          (req: Request, res: Response) => {
            res.type('html').send(`<p>page for ${String(req.cognito?.claims.username)}</p>`);
          },
        );
        app.get('/both', auth.required({ groups: ['admin', 'editor'] }), (req, res) => {
          res.json(req.cognito?.groups);
        });
        // A routing mistake flask-cognito-lib allowed (its fault 27): refresh reachable by a GET.
        app.get('/refresh-get', auth.refresh(), (_req: Request, res: Response) => {
          res.send('refreshed');
        });
        app.get(['/logout', '/fr/logout'], auth.logout());
        return app;
      });
    });

    after(async () => {
      await custom.stop();
      await emulator.stop();
    });

    it('the factory validates once, at construction: one ConfigurationError names every problem', () => {
      const good = guardOptions(emulator, 'http://127.0.0.1:1');
      assert.throws(
        () =>
          cognitoGuard({
            ...good,
            region: '',
            redirectUrl: 'http://app.example/postlogin',
            secretKey: 'short',
          }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigurationError);
          const problems = error.problems.join('\n');
          assert.match(problems, /region is required/);
          assert.match(problems, /redirectUrl must use https/);
          assert.match(problems, /secretKey must be at least 32 characters/);
          return true;
        },
      );
    });

    it('redirect and logout URLs may be functions of the request (dynamic url_for)', async () => {
      const browser = new TestBrowser();
      const plain = await beginLogin(browser, custom.url);
      assert.equal(
        new URL(plain.authorizeUrl).searchParams.get('redirect_uri'),
        `${custom.url}/postlogin`,
      );
      const tenant = await beginLogin(new TestBrowser(), custom.url, '/fr/login');
      assert.equal(
        new URL(tenant.authorizeUrl).searchParams.get('redirect_uri'),
        `${custom.url}/fr/postlogin`,
      );

      // The code is redeemed with the same computed redirect_uri (the emulator checks it).
      const callback = await login(browser, custom.url, 'bob', DEMO_PASSWORD, '/fr/login');
      assert.equal(callback.url.startsWith(`${custom.url}/fr/postlogin?`), true);
      assert.equal(callback.status, 200);
      assert.equal(JSON.parse(callback.body).username, 'bob');

      const logout = await browser.request(`${custom.url}/fr/logout`);
      assert.equal(logout.status, 302);
      const location = new URL(logout.location!);
      assert.equal(location.searchParams.get('logout_uri'), `${custom.url}/fr/postlogout`);
      const plainLogout = await new TestBrowser().request(`${custom.url}/logout`);
      assert.equal(
        new URL(plainLogout.location!).searchParams.get('logout_uri'),
        `${custom.url}/postlogout`,
      );
      // Cognito accepts the computed logout_uri and lands there.
      const landed = await browser.request(logout.location!);
      assert.equal(landed.location, `${custom.url}/fr/postlogout`);
    });

    it('per-request extras (login_hint from the request) reach the authorize URL intact and prefill the hosted page', async () => {
      const hint = 'bob+test&x=1 y=2';
      const browser = new TestBrowser();
      const started = await beginLogin(
        browser,
        custom.url,
        `/login/hint?hint=${encodeURIComponent(hint)}`,
      );
      const authorize = new URL(started.authorizeUrl);
      assert.equal(authorize.searchParams.get('login_hint'), hint);
      assert.equal(authorize.searchParams.has('x'), false, 'no parameter injected');
      assert.equal(authorize.searchParams.getAll('login_hint').length, 1);
      const page = await browser.follow(started.authorizeUrl);
      assert.equal(page.status, 200);
      assert.equal(readForm(page.body, page.url).fields.username, hint);

      const bob = new TestBrowser();
      const start = await beginLogin(bob, custom.url, '/login/hint?hint=bob');
      const bobPage = await bob.follow(start.authorizeUrl);
      const form = readForm(bobPage.body, bobPage.url);
      assert.equal(form.fields.username, 'bob');
      const submitted = await bob.request(form.action, {
        form: { ...form.fields, password: DEMO_PASSWORD },
      });
      const callback = await bob.request(submitted.location!);
      assert.equal(callback.status, 200);
      assert.equal(JSON.parse(callback.body).username, 'bob');
    });

    it('per-request extras identity_provider, lang, prompt and idp_identifier reach the authorize URL', async () => {
      const browser = new TestBrowser();
      const authorize = new URL((await beginLogin(browser, custom.url, '/login/idp')).authorizeUrl);
      assert.equal(authorize.searchParams.get('identity_provider'), 'COGNITO');
      assert.equal(authorize.searchParams.get('lang'), 'fr');
      assert.equal(authorize.searchParams.get('prompt'), 'login');
      assert.equal(authorize.searchParams.get('response_type'), 'code');
      // The emulator honours them: prompt=login shows the form, and the login completes.
      const callback = await login(browser, custom.url, 'carol', DEMO_PASSWORD, '/login/idp');
      assert.equal(callback.status, 200);
      assert.equal(JSON.parse(callback.body).username, 'carol');

      const other = new URL(
        (await beginLogin(new TestBrowser(), custom.url, '/login/idp-identifier')).authorizeUrl,
      );
      assert.equal(other.searchParams.get('idp_identifier'), 'example.com');
      assert.equal(other.searchParams.has('identity_provider'), false);
    });

    it('a bad extra (identity_provider with idp_identifier, an unknown parameter) is a 400, not a 500, and sets no cookie', async () => {
      for (const path of ['/login/both', '/login/unknown-param']) {
        for (const headers of [JSON_ACCEPT, { accept: 'text/html' }]) {
          const response = await new TestBrowser().request(`${custom.url}${path}`, { headers });
          assert.equal(response.status, 400, path);
          assert.equal(response.location, undefined, `${path}: no redirect to Cognito`);
          assert.deepEqual(response.setCookies, [], `${path}: no cookie`);
          assert.doesNotMatch(response.body, /evil\.example|idp_identifier|Error:|at /);
          if (headers === JSON_ACCEPT)
            assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_INVALID');
        }
      }
    });

    it('the app may set returnTo per request, and it survives the sign-in', async () => {
      const callback = await login(
        new TestBrowser(),
        custom.url,
        'carol',
        DEMO_PASSWORD,
        '/login/to-reports',
      );
      assert.equal(JSON.parse(callback.body).returnTo, '/reports?tab=2');
    });

    it('a real Cognito error redirect (prompt=none without a session → login_required) is a 400 with no session', async () => {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, custom.url, '/login/silent');
      const redirect = await browser.request(started.authorizeUrl);
      assert.equal(new URL(redirect.location!).searchParams.get('error'), 'login_required');
      const callback = await browser.request(redirect.location!, { headers: JSON_ACCEPT });
      assert.equal(callback.status, 400);
      assert.equal(JSON.parse(callback.body).error, 'ERR_CALLBACK_ERROR_RESPONSE');
      assertNoSessionCookies(callback.setCookies, 'login_required');
      assertCleared(callback.setCookies, started.transactionCookieName);
    });

    it("without redirectTo, the app's next handler runs with req.cognito and req.cognitoReturnTo", async () => {
      const browser = new TestBrowser();
      const callback = await login(
        browser,
        custom.url,
        'alice',
        DEMO_PASSWORD,
        `/login?returnTo=${encodeURIComponent('/reports?id=7')}`,
      );
      assert.equal(callback.status, 200);
      assert.deepEqual(JSON.parse(callback.body), {
        username: 'alice',
        email: 'alice@example.com',
        groups: ['admin'],
        hasTokens: true,
        returnTo: '/reports?id=7',
      });
      // The handler's own response carries the session cookies and the transaction deletion.
      assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [...SESSION_COOKIES]);
      assert.equal(transactionCookieNames(callback.setCookies).length, 1);
      assert.equal(callback.headers.get('cache-control'), 'no-store');
      const page = await browser.request(`${custom.url}/page`);
      assert.equal(page.status, 200);
      assert.match(page.body, /page for alice/);

      const plain = await login(new TestBrowser(), custom.url, 'carol');
      assert.equal(JSON.parse(plain.body).returnTo, null);
    });

    it('groups are all-of by default: alice (admin) is refused where admin AND editor are required; dave (both) passes', async () => {
      const alice = new TestBrowser();
      await login(alice, custom.url, 'alice');
      const refused = await alice.request(`${custom.url}/both`, { headers: JSON_ACCEPT });
      assert.equal(refused.status, 403);
      assert.equal(JSON.parse(refused.body).error, 'ERR_GROUP_REQUIRED');

      const dave = new TestBrowser();
      await login(dave, custom.url, 'dave');
      const allowed = await dave.request(`${custom.url}/both`, { headers: JSON_ACCEPT });
      assert.equal(allowed.status, 200);
      assert.deepEqual(JSON.parse(allowed.body), ['admin', 'editor']);
    });

    it('redirectToLogin: browsers get a 302 to /login?returnTo=…, API callers a 401; the round trip lands back', async () => {
      const page = await new TestBrowser().request(`${custom.url}/page?x=1`, {
        headers: { accept: 'text/html,application/xhtml+xml' },
      });
      assert.equal(page.status, 302);
      assert.equal(page.location, `${custom.url}/login?returnTo=%2Fpage%3Fx%3D1`);
      assert.deepEqual(page.setCookies, []);

      const api = await new TestBrowser().request(`${custom.url}/page?x=1`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(api.status, 401);
      assert.equal(api.headers.get('www-authenticate'), 'Bearer realm="cognito-guard"');

      const browser = new TestBrowser();
      const loginPath = new URL(page.location);
      const callback = await login(
        browser,
        custom.url,
        'bob',
        DEMO_PASSWORD,
        loginPath.pathname + loginPath.search,
      );
      assert.equal(JSON.parse(callback.body).returnTo, '/page?x=1');
      const landed = await browser.request(`${custom.url}/page?x=1`);
      assert.equal(landed.status, 200);
      assert.match(landed.body, /page for bob/);
    });

    it('flask-cognito-lib fault 27 (refresh via GET works if routed so): a GET to a refresh route is refused, cookies untouched', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, custom.url, 'bob');
      assert.equal(callback.status, 200);
      const response = await browser.request(`${custom.url}/refresh-get`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(response.status, 401);
      assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
      assert.deepEqual(response.setCookies, []);
      assert.notEqual(response.body, 'refreshed', 'the route handler did not run');
    });

    it('flask-cognito-lib fault 29 (groups as a bare string checked per character): refused when the route is declared', () => {
      const auth = cognitoGuard(guardOptions(emulator, 'http://127.0.0.1:1'));
      assert.throws(
        () => auth.required({ groups: 'admin' as unknown as string[] }),
        ConfigurationError,
      );
      assert.throws(
        () => auth.required({ groups: ['admin'], anyGroup: 'yes' as unknown as boolean }),
        ConfigurationError,
      );
      assert.doesNotThrow(() => auth.required({ groups: ['admin'], anyGroup: true }));
    });

    it("a login options function that throws is the library's fixed 502, not Express's 500 page with the error", async () => {
      const warned: string[] = [];
      const throwing = await serveBuilt((appUrl) => {
        const auth = cognitoGuard(
          guardOptions(emulator, appUrl, { logger: { warn: (message) => warned.push(message) } }),
        );
        const app = expressApp(version);
        app.get(
          '/login',
          auth.login(() => {
            throw new Error('boom in /srv/app/secret-path');
          }),
        );
        return app;
      });
      try {
        for (const accept of [JSON_ACCEPT, HTML_ACCEPT]) {
          const response = await fetch(`${throwing.url}/login`, {
            headers: accept,
            redirect: 'manual',
          });
          const body = await response.text();
          assert.equal(response.status, 502, accept.accept);
          assertFixedErrorAnswer(response, body, ['boom', '/srv/app'], accept.accept);
          assert.deepEqual(response.headers.getSetCookie(), [], 'no transaction was started');
        }
        assert.deepEqual(warned, ['unexpected failure', 'unexpected failure']);
      } finally {
        await throwing.stop();
      }
    });
  });
}
