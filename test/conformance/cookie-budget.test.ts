/**
 * The cookie budget, on every adapter's example app: no `Set-Cookie` over 4,096 bytes (the most a
 * browser stores), a typical session's Cookie header under 6 KB, a 6 KB ID token split across
 * numbered cookies that read back, refresh and clear as one, and a session too large for cookies
 * logged with the advice to use a session store — never lost silently.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { login, TestBrowser } from '../support/stack.js';
import type { BrowserResponse } from '../support/browser.js';
import {
  sessionCookieHeaderBytes,
  sessionCookies,
  setCookiesOf,
  SHORT_LIFETIMES,
  startClockedEmulator,
  userWithIdTokenOf,
  type ClaimsBody,
  type ClockedEmulator,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from './harness.js';

const JSON_ACCEPT = { accept: 'application/json' } as const;
const BROWSER_LIMIT = 4096;

interface Warning {
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function assertWithinBrowserLimit(response: BrowserResponse, step: string): void {
  for (const cookie of response.setCookies) {
    assert.ok(
      Buffer.byteLength(cookie) <= BROWSER_LIMIT,
      `${step}: ${cookie.slice(0, 30)}… is ${Buffer.byteLength(cookie)} bytes`,
    );
  }
}

for (const adapter of ADAPTERS) {
  describe(
    `cookie budget (${adapter.name})`,
    { skip: !adapter.inProcess && 'needs the shared clock' },
    () => {
      let pool: ClockedEmulator;
      let app: ConformanceApp;
      let clientId: string;
      const warnings: Warning[] = [];

      before(async () => {
        pool = await startClockedEmulator();
        app = await startConformanceApp(adapter, pool.emulator, {
          client: SHORT_LIFETIMES,
          extras: {
            now: pool.clock.now,
            logger: {
              warn: (message, fields) => {
                warnings.push({ message, fields });
              },
            },
          },
        });
        clientId = app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!;
      });
      after(async () => {
        await app.stop();
        await pool.stop();
      });

      it('a typical session: no Set-Cookie over 4,096 bytes, and a Cookie header under 6 KB', async () => {
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, 'alice');
        assert.equal(callback.status, 302);
        assertWithinBrowserLimit(callback, 'callback');
        const header = sessionCookieHeaderBytes(browser, app.url);
        assert.ok(header <= 6 * 1024, `the session's Cookie header is ${header} bytes`);
        const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);
        assertWithinBrowserLimit(refreshed, 'refresh');
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const automatic = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(automatic.status, 200);
        assertWithinBrowserLimit(automatic, 'automatic refresh');
      });

      it('a 6 KB ID token is split into numbered cookies, each within the limit, and read back as one', async () => {
        const size = await userWithIdTokenOf(pool.emulator, 'erin', 6 * 1024, clientId);
        assert.ok(size > 6000 && size < 6400, `ID token of ${size} bytes`);
        warnings.length = 0;
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, 'erin');
        assert.equal(callback.status, 302);
        assertWithinBrowserLimit(callback, 'callback');
        const set = setCookiesOf(callback);
        assert.equal(set.has('cognito_id_token'), false, 'not whole');
        assert.ok(set.has('cognito_id_token.0') && set.has('cognito_id_token.1'), 'in pieces');
        assert.equal(set.has('cognito_id_token.2'), false);

        const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
        const body = JSON.parse(claims.body) as ClaimsBody;
        assert.equal(body.user_info?.['email'], 'erin@example.com');
        assert.equal(
          String(body.user_info['custom:profile_0']).length,
          2000,
          'the ID token was joined from its pieces and verified whole',
        );

        // Such a session is past nginx's default 8 KB for a Cookie header: the operator is told.
        assert.ok(sessionCookieHeaderBytes(browser, app.url) > 8192);
        const warning = warnings.find((w) => w.message.includes('session store'));
        assert.ok(warning, `warned: ${JSON.stringify(warnings)}`);
        assert.match(warning.message, /AWS_COGNITO_SESSION_STORE/);
        assert.ok((warning.fields?.['bytes'] as number) > 8192);
      });

      it('a refresh that changes the size deletes the stale pieces; logout clears every piece', async () => {
        await userWithIdTokenOf(pool.emulator, 'frank', 6 * 1024, clientId);
        const browser = new TestBrowser();
        await login(browser, app.url, 'frank');
        assert.deepEqual([...sessionCookies(browser, app.url).keys()].sort(), [
          'cognito_access_token',
          'cognito_id_token.0',
          'cognito_id_token.1',
          'cognito_refresh_token',
        ]);

        // The user's attributes shrink: the refreshed ID token fits in one cookie.
        pool.emulator.addUser({
          username: 'frank',
          password: 'Passw0rd!',
          email: 'frank@example.com',
        });
        const small = await browser.request(`${app.url}/refresh`, { method: 'POST' });
        assert.equal(small.status, 303);
        const set = setCookiesOf(small);
        assert.equal(set.get('cognito_id_token')?.deleted, false);
        assert.equal(set.get('cognito_id_token.0')?.deleted, true, 'stale piece .0 deleted');
        assert.equal(set.get('cognito_id_token.1')?.deleted, true, 'stale piece .1 deleted');
        assert.deepEqual([...sessionCookies(browser, app.url).keys()].sort(), [
          'cognito_access_token',
          'cognito_id_token',
          'cognito_refresh_token',
        ]);
        assert.equal(
          (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status,
          200,
        );

        // And they grow again, this time through an automatic refresh: the whole cookie goes.
        await userWithIdTokenOf(pool.emulator, 'frank', 6 * 1024, clientId);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const grown = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(grown.status, 200);
        assertWithinBrowserLimit(grown, 'automatic refresh');
        assert.equal(setCookiesOf(grown).get('cognito_id_token')?.deleted, true);
        assert.deepEqual([...sessionCookies(browser, app.url).keys()].sort(), [
          'cognito_access_token',
          'cognito_id_token.0',
          'cognito_id_token.1',
          'cognito_refresh_token',
        ]);

        const logout = await browser.request(`${app.url}/logout`);
        assert.equal(logout.status, 302);
        assert.deepEqual([...sessionCookies(browser, app.url).keys()], [], 'every piece cleared');
      });

      it('a session past what proxies accept keeps working; the warning comes at most hourly, not per sign-in', async () => {
        await userWithIdTokenOf(pool.emulator, 'gina', 8 * 1024, clientId);
        warnings.length = 0;
        const browser = new TestBrowser();
        await login(browser, app.url, 'gina');
        await login(new TestBrowser(), app.url, 'gina');
        assert.equal(
          (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status,
          200,
        );
        assert.equal(warnings.filter((w) => w.message.includes('session store')).length, 0);
        pool.clock.advance(3601);
        await login(new TestBrowser(), app.url, 'gina');
        assert.equal(warnings.filter((w) => w.message.includes('session store')).length, 1);
      });

      it('a session no Cookie header can carry is refused, loudly: 502 and a log naming the fix', async () => {
        await userWithIdTokenOf(pool.emulator, 'hank', 15 * 1024, clientId);
        warnings.length = 0;
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, 'hank');
        assert.equal(callback.status, 502);
        assert.deepEqual([...sessionCookies(browser, app.url).keys()], [], 'nothing half-stored');
        assert.doesNotMatch(callback.body, /eyJ/, 'no token in the answer');
        const logged = warnings.find((w) => JSON.stringify(w).includes('session store'));
        assert.ok(logged, `logged: ${JSON.stringify(warnings)}`);
        assert.match(JSON.stringify(logged), /AWS_COGNITO_SESSION_STORE/);
      });
    },
  );
}
