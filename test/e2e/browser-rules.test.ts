/**
 * What real Chromium sends, against the library's browser rules:
 *
 * - an app behind `helmet()` (Referrer-Policy: no-referrer, CSP `form-action 'self'`): its
 *   refresh and sign-out buttons post with `Origin: null`, and the sign-out must still reach
 *   Cognito's site;
 * - `<link rel="prefetch">` of /logout sends `Sec-Purpose: prefetch` and must not sign out;
 * - our own confirmation page (reached from another site) signs out with its button, while a
 *   cross-site form POST is refused;
 * - with `SameSite=Strict` cookies, the sign-in that comes back from Cognito's site lands signed in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import express from 'express';
import helmet from 'helmet';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { guardOptions, registerClient } from '../support/pool.js';
import { freePort, serve, serveBuilt, type RunningServer } from '../support/http.js';
import { findSystemComponent, launchChromium, signInOnHostedPage } from '../support/system.js';

// Without chromium the suite skips, saying how to install it (CI, in --require-all mode, fails).
const { skip } = findSystemComponent('chromium');

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** The example app behind helmet(), plus an /account page with the two buttons and a prefetch. */
function startHelmetApp(emulator: EmulatorHandle, seen: Seen[]): Promise<RunningServer> {
  return serveBuilt((url) => {
    registerClient(emulator, url);
    const app = express();
    app.use((req, _res, next) => {
      seen.push({ method: req.method, path: req.path, headers: req.headers });
      next();
    });
    app.use(helmet());
    app.get('/account', (_req, res) => {
      res
        .type('html')
        .send(
          '<!doctype html><html lang="en"><head><title>Account</title><link rel="prefetch" href="/logout"></head><body>' +
            '<form method="post" action="/refresh"><button>Refresh</button></form>' +
            '<form method="post" action="/logout"><button>Sign out</button></form></body></html>',
        );
    });
    app.use(createExampleApp(guardOptions(emulator, url)));
    return app;
  });
}

/** A page on another site (localhost, while the app is on 127.0.0.1). */
async function startOtherSite(appUrl: string): Promise<RunningServer> {
  const site = await serve((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(
      `<!doctype html><html lang="en"><head><title>Other site</title></head><body>` +
        `<a href="${appUrl}/logout">Sign out of the app</a>` +
        `<form method="post" action="${appUrl}/logout"><button>Forged sign-out</button></form>` +
        `</body></html>`,
    );
  });
  return { ...site, url: `http://localhost:${site.port}` };
}

async function signIn(page: Page, appUrl: string, emulatorOrigin: string): Promise<void> {
  await page.goto(`${appUrl}/login`);
  await signInOnHostedPage(page, {
    emulatorDomain: emulatorOrigin,
    username: 'alice',
    landing: `${appUrl}/claims`,
  });
}

async function claimsStatus(context: BrowserContext, appUrl: string): Promise<number> {
  const response = await context.request.get(`${appUrl}/claims`, {
    headers: { accept: 'application/json' },
  });
  return response.status();
}

describe('browser rules in real Chromium', { skip }, () => {
  let browser: Browser;
  let emulator: EmulatorHandle;
  let app: RunningServer;
  let other: RunningServer;
  const seen: Seen[] = [];

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    app = await startHelmetApp(emulator, seen);
    other = await startOtherSite(app.url);
    browser = await launchChromium();
  });
  after(async () => {
    try {
      await browser.close();
    } finally {
      await app.stop();
      await other.stop();
      await emulator.stop();
    }
  });

  it('behind helmet(): the refresh and sign-out buttons work (Chromium posts Origin: null), and a prefetch signs nobody out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, app.url, emulator.domain);

    await page.goto(`${app.url}/account`);
    // The page's <link rel="prefetch" href="/logout"> reaches the server as a speculative request.
    await page.waitForTimeout(500);
    const prefetch = seen.find((s) => s.path === '/logout' && s.method === 'GET');
    assert.ok(prefetch, 'Chromium prefetched /logout');
    assert.equal(prefetch.headers['sec-purpose'], 'prefetch');
    assert.equal(await claimsStatus(context, app.url), 200, 'the prefetch did not sign out');

    await Promise.all([
      page.waitForURL(`${app.url}/claims`),
      page.getByRole('button', { name: 'Refresh' }).click(),
    ]);
    const refresh = seen.find((s) => s.path === '/refresh');
    assert.equal(refresh?.headers.origin, 'null', 'Chromium sent Origin: null');
    assert.equal(refresh.headers['sec-fetch-site'], 'same-origin');
    assert.match(await page.locator('body').innerText(), /"username":"alice"/);

    await page.goto(`${app.url}/account`);
    await Promise.all([
      page.waitForURL(`${app.url}/`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    assert.ok(
      seen.some((s) => s.path === '/postlogout'),
      'Cognito sent the browser back to the logout URL',
    );
    assert.equal(await claimsStatus(context, app.url), 401, 'signed out');
    await context.close();
  });

  it('our confirmation page (reached from another site) signs out with its button; a cross-site form POST is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, app.url, emulator.domain);

    await page.goto(other.url);
    const [forged] = await Promise.all([
      page.waitForResponse(`${app.url}/logout`),
      page.getByRole('button', { name: 'Forged sign-out' }).click(),
    ]);
    assert.equal(forged.status(), 403);
    assert.equal(await claimsStatus(context, app.url), 200, 'still signed in');

    await page.goto(other.url);
    await page.getByRole('link', { name: 'Sign out of the app' }).click();
    await page.waitForURL(`${app.url}/logout`);
    assert.equal(await page.title(), 'Sign out?');
    await Promise.all([
      page.waitForURL(`${app.url}/`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    assert.equal(await claimsStatus(context, app.url), 401, 'signed out');
    await context.close();
  });

  it('with SameSite=Strict cookies, the sign-in that returns from Cognito on another site lands signed in', async () => {
    // The emulator on localhost, the app on 127.0.0.1: two sites, as Cognito and an app are.
    const emulatorPort = await freePort();
    const remote = await startEmulator({
      port: emulatorPort,
      origin: `http://localhost:${emulatorPort}`,
    });
    const server = await serveBuilt((url) => {
      registerClient(remote, url);
      return createExampleApp(
        guardOptions(remote, url, {
          cookieSameSite: 'Strict',
          // The server reaches the emulator on 127.0.0.1, the browser on localhost.
          internalDomain: `http://127.0.0.1:${emulatorPort}`,
        }),
      );
    });
    const { url } = server;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, url, remote.domain);
      await page.waitForLoadState('load');
      assert.match(await page.locator('body').innerText(), /"username":"alice"/);
      const cookie = (await context.cookies(url)).find((c) => c.name === 'cognito_access_token');
      assert.equal(cookie?.sameSite, 'Strict');
    } finally {
      await context.close();
      await server.stop();
      await remote.stop();
    }
  });
});
