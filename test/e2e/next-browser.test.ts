/**
 * The Next.js example in a real browser (Debian's chromium through playwright-core), under
 * `next start`, with three-second tokens: sign in on the emulator's hosted page, view the Server
 * Component page, wait until the access token has expired, view it again — the proxy refreshes
 * the session, and the page rendered for that same request shows the new token, which is also
 * the one the browser now holds — then sign out.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { startTestPool, type TestPool } from '../../src/testing/index.js';
import type { RunningNextApp } from '../../examples/next/run.js';
import { freePort } from '../support/http.js';
import { startNextApp } from '../next/apps.js';
import { findSystemComponent, launchChromium, signInOnHostedPage } from '../support/system.js';

const TOKEN_SECONDS = 3;

/** The access token the profile page rendered: its id, its sign-in's id, and its expiry. */
async function renderedToken(
  page: Page,
  context: BrowserContext,
  appUrl: string,
): Promise<{ id: string; origin: unknown; exp: number }> {
  const id = (await page.locator('[data-token-id]').getAttribute('data-token-id')) ?? '';
  const held = (await context.cookies(appUrl)).find((c) => c.name === 'cognito_access_token');
  return {
    id,
    origin: held === undefined ? undefined : decodeJwt(held.value).origin_jti,
    exp: Number(await page.locator('#token-exp').innerText()),
  };
}

const { skip } = findSystemComponent('chromium');

describe('real browser (chromium, Next.js example)', { skip }, () => {
  let pool: TestPool;
  let app: RunningNextApp;
  let appUrl: string;
  let browser: Browser;

  before(async () => {
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    pool = await startTestPool({
      appUrl,
      appClient: {
        accessTokenValiditySeconds: TOKEN_SECONDS,
        idTokenValiditySeconds: TOKEN_SECONDS,
      },
      // Refresh only once the access token has expired (no margin before it).
      env: { AWS_COGNITO_AUTO_REFRESH_MARGIN_SECONDS: '0' },
    });
    app = await startNextApp('proxy', pool.env, port);
    browser = await launchChromium();
  });

  after(async () => {
    try {
      await browser.close();
    } finally {
      await app.stop();
      await pool.stop();
    }
  });

  it('signs in, sees the Server Component page, still sees it after the access token expired (refreshed in the proxy, rendered with the new token), and signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();

    // Signed out, the page sends the browser to sign in, and sign-in comes back to it.
    await page.goto(`${appUrl}/profile`);
    await signInOnHostedPage(page, {
      emulatorDomain: pool.emulator.domain,
      username: 'alice',
      landing: `${appUrl}/profile`,
    });
    assert.equal(await page.locator('h1').innerText(), 'Signed in as alice');
    assert.equal(await page.locator('#groups').innerText(), 'admin');
    const first = await renderedToken(page, context, appUrl);
    assert.ok(first.origin !== undefined);

    // Past the access token's lifetime (at most TOKEN_SECONDS of waiting).
    const wait = first.exp * 1000 + 250 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

    const again = await page.goto(`${appUrl}/profile`);
    assert.equal(again?.status(), 200, 'still signed in');
    // Not a new sign-in behind the scenes (the emulator would sign the browser in again without
    // a password): the page answered this very request.
    assert.equal(again.request().redirectedFrom(), null, 'no redirect to sign in');
    const second = await renderedToken(page, context, appUrl);
    assert.notEqual(second.id, first.id, 'the page rendered with a new access token');
    assert.ok(second.exp * 1000 > Date.now(), 'one that has not expired');
    const held = (await context.cookies(appUrl)).find((c) => c.name === 'cognito_access_token');
    assert.ok(held !== undefined);
    assert.equal(decodeJwt(held.value).jti, second.id, 'the one the browser now holds');
    assert.equal(
      decodeJwt(held.value).origin_jti,
      first.origin,
      'a refresh of the same sign-in, not a new one',
    );
    assert.equal(held.httpOnly, true);

    // Sign out from the page: cookies cleared, Cognito's session ended, back home.
    await Promise.all([
      page.waitForURL(`${appUrl}/`),
      page.getByRole('link', { name: 'Log out' }).click(),
    ]);
    const left = (await context.cookies(appUrl)).filter(
      (c) => c.name.startsWith('cognito_') && !c.name.startsWith('cognito_emulator'),
    );
    assert.deepEqual(left, []);
    await page.goto(`${appUrl}/profile`);
    await page.waitForURL((url) => url.href.startsWith(pool.emulator.domain));
    assert.equal(await page.getByLabel(/password/i).count(), 1, 'signing in asks again');
    await context.close();
  });
});
