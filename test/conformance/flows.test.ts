/**
 * The main flows, over real HTTP against the emulator, on every adapter's example app: sign-in
 * with PKCE, state and nonce, claims, groups, Bearer tokens, refresh, logout, and the callback
 * that works once. Each fails if its protection is removed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { assertNoSessionCookies, SESSION_COOKIES } from '../support/cookies.js';
import { decodeJwt } from '../support/jwt.js';
import { callbackUrlFor, login } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`sign-in, groups, refresh and logout (${adapter.name})`, () => {
    let emulator: EmulatorHandle;
    let app: ConformanceApp;
    let appUrl: string;
    before(async () => {
      emulator = await startEmulator({ port: 0 });
      app = await startConformanceApp(adapter, emulator);
      appUrl = app.url;
    });
    after(async () => {
      await app.stop();
      await emulator.stop();
    });
    it('login redirects to /oauth2/authorize with code, PKCE S256, state, nonce and scope', async () => {
      const browser = new TestBrowser();
      const response = await browser.request(`${appUrl}/login`);
      assert.equal(response.status, 302);
      const url = new URL(response.location!);
      assert.equal(`${url.origin}${url.pathname}`, `${emulator.domain}/oauth2/authorize`);
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), app.clientId);
      assert.equal(q.get('redirect_uri'), `${appUrl}/postlogin`);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((q.get('state') ?? '').length >= 43);
      assert.ok((q.get('nonce') ?? '').length >= 43);
      assert.equal(q.get('scope'), 'openid email profile');
      const txn = response.setCookies.find((c) => c.startsWith('cognito_txn_'));
      assert.ok(txn, 'a transaction cookie is set');
      for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Max-Age=600', 'Path=/'])
        assert.ok(txn.includes(attribute), attribute);
      assert.ok(!txn.includes(q.get('state')!), 'state is not stored in clear');
    });

    it('a full login as alice: cookies set, /claims shows verified claims and user info', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, appUrl, 'alice');
      assert.equal(callback.status, 302);
      assert.equal(callback.location, `${appUrl}/claims`);
      assert.equal(callback.headers.get('referrer-policy'), 'no-referrer');
      const names = callback.setCookies.map((c) => c.split('=')[0]);
      assert.ok(names.includes('cognito_access_token'));
      assert.ok(names.includes('cognito_id_token'));
      assert.ok(names.includes('cognito_refresh_token'));
      for (const cookie of callback.setCookies.filter((c) => c.startsWith('cognito_'))) {
        assert.match(cookie, /HttpOnly/);
        assert.match(cookie, /SameSite=Lax/);
      }
      const refreshCookie = browser.cookie(appUrl, 'cognito_refresh_token')!;
      assert.equal(refreshCookie.split('.').length, 5, 'the refresh cookie is a JWE');
      assert.ok(!refreshCookie.startsWith('eyJjdHkiOiJKV1Qi'), 'not the raw Cognito refresh token');

      const claims = await browser.request(`${appUrl}/claims`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(claims.status, 200);
      const body = JSON.parse(claims.body) as {
        claims: Record<string, unknown>;
        user_info: Record<string, unknown>;
      };
      assert.equal(body.claims.username, 'alice');
      assert.equal(body.claims.token_use, 'access');
      assert.deepEqual(body.claims['cognito:groups'], ['admin']);
      assert.equal(body.user_info['cognito:username'], 'alice');
      assert.equal(body.user_info.token_use, 'id');
      assert.equal(body.user_info.email, 'alice@example.com');
    });

    it('returnTo: a same-origin path is honoured, an off-origin one is ignored', async () => {
      const browser = new TestBrowser();
      const path = `/login?returnTo=${encodeURIComponent('/edit?x=1')}`;
      const callback = await browser.request(await callbackUrlFor(browser, appUrl, 'bob', path));
      assert.equal(callback.location, `${appUrl}/edit?x=1`);

      const evil = new TestBrowser();
      const evilPath = `/login?returnTo=${encodeURIComponent('//evil.example/x')}`;
      const callback2 = await evil.request(await callbackUrlFor(evil, appUrl, 'bob', evilPath));
      assert.equal(callback2.location, `${appUrl}/claims`);
    });

    it('groups: alice (admin) passes /admin and /edit; bob (editor) passes /edit only; carol (none) neither', async () => {
      const expectations: Record<string, [number, number]> = {
        alice: [200, 200],
        bob: [403, 200],
        carol: [403, 403],
      };
      for (const [user, [admin, edit]] of Object.entries(expectations)) {
        const browser = new TestBrowser();
        await login(browser, appUrl, user);
        const adminResponse = await browser.request(`${appUrl}/admin`, {
          headers: JSON_ACCEPT,
        });
        assert.equal(adminResponse.status, admin, `${user} /admin`);
        const editResponse = await browser.request(`${appUrl}/edit`, {
          headers: JSON_ACCEPT,
        });
        assert.equal(editResponse.status, edit, `${user} /edit`);
        if (admin === 403) {
          assert.deepEqual(JSON.parse(adminResponse.body), {
            error: 'ERR_GROUP_REQUIRED',
            message: 'Cognito group membership is required to access this resource.',
          });
        }
      }
    });

    it('regression (flask-cognito-lib fault 4): a request without a session is 401 with WWW-Authenticate, not 403', async () => {
      const response = await new TestBrowser().request(`${appUrl}/claims`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="cognito-guard"');
      assert.equal(JSON.parse(response.body).error, 'ERR_AUTHENTICATION_REQUIRED');
    });

    it('a Bearer access token in the Authorization header authenticates API callers', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      const token = browser.cookie(appUrl, 'cognito_access_token')!;
      const response = await fetch(`${appUrl}/admin`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), ['admin']);
    });

    it('refresh: POST /refresh exchanges the encrypted refresh token and re-sets the cookies', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const before = browser.cookie(appUrl, 'cognito_access_token')!;
      const response = await browser.request(`${appUrl}/refresh`, {
        method: 'POST',
        headers: { origin: appUrl },
      });
      assert.equal(response.status, 303);
      assert.equal(response.location, `${appUrl}/claims`);
      const after = browser.cookie(appUrl, 'cognito_access_token')!;
      assert.notEqual(after, before);
      assert.equal(decodeJwt(after).payload.origin_jti, decodeJwt(before).payload.origin_jti);
      assert.ok(
        !response.setCookies.some((c) => c.startsWith('cognito_refresh_token=')),
        'no rotation: refresh cookie kept',
      );
      const claims = await browser.request(`${appUrl}/claims`);
      assert.equal(claims.status, 200);
    });

    it('refresh without a refresh cookie is 401; a cross-site refresh is 403', async () => {
      const anonymous = await new TestBrowser().request(`${appUrl}/refresh`, {
        method: 'POST',
        headers: JSON_ACCEPT,
      });
      assert.equal(anonymous.status, 401);
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const crossSite = await browser.request(`${appUrl}/refresh`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', accept: 'application/json' },
      });
      assert.equal(crossSite.status, 403);
      assert.equal(JSON.parse(crossSite.body).error, 'ERR_CROSS_SITE_REQUEST');
      assert.equal(crossSite.setCookies.length, 0);
    });

    it('refresh from a sibling subdomain (Sec-Fetch-Site: same-site) is 403 and changes nothing', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const refreshCookie = browser.cookie(appUrl, 'cognito_refresh_token');
      // Sec-Fetch-Site decides when present: an Origin that looks like ours does not override it.
      for (const headers of [
        { 'sec-fetch-site': 'same-site' },
        { 'sec-fetch-site': 'same-site', origin: appUrl },
      ]) {
        const refused = await browser.request(`${appUrl}/refresh`, {
          method: 'POST',
          headers: { ...headers, accept: 'application/json' },
        });
        assert.equal(refused.status, 403, JSON.stringify(headers));
        assert.equal(JSON.parse(refused.body).error, 'ERR_CROSS_SITE_REQUEST');
        assert.deepEqual(refused.setCookies, []);
      }
      assert.equal(browser.cookie(appUrl, 'cognito_refresh_token'), refreshCookie);
      // Control: the same refresh from the app's own page works.
      const own = await browser.request(`${appUrl}/refresh`, {
        method: 'POST',
        headers: { 'sec-fetch-site': 'same-origin', origin: appUrl },
      });
      assert.equal(own.status, 303);
      assert.ok(own.setCookies.some((c) => c.startsWith('cognito_access_token=')));
    });

    it('logout clears every cookie, revokes the refresh token and redirects to Cognito /logout', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      const refreshCookie = browser.cookie(appUrl, 'cognito_refresh_token')!;
      const response = await browser.request(`${appUrl}/logout`, {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(response.status, 302);
      const location = new URL(response.location!);
      assert.equal(`${location.origin}${location.pathname}`, `${emulator.domain}/logout`);
      assert.equal(location.searchParams.get('client_id'), app.clientId);
      assert.equal(location.searchParams.get('logout_uri'), `${appUrl}/postlogout`);
      for (const name of SESSION_COOKIES) {
        const cleared = response.setCookies.find((c) => c.startsWith(`${name}=;`));
        assert.ok(cleared, `${name} cleared`);
        assert.match(cleared, /Max-Age=0/);
        assert.match(cleared, /Path=\//);
      }
      assert.equal(browser.cookie(appUrl, 'cognito_access_token'), undefined);
      assert.equal((await browser.request(`${appUrl}/claims`)).status, 401);
      // The revoked refresh token no longer works at Cognito.
      const replay = new TestBrowser();
      replay.setCookie(appUrl, 'cognito_refresh_token', refreshCookie);
      const refused = await replay.request(`${appUrl}/refresh`, {
        method: 'POST',
        headers: JSON_ACCEPT,
      });
      assert.equal(refused.status, 401);
      assert.equal(JSON.parse(refused.body).error, 'ERR_REFRESH_REJECTED', 'refused by Cognito');
      // Cognito's logout lands back on /postlogout, which goes home.
      const landed = await browser.follow(response.location!, {
        stopAt: (url) => url.startsWith(appUrl),
      });
      assert.equal(landed.location, `${appUrl}/postlogout`);
    });

    it("B2 and flask-cognito-lib's reusable state: a callback URL signs in once, a second visit is 400 with no session", async () => {
      const browser = new TestBrowser();
      const callbackUrl = await callbackUrlFor(browser, appUrl, 'carol');
      const first = await browser.request(callbackUrl);
      assert.equal(first.status, 302);
      const second = await browser.request(callbackUrl, { headers: { accept: 'text/html' } });
      assert.equal(second.status, 400);
      assert.match(second.body, /Sign in again/);
      assertNoSessionCookies(second.setCookies, 'the second visit');
    });
  });
}
