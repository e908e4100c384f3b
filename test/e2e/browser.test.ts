/**
 * End to end in a real browser: Debian's chromium, driven by playwright-core, logs in to each
 * adapter's example app through the emulator's hosted login page, sees /claims, opens /admin,
 * refreshes, logs out; then carol is refused /admin. Each session cookie arrives in its own
 * Set-Cookie (for Lambda, in the payload 2.0 `cookies` array of the API Gateway bridge).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';
import { SESSION_COOKIES } from '../support/cookies.js';
import { findSystemComponent, launchChromium, signInOnHostedPage } from '../support/system.js';

/** The example app under test and the emulator it signs in with. */
interface Stack {
  readonly appUrl: string;
  readonly emulator: EmulatorHandle;
}

async function signIn(page: Page, stack: Stack, username: string): Promise<void> {
  await page.goto(`${stack.appUrl}/`);
  await page.getByRole('link', { name: 'Log in' }).click();
  await signInOnHostedPage(page, {
    emulatorDomain: stack.emulator.domain,
    username,
    landing: `${stack.appUrl}/claims`,
  });
}

// Without chromium each adapter's suite skips, saying how to install it (CI, in --require-all
// mode, fails).
const { skip } = findSystemComponent('chromium');

describe('real browser (chromium)', () => {
  // One browser for the file: every test opens its own context (its own cookies).
  let browser: Browser;
  before(async () => {
    if (skip === false) browser = await launchChromium();
  });
  after(async () => {
    if (skip === false) await browser.close();
  });

  for (const adapter of ADAPTERS)
    describe(`real browser (chromium, ${adapter.name})`, { skip }, () => {
      let emulator: EmulatorHandle;
      let app: ConformanceApp;
      let stack: Stack;

      before(async () => {
        emulator = await startEmulator({ port: 0 });
        app = await startConformanceApp(adapter, emulator);
        stack = { appUrl: app.url, emulator };
      });

      after(async () => {
        try {
          await app.stop();
        } finally {
          await emulator.stop();
        }
      });

      it('alice logs in on the hosted page, sees /claims, opens /admin, refreshes, and logs out', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await signIn(page, stack, 'alice');

        const claims = JSON.parse((await page.locator('body').innerText()).trim()) as {
          claims: { username: string; 'cognito:groups': string[] };
          user_info: { email: string };
        };
        assert.equal(claims.claims.username, 'alice');
        assert.deepEqual(claims.claims['cognito:groups'], ['admin']);
        assert.equal(claims.user_info.email, 'alice@example.com');

        const cookies = await context.cookies(stack.appUrl);
        const names = cookies.map((c) => c.name);
        for (const name of SESSION_COOKIES) {
          assert.ok(names.includes(name), `${name} stored from its own Set-Cookie`);
        }
        const access = cookies.find((c) => c.name === 'cognito_access_token');
        assert.ok(access, 'access-token cookie stored');
        assert.equal(access.httpOnly, true);
        assert.equal(access.sameSite, 'Lax');
        assert.equal(
          await page.evaluate(() => document.cookie.includes('cognito_')),
          false,
          'not readable from script',
        );

        const admin = await page.goto(`${stack.appUrl}/admin`);
        assert.equal(admin?.status(), 200);
        assert.deepEqual(JSON.parse(await page.locator('body').innerText()), ['admin']);

        // Refresh from the home page's form (a same-origin POST). Every token the emulator issues
        // has its own random jti, so a refreshed access token differs from the one before.
        const accessValue = async (): Promise<string | undefined> =>
          (await context.cookies(stack.appUrl)).find((c) => c.name === 'cognito_access_token')
            ?.value;
        const beforeRefresh = await accessValue();
        await page.goto(`${stack.appUrl}/`);
        await Promise.all([
          page.waitForURL(`${stack.appUrl}/claims`),
          page.getByRole('button', { name: 'Refresh tokens' }).click(),
        ]);
        const renewed = await accessValue();
        assert.ok(
          renewed !== undefined && renewed !== beforeRefresh,
          'the refresh set a new access token',
        );

        // Log out from the home page: revoke, clear cookies, Cognito /logout, back home.
        await page.goto(`${stack.appUrl}/`);
        await Promise.all([
          page.waitForURL(`${stack.appUrl}/`),
          page.getByRole('link', { name: 'Log out' }).click(),
        ]);
        const after = await context.cookies(stack.appUrl);
        assert.equal(
          after.filter(
            (c) => c.name.startsWith('cognito_') && !c.name.startsWith('cognito_emulator'),
          ).length,
          0,
        );
        const refused = await page.goto(`${stack.appUrl}/claims`);
        assert.equal(refused?.status(), 401);

        // The emulator's session ended too: logging in again asks for the password.
        await page.goto(`${stack.appUrl}/login`);
        await page.waitForURL((url) => url.href.startsWith(stack.emulator.domain));
        assert.equal(await page.getByLabel(/password/i).count(), 1);
        await context.close();
      });

      it('carol (no group) logs in and is refused /admin with 403', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await signIn(page, stack, 'carol');
        const admin = await page.goto(`${stack.appUrl}/admin`);
        assert.equal(admin?.status(), 403);
        assert.match(await page.locator('body').innerText(), /group membership is required/);
        await context.close();
      });

      it('a wrong password shows the hosted page error and does not sign in', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${stack.appUrl}/login`);
        await page.getByLabel(/user ?name/i).fill('alice');
        await page.getByLabel(/password/i).fill('wrong-password');
        await page.getByRole('button', { name: /sign in/i }).click();
        await assert.doesNotReject(page.getByRole('alert').waitFor());
        assert.ok(page.url().startsWith(stack.emulator.domain));
        assert.equal(
          (await context.cookies(stack.appUrl)).some((c) => c.name === 'cognito_access_token'),
          false,
        );
        await context.close();
      });
    });
});
