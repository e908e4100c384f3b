/**
 * The testing helpers' cookies in real Chromium (playwright-core): `context.addCookies()` with a
 * session from `signIn` or `sessionCookies` opens protected pages, and the cookies carry the same
 * domain, path, HttpOnly, Secure and SameSite as the ones Chromium itself keeps after signing in on
 * the hosted page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Cookie } from 'playwright-core';
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
import { SESSION_COOKIES } from '../support/cookies.js';
import { serveBuilt, type RunningServer } from '../support/http.js';
import { findSystemComponent, launchChromium, signInOnHostedPage } from '../support/system.js';

// Without chromium the suite skips, saying how to install it (CI, in --require-all mode, fails).
const { skip } = findSystemComponent('chromium');

const SESSION: readonly string[] = SESSION_COOKIES;

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
  let server: RunningServer;
  let appUrl: string;
  let options: CognitoGuardOptions;
  let browser: Browser;

  before(async () => {
    pool = await startTestPool();
    server = await serveBuilt((url) => {
      options = { ...fromEnv(pool.envFor(url)), logger: { warn: () => undefined } };
      return createExampleApp(options);
    });
    appUrl = server.url;
    browser = await launchChromium();
  });

  after(async () => {
    await browser.close();
    await server.stop();
    await pool.stop();
  });

  it('signIn cookies match what Chromium keeps after signing in on the hosted page', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${appUrl}/login`);
      await signInOnHostedPage(page, {
        emulatorDomain: pool.emulator.domain,
        username: 'alice',
        landing: `${appUrl}/claims`,
      });
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
