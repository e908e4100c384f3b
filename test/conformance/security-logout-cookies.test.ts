/**
 * Security cases B52–B59 (logout, cookies) against every adapter's example app: what every
 * Set-Cookie says, what a cross-site page can and cannot make the app do, and what the browser
 * ends up holding.
 *
 * What needs an in-process app is in in-process.test.ts: B53 with a hanging revocation (a
 * timeout), B55 and SameSite=None (Secure cookies on a plain-http loopback app), B58's and B60's
 * checks of the operator's log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from '../../src/emulator/index.js';
import { ADAPTERS } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, type BrowserResponse, JSON_ACCEPT, SAME_ORIGIN } from '../support/browser.js';
import { findCookie, sessionCookiesSet, SESSION_COOKIES } from '../support/cookies.js';
import { SECRET_KEY } from '../support/pool.js';
import { beginLogin, login, signInAt } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`logout and cookies (B52–B59) (${adapter.name})`, () => {
    let sec: ConformanceStack;
    let appUrl: string;

    before(async () => {
      sec = await startConformanceStack(adapter);
      appUrl = sec.app.url;
    });
    after(async () => {
      await sec.stop();
    });

    const claimsStatus = async (browser: TestBrowser, url = appUrl) =>
      (await browser.request(`${url}/claims`, { headers: JSON_ACCEPT })).status;
    const revokes = () => sec.hostile.requests.filter((r) => r.path === '/oauth2/revoke').length;

    it('B52 logout CSRF: a cross-site GET gets a confirmation page, a cross-site POST is 403, and neither signs the user out', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      const revokesBefore = revokes();

      for (const headers of [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'https://evil.example' },
      ]) {
        const page = await browser.request(`${appUrl}/logout`, { headers });
        assert.equal(page.status, 200, JSON.stringify(headers));
        assert.match(page.body, /<form method="post" action="\/logout">/);
        assert.deepEqual(page.setCookies, []);
        assert.equal(page.location, undefined);
      }
      for (const headers of [
        { origin: 'https://evil.example', ...JSON_ACCEPT },
        { 'sec-fetch-site': 'cross-site', ...JSON_ACCEPT },
        { origin: 'null', ...JSON_ACCEPT },
      ]) {
        const forged = await browser.request(`${appUrl}/logout`, { method: 'POST', headers });
        assert.equal(forged.status, 403, JSON.stringify(headers));
        assert.equal(JSON.parse(forged.body).error, 'ERR_CROSS_SITE_REQUEST');
        assert.deepEqual(forged.setCookies, []);
      }
      assert.equal(revokes(), revokesBefore, 'nothing was revoked');
      assert.equal(await claimsStatus(browser), 200, 'still signed in');

      // The confirmation form, submitted from our own page, signs out.
      const confirmed = await browser.request(`${appUrl}/logout`, {
        method: 'POST',
        headers: { origin: appUrl, ...SAME_ORIGIN },
      });
      assert.equal(confirmed.status, 200, 'a page that continues to Cognito logout');
      assert.match(
        confirmed.body,
        /<meta http-equiv="refresh" content="0;url=http:\/\/127\.0\.0\.1:\d+\/logout\?/,
      );
      assert.equal(revokes(), revokesBefore + 1);
      assert.equal(await claimsStatus(browser), 401);
    });

    it('B52 a same-origin GET /logout (the home page link) signs out directly', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const response = await browser.request(`${appUrl}/logout`, { headers: SAME_ORIGIN });
      assert.equal(response.status, 302);
      assert.equal(await claimsStatus(browser), 401);
    });

    it('B53 logout is complete: refresh token revoked, every cookie cleared with the same Domain/Path/SameSite, Cognito session ended', async () => {
      const app = await sec.startApp({ env: { AWS_COGNITO_COOKIE_DOMAIN: 'example.test' } });
      try {
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, 'alice');
        for (const name of SESSION_COOKIES) {
          assert.match(
            findCookie(callback.setCookies, name)?.header ?? '',
            /Domain=example\.test/,
            name,
          );
        }
        await beginLogin(browser, app.url); // a pending transaction is cleared too
        const pending = browser.transactionCookies(app.url);
        assert.equal(pending.length, 1);
        const revokesBefore = revokes();

        const out = await browser.request(`${app.url}/logout`, { headers: SAME_ORIGIN });
        assert.equal(out.status, 302);
        assert.equal(revokes(), revokesBefore + 1);
        for (const name of SESSION_COOKIES) {
          const cleared = findCookie(out.setCookies, name)?.header;
          assert.ok(cleared, `${name} cleared`);
          for (const attribute of [
            'Max-Age=0',
            'Domain=example.test',
            'Path=/',
            'HttpOnly',
            'SameSite=Lax',
          ]) {
            assert.ok(cleared.includes(attribute), `${name}: ${attribute}`);
          }
        }
        const txnCleared = findCookie(out.setCookies, pending[0]!)?.header ?? '';
        assert.ok(txnCleared.includes('Max-Age=0'), 'the transaction cookie is cleared');
        assert.ok(
          !txnCleared.includes('Domain='),
          'with the attributes it was set with (no Domain)',
        );
        assert.deepEqual(
          [...browser.cookiesFor(app.url).keys()].filter(
            (n) => n.startsWith('cognito_') && !n.startsWith('cognito_emulator'),
          ),
          [],
        );

        // Cognito's own session ends too, so the next login is not silent.
        const location = new URL(out.location!);
        assert.equal(location.pathname, '/logout');
        assert.deepEqual(Object.fromEntries(location.searchParams), {
          client_id: app.clientId,
          logout_uri: `${app.url}/postlogout`,
        });
        const landed = await browser.follow(out.location!, {
          stopAt: (url) => url.startsWith(app.url),
        });
        assert.equal(landed.location, `${app.url}/postlogout`);
        const next = await beginLogin(browser, app.url);
        const page = await browser.follow(next.authorizeUrl, {
          stopAt: (url) => url.startsWith(app.url),
        });
        assert.equal(page.status, 200, 'the hosted login page asks again');
        assert.match(page.body, /name="password"/);
      } finally {
        await app.stop();
      }
    });

    it('B54 every cookie the app sets (transaction, access, ID, refresh; set or cleared) is HttpOnly', async () => {
      const browser = new TestBrowser();
      const responses: BrowserResponse[] = [];
      const started = await beginLogin(browser, appUrl);
      responses.push(started.response);
      const callback = await signInAt(browser, started.authorizeUrl, 'alice');
      responses.push(await browser.request(callback));
      responses.push(await browser.request(callback, { headers: JSON_ACCEPT })); // replay: clears
      responses.push(
        await browser.request(`${appUrl}/refresh`, { method: 'POST', headers: { origin: appUrl } }),
      );
      responses.push(await browser.request(`${appUrl}/logout`, { headers: SAME_ORIGIN }));
      const cookies = responses.flatMap((r) => r.setCookies);
      const names = new Set(cookies.map((c) => c.slice(0, c.indexOf('='))));
      for (const name of SESSION_COOKIES) assert.ok(names.has(name), name);
      assert.ok(
        [...names].some((n) => n.startsWith('cognito_txn_')),
        "[...names].some((n) => n.startsWith('cognito_txn_'))",
      );
      for (const cookie of cookies) assert.match(cookie, /; HttpOnly/, cookie.slice(0, 40));
    });

    it('B56 the transaction cookie is always SameSite=Lax (the return from Cognito is a cross-site GET); token cookies follow the setting (Strict, Lax)', async () => {
      for (const sameSite of ['Strict', 'Lax'] as const) {
        const app = await sec.startApp({ env: { AWS_COGNITO_COOKIE_SAMESITE: sameSite } });
        try {
          const browser = new TestBrowser();
          const started = await beginLogin(browser, app.url);
          assert.match(started.transactionCookie, /SameSite=Lax/, sameSite);
          const done = await browser.request(await signInAt(browser, started.authorizeUrl, 'bob'));
          if (sameSite === 'Strict') {
            // Strict cookies are not sent on the redirect chain that began on Cognito's site: the
            // callback ends with a page whose own navigation (same-site) carries them.
            assert.equal(done.status, 200, sameSite);
            assert.match(done.body, /<meta http-equiv="refresh" content="0;url=\/claims">/);
            assert.match(done.body, /<a href="\/claims">/);
            assert.equal(done.headers.get('x-frame-options'), 'DENY');
          } else {
            assert.equal(done.status, 302, sameSite);
          }
          for (const name of SESSION_COOKIES) {
            assert.match(
              findCookie(done.setCookies, name)?.header ?? '',
              new RegExp(`SameSite=${sameSite}`),
              name,
            );
          }
        } finally {
          await app.stop();
        }
      }
    });

    it('B57 duplicate cookie names (cookie tossing) are refused, not "first wins"', async () => {
      const victim = new TestBrowser();
      await login(victim, appUrl, 'alice');
      const attacker = new TestBrowser();
      await login(attacker, appUrl, 'carol');
      const [va, vi, vr] = SESSION_COOKIES.map((n) => victim.cookie(appUrl, n)!);
      const [aa, ai, ar] = SESSION_COOKIES.map((n) => attacker.cookie(appUrl, n)!);
      const get = (cookie: string) =>
        fetch(`${appUrl}/claims`, { headers: { ...JSON_ACCEPT, cookie } });

      assert.equal((await get(`cognito_access_token=${va}; cognito_id_token=${vi}`)).status, 200);
      for (const cookie of [
        `cognito_access_token=${aa}; cognito_access_token=${va}; cognito_id_token=${vi}`,
        `cognito_access_token=${va}; cognito_access_token=${aa}; cognito_id_token=${vi}`,
        `cognito_access_token=${va}; cognito_id_token=${ai}; cognito_id_token=${vi}`,
        `cognito_access_token=${va}; cognito_access_token=${va}; cognito_id_token=${vi}`,
      ]) {
        const response = await get(cookie);
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /invalid_token/);
      }
      const refresh = await fetch(`${appUrl}/refresh`, {
        method: 'POST',
        headers: {
          ...JSON_ACCEPT,
          cookie: `cognito_refresh_token=${ar}; cognito_refresh_token=${vr}`,
        },
      });
      assert.equal(refresh.status, 401);
      assert.equal(JSON.parse(await refresh.text()).error, 'ERR_REFRESH_REJECTED');

      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      const sealed = browser.cookie(appUrl, started.transactionCookieName)!;
      const callback = await signInAt(browser, started.authorizeUrl, 'bob');
      const doubled = await browser.request(callback, {
        headers: {
          ...JSON_ACCEPT,
          cookie: `${started.transactionCookieName}=${sealed}; ${started.transactionCookieName}=${sealed}`,
        },
      });
      assert.equal(doubled.status, 400);
      assert.equal(JSON.parse(doubled.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
      assert.deepEqual(sessionCookiesSet(doubled.setCookies), []);
    });

    it('B58 an ID token too large for one cookie (150 groups) is split across numbered cookies, none over 4,096 bytes, and read back as one', async () => {
      const groups = Array.from(
        { length: 150 },
        (_, i) => `group-number-${String(i).padStart(3, '0')}`,
      );
      sec.emulator.addUser({ username: 'greg', password: DEMO_PASSWORD, groups });
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      const callback = await signInAt(browser, started.authorizeUrl, 'greg');
      const response = await browser.request(callback, { headers: JSON_ACCEPT });
      const answer = JSON.parse(sec.hostile.tokenRequests('authorization_code').at(-1)!.answer!);
      assert.ok(
        (answer.id_token as string).length > 4096,
        'precondition: Cognito issued a token too large for one cookie',
      );
      if (adapter.requestHeadQuotaBytes !== undefined) {
        // Behind API Gateway's 10,240-byte quota on request line and headers this session could
        // never be sent back: refused at sign-in (a session store is the way out), not set and
        // then refused with 431 on every request, logout included.
        assert.equal(response.status, 502);
        assert.deepEqual(sessionCookiesSet(response.setCookies), [], 'no half-set session');
        return;
      }
      assert.equal(response.status, 302);
      for (const header of response.setCookies) {
        assert.ok(Buffer.byteLength(header) <= 4096, `${header.slice(0, 30)}… is over 4,096 bytes`);
      }
      const names = response.setCookies.map((header) => header.slice(0, header.indexOf('=')));
      assert.ok(names.includes('cognito_id_token.0') && names.includes('cognito_id_token.1'));
      assert.ok(!names.includes('cognito_id_token'), 'not also whole');
      const claims = await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT });
      assert.equal(claims.status, 200);
      assert.equal(JSON.parse(claims.body).user_info['cognito:groups'].length, 150);
      // Logout clears every piece.
      await browser.request(`${appUrl}/logout`, { headers: SAME_ORIGIN });
      assert.deepEqual(
        [...browser.cookiesFor(appUrl).keys()].filter((name) =>
          name.startsWith('cognito_id_token'),
        ),
        [],
      );
    });

    it('B58 a session too large for any cookie budget (450 groups) is a clear 502 with no half-set session', async () => {
      const groups = Array.from(
        { length: 450 },
        (_, i) => `group-number-${String(i).padStart(3, '0')}`,
      );
      sec.emulator.addUser({ username: 'gigi', password: DEMO_PASSWORD, groups });
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      const callback = await signInAt(browser, started.authorizeUrl, 'gigi');

      const response = await browser.request(callback, { headers: JSON_ACCEPT });
      assert.equal(response.status, 502);
      assert.deepEqual(JSON.parse(response.body), {
        error: 'ERR_COGNITO_BAD_RESPONSE',
        message: 'The sign-in service is unavailable. Please try again shortly.',
      });
      assert.deepEqual(
        sessionCookiesSet(response.setCookies),
        [],
        'no cookie of the session is set',
      );
      assert.equal(response.setCookies.length, 1, 'only the transaction is cleared');
      assert.match(response.setCookies[0]!, /^cognito_txn_.*Max-Age=0/);

      assert.equal(await claimsStatus(browser), 401);
    });

    it('B59 the refresh cookie is AEAD-encrypted (JWE dir/A256GCM with a key id), tamper-evident, and survives secret rotation', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      const sealed = browser.cookie(appUrl, 'cognito_refresh_token')!;
      const raw = JSON.parse(sec.hostile.tokenRequests('authorization_code').at(-1)!.answer!)
        .refresh_token as string;
      assert.equal(sealed.split('.').length, 5);
      const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString());
      assert.deepEqual(Object.keys(header).sort(), ['alg', 'enc', 'kid']);
      assert.equal(header.alg, 'dir');
      assert.equal(header.enc, 'A256GCM');
      for (const part of raw.split('.'))
        assert.ok(!sealed.includes(part.slice(0, 40)), 'no raw part');
      assert.ok(
        !Buffer.from(sealed.split('.')[3]!, 'base64url')
          .toString('latin1')
          .includes(raw.slice(0, 40)),
        'the ciphertext does not hold the raw token',
      );

      const refreshWith = (url: string, cookie: string) =>
        fetch(`${url}/refresh`, {
          method: 'POST',
          headers: { ...JSON_ACCEPT, cookie: `cognito_refresh_token=${cookie}` },
          redirect: 'manual',
        });
      // Flip one character of the ciphertext: GCM's tag no longer verifies.
      const parts = sealed.split('.');
      const ciphertext = parts[3]!;
      parts[3] = `${ciphertext.slice(0, 5)}${ciphertext[5] === 'A' ? 'B' : 'A'}${ciphertext.slice(6)}`;
      const tampered = await refreshWith(appUrl, parts.join('.'));
      assert.equal(tampered.status, 401);
      assert.equal(((await tampered.json()) as { error: string }).error, 'ERR_REFRESH_REJECTED');
      assert.ok(
        tampered.headers.getSetCookie().some((c) => /^cognito_refresh_token=;.*Max-Age=0/.test(c)),
        'the tampered refresh cookie is cleared',
      );
      // The raw Cognito token in the cookie is not accepted either (it must be our sealed value).
      assert.equal((await refreshWith(appUrl, raw)).status, 401);

      // Rotation: the new secret seals, the old one still unseals; drop it and old cookies die.
      const newSecret = 'a-brand-new-secret-key-of-enough-length-0123';
      // The same app client (its refresh token is the one sealed), with the new secret first.
      const sameClient = { AWS_COGNITO_USER_POOL_CLIENT_ID: sec.app.clientId };
      const rotated = await sec.startApp({
        register: false,
        env: { ...sameClient, SECRET_KEY: newSecret, SECRET_KEY_FALLBACKS: SECRET_KEY },
      });
      const dropped = await sec
        .startApp({ register: false, env: { ...sameClient, SECRET_KEY: newSecret } })
        .catch(async (error: unknown) => {
          // Not started: the first app must not stay open (a server left open hangs the file).
          await rotated.stop();
          throw error;
        });
      try {
        assert.equal((await refreshWith(rotated.url, sealed)).status, 303);
        assert.equal((await refreshWith(dropped.url, sealed)).status, 401);
      } finally {
        await rotated.stop();
        await dropped.stop();
      }
    });
  });
}
