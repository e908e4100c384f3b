/**
 * The testing helpers' cookies in real Chromium (playwright-core): `context.addCookies()` with a
 * session from `signIn` or `sessionCookies` opens protected pages, and the cookies carry the same
 * domain, path, HttpOnly, Secure and SameSite as the ones Chromium itself keeps after signing in on
 * the hosted page.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Cookie } from 'playwright-core';
import { fromEnv, type CognitoGuardOptions } from '../../src/index.js';
import {
  DEMO_PASSWORD,
  sessionCookies,
  signIn,
  startTestPool,
  type TestCookie,
  type TestPool,
} from '../../src/testing/index.js';
import { createExampleApp } from '../../examples/express/app.js';

const CHROMIUM = '/usr/bin/chromium';
// Locally, a machine without chromium skips (visibly); in CI a missing browser is a failure.
const skip =
  existsSync(CHROMIUM) || process.env.CI === 'true'
    ? false
    : `${CHROMIUM} not installed (apt-get install chromium)`;

const SESSION = ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'];

function attributes(cookie: Cookie | TestCookie) {
  return {
    name: cookie.name,
    domain: cookie.domain,
    path: cookie.path,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
  };
}

describe('testing helpers in real Chromium', { skip, timeout: 90_000 }, () => {
  let pool: TestPool;
  let server: Server;
  let appUrl: string;
  let options: CognitoGuardOptions;
  let browser: Browser;

  before(async () => {
    pool = await startTestPool();
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    options = { ...fromEnv(pool.envFor(appUrl)), logger: { warn: () => undefined } };
    server.on('request', createExampleApp(options));
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
    server.closeAllConnections();
    server.close();
    await pool.stop();
  });

  it('signIn cookies match what Chromium keeps after signing in on the hosted page', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${appUrl}/login`);
      await page.getByLabel(/user ?name/i).fill('alice');
      await page.getByLabel(/password/i).fill(DEMO_PASSWORD);
      await Promise.all([
        page.waitForURL(`${appUrl}/claims`),
        page.getByRole('button', { name: /sign in/i }).click(),
      ]);
      const real = (await context.cookies(appUrl)).filter((c) => SESSION.includes(c.name));
      const session = await signIn(appUrl, { username: 'alice', password: DEMO_PASSWORD });
      const ours = session.cookies.filter((c) => SESSION.includes(c.name));
      assert.deepEqual(
        ours.map(attributes).sort((a, b) => a.name.localeCompare(b.name)),
        real.map(attributes).sort((a, b) => a.name.localeCompare(b.name)),
      );
      for (const cookie of ours) {
        const twin = real.find((c) => c.name === cookie.name);
        assert.ok(twin !== undefined && Math.abs(twin.expires - cookie.expires) <= 5, cookie.name);
      }
    } finally {
      await context.close();
    }
  });

  for (const [how, make] of [
    ['signIn', () => signIn(appUrl, { username: 'alice', password: DEMO_PASSWORD })],
    ['sessionCookies', () => sessionCookies(pool, options, 'alice')],
  ] as const) {
    it(`context.addCookies(${how}(…).cookies) opens protected pages, no login page shown`, async () => {
      const context = await browser.newContext();
      try {
        const session = await make();
        await context.addCookies([...session.cookies]);
        const page = await context.newPage();
        const admin = await page.goto(`${appUrl}/admin`);
        assert.equal(admin?.status(), 200);
        assert.deepEqual(JSON.parse(await page.locator('body').innerText()), ['admin']);
        const claims = await page.goto(`${appUrl}/claims`);
        assert.equal(claims?.status(), 200);
        assert.equal(page.url(), `${appUrl}/claims`);
        // HttpOnly held: the page's script cannot read the session.
        assert.equal(await page.evaluate(() => document.cookie.includes('cognito_')), false);
      } finally {
        await context.close();
      }
    });
  }
});
