/**
 * flask-cognito-lib's feature table, row by row, over real HTTP against the emulator, on every
 * adapter's example app: configuration from the environment, `@cognito_login`,
 * `@cognito_login_callback`, `@cognito_refresh_callback`, `@cognito_logout`, `@auth_required`,
 * and `session["claims"]`/`session["user_info"]` → the claims the app sees. The library's calls
 * to Cognito are recorded (and rewritten where a row needs a hostile answer) by the hostile
 * domain in front of the emulator, given to the app as `AWS_COGNITO_DOMAIN`.
 *
 * flows.test.ts has the happy paths; this suite pins the rest of each row, and every failure path
 * checks that no half-set session is left behind. The rows only an Express app can show (options
 * as functions, per-request authorize parameters, the app's own callback handler, custom routes)
 * are in test/express/flask-cognito-lib.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CookieSealer } from '../../src/core/crypto.js';
import { stateId, unsealTransaction } from '../../src/core/transaction.js';
import { DEMO_PASSWORD, REFRESH_TOKEN_PREFIX } from '../../src/emulator/index.js';
import { ADAPTERS, type ConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT, SAME_ORIGIN } from '../support/browser.js';
import {
  assertCleared,
  assertNoSessionCookies,
  findCookie,
  SESSION_COOKIES,
  sessionCookiesSet,
} from '../support/cookies.js';
import { basicCredentials } from '../support/hostile-issuer.js';
import { decodeJwt } from '../support/jwt.js';
import { SECRET_KEY } from '../support/pool.js';
import { beginLogin, callbackUrlFor, login } from '../support/sign-in.js';

/** Rewrites a token-endpoint JSON answer (to feed the app tokens that must be refused). */
type TokenTamper = (json: Record<string, unknown>) => Promise<Record<string, unknown>>;

