/**
 * The cookie budget, on every adapter's example app: no `Set-Cookie` over 4,096 bytes (the most a
 * browser stores), a typical session's Cookie header under 6 KB, a 6 KB ID token split across
 * numbered cookies that read back, refresh and clear as one, and a session too large for cookies
 * logged with the advice to use a session store — never lost silently.
 *
 * Behind API Gateway (the Lambda example's bridge enforces its 10,240-byte quota on the request
 * line and headers) a 6 KB ID token's cookies do not fit at all: the gateway refuses the request,
 * which is exactly what the sign-in's warning said would happen. An app in another process keeps
 * its logger there: its warnings are not checked, and the test says so (the test of the hourly
 * warning, which checks nothing else, is generated only for the apps in this process).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from '../../src/emulator/index.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { login } from '../support/sign-in.js';
import type { BrowserResponse } from '../support/browser.js';
import {
  sessionCookieHeaderBytes,
  sessionCookies,
  sessionTimeFor,
  setCookiesOf,
  userWithIdTokenOf,
  type ClaimsBody,
  type SessionTime,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';

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

const names = (browser: TestBrowser, app: ConformanceApp): string[] =>
  [...sessionCookies(browser, app.url).keys()].sort();

for (const adapter of ADAPTERS) {
  describe(`cookie budget (${adapter.name})`, () => {
    let time: SessionTime;
    let app: ConformanceApp;
    let clientId: string;
    const warnings: Warning[] = [];

    before(async () => {
      time = await sessionTimeFor(adapter);
      app = await startConformanceApp(adapter, time.pool.emulator, {
        client: time.lifetimes,
        // The app's logger can be read only when the app runs in this process.
        ...(adapter.inProcess
          ? {
              extras: {
                ...time.extras,
                logger: {
                  warn: (message, fields) => {
                    warnings.push({ message, fields });
                  },
                },
              },
            }
          : {}),
      });
      clientId = app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!;
    });
    after(async () => {
      await app.stop();
      await time.pool.stop();
    });

    /** Whether the app's warnings reach this process; says so in the output if not. */
    const logsVisible = (t: TestContext): boolean => {
      if (!adapter.inProcess) {
        t.diagnostic('the app logger lives in another process: its warnings are not checked here');
      }
      return adapter.inProcess;
    };
    /** The warnings that name the session store as the fix. */
    const storeAdvice = (): Warning[] =>
      warnings.filter((w) => JSON.stringify(w).includes('AWS_COGNITO_SESSION_STORE'));

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
      await time.expireAccessTokens();
      const automatic = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
      assert.equal(automatic.status, 200);
      assert.ok(setCookiesOf(automatic).has('cognito_access_token'), 'refreshed in-request');
      assertWithinBrowserLimit(automatic, 'automatic refresh');
    });

    it('a 6 KB ID token is split into numbered cookies, each within the limit, and read back as one', async (t) => {
      const size = await userWithIdTokenOf(time.pool.emulator, 'erin', 6 * 1024, clientId);
      assert.ok(size > 6000 && size < 6400, `ID token of ${size} bytes`);
      warnings.length = 0;
      const browser = new TestBrowser();
      const callback = await login(browser, app.url, 'erin');
      const quota = adapter.requestHeadQuotaBytes;
      if (quota !== undefined) {
        // Behind API Gateway (10,240 bytes of request line and headers) this session could never
        // be sent back: it is refused at sign-in, where the user can still be told, instead of
        // being set and refused with 431 on every later request, logout included.
        assert.equal(callback.status, 502, `over the platform's ${quota}-byte header quota`);
        assert.deepEqual(names(browser, app), [], 'nothing half-stored');
        if (logsVisible(t)) {
          assert.ok(
            warnings.some((w) => /platform in front accepts/.test(JSON.stringify(w))),
            `logged: ${JSON.stringify(warnings)}`,
          );
        }
        return;
      }
      assert.equal(callback.status, 302);
      assertWithinBrowserLimit(callback, 'callback');
      const set = setCookiesOf(callback);
      assert.equal(set.has('cognito_id_token'), false, 'not whole');
      assert.ok(set.has('cognito_id_token.0') && set.has('cognito_id_token.1'), 'in pieces');
      assert.equal(set.has('cognito_id_token.2'), false);

      // Such a session is past nginx's default 8 KB for a Cookie header: the operator is told.
      const header = sessionCookieHeaderBytes(browser, app.url);
      assert.ok(header > 8192, `Cookie header of ${header} bytes`);
      if (logsVisible(t)) {
        const [warning] = storeAdvice();
        assert.ok(warning, `warned: ${JSON.stringify(warnings)}`);
        assert.match(warning.message, /session store/);
        assert.ok((warning.fields?.['bytes'] as number) > 8192);
      }

      const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
      assert.equal(claims.status, 200);
      const body = JSON.parse(claims.body) as ClaimsBody;
      assert.equal(body.user_info?.['email'], 'erin@example.com');
      assert.equal(
        String(body.user_info['custom:profile_0']).length,
        2000,
        'the ID token was joined from its pieces and verified whole',
      );
    });

    it('a refresh that changes the size deletes the stale pieces; logout clears every piece', async () => {
      // ~4.5 KB: split in two, and within API Gateway's quota too.
      await userWithIdTokenOf(time.pool.emulator, 'frank', 4608, clientId);
      const browser = new TestBrowser();
      await login(browser, app.url, 'frank');
      const split = [
        'cognito_access_token',
        'cognito_id_token.0',
        'cognito_id_token.1',
        'cognito_refresh_token',
      ];
      assert.deepEqual(names(browser, app), split);

      // The user's attributes shrink: the refreshed ID token fits in one cookie.
      time.pool.emulator.addUser({
        username: 'frank',
        password: DEMO_PASSWORD,
        email: 'frank@example.com',
      });
      const small = await browser.request(`${app.url}/refresh`, { method: 'POST' });
      assert.equal(small.status, 303);
      const set = setCookiesOf(small);
      assert.equal(set.get('cognito_id_token')?.deleted, false);
      assert.equal(set.get('cognito_id_token.0')?.deleted, true, 'stale piece .0 deleted');
      assert.equal(set.get('cognito_id_token.1')?.deleted, true, 'stale piece .1 deleted');
      assert.deepEqual(names(browser, app), [
        'cognito_access_token',
        'cognito_id_token',
        'cognito_refresh_token',
      ]);
      assert.equal(
        (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status,
        200,
      );

      // And they grow again, this time through an automatic refresh: the whole cookie goes.
      await userWithIdTokenOf(time.pool.emulator, 'frank', 4608, clientId);
      await time.expireAccessTokens();
      const grown = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
      assert.equal(grown.status, 200);
      assertWithinBrowserLimit(grown, 'automatic refresh');
      assert.equal(
        setCookiesOf(grown).get('cognito_id_token')?.deleted,
        true,
        `the whole cookie is deleted: ${grown.setCookies.map((c) => c.slice(0, c.indexOf('='))).join(', ')}`,
      );
      assert.deepEqual(names(browser, app), split);

      const logout = await browser.request(`${app.url}/logout`);
      assert.equal(logout.status, 302);
      assert.deepEqual(names(browser, app), [], 'every piece cleared');
    });

    // Only where the app's warnings (and its clock) are in this process, and not behind API
    // Gateway, where such sessions are refused, not stored with a warning (above).
    if (adapter.inProcess && adapter.requestHeadQuotaBytes === undefined) {
      it('the warning about oversized sessions comes at most hourly, not at every sign-in', async () => {
        await userWithIdTokenOf(time.pool.emulator, 'gina', 8 * 1024, clientId);
        warnings.length = 0;
        await login(new TestBrowser(), app.url, 'gina');
        await login(new TestBrowser(), app.url, 'gina');
        assert.equal(storeAdvice().length, 0, 'warned already within the hour (the 6 KB sign-in)');
        time.pool.clock.advance(3601);
        await login(new TestBrowser(), app.url, 'gina');
        assert.equal(storeAdvice().length, 1);
      });
    }

    it('a session no Cookie header can carry is refused, loudly: 502 and a log naming the fix', async (t) => {
      await userWithIdTokenOf(time.pool.emulator, 'hank', 15 * 1024, clientId);
      warnings.length = 0;
      const browser = new TestBrowser();
      const callback = await login(browser, app.url, 'hank');
      assert.equal(callback.status, 502);
      assert.deepEqual(names(browser, app), [], 'nothing half-stored');
      assert.doesNotMatch(callback.body, /eyJ/, 'no token in the answer');
      if (logsVisible(t)) {
        const logged = warnings.find((w) => JSON.stringify(w).includes('session store'));
        assert.ok(logged, `logged: ${JSON.stringify(warnings)}`);
        assert.match(JSON.stringify(logged), /AWS_COGNITO_SESSION_STORE/);
      }
    });
  });
}
