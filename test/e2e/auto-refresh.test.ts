/**
 * In a real browser (Debian's chromium through playwright-core), on each adapter's example app: a
 * page left open past its access token's lifetime keeps working — the next navigation is
 * refreshed inside the request and answered with the new identity, and the browser stores the
 * new cookies; the home page's "Sign out everywhere" button works. Apps in this process share a
 * clock with the emulator, which is moved; the Worker (another process) runs on the real clock
 * with 2-second tokens, and the test waits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  SESSION_SCOPES,
  sessionTimeFor,
  type ClaimsBody,
  type SessionTime,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { findSystemComponent, launchChromium, signInOnHostedPage } from '../support/system.js';

// Without chromium each adapter's suite skips, saying how to install it (CI, in --require-all
// mode, fails).
const { skip } = findSystemComponent('chromium');

async function claimsOn(page: Page): Promise<ClaimsBody> {
  return JSON.parse((await page.locator('body').innerText()).trim()) as ClaimsBody;
}

describe('automatic refresh in a real browser (chromium)', () => {
  // One browser for the file: every test opens its own contexts (their own cookies).
  let browser: Browser;
  before(async () => {
    if (skip === false) browser = await launchChromium();
  });
  after(async () => {
    if (skip === false) await browser.close();
  });

  for (const adapter of ADAPTERS)
    describe(`automatic refresh in a real browser (chromium, ${adapter.name})`, { skip }, () => {
      let time: SessionTime;
      let app: ConformanceApp;

      before(async () => {
        time = await sessionTimeFor(adapter);
        app = await startConformanceApp(adapter, time.pool.emulator, {
          env: { AWS_COGNITO_SCOPES: SESSION_SCOPES },
          client: time.lifetimes,
          extras: time.extras,
        });
      });
      after(async () => {
        await app.stop();
        await time.pool.stop();
      });

      it('a page left open past the access token’s lifetime keeps working: the next navigation is refreshed in-request', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${app.url}/`);
        await page.getByRole('link', { name: 'Log in' }).click();
        await signInOnHostedPage(page, {
          emulatorDomain: time.pool.emulator.domain,
          username: 'alice',
          landing: `${app.url}/claims`,
        });
        const first = await claimsOn(page);
        const accessBefore = (await context.cookies(app.url)).find(
          (c) => c.name === 'cognito_access_token',
        )?.value;
        assert.ok(accessBefore);

        // The page stays open while the access token expires.
        await time.expireAccessTokens();
        const calls = time.pool.tokenRequests();
        const response = await page.goto(`${app.url}/claims`);
        assert.equal(response?.status(), 200, 'still signed in');
        const second = await claimsOn(page);
        assert.equal(second.claims.username, 'alice');
        assert.ok(second.claims.iat > first.claims.iat, 'with a token issued since');
        if (time.shared) assert.equal(second.claims.iat, time.pool.clock.seconds);
        assert.equal(time.pool.tokenRequests() - calls, 1, 'one refresh');

        const accessAfter = (await context.cookies(app.url)).find(
          (c) => c.name === 'cognito_access_token',
        );
        assert.ok(accessAfter && accessAfter.value !== accessBefore, 'the browser stored it');
        assert.equal(accessAfter.httpOnly, true);

        // And the page after that needs no refresh (on the real clock, a 2-second token may
        // already be inside its refresh margin: only the answer is checked there).
        const admin = await page.goto(`${app.url}/admin`);
        assert.equal(admin?.status(), 200);
        if (time.shared) assert.equal(time.pool.tokenRequests() - calls, 1);
        await context.close();
      });

      it('the home page’s “Sign out everywhere” button signs this browser out, and another one at its next refresh', async () => {
        const here = await browser.newContext();
        const there = await browser.newContext();
        const page = await here.newPage();
        const other = await there.newPage();
        await signIn(page, 'bob');
        await signIn(other, 'bob');
        await page.goto(`${app.url}/`);
        await Promise.all([
          // Through Cognito's /logout and back to the app's sign-out URL.
          page.waitForResponse((r) => r.url().startsWith(`${app.url}/postlogout`)),
          page.getByRole('button', { name: 'Sign out everywhere' }).click(),
        ]);
        const left = (await here.cookies(app.url)).filter((c) =>
          /^cognito_(access|id|refresh)_token/.test(c.name),
        );
        assert.deepEqual(left, []);
        if (time.shared) {
          assert.equal((await other.goto(`${app.url}/claims`))?.status(), 200, 'until it expires');
        }
        await time.expireAccessTokens();
        assert.equal((await other.goto(`${app.url}/claims`))?.status(), 401);
        await here.close();
        await there.close();
      });

      async function signIn(page: Page, username: string): Promise<void> {
        await page.goto(`${app.url}/login`);
        await signInOnHostedPage(page, {
          emulatorDomain: time.pool.emulator.domain,
          username,
          landing: `${app.url}/claims`,
        });
      }
    });
});