for (const adapter of ADAPTERS) {
  describe(`flask-cognito-lib's feature table (${adapter.name})`, () => {
    /** The example app behind the recording hostile domain. */
    let sec: ConformanceStack;
    let app: ConformanceApp;
    /** The example app with no scopes and the refresh flow off. */
    let minimal: ConformanceApp;
    /** The example app with every cookie setting the environment has changed. */
    let attributes: ConformanceApp;

    /** Rewrites the answers of `/oauth2/token` for `grantType` with `tamper` (undefined: stop). */
    const tamperTokens = (grantType: string, tamper: TokenTamper | undefined): void => {
      sec.hostile.onToken =
        tamper === undefined
          ? undefined
          : async (request, upstream) =>
              request.form.get('grant_type') === grantType
                ? { status: 200, body: await tamper((await upstream()).json()) }
                : undefined;
    };
    const oauthCallsSince = (start: number) =>
      sec.hostile.requests.slice(start).filter((c) => c.path.startsWith('/oauth2/'));

    before(async () => {
      sec = await startConformanceStack(adapter);
      app = sec.app;
      sec.emulator.addUser({
        username: 'dave',
        password: DEMO_PASSWORD,
        email: 'dave@example.com',
        groups: ['admin', 'editor'],
      });
      minimal = await sec.startApp({
        env: { AWS_COGNITO_SCOPES: '', AWS_COGNITO_REFRESH_FLOW_ENABLED: 'false' },
      });
      attributes = await sec.startApp({
        env: {
          AWS_COGNITO_COOKIE_DOMAIN: '.app.example',
          AWS_COGNITO_COOKIE_SAMESITE: 'Strict',
          AWS_COGNITO_COOKIE_AGE_SECONDS: '600',
          AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS: '3600',
          AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED: 'false',
        },
      });
    });

    after(async () => {
      await attributes.stop();
      await minimal.stop();
      await sec.stop();
    });

    describe('CognitoAuth(app) / init_app / Config → the environment', () => {
      it('an app configured by its environment logs in end to end (scopes comma-separated, cookie age, refresh on)', async () => {
        const configured = await sec.startApp({
          env: { AWS_COGNITO_SCOPES: 'openid,email', AWS_COGNITO_COOKIE_AGE_SECONDS: '900' },
        });
        try {
          const browser = new TestBrowser();
          const { authorizeUrl } = await beginLogin(browser, configured.url);
          const authorize = new URL(authorizeUrl);
          // flask-cognito-lib fault 16: a scope string is split into scopes, never per character.
          assert.equal(authorize.searchParams.get('scope'), 'openid email');
          assert.equal(authorize.searchParams.get('client_id'), configured.clientId);
          const callback = await login(browser, configured.url, 'alice');
          assert.equal(callback.status, 302);
          assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [...SESSION_COOKIES]);
          assert.match(
            findCookie(callback.setCookies, 'cognito_access_token')!.header,
            /Max-Age=900/,
          );
          const claims = await browser.request(`${configured.url}/claims`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(claims.status, 200);
          assert.equal(JSON.parse(claims.body).claims.username, 'alice');
        } finally {
          await configured.stop();
        }
      });
    });

    describe('@cognito_login → GET /login', () => {
      it('PKCE: a fresh RFC 7636 verifier (43–128 chars) per login, challenge = S256(verifier), state/nonce sealed in the transaction', async () => {
        const sealer = new CookieSealer([SECRET_KEY]);
        const states = new Set<string>();
        for (let i = 0; i < 20; i += 1) {
          const browser = new TestBrowser();
          const started = await beginLogin(browser, app.url);
          const authorize = new URL(started.authorizeUrl);
          assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
          assert.equal(
            started.transactionCookieName,
            `cognito_txn_${await stateId(started.state)}`,
          );
          const sealed = browser.cookie(app.url, started.transactionCookieName)!;
          const transaction = await unsealTransaction(sealer, sealed);
          assert.ok(transaction !== undefined, 'the transaction cookie is sealed with SECRET_KEY');
          // flask-cognito-lib fault 14: its verifier was 35–43 characters, 74% of them too short.
          assert.match(transaction.codeVerifier, /^[A-Za-z0-9._~-]{43,128}$/);
          assert.equal(
            authorize.searchParams.get('code_challenge'),
            createHash('sha256').update(transaction.codeVerifier).digest('base64url'),
          );
          assert.equal(transaction.state, started.state);
          assert.equal(transaction.nonce, authorize.searchParams.get('nonce'));
          assert.equal(transaction.redirectUri, `${app.url}/postlogin`);
          assert.ok(!sealed.includes(started.state), 'the state is not readable in the cookie');
          states.add(started.state);
        }
        assert.equal(states.size, 20, 'every login gets its own state');
      });

      it('scope is sent only when configured; without scopes the login still completes', async () => {
        const browser = new TestBrowser();
        const authorize = new URL((await beginLogin(browser, minimal.url)).authorizeUrl);
        assert.equal(authorize.searchParams.has('scope'), false);
        assert.equal(authorize.searchParams.get('client_id'), minimal.clientId);
        const callback = await login(browser, minimal.url, 'carol');
        assert.equal(callback.status, 302);
        // Refresh flow off: no refresh cookie, even though Cognito returned a refresh token.
        assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
        const claims = await browser.request(`${minimal.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
      });
    });

    describe('@cognito_login_callback → GET /postlogin', () => {
      it('?error=access_denied&error_description=<script>: 400, transaction cleared, no session, description never reflected', async () => {
        for (const headers of [{ accept: 'text/html' }, JSON_ACCEPT]) {
          const browser = new TestBrowser();
          const { state, transactionCookieName } = await beginLogin(browser, app.url);
          const description = '<script>alert("owned")</script>';
          const response = await browser.request(
            `${app.url}/postlogin?${new URLSearchParams({
              error: 'access_denied',
              error_description: description,
              state,
            }).toString()}`,
            { headers },
          );
          assert.equal(response.status, 400);
          assertNoSessionCookies(response.setCookies, '?error');
          assertCleared(response.setCookies, transactionCookieName);
          assert.equal(browser.cookie(app.url, transactionCookieName), undefined);
          assert.doesNotMatch(response.body, /script|owned|access_denied/);
          if (headers === JSON_ACCEPT)
            assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_ERROR_RESPONSE');
          else assert.match(response.body, /Sign in again/);
        }
      });

      it('state is checked against the sealed transaction before any call to Cognito', async () => {
        const browser = new TestBrowser();
        const first = await beginLogin(browser, app.url);
        const second = await beginLogin(new TestBrowser(), app.url);
        // Transaction of login A filed under the cookie name of login B's state.
        const planted = new TestBrowser();
        planted.setCookie(
          app.url,
          second.transactionCookieName,
          browser.cookie(app.url, first.transactionCookieName)!,
        );
        const before = sec.count('/oauth2/token');
        const response = await planted.request(
          `${app.url}/postlogin?code=abc&state=${encodeURIComponent(second.state)}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(response.status, 400);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_STATE_MISMATCH');
        assertNoSessionCookies(response.setCookies, 'state mismatch');
        assertCleared(response.setCookies, second.transactionCookieName);
        assert.equal(sec.count('/oauth2/token'), before, 'no code exchange was attempted');

        const noTransaction = await new TestBrowser().request(
          `${app.url}/postlogin?code=abc&state=${encodeURIComponent(first.state)}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(noTransaction.status, 400);
        assert.equal(JSON.parse(noTransaction.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
        assert.equal(sec.count('/oauth2/token'), before, 'no code exchange was attempted');
      });

      it('the code exchange authenticates a confidential client with HTTP Basic and sends the PKCE verifier', async () => {
        const before = sec.hostile.requests.length;
        const callback = await login(new TestBrowser(), app.url, 'bob');
        assert.equal(callback.status, 302);
        const [exchange] = oauthCallsSince(before).filter((c) => c.path === '/oauth2/token');
        assert.ok(exchange !== undefined, 'one code exchange');
        assert.equal(basicCredentials(exchange)?.clientId, app.clientId);
        assert.equal(exchange.form.has('client_secret'), false, 'the secret is not in the body');
        assert.equal(exchange.form.get('grant_type'), 'authorization_code');
        assert.equal(exchange.form.get('redirect_uri'), `${app.url}/postlogin`);
        assert.match(exchange.form.get('code_verifier') ?? '', /^[A-Za-z0-9._~-]{43,128}$/);
      });

      it('both tokens are verified before any session cookie is set (nonce, at_hash, user, client, key)', async () => {
        const mintId = (claims: Record<string, unknown>, username = 'carol') =>
          sec.emulator.mintToken({ use: 'id', username, clientId: app.clientId, claims });
        const realIdClaims = (json: Record<string, unknown>) =>
          decodeJwt(String(json.id_token)).payload;
        const cases: [string, TokenTamper][] = [
          [
            'ID token with another nonce',
            async (json) => ({
              ...json,
              id_token: await mintId({ ...realIdClaims(json), nonce: 'another-nonce' }),
            }),
          ],
          [
            'ID token without a nonce (flask-cognito-lib fault 19: KeyError → 500)',
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
              access_token: await sec.emulator.mintToken({
                use: 'access',
                username: 'carol',
                clientId: app.clientId,
                claims: { client_id: 'another-client' },
              }),
            }),
          ],
          [
            'access token signed by an unpublished key',
            async (json) => ({
              ...json,
              access_token: await sec.emulator.mintToken({
                use: 'access',
                username: 'carol',
                clientId: app.clientId,
                key: 'unpublished',
              }),
            }),
          ],
        ];
        try {
          // Control: the interceptor alone does not break a login.
          tamperTokens('authorization_code', (json) => Promise.resolve(json));
          const control = await login(new TestBrowser(), app.url, 'carol');
          assert.equal(control.status, 302, 'control login');

          for (const [name, tamper] of cases) {
            const browser = new TestBrowser();
            const callbackUrl = await callbackUrlFor(browser, app.url, 'carol');
            const [transactionCookie] = browser.transactionCookies(app.url);
            tamperTokens('authorization_code', tamper);
            const response = await browser.request(callbackUrl, { headers: JSON_ACCEPT });
            const { error } = JSON.parse(response.body);
            assert.equal(response.status, 400, name);
            assert.equal(error, 'ERR_CALLBACK_REJECTED', name);
            assertNoSessionCookies(response.setCookies, name);
            assertCleared(response.setCookies, transactionCookie!);
            const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
            assert.equal(claims.status, 401, `${name}: not signed in`);
          }
        } finally {
          tamperTokens('authorization_code', undefined);
        }
      });
    });

    describe('@cognito_refresh_callback → POST /refresh', () => {
      it('the new tokens are verified: a refresh answered with a forged access token ends the session (401), sets none', async () => {
        const browser = new TestBrowser();
        await login(browser, app.url, 'bob');
        try {
          tamperTokens('refresh_token', async (json) => ({
            ...json,
            access_token: await sec.emulator.mintToken({
              use: 'access',
              username: 'bob',
              clientId: app.clientId,
              key: 'unpublished',
            }),
          }));
          const response = await browser.request(`${app.url}/refresh`, {
            method: 'POST',
            headers: JSON_ACCEPT,
          });
          assert.equal(response.status, 401);
          assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
          assertNoSessionCookies(response.setCookies, 'refresh with a forged token');
          for (const name of SESSION_COOKIES) assertCleared(response.setCookies, name);
        } finally {
          tamperTokens('refresh_token', undefined);
        }
        assert.equal((await browser.request(`${app.url}/claims`)).status, 401);
      });

      it('the refresh exchange uses HTTP Basic and the decrypted refresh token', async () => {
        const browser = new TestBrowser();
        await login(browser, app.url, 'bob');
        const before = sec.hostile.requests.length;
        const response = await browser.request(`${app.url}/refresh`, { method: 'POST' });
        assert.equal(response.status, 303);
        const [exchange] = oauthCallsSince(before);
        assert.equal(exchange?.path, '/oauth2/token');
        assert.equal(basicCredentials(exchange)?.clientId, app.clientId);
        assert.equal(exchange.form.get('grant_type'), 'refresh_token');
        const sent = exchange.form.get('refresh_token') ?? '';
        assert.ok(sent !== '' && sent !== browser.cookie(app.url, 'cognito_refresh_token'));
        assert.deepEqual(sessionCookiesSet(response.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
      });

      it('with the refresh flow disabled, POST /refresh is 404 and changes no cookie', async () => {
        const browser = new TestBrowser();
        await login(browser, minimal.url, 'bob');
        const response = await browser.request(`${minimal.url}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(response.status, 404);
        assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_DISABLED');
        assert.deepEqual(response.setCookies, []);
        assert.equal((await browser.request(`${minimal.url}/claims`)).status, 200);
      });
    });

    describe('@cognito_logout → GET /logout', () => {
      it('clears every cookie it set with the same Path and Domain, including pending transactions', async () => {
        const browser = new TestBrowser();
        const callback = await login(browser, attributes.url, 'alice');
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
            'SameSite=Strict',
            `Max-Age=${maxAge}`,
          ])
            assert.ok(header.includes(attribute), `${name}: ${attribute}`);
        }
        // Unencrypted refresh cookie (AWS_COGNITO_REFRESH_COOKIE_ENCRYPTED=false) still refreshes.
        assert.ok(
          browser.cookie(attributes.url, 'cognito_refresh_token')!.startsWith(REFRESH_TOKEN_PREFIX),
          'the refresh cookie holds the raw Cognito refresh token',
        );
        const refreshed = await browser.request(`${attributes.url}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);

        // A pending login: its transaction cookie carries no Domain and stays SameSite=Lax.
        const pending = await beginLogin(browser, attributes.url);
        assert.doesNotMatch(pending.transactionCookie, /Domain=/);
        assert.match(pending.transactionCookie, /SameSite=Lax/);

        const logout = await browser.request(`${attributes.url}/logout`, { headers: SAME_ORIGIN });
        assert.equal(logout.status, 302);
        for (const name of SESSION_COOKIES) {
          const header = assertCleared(logout.setCookies, name);
          for (const attribute of ['Domain=app.example', 'Path=/', 'HttpOnly'])
            assert.ok(header.includes(attribute), `${name} deletion: ${attribute}`);
        }
        const txnDeletion = assertCleared(logout.setCookies, pending.transactionCookieName);
        assert.match(txnDeletion, /Path=\//);
        assert.doesNotMatch(txnDeletion, /Domain=/);
        assert.deepEqual(
          [...browser.cookiesFor(attributes.url).keys()].filter((n) =>
            /cognito_(?!emulator)/.test(n),
          ),
          [],
          'the browser holds no cognito-guard cookie',
        );
      });

      it('revokes with client authentication; with the refresh flow off there is nothing to revoke', async () => {
        const browser = new TestBrowser();
        await login(browser, app.url, 'carol');
        const before = sec.hostile.requests.length;
        const logout = await browser.request(`${app.url}/logout`, { headers: SAME_ORIGIN });
        assert.equal(logout.status, 302);
        const [revoke] = oauthCallsSince(before);
        assert.equal(revoke?.path, '/oauth2/revoke');
        assert.equal(basicCredentials(revoke)?.clientId, app.clientId);
        assert.ok((revoke.form.get('token') ?? '') !== '');

        const minimalBrowser = new TestBrowser();
        await login(minimalBrowser, minimal.url, 'carol');
        const minimalBefore = sec.hostile.requests.length;
        const minimalLogout = await minimalBrowser.request(`${minimal.url}/logout`, {
          headers: SAME_ORIGIN,
        });
        assert.equal(minimalLogout.status, 302);
        assert.deepEqual(oauthCallsSince(minimalBefore), [], 'no revoke call');
        assertCleared(minimalLogout.setCookies, 'cognito_access_token');
        const location = new URL(minimalLogout.location!);
        assert.equal(location.searchParams.get('client_id'), minimal.clientId);
      });
    });

    describe('@auth_required(groups, any_group) → the group routes', () => {
      it('a token without cognito:groups fails a group check with 403 (any or all), not 401', async () => {
        const carol = new TestBrowser();
        await login(carol, app.url, 'carol');
        const claims = await carol.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal('cognito:groups' in JSON.parse(claims.body).claims, false);
        for (const path of ['/admin', '/edit']) {
          const response = await carol.request(`${app.url}${path}`, { headers: JSON_ACCEPT });
          assert.equal(response.status, 403, path);
          assert.equal(JSON.parse(response.body).error, 'ERR_GROUP_REQUIRED');
          assert.equal(response.headers.get('www-authenticate'), null);
        }
      });
    });

    describe('session["claims"] / session["user_info"] → the claims the app sees', () => {
      it('claims come from the verified access token and user info from the verified ID token of the same login', async () => {
        const browser = new TestBrowser();
        await login(browser, app.url, 'dave');
        const response = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(response.status, 200);
        const body = JSON.parse(response.body);
        const access = decodeJwt(browser.cookie(app.url, 'cognito_access_token')!).payload;
        const id = decodeJwt(browser.cookie(app.url, 'cognito_id_token')!).payload;
        assert.deepEqual(body.claims, access);
        assert.deepEqual(body.user_info, id);
        assert.equal(body.claims.client_id, app.clientId);
        assert.equal(body.user_info.aud, app.clientId);
        assert.equal(body.user_info.sub, body.claims.sub);
        assert.deepEqual(body.claims['cognito:groups'], ['admin', 'editor']);
      });
    });
  });
}
