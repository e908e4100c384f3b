/**
 * A real browser signs in through each adapter's example app beyond Express (which
 * `browser.test.ts` covers in depth): Debian's chromium, driven by playwright-core, against the
 * example started exactly as the conformance suite starts it — Hono on Node, and the Worker in
 * workerd. Home page → Log in → hosted page → /claims → /admin → Refresh tokens → Log out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { DEMO_PASSWORD } from '../support/stack.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../conformance/harness.js';

const CHROMIUM = '/usr/bin/chromium';

// Locally, a machine without chromium skips (visibly); in CI a missing browser is a failure.
const skip =
  existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `${CHROMIUM} not installed`;

describe('real browser (chromium) through every non-Express example', { skip }, () => {
  let browser: Browser;
  let emulator: EmulatorHandle;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root in CI, and on a machine with no outside network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser.close();
    await emulator.stop();
  });

  for (const adapter of ADAPTERS.filter((candidate) => !candidate.name.startsWith('express'))) {
    it(`${adapter.name}: alice signs in, sees /claims and /admin, refreshes, and signs out`, async () => {
      const app: ConformanceApp = await startConformanceApp(adapter, emulator);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${app.url}/`);
        await page.getByRole('link', { name: 'Log in' }).click();
        await page.waitForURL((url) => url.href.startsWith(emulator.domain));
        await page.getByLabel(/user ?name/i).fill('alice');
        await page.getByLabel(/password/i).fill(DEMO_PASSWORD);
        await Promise.all([
          page.waitForURL(`${app.url}/claims`),
          page.getByRole('button', { name: /sign in/i }).click(),
        ]);
        const claims = JSON.parse((await page.locator('body').innerText()).trim()) as {
          claims: { username: string };
          user_info: { email: string };
        };
        assert.equal(claims.claims.username, 'alice');
        assert.equal(claims.user_info.email, 'alice@example.com');
        const cookies = await context.cookies(app.url);
        for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token']) {
          const cookie = cookies.find((candidate) => candidate.name === name);
          assert.ok(cookie, `${name} stored`);
          assert.equal(cookie.httpOnly, true);
        }

        const admin = await page.goto(`${app.url}/admin`);
        assert.equal(admin?.status(), 200);

        const before = cookies.find((cookie) => cookie.name === 'cognito_access_token')?.value;
        await page.goto(`${app.url}/`);
        await Promise.all([
          page.waitForURL(`${app.url}/claims`),
          page.getByRole('button', { name: 'Refresh tokens' }).click(),
        ]);
        const refreshed = (await context.cookies(app.url)).find(
          (cookie) => cookie.name === 'cognito_access_token',
        );
        assert.notEqual(refreshed?.value, before, 'the refresh set new tokens');

        await page.goto(`${app.url}/`);
        await Promise.all([
          page.waitForURL(`${app.url}/`),
          page.getByRole('link', { name: 'Log out' }).click(),
        ]);
        const left = (await context.cookies(app.url)).filter(
          (cookie) =>
            cookie.name.startsWith('cognito_') && !cookie.name.startsWith('cognito_emulator'),
        );
        assert.deepEqual(left, []);
        const refused = await page.goto(`${app.url}/claims`);
        assert.equal(refused?.status(), 401);
      } finally {
        await context.close();
        await app.stop();
      }
    });
  }
});
