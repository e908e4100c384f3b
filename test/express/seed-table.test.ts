/**
 * The seed's feature table, row by row, over real HTTP against the emulator, on Express 5 and
 * Express 4: configuration (factory, `fromEnv`, request-dependent URLs), `@cognito_login`,
 * `@cognito_login_callback`, `@cognito_refresh_callback`, `@cognito_logout`, `@auth_required`,
 * and `session["claims"]`/`session["user_info"]` → `req.cognito`.
 *
 * flows.test.ts has the happy paths; this suite pins the rest of each row, and every failure
 * path checks that no half-set session is left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { CookieSealer } from '../../src/core/crypto.js';
import { stateId, unsealTransaction } from '../../src/core/transaction.js';
import {
  ConfigurationError,
  fromEnv,
  type AuthorizeParams,
  type IncomingRequest,
} from '../../src/index.js';
import { cognitoGuard } from '../../src/express/index.js';
import {
  REFRESH_TOKEN_PREFIX,
  startEmulator,
  type EmulatorHandle,
} from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import {
  CLIENT_SECRET,
  DEMO_PASSWORD,
  EXPRESS_VERSIONS,
  SECRET_KEY,
  TestBrowser,
  callbackUrlFor,
  guardOptions,
  login,
  registerClient,
  startStack,
  type Stack,
} from '../support/stack.js';
import { readForm } from '../support/browser.js';
import {
  assertCleared,
  assertNoSessionCookies,
  beginLogin,
  decodePayload,
  expressApp,
  findCookie,
  recordingFetch,
  sessionCookiesSet,
  startApp,
  transactionCookies,
  type RecordingFetch,
  type RunningApp,
  type TokenTamper,
} from './helpers.js';

const JSON_ACCEPT = { accept: 'application/json' };
const quiet = { warn: () => undefined };

/** The `/fr` tenant prefix of a request, for the request-dependent URL options. */
const tenantPrefix = (request: IncomingRequest): string =>
  request.url.startsWith('/fr/') ? '/fr' : '';

