/**
 * End to end in a real browser through the Lambda example: Debian's chromium signs in on the
 * emulator's hosted page, and every request to the app goes through the local API Gateway HTTP
 * API bridge as a payload 2.0 event — the session's several cookies arrive in the `cookies`
 * array, and the several Set-Cookie of a sign-in, a refresh and a logout leave in it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { DEMO_PASSWORD } from '../support/pool.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';

const CHROMIUM = '/usr/bin/chromium';

// Locally, a machine without chromium skips (visibly); in CI a missing browser is a failure.
const skip =
  existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `${CHROMIUM} not installed`;

describe('real browser through the Lambda example (chromium)', { skip }, () => {
  let emulator: EmulatorHandle;
  let app: ConformanceApp;
  let browser: Browser;

  async function signIn(page: Page, username: string): Promise<void> {
    await page.goto(`${app.url}/`);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL((url) => url.href.startsWith(emulator.domain));
    await page.getByLabel(/user ?name/i).fill(username);
    await page.getByLabel(/password/i).fill(DEMO_PASSWORD);
    await Promise.all([
      page.waitForURL(`${app.url}/claims`),
      page.getByRole('button', { name: /sign in/i }).click(),
    ]);
  }

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    app = await startConformanceApp(
      ADAPTERS.find((adapter) => adapter.name === 'lambda')!,
      emulator,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
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
    await app.stop();
    await emulator.stop();
  });

  it('alice signs in, sees /claims and /admin, refreshes, and signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'alice');
    const claims = JSON.parse(await page.locator('body').innerText()) as {
      claims: { username: string };
      user_info: { email: string };
    };
    assert.equal(claims.claims.username, 'alice');
    assert.equal(claims.user_info.email, 'alice@example.com', 'the ID-token cookie was read too');
    const names = (await context.cookies(app.url)).map((cookie) => cookie.name);
    for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token']) {
      assert.ok(names.includes(name), `${name} stored from its own Set-Cookie`);
    }

    const admin = await page.goto(`${app.url}/admin`);
    assert.equal(admin?.status(), 200);

    const before = (await context.cookies(app.url)).find(
      (cookie) => cookie.name === 'cognito_access_token',
    )?.value;
    await page.goto(`${app.url}/`);
    await Promise.all([
      page.waitForURL(`${app.url}/claims`),
      page.getByRole('button', { name: 'Refresh tokens' }).click(),
    ]);
    const renewed = (await context.cookies(app.url)).find(
      (cookie) => cookie.name === 'cognito_access_token',
    )?.value;
    assert.ok(renewed !== undefined && renewed !== before, 'the refresh set a new access token');

    await page.goto(`${app.url}/`);
    await Promise.all([
      page.waitForURL(`${app.url}/`),
      page.getByRole('link', { name: 'Log out' }).click(),
    ]);
    const left = (await context.cookies(app.url)).filter(
      (cookie) => cookie.name.startsWith('cognito_') && !cookie.name.startsWith('cognito_emulator'),
    );
    assert.deepEqual(left, [], 'every session cookie deleted by its own Set-Cookie');
    assert.equal((await page.goto(`${app.url}/claims`))?.status(), 401);
    await context.close();
  });

  it('carol (no group) is refused /admin with 403', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'carol');
    assert.equal((await page.goto(`${app.url}/admin`))?.status(), 403);
    await context.close();
  });
});
