/**
 * Regression tests named after flask-cognito-lib's faults (numbered as in our review of it), over
 * real HTTP against the emulator, on every adapter's example app. Each would fail if the fault
 * came back; each negative case has a positive control minted or logged in the same way.
 *
 * Faults pinned elsewhere are not repeated here: 4 (401 vs 403) and "state reusable" in
 * flows.test.ts; 14, 19 in flask-cognito-lib-table.test.ts; 27 and 29 (a route an Express app
 * declares itself) in test/express/flask-cognito-lib.test.ts; the operator's log of fault 9 and
 * the startup refusal of fault 16 in in-process.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type MintTokenOptions } from '../../src/emulator/index.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import {
  assertCleared,
  assertNoSessionCookies,
  findCookie,
  SESSION_COOKIES,
  sessionCookiesSet,
} from '../support/cookies.js';
import { startRecordingEmulator } from '../support/pool.js';
import { login } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`flask-cognito-lib faults (${adapter.name})`, () => {
    /** The example app behind the recording hostile domain. */
    let sec: ConformanceStack;
    let app: ConformanceApp;

    /** Sends `cookies` (name → value) to `path` of the main app and returns its answer. */
    const withCookies = async (
      path: string,
      cookies: Record<string, string>,
      headers: Record<string, string> = JSON_ACCEPT,
    ) => {
      const browser = new TestBrowser();
      for (const [name, value] of Object.entries(cookies)) browser.setCookie(app.url, name, value);
      return browser.request(`${app.url}${path}`, { headers });
    };
    const mint = (options: Omit<MintTokenOptions, 'clientId'>) =>
      sec.emulator.mintToken({ username: 'alice', clientId: app.clientId, ...options });

    before(async () => {
      sec = await startConformanceStack(adapter);
      app = sec.app;
    });
    after(async () => {
      await sec.stop();
    });

    it('flask-cognito-lib fault 1 (JWKS fetched on every request): many protected requests, one JWKS download', async () => {
      const counted = await startRecordingEmulator();
      const own = await startConformanceApp(adapter, counted.emulator);
      try {
        const browsers = [];
        // /edit needs group admin or editor: alice (admin) and bob (editor) in, carol (none) out.
        const editStatus: Record<string, number> = { alice: 200, bob: 200, carol: 403 };
        for (const user of ['alice', 'bob', 'carol']) {
          const browser = new TestBrowser();
          assert.equal((await login(browser, own.url, user)).status, 302);
          browsers.push({ user, browser });
        }
        for (let round = 0; round < 5; round += 1) {
          for (const { user, browser } of browsers) {
            const claims = await browser.request(`${own.url}/claims`, { headers: JSON_ACCEPT });
            assert.equal(claims.status, 200);
            const token = browser.cookie(own.url, 'cognito_access_token')!;
            const bearer = await fetch(`${own.url}/edit`, {
              headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
            });
            assert.equal(bearer.status, editStatus[user], `${user} on /edit`);
            if (bearer.status === 403) {
              assert.equal(
                ((await bearer.json()) as { error: string }).error,
                'ERR_GROUP_REQUIRED',
              );
            } else {
              await bearer.body?.cancel();
            }
          }
        }
        // Three logins and refreshes verify new tokens too; still no second download.
        const refreshed = await browsers[0]!.browser.request(`${own.url}/refresh`, {
          method: 'POST',
        });
        assert.equal(refreshed.status, 303);
        assert.equal(counted.jwksFetches(), 1, 'the JWKS is fetched once and cached');
      } finally {
        await own.stop();
        await counted.emulator.stop();
      }
    });

    it('flask-cognito-lib fault 2 (tokens without exp accepted): an access or ID token without exp/iat is a 401', async () => {
      const control = await mint({ use: 'access' });
      assert.equal((await withCookies('/claims', { cognito_access_token: control })).status, 200);
      for (const claim of ['exp', 'iat']) {
        const token = await mint({ use: 'access', omit: [claim] });
        const response = await withCookies('/claims', { cognito_access_token: token });
        assert.equal(response.status, 401, `access token without ${claim}`);
        assert.equal(JSON.parse(response.body).error, 'ERR_TOKEN_INVALID');
        assert.equal(
          response.headers.get('www-authenticate'),
          'Bearer realm="cognito-guard", error="invalid_token"',
        );
        const idToken = await mint({ use: 'id', omit: [claim] });
        const withId = await withCookies('/claims', {
          cognito_access_token: control,
          cognito_id_token: idToken,
        });
        assert.equal(withId.status, 401, `ID token without ${claim}`);
        assert.equal(JSON.parse(withId.body).error, 'ERR_TOKEN_INVALID');
      }
    });

    it('flask-cognito-lib fault 3 (500 on unknown kid): a token with an unknown, missing or junk kid is a 401', async () => {
      const tokens = [
        await mint({ use: 'access', key: 'unpublished' }),
        await mint({ use: 'access', header: { kid: 'no-such-key' } }),
        await mint({ use: 'access', header: { kid: undefined } }),
      ];
      for (const token of tokens) {
        for (const headers of [JSON_ACCEPT, { accept: 'text/html' }]) {
          const response = await withCookies('/claims', { cognito_access_token: token }, headers);
          assert.equal(response.status, 401);
          assert.doesNotMatch(response.body, /Error:|\bat \w/);
        }
        const bearer = await fetch(`${app.url}/claims`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(bearer.status, 401);
        assert.equal(((await bearer.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      }
      // The app still serves genuine tokens afterwards.
      const control = await mint({ use: 'access' });
      assert.equal((await withCookies('/claims', { cognito_access_token: control })).status, 200);
    });

    it('flask-cognito-lib fault 5 (token_use unchecked): an ID token in the access cookie (or as Bearer) is a 401', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'carol');
      const idToken = browser.cookie(app.url, 'cognito_id_token')!;
      const accessToken = browser.cookie(app.url, 'cognito_access_token')!;
      assert.equal((await browser.request(`${app.url}/claims`)).status, 200, 'control');

      const swapped = await withCookies('/claims', { cognito_access_token: idToken });
      assert.equal(swapped.status, 401);
      assert.equal(JSON.parse(swapped.body).error, 'ERR_TOKEN_INVALID');
      const bearer = await fetch(`${app.url}/claims`, {
        headers: { authorization: `Bearer ${idToken}` },
      });
      assert.equal(bearer.status, 401);
      assert.equal(((await bearer.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      const both = await withCookies('/claims', {
        cognito_access_token: idToken,
        cognito_id_token: accessToken,
      });
      assert.equal(both.status, 401);
      assert.equal(JSON.parse(both.body).error, 'ERR_TOKEN_INVALID');
      // An access token claiming to be an ID token, with client_id intact, is refused too.
      const relabelled = await mint({ use: 'access', claims: { token_use: 'id' } });
      assert.equal(
        (await withCookies('/claims', { cognito_access_token: relabelled })).status,
        401,
      );
    });

    it('flask-cognito-lib faults 6 and 24 (ID-token cookie never verified; auth split across cookies): a forged, expired or foreign ID cookie is a 401', async () => {
      const alice = new TestBrowser();
      await login(alice, app.url, 'alice');
      const bob = new TestBrowser();
      await login(bob, app.url, 'bob');
      const aliceAccess = alice.cookie(app.url, 'cognito_access_token')!;
      const aliceId = alice.cookie(app.url, 'cognito_id_token')!;
      const control = await withCookies('/claims', {
        cognito_access_token: aliceAccess,
        cognito_id_token: aliceId,
      });
      assert.equal(control.status, 200);

      const nowSeconds = Math.floor(Date.now() / 1000);
      const forged = {
        'signed by an unpublished key': await mint({ use: 'id', key: 'unpublished' }),
        expired: await mint({
          use: 'id',
          claims: { iat: nowSeconds - 7200, exp: nowSeconds - 3600 },
        }),
        "bob's": bob.cookie(app.url, 'cognito_id_token')!,
        'for another client': await mint({ use: 'id', claims: { aud: 'another-client' } }),
      };
      for (const [name, idToken] of Object.entries(forged)) {
        const response = await withCookies('/claims', {
          cognito_access_token: aliceAccess,
          cognito_id_token: idToken,
        });
        assert.equal(response.status, 401, `${name} ID token`);
        assert.equal(JSON.parse(response.body).error, 'ERR_TOKEN_INVALID');
      }
    });

    it('flask-cognito-lib fault 12 (unescaped URL parameters): client_id and a logout URL with & ? + % arrive intact', async () => {
      const escapingLogoutPath = '/postlogout?next=/a/b&tab=x+y%20z';
      const escaping = await sec.startApp({
        env: (appUrl) => ({
          AWS_COGNITO_USER_POOL_CLIENT_ID: 'escape+client',
          AWS_COGNITO_LOGOUT_URL: `${appUrl}${escapingLogoutPath}`,
        }),
        client: (appUrl) => ({ logoutUrls: [`${appUrl}${escapingLogoutPath}`] }),
      });
      const logoutUrl = `${escaping.url}${escapingLogoutPath}`;
      try {
        const browser = new TestBrowser();
        const start = await browser.request(`${escaping.url}/login`);
        const authorize = new URL(start.location!);
        // Unescaped, `+` would arrive as a space and Cognito would not know the client.
        assert.equal(authorize.searchParams.get('client_id'), 'escape+client');
        const callback = await login(browser, escaping.url, 'bob');
        assert.equal(callback.status, 302, 'the login completes with the escaped client id');

        const logout = await browser.request(`${escaping.url}/logout`, {
          headers: { 'sec-fetch-site': 'same-origin' },
        });
        assert.equal(logout.status, 302);
        const location = new URL(logout.location!);
        assert.deepEqual([...location.searchParams.keys()].sort(), ['client_id', 'logout_uri']);
        assert.equal(location.searchParams.get('client_id'), 'escape+client');
        assert.equal(location.searchParams.get('logout_uri'), logoutUrl);
        // Cognito matches the logout URL exactly and sends the browser back to it.
        const landed = await browser.request(logout.location!);
        assert.equal(landed.status, 302);
        assert.equal(landed.location, logoutUrl);
      } finally {
        await escaping.stop();
      }
    });

    it('flask-cognito-lib fault 16 (truthy-string booleans): AWS_COGNITO_DISABLED=False/0 still protects; only true/1 bypass', async () => {
      for (const value of ['False', 'false', '0']) {
        const disabledOff = await sec.startApp({ env: { AWS_COGNITO_DISABLED: value } });
        try {
          for (const path of ['/claims', '/admin']) {
            const response = await new TestBrowser().request(`${disabledOff.url}${path}`, {
              headers: JSON_ACCEPT,
            });
            assert.equal(response.status, 401, `DISABLED=${value} ${path}`);
            assert.equal(JSON.parse(response.body).error, 'ERR_AUTHENTICATION_REQUIRED');
          }
        } finally {
          await disabledOff.stop();
        }
      }
      for (const value of ['true', 'TRUE', '1']) {
        const disabled = await sec.startApp({ env: { AWS_COGNITO_DISABLED: value } });
        try {
          const claims = await new TestBrowser().request(`${disabled.url}/claims`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(claims.status, 200, `DISABLED=${value}`);
          assert.deepEqual(JSON.parse(claims.body), {}, 'no identity when disabled');
          const admin = await new TestBrowser().request(`${disabled.url}/admin`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(admin.status, 200);
        } finally {
          await disabled.stop();
        }
      }
    });

    it('flask-cognito-lib fault 16 (truthy-string booleans): AWS_COGNITO_REFRESH_FLOW_ENABLED=False stores no refresh token', async () => {
      const noRefresh = await sec.startApp({ env: { AWS_COGNITO_REFRESH_FLOW_ENABLED: 'False' } });
      try {
        const browser = new TestBrowser();
        const callback = await login(browser, noRefresh.url, 'alice');
        assert.equal(callback.status, 302);
        assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
        const refresh = await browser.request(`${noRefresh.url}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(refresh.status, 404);
      } finally {
        await noRefresh.stop();
      }
    });

    it('flask-cognito-lib fault 9 (logout failing on revoke errors): a failing revoke still logs out (302, cookies cleared)', async () => {
      const faults = [
        { status: 500, body: '<html>Internal error</html>', contentType: 'text/html' },
        { status: 400, body: '{"error":"invalid_request"}', contentType: 'application/json' },
        { status: 503 },
      ];
      try {
        for (const fault of faults) {
          const browser = new TestBrowser();
          await login(browser, app.url, 'alice');
          sec.emulator.setFault('revoke', fault);
          const revokesBefore = sec.count('/oauth2/revoke');
          const response = await browser.request(`${app.url}/logout`, {
            headers: { 'sec-fetch-site': 'same-origin' },
          });
          sec.emulator.setFault('revoke', null);
          assert.equal(response.status, 302, `revoke ${fault.status}`);
          assert.equal(new URL(response.location!).pathname, '/logout');
          for (const name of SESSION_COOKIES) assertCleared(response.setCookies, name);
          assert.equal((await browser.request(`${app.url}/claims`)).status, 401);
          assert.equal(sec.count('/oauth2/revoke') - revokesBefore, 1, 'the revoke was attempted');
        }
      } finally {
        sec.emulator.setFault('revoke', null);
      }
    });

    it('flask-cognito-lib fault 9 (logout failing on decrypt errors): an unreadable refresh cookie still logs out, with no revoke call', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      // As after a SECRET_KEY change, or a tampered cookie.
      browser.setCookie(app.url, 'cognito_refresh_token', 'not-a-sealed-value');
      const revokesBefore = sec.count('/oauth2/revoke');
      const response = await browser.request(`${app.url}/logout`, {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(response.status, 302);
      assertCleared(response.setCookies, 'cognito_refresh_token');
      assertCleared(response.setCookies, 'cognito_access_token');
      assert.equal(sec.count('/oauth2/revoke'), revokesBefore, 'nothing to revoke');
    });

    it('flask-cognito-lib fault 10 (public-client revoke without client_id) and a public client end to end: login, refresh, logout', async () => {
      const publicApp = await sec.startApp({ env: { AWS_COGNITO_USER_POOL_CLIENT_SECRET: '' } });
      try {
        const browser = new TestBrowser();
        const callsBefore = sec.hostile.requests.length;
        const callback = await login(browser, publicApp.url, 'bob');
        assert.equal(callback.status, 302);
        const claims = await browser.request(`${publicApp.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
        assert.equal(JSON.parse(claims.body).claims.client_id, publicApp.clientId);

        const refreshed = await browser.request(`${publicApp.url}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);
        const refreshCookie = browser.cookie(publicApp.url, 'cognito_refresh_token')!;
        const logout = await browser.request(`${publicApp.url}/logout`, {
          headers: { 'sec-fetch-site': 'same-origin' },
        });
        assert.equal(logout.status, 302);
        assertCleared(logout.setCookies, 'cognito_refresh_token');

        const calls = sec.hostile.requests
          .slice(callsBefore)
          .filter((c) => c.path === '/oauth2/token' || c.path === '/oauth2/revoke');
        assert.deepEqual(
          calls.map((c) => [c.path, c.form.get('grant_type')]),
          [
            ['/oauth2/token', 'authorization_code'],
            ['/oauth2/token', 'refresh_token'],
            ['/oauth2/revoke', null],
          ],
        );
        for (const call of calls) {
          assert.equal(call.headers.authorization, undefined, `${call.path}: no Authorization`);
          assert.equal(call.form.get('client_id'), publicApp.clientId, `${call.path}: client_id`);
          assert.equal(call.form.has('client_secret'), false);
        }
        // The revoke worked: the old refresh cookie no longer refreshes.
        const replay = new TestBrowser();
        replay.setCookie(publicApp.url, 'cognito_refresh_token', refreshCookie);
        const refused = await replay.request(`${publicApp.url}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(refused.status, 401);
        assert.equal(JSON.parse(refused.body).error, 'ERR_REFRESH_REJECTED');
        assertNoSessionCookies(refused.setCookies, 'refresh after revoke');
      } finally {
        await publicApp.stop();
      }
    });

    it('flask-cognito-lib fault 8 (rotated refresh token dropped): the rotated token is stored; the old one fails, the new one works', async () => {
      const rotating = await sec.startApp({
        client: { refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 } },
      });
      try {
        const browser = new TestBrowser();
        await login(browser, rotating.url, 'carol');
        const original = browser.cookie(rotating.url, 'cognito_refresh_token')!;
        const first = await browser.request(`${rotating.url}/refresh`, { method: 'POST' });
        assert.equal(first.status, 303);
        const rotated = findCookie(first.setCookies, 'cognito_refresh_token');
        assert.ok(rotated !== undefined && rotated.value !== '', 'the rotated token is stored');
        assert.ok(rotated.value !== original, 'a new refresh cookie');
        assert.match(rotated.header, /HttpOnly/);
        assert.match(rotated.header, /Max-Age=86400/);

        const stale = new TestBrowser();
        stale.setCookie(rotating.url, 'cognito_refresh_token', original);
        const refused = await stale.request(`${rotating.url}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(refused.status, 401, 'the rotated-out token is refused');
        assert.equal(JSON.parse(refused.body).error, 'ERR_REFRESH_REJECTED');
        assertNoSessionCookies(refused.setCookies, 'stale refresh token');

        const again = await browser.request(`${rotating.url}/refresh`, { method: 'POST' });
        assert.equal(again.status, 303, 'the stored rotated token works');
        assert.equal((await browser.request(`${rotating.url}/claims`)).status, 200);
      } finally {
        await rotating.stop();
      }
    });

    it('flask-cognito-lib fault 15 (Secure hard-coded): plain-http loopback development works without Secure', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, app.url, 'carol');
      for (const name of SESSION_COOKIES) {
        const header = findCookie(callback.setCookies, name)!.header;
        assert.doesNotMatch(header, /Secure/, name);
        assert.match(header, /HttpOnly/, name);
      }
    });
  });
}