for (const version of EXPRESS_VERSIONS) {
  describe(`seed table (${version})`, () => {
    let emulator: EmulatorHandle;
    /** The example app with a recording fetch (client `test-client`). */
    let stack: Stack;
    let recorder: RecordingFetch;
    /** Example app with no scopes and the refresh flow off (client `minimal-client`). */
    let minimal: Stack;
    let minimalRecorder: RecordingFetch;
    /** Example app with every cookie setting changed (client `attr-client`). */
    let attributes: Stack;
    /** A custom app built with `cognitoGuard` (client `custom-client`). */
    let custom: RunningApp;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      emulator.addUser({
        username: 'dave',
        password: DEMO_PASSWORD,
        email: 'dave@example.com',
        groups: ['admin', 'editor'],
      });
      recorder = recordingFetch();
      stack = await startStack({ express: version, emulator, guard: { fetch: recorder.fetch } });
      minimalRecorder = recordingFetch();
      minimal = await startStack({
        express: version,
        emulator,
        client: { clientId: 'minimal-client' },
        guard: {
          clientId: 'minimal-client',
          scopes: undefined,
          refreshFlowEnabled: false,
          fetch: minimalRecorder.fetch,
        },
      });
      attributes = await startStack({
        express: version,
        emulator,
        client: { clientId: 'attr-client' },
        guard: {
          clientId: 'attr-client',
          cookieDomain: '.app.example',
          secureCookies: true,
          cookieSameSite: 'Strict',
          cookieMaxAgeSeconds: 600,
          refreshCookieMaxAgeSeconds: 3600,
          refreshCookieEncrypted: false,
        },
      });
      custom = await startApp((appUrl) => {
        registerClient(emulator, appUrl, {
          clientId: 'custom-client',
          callbackUrls: [`${appUrl}/postlogin`, `${appUrl}/fr/postlogin`],
          logoutUrls: [`${appUrl}/postlogout`, `${appUrl}/fr/postlogout`],
        });
        const auth = cognitoGuard(
          guardOptions(emulator, appUrl, {
            clientId: 'custom-client',
            // The seed's `url_for(..., _external=True)` override: URLs computed per request.
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
        // No redirectTo: the app's own handler completes the response (the seed's view).
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
        app.get(['/logout', '/fr/logout'], auth.logout());
        return app;
      });
    });

    after(async () => {
      await custom.stop();
      await attributes.stop();
      await minimal.stop();
      await stack.stop();
      await emulator.stop();
    });

    describe('CognitoAuth(app) / init_app / Config override → one factory', () => {
      it('an app built from fromEnv(env) logs in end to end (scopes comma-separated, refresh on)', async () => {
        const app = await startApp((appUrl) => {
          registerClient(emulator, appUrl, { clientId: 'env-client' });
          const options = fromEnv({
            AWS_REGION: emulator.region,
            AWS_COGNITO_USER_POOL_ID: emulator.poolId,
            AWS_COGNITO_DOMAIN: emulator.domain,
            AWS_COGNITO_ISSUER: emulator.issuer,
            AWS_COGNITO_USER_POOL_CLIENT_ID: 'env-client',
            AWS_COGNITO_USER_POOL_CLIENT_SECRET: CLIENT_SECRET,
            AWS_COGNITO_REDIRECT_URL: `${appUrl}/postlogin`,
            AWS_COGNITO_LOGOUT_URL: `${appUrl}/postlogout`,
            AWS_COGNITO_SCOPES: 'openid,email',
            AWS_COGNITO_REFRESH_FLOW_ENABLED: 'true',
            AWS_COGNITO_COOKIE_AGE_SECONDS: '900',
            SECRET_KEY,
          });
          return createExampleApp({ ...options, logger: quiet }, () => expressApp(version));
        });
        try {
          const browser = new TestBrowser();
          const { authorize } = await beginLogin(browser, `${app.appUrl}/login`);
          // Seed fault 16: a scope string is split into scopes, never joined per character.
          assert.equal(authorize.searchParams.get('scope'), 'openid email');
          assert.equal(authorize.searchParams.get('client_id'), 'env-client');
          const callback = await login(browser, app.appUrl, 'alice');
          assert.equal(callback.status, 302);
          assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
            'cognito_access_token',
            'cognito_id_token',
            'cognito_refresh_token',
          ]);
          assert.match(
            findCookie(callback.setCookies, 'cognito_access_token')!.header,
            /Max-Age=900/,
          );
          const claims = await browser.request(`${app.appUrl}/claims`, { headers: JSON_ACCEPT });
          assert.equal(claims.status, 200);
          assert.equal(JSON.parse(claims.body).claims.username, 'alice');
        } finally {
          await app.stop();
        }
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
        const plain = await beginLogin(browser, `${custom.appUrl}/login`);
        assert.equal(
          plain.authorize.searchParams.get('redirect_uri'),
          `${custom.appUrl}/postlogin`,
        );
        const tenant = await beginLogin(new TestBrowser(), `${custom.appUrl}/fr/login`);
        assert.equal(
          tenant.authorize.searchParams.get('redirect_uri'),
          `${custom.appUrl}/fr/postlogin`,
        );

        // The code is redeemed with the same computed redirect_uri (the emulator checks it).
        const callback = await login(browser, custom.appUrl, 'bob', DEMO_PASSWORD, '/fr/login');
        assert.equal(callback.url.startsWith(`${custom.appUrl}/fr/postlogin?`), true);
        assert.equal(callback.status, 200);
        assert.equal(JSON.parse(callback.body).username, 'bob');

        const logout = await browser.request(`${custom.appUrl}/fr/logout`);
        assert.equal(logout.status, 302);
        const location = new URL(logout.location!);
        assert.equal(location.searchParams.get('logout_uri'), `${custom.appUrl}/fr/postlogout`);
        const plainLogout = await new TestBrowser().request(`${custom.appUrl}/logout`);
        assert.equal(
          new URL(plainLogout.location!).searchParams.get('logout_uri'),
          `${custom.appUrl}/postlogout`,
        );
        // Cognito accepts the computed logout_uri and lands there.
        const landed = await browser.request(logout.location!);
        assert.equal(landed.location, `${custom.appUrl}/fr/postlogout`);
      });
    });

    describe('@cognito_login → login()', () => {
      it('PKCE: a fresh RFC 7636 verifier (43–128 chars) per login, challenge = S256(verifier), state/nonce sealed in the transaction', async () => {
        const sealer = new CookieSealer([SECRET_KEY]);
        const states = new Set<string>();
        for (let i = 0; i < 20; i += 1) {
          const browser = new TestBrowser();
          const { authorize, state, transactionCookie, setCookies } = await beginLogin(
            browser,
            `${stack.appUrl}/login`,
          );
          assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
          assert.equal(transactionCookie, `cognito_txn_${await stateId(state)}`);
          const sealed = findCookie(setCookies, transactionCookie)!.value;
          const transaction = await unsealTransaction(sealer, sealed);
          assert.ok(transaction !== undefined, 'the transaction cookie is sealed with SECRET_KEY');
          // Seed fault 14: the seed's verifier was 35–43 characters, 74% of them too short.
          assert.match(transaction.codeVerifier, /^[A-Za-z0-9._~-]{43,128}$/);
          assert.equal(
            authorize.searchParams.get('code_challenge'),
            createHash('sha256').update(transaction.codeVerifier).digest('base64url'),
          );
          assert.equal(transaction.state, state);
          assert.equal(transaction.nonce, authorize.searchParams.get('nonce'));
          assert.equal(transaction.redirectUri, `${stack.appUrl}/postlogin`);
          assert.ok(!sealed.includes(state), 'the state is not readable in the cookie');
          states.add(state);
        }
        assert.equal(states.size, 20, 'every login gets its own state');
      });

      it('scope is sent only when configured; without scopes the login still completes', async () => {
        const browser = new TestBrowser();
        const { authorize } = await beginLogin(browser, `${minimal.appUrl}/login`);
        assert.equal(authorize.searchParams.has('scope'), false);
        assert.equal(authorize.searchParams.get('client_id'), 'minimal-client');
        const callback = await login(browser, minimal.appUrl, 'carol');
        assert.equal(callback.status, 302);
        // Refresh flow off: no refresh cookie, even though Cognito returned a refresh token.
        assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
        const claims = await browser.request(`${minimal.appUrl}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
      });

      it('per-request extras (login_hint from the request) reach the authorize URL intact and prefill the hosted page', async () => {
        const hint = 'bob+test&x=1 y=2';
        const browser = new TestBrowser();
        const { authorize } = await beginLogin(
          browser,
          `${custom.appUrl}/login/hint?hint=${encodeURIComponent(hint)}`,
        );
        assert.equal(authorize.searchParams.get('login_hint'), hint);
        assert.equal(authorize.searchParams.has('x'), false, 'no parameter injected');
        assert.equal(authorize.searchParams.getAll('login_hint').length, 1);
        const page = await browser.follow(authorize.toString());
        assert.equal(page.status, 200);
        assert.equal(readForm(page.body, page.url).fields.username, hint);

        const bob = new TestBrowser();
        const start = await beginLogin(bob, `${custom.appUrl}/login/hint?hint=bob`);
        const bobPage = await bob.follow(start.authorize.toString());
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
        const { authorize } = await beginLogin(browser, `${custom.appUrl}/login/idp`);
        assert.equal(authorize.searchParams.get('identity_provider'), 'COGNITO');
        assert.equal(authorize.searchParams.get('lang'), 'fr');
        assert.equal(authorize.searchParams.get('prompt'), 'login');
        assert.equal(authorize.searchParams.get('response_type'), 'code');
        // The emulator honours them: prompt=login shows the form, and the login completes.
        const callback = await login(browser, custom.appUrl, 'carol', DEMO_PASSWORD, '/login/idp');
        assert.equal(callback.status, 200);
        assert.equal(JSON.parse(callback.body).username, 'carol');

        const other = await beginLogin(new TestBrowser(), `${custom.appUrl}/login/idp-identifier`);
        assert.equal(other.authorize.searchParams.get('idp_identifier'), 'example.com');
        assert.equal(other.authorize.searchParams.has('identity_provider'), false);
      });

      it('a bad extra (identity_provider with idp_identifier, an unknown parameter) is a 400, not a 500, and sets no cookie', async () => {
        for (const path of ['/login/both', '/login/unknown-param']) {
          for (const headers of [JSON_ACCEPT, { accept: 'text/html' }]) {
            const response = await new TestBrowser().request(`${custom.appUrl}${path}`, {
              headers,
            });
            assert.equal(response.status, 400, path);
            assert.equal(response.location, undefined, `${path}: no redirect to Cognito`);
            assert.deepEqual(response.setCookies, [], `${path}: no cookie`);
            assert.doesNotMatch(response.body, /evil\.example|idp_identifier|Error:|at /);
            if (headers === JSON_ACCEPT)
              assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_INVALID');
          }
        }
      });

      it('returnTo: only same-origin relative paths survive; the app may set it per request', async () => {
        for (const unsafe of [
          'https://evil.example/x',
          '/\\evil.example',
          '/%2F%2Fevil.example',
          'javascript:alert(1)',
          '///evil.example',
        ]) {
          const browser = new TestBrowser();
          const callback = await login(
            browser,
            stack.appUrl,
            'carol',
            DEMO_PASSWORD,
            `/login?returnTo=${encodeURIComponent(unsafe)}`,
          );
          assert.equal(callback.location, `${stack.appUrl}/claims`, unsafe);
        }
        const browser = new TestBrowser();
        const callback = await login(
          browser,
          custom.appUrl,
          'carol',
          DEMO_PASSWORD,
          '/login/to-reports',
        );
        assert.equal(JSON.parse(callback.body).returnTo, '/reports?tab=2');
      });
    });

    describe('@cognito_login_callback → callback()', () => {
      it('?error=access_denied&error_description=<script>: 400, transaction cleared, no session, description never reflected', async () => {
        for (const headers of [{ accept: 'text/html' }, JSON_ACCEPT]) {
          const browser = new TestBrowser();
          const { state, transactionCookie } = await beginLogin(browser, `${stack.appUrl}/login`);
          const description = '<script>alert("owned")</script>';
          const response = await browser.request(
            `${stack.appUrl}/postlogin?${new URLSearchParams({
              error: 'access_denied',
              error_description: description,
              state,
            }).toString()}`,
            { headers },
          );
          assert.equal(response.status, 400);
          assertNoSessionCookies(response.setCookies, '?error');
          assertCleared(response.setCookies, transactionCookie);
          assert.equal(browser.cookie(stack.appUrl, transactionCookie), undefined);
          assert.doesNotMatch(response.body, /script|owned|access_denied/);
          if (headers === JSON_ACCEPT)
            assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_ERROR_RESPONSE');
          else assert.match(response.body, /Sign in again/);
        }
      });

      it('a real Cognito error redirect (prompt=none without a session → login_required) is a 400 with no session', async () => {
        const browser = new TestBrowser();
        const { authorize, transactionCookie } = await beginLogin(
          browser,
          `${custom.appUrl}/login/silent`,
        );
        const redirect = await browser.request(authorize.toString());
        assert.equal(new URL(redirect.location!).searchParams.get('error'), 'login_required');
        const callback = await browser.request(redirect.location!, { headers: JSON_ACCEPT });
        assert.equal(callback.status, 400);
        assert.equal(JSON.parse(callback.body).error, 'ERR_CALLBACK_ERROR_RESPONSE');
        assertNoSessionCookies(callback.setCookies, 'login_required');
        assertCleared(callback.setCookies, transactionCookie);
      });

      it('state is checked against the sealed transaction before any call to Cognito', async () => {
        const browser = new TestBrowser();
        const first = await beginLogin(browser, `${stack.appUrl}/login`);
        const second = await beginLogin(new TestBrowser(), `${stack.appUrl}/login`);
        // Transaction of login A filed under the cookie name of login B's state.
        const planted = new TestBrowser();
        planted.setCookie(
          stack.appUrl,
          second.transactionCookie,
          browser.cookie(stack.appUrl, first.transactionCookie)!,
        );
        const before = recorder.calls.length;
        const response = await planted.request(
          `${stack.appUrl}/postlogin?code=abc&state=${encodeURIComponent(second.state)}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(response.status, 400);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_STATE_MISMATCH');
        assertNoSessionCookies(response.setCookies, 'state mismatch');
        assertCleared(response.setCookies, second.transactionCookie);
        assert.equal(recorder.calls.length, before, 'no code exchange was attempted');

        const noTransaction = await new TestBrowser().request(
          `${stack.appUrl}/postlogin?code=abc&state=${encodeURIComponent(first.state)}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(noTransaction.status, 400);
        assert.equal(JSON.parse(noTransaction.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
        assert.equal(recorder.calls.length, before, 'no code exchange was attempted');
      });

      it('the code exchange authenticates a confidential client with HTTP Basic and sends the PKCE verifier', async () => {
        const before = recorder.calls.length;
        const callback = await login(new TestBrowser(), stack.appUrl, 'bob');
        assert.equal(callback.status, 302);
        const [exchange] = recorder.calls.slice(before).filter((c) => c.path === '/oauth2/token');
        assert.ok(exchange !== undefined, 'one code exchange');
        assert.equal(exchange.authScheme, 'Basic');
        assert.equal(exchange.basicClientId, 'test-client');
        assert.equal(exchange.body.has('client_secret'), false, 'the secret is not in the body');
        assert.equal(exchange.body.get('grant_type'), 'authorization_code');
        assert.equal(exchange.body.get('redirect_uri'), `${stack.appUrl}/postlogin`);
        assert.match(exchange.body.get('code_verifier') ?? '', /^[A-Za-z0-9._~-]{43,128}$/);
      });

      it('both tokens are verified before any session cookie is set (nonce, at_hash, user, client, key)', async () => {
        const mintId = (claims: Record<string, unknown>, username = 'carol') =>
          emulator.mintToken({ use: 'id', username, clientId: 'test-client', claims });
        const realIdClaims = (json: Record<string, unknown>) =>
          decodePayload(String(json.id_token));
        const cases: [string, TokenTamper][] = [
          [
            'ID token with another nonce',
            async (json) => ({
              ...json,
              id_token: await mintId({ ...realIdClaims(json), nonce: 'another-nonce' }),
            }),
          ],
          [
            'ID token without a nonce (seed fault 19: KeyError → 500)',
            async (json) => ({
              ...json,
              id_token: await mintId({ ...realIdClaims(json), nonce: undefined }),
            }),
          ],
          [
            'ID token whose at_hash does not match the access token',
            async (json) => ({
              ...json,
              id_token: await mintId({ ...realIdClaims(json), at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }),
            }),
          ],
          [
            'ID token of another user',
            async (json) => {
              const { nonce, at_hash } = realIdClaims(json);
              return { ...json, id_token: await mintId({ nonce, at_hash }, 'bob') };
            },
          ],
          [
            'access token issued to another client',
            async (json) => ({
              ...json,
              access_token: await emulator.mintToken({
                use: 'access',
                username: 'carol',
                clientId: 'test-client',
                claims: { client_id: 'another-client' },
              }),
            }),
          ],
          [
            'access token signed by an unpublished key',
            async (json) => ({
              ...json,
              access_token: await emulator.mintToken({
                use: 'access',
                username: 'carol',
                clientId: 'test-client',
                key: 'unpublished',
              }),
            }),
          ],
        ];
        try {
          // Control: the interceptor alone does not break a login.
          recorder.tamper = (json) => Promise.resolve(json);
          const control = await login(new TestBrowser(), stack.appUrl, 'carol');
          assert.equal(control.status, 302, 'control login');

          for (const [name, tamper] of cases) {
            const browser = new TestBrowser();
            const callbackUrl = await callbackUrlFor(browser, stack.appUrl, 'carol');
            const [transactionCookie] = [...browser.cookiesFor(stack.appUrl).keys()].filter((n) =>
              n.startsWith('cognito_txn_'),
            );
            recorder.tamper = tamper;
            const response = await browser.request(callbackUrl, { headers: JSON_ACCEPT });
            const { error } = JSON.parse(response.body);
            assert.equal(response.status, 400, name);
            assert.equal(error, 'ERR_CALLBACK_REJECTED', name);
            assertNoSessionCookies(response.setCookies, name);
            assertCleared(response.setCookies, transactionCookie!);
            const claims = await browser.request(`${stack.appUrl}/claims`, {
              headers: JSON_ACCEPT,
            });
            assert.equal(claims.status, 401, `${name}: not signed in`);
          }
        } finally {
          recorder.tamper = undefined;
        }
      });

      it("without redirectTo, the app's next handler runs with req.cognito and req.cognitoReturnTo", async () => {
        const browser = new TestBrowser();
        const callback = await login(
          browser,
          custom.appUrl,
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
        assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
          'cognito_refresh_token',
        ]);
        assert.equal(transactionCookies(callback.setCookies).length, 1);
        assert.equal(callback.headers.get('cache-control'), 'no-store');
        const page = await browser.request(`${custom.appUrl}/page`);
        assert.equal(page.status, 200);
        assert.match(page.body, /page for alice/);

        const plain = await login(new TestBrowser(), custom.appUrl, 'carol');
        assert.equal(JSON.parse(plain.body).returnTo, null);
      });
    });

    describe('@cognito_refresh_callback → refresh()', () => {
      it('the new tokens are verified: a refresh answered with a forged access token ends the session (401), sets none', async () => {
        const browser = new TestBrowser();
        await login(browser, stack.appUrl, 'bob');
        try {
          recorder.tamper = async (json) => ({
            ...json,
            access_token: await emulator.mintToken({
              use: 'access',
              username: 'bob',
              clientId: 'test-client',
              key: 'unpublished',
            }),
          });
          const response = await browser.request(`${stack.appUrl}/refresh`, {
            method: 'POST',
            headers: JSON_ACCEPT,
          });
          assert.equal(response.status, 401);
          assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
          assertNoSessionCookies(response.setCookies, 'refresh with a forged token');
          for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'])
            assertCleared(response.setCookies, name);
        } finally {
          recorder.tamper = undefined;
        }
        assert.equal((await browser.request(`${stack.appUrl}/claims`)).status, 401);
      });

      it('the refresh exchange uses HTTP Basic and the decrypted refresh token', async () => {
        const browser = new TestBrowser();
        await login(browser, stack.appUrl, 'bob');
        const before = recorder.calls.length;
        const response = await browser.request(`${stack.appUrl}/refresh`, { method: 'POST' });
        assert.equal(response.status, 303);
        const [exchange] = recorder.calls
          .slice(before)
          .filter((c) => c.path.startsWith('/oauth2/'));
        assert.equal(exchange?.path, '/oauth2/token');
        assert.equal(exchange.authScheme, 'Basic');
        assert.equal(exchange.body.get('grant_type'), 'refresh_token');
        const sent = exchange.body.get('refresh_token') ?? '';
        assert.ok(sent !== '' && sent !== browser.cookie(stack.appUrl, 'cognito_refresh_token'));
        assert.deepEqual(sessionCookiesSet(response.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
      });

      it('with the refresh flow disabled, POST /refresh is 404 and changes no cookie', async () => {
        const browser = new TestBrowser();
        await login(browser, minimal.appUrl, 'bob');
        const response = await browser.request(`${minimal.appUrl}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(response.status, 404);
        assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_DISABLED');
        assert.deepEqual(response.setCookies, []);
        assert.equal((await browser.request(`${minimal.appUrl}/claims`)).status, 200);
      });
    });

    describe('@cognito_logout → logout()', () => {
      it('clears every cookie it set with the same Path/Domain/Secure, including pending transactions', async () => {
        const browser = new TestBrowser();
        const callback = await login(browser, attributes.appUrl, 'alice');
        for (const [name, maxAge] of [
          ['cognito_access_token', 600],
          ['cognito_id_token', 600],
          ['cognito_refresh_token', 3600],
        ] as const) {
          const header = findCookie(callback.setCookies, name)!.header;
          for (const attribute of [
            'Domain=app.example',
            'Path=/',
            'HttpOnly',
            'Secure',
            'SameSite=Strict',
            `Max-Age=${maxAge}`,
          ])
            assert.ok(header.includes(attribute), `${name}: ${attribute}`);
        }
        // Unencrypted refresh cookie (AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED=false) still refreshes.
        assert.ok(
          browser
            .cookie(attributes.appUrl, 'cognito_refresh_token')!
            .startsWith(REFRESH_TOKEN_PREFIX),
          'the refresh cookie holds the raw Cognito refresh token',
        );
        const refreshed = await browser.request(`${attributes.appUrl}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);

        // A pending login: its __Host- transaction cookie carries no Domain.
        const pending = await beginLogin(browser, `${attributes.appUrl}/login`);
        assert.match(pending.transactionCookie, /^__Host-cognito_txn_/);
        const txnHeader = findCookie(pending.setCookies, pending.transactionCookie)!.header;
        assert.doesNotMatch(txnHeader, /Domain=/);
        assert.match(txnHeader, /SameSite=Lax/);

        const logout = await browser.request(`${attributes.appUrl}/logout`);
        assert.equal(logout.status, 302);
        for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token']) {
          const header = assertCleared(logout.setCookies, name);
          for (const attribute of ['Domain=app.example', 'Path=/', 'Secure', 'HttpOnly'])
            assert.ok(header.includes(attribute), `${name} deletion: ${attribute}`);
        }
        const txnDeletion = assertCleared(logout.setCookies, pending.transactionCookie);
        assert.match(txnDeletion, /Path=\//);
        assert.doesNotMatch(txnDeletion, /Domain=/);
        assert.deepEqual(
          [...browser.cookiesFor(attributes.appUrl).keys()].filter((n) =>
            /cognito_(?!emulator)/.test(n),
          ),
          [],
          'the browser holds no cognito-guard cookie',
        );
      });

      it('revokes with client authentication; with the refresh flow off there is nothing to revoke', async () => {
        const browser = new TestBrowser();
        await login(browser, stack.appUrl, 'carol');
        const before = recorder.calls.length;
        const logout = await browser.request(`${stack.appUrl}/logout`);
        assert.equal(logout.status, 302);
        const [revoke] = recorder.calls.slice(before).filter((c) => c.path.startsWith('/oauth2/'));
        assert.equal(revoke?.path, '/oauth2/revoke');
        assert.equal(revoke.authScheme, 'Basic');
        assert.equal(revoke.basicClientId, 'test-client');
        assert.ok((revoke.body.get('token') ?? '') !== '');

        const minimalBrowser = new TestBrowser();
        await login(minimalBrowser, minimal.appUrl, 'carol');
        const minimalBefore = minimalRecorder.calls.length;
        const minimalLogout = await minimalBrowser.request(`${minimal.appUrl}/logout`);
        assert.equal(minimalLogout.status, 302);
        assert.equal(minimalRecorder.calls.length, minimalBefore, 'no revoke call');
        assertCleared(minimalLogout.setCookies, 'cognito_access_token');
        const location = new URL(minimalLogout.location!);
        assert.equal(location.searchParams.get('client_id'), 'minimal-client');
      });
    });

    describe('@auth_required(groups, any_group) → required()', () => {
      it('groups are all-of by default: alice (admin) is refused where admin AND editor are required; dave (both) passes', async () => {
        const alice = new TestBrowser();
        await login(alice, custom.appUrl, 'alice');
        const refused = await alice.request(`${custom.appUrl}/both`, { headers: JSON_ACCEPT });
        assert.equal(refused.status, 403);
        assert.equal(JSON.parse(refused.body).error, 'ERR_GROUP_REQUIRED');

        const dave = new TestBrowser();
        await login(dave, custom.appUrl, 'dave');
        const allowed = await dave.request(`${custom.appUrl}/both`, { headers: JSON_ACCEPT });
        assert.equal(allowed.status, 200);
        assert.deepEqual(JSON.parse(allowed.body), ['admin', 'editor']);
      });

      it('a token without cognito:groups fails a group check with 403 (any or all), not 401', async () => {
        const carol = new TestBrowser();
        await login(carol, stack.appUrl, 'carol');
        const claims = await carol.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
        assert.equal('cognito:groups' in JSON.parse(claims.body).claims, false);
        for (const path of ['/admin', '/edit']) {
          const response = await carol.request(`${stack.appUrl}${path}`, { headers: JSON_ACCEPT });
          assert.equal(response.status, 403, path);
          assert.equal(JSON.parse(response.body).error, 'ERR_GROUP_REQUIRED');
          assert.equal(response.headers.get('www-authenticate'), null);
        }
      });

      it('redirectToLogin: browsers get a 302 to /login?returnTo=…, API callers a 401; the round trip lands back', async () => {
        const page = await new TestBrowser().request(`${custom.appUrl}/page?x=1`, {
          headers: { accept: 'text/html,application/xhtml+xml' },
        });
        assert.equal(page.status, 302);
        assert.equal(page.location, `${custom.appUrl}/login?returnTo=%2Fpage%3Fx%3D1`);
        assert.deepEqual(page.setCookies, []);

        const api = await new TestBrowser().request(`${custom.appUrl}/page?x=1`, {
          headers: JSON_ACCEPT,
        });
        assert.equal(api.status, 401);
        assert.equal(api.headers.get('www-authenticate'), 'Bearer realm="cognito-guard"');

        const browser = new TestBrowser();
        const loginPath = new URL(page.location);
        const callback = await login(
          browser,
          custom.appUrl,
          'bob',
          DEMO_PASSWORD,
          loginPath.pathname + loginPath.search,
        );
        assert.equal(JSON.parse(callback.body).returnTo, '/page?x=1');
        const landed = await browser.request(`${custom.appUrl}/page?x=1`);
        assert.equal(landed.status, 200);
        assert.match(landed.body, /page for bob/);
      });
    });

    describe('session["claims"] / session["user_info"] → req.cognito', () => {
      it('claims come from the verified access token and userInfo from the verified ID token of the same login', async () => {
        const browser = new TestBrowser();
        await login(browser, stack.appUrl, 'dave');
        const response = await browser.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
        assert.equal(response.status, 200);
        const body = JSON.parse(response.body);
        const access = decodePayload(browser.cookie(stack.appUrl, 'cognito_access_token')!);
        const id = decodePayload(browser.cookie(stack.appUrl, 'cognito_id_token')!);
        assert.deepEqual(body.claims, access);
        assert.deepEqual(body.user_info, id);
        assert.equal(body.claims.client_id, 'test-client');
        assert.equal(body.user_info.aud, 'test-client');
        assert.equal(body.user_info.sub, body.claims.sub);
        assert.deepEqual(body.claims['cognito:groups'], ['admin', 'editor']);
      });
    });
  });
}
