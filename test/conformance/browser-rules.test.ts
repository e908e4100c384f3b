/**
 * Requests shaped like real browsers send them: `Origin: null` from our own no-referrer pages,
 * `Sec-Fetch-Site` from every modern browser, speculative loads (prefetch, prerender, link
 * preview), an `Authorization` header that belongs to a proxy, cookies planted from a sibling
 * domain, a request line in absolute form, and a Cookie header filled by unfinished sign-ins.
 * Run against every adapter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { type BrowserResponse, TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { login } from '../support/sign-in.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';
import { SESSION_COOKIES } from '../support/cookies.js';
import { startRecordingEmulator, type RecordingEmulator } from '../support/pool.js';

const SPECULATIVE_HEADERS: readonly Record<string, string>[] = [
  { 'sec-purpose': 'prefetch' },
  { 'sec-purpose': 'prefetch;prerender' },
  { purpose: 'prefetch' },
  { 'x-purpose': 'preview' },
  { 'x-moz': 'prefetch' },
];

function errorCode(response: BrowserResponse): unknown {
  return (JSON.parse(response.body) as { error?: unknown }).error;
}

for (const adapter of ADAPTERS) {
  describe(`browser-shaped requests (${adapter.name})`, () => {
    let recording: RecordingEmulator;
    let emulator: EmulatorHandle;
    let app: ConformanceApp;
    const calls = (path: string): number => recording.count(path);

    before(async () => {
      recording = await startRecordingEmulator();
      emulator = recording.emulator;
      app = await startConformanceApp(adapter, emulator);
    });
    after(async () => {
      await app.stop();
      await emulator.stop();
    });

    const claimsStatus = async (browser: TestBrowser): Promise<number> =>
      (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status;

    it('POST /refresh and /logout from our own no-referrer page (Origin: null, Sec-Fetch-Site: same-origin) work', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      const fromOwnPage = { origin: 'null', 'sec-fetch-site': 'same-origin' };
      const refreshed = await browser.request(`${app.url}/refresh`, {
        method: 'POST',
        headers: fromOwnPage,
      });
      assert.equal(refreshed.status, 303, 'the refresh went through to the route handler');
      assert.equal(refreshed.location, `${app.url}/claims`);
      assert.equal(await claimsStatus(browser), 200);
      const signedOut = await browser.request(`${app.url}/logout`, {
        method: 'POST',
        headers: fromOwnPage,
      });
      // A form POST ends on a page of ours that continues to Cognito's logout (a redirect to
      // another site after a form POST is blocked by CSP form-action 'self', helmet's default).
      assert.equal(signedOut.status, 200);
      const target = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(
        signedOut.body,
      )?.[1];
      assert.ok(target?.replaceAll('&amp;', '&').startsWith(`${emulator.domain}/logout?`));
      assert.equal(await claimsStatus(browser), 401);
    });

    it('Sec-Fetch-Site decides when present: same-site or cross-site is refused even with our Origin; Origin decides only without it', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'bob');
      const tokenCalls = calls('/oauth2/token');
      const revokeCalls = calls('/oauth2/revoke');
      for (const headers of [
        { 'sec-fetch-site': 'same-site', origin: app.url },
        { 'sec-fetch-site': 'cross-site', origin: app.url },
        { origin: 'null' },
        { origin: 'https://evil.example' },
      ]) {
        for (const path of ['/refresh', '/logout']) {
          const refused = await browser.request(`${app.url}${path}`, {
            method: 'POST',
            headers: { ...headers, ...JSON_ACCEPT },
          });
          assert.equal(refused.status, 403, `${path} ${JSON.stringify(headers)}`);
          assert.equal(errorCode(refused), 'ERR_CROSS_SITE_REQUEST');
          assert.deepEqual(refused.setCookies, [], 'no cookie changes');
        }
      }
      assert.equal(calls('/oauth2/token'), tokenCalls, 'no refresh reached Cognito');
      assert.equal(calls('/oauth2/revoke'), revokeCalls, 'nothing was revoked');
      assert.equal(await claimsStatus(browser), 200, 'still signed in');
      // A client that sends neither header (curl, a server) cannot be a CSRF victim.
      const plain = await browser.request(`${app.url}/refresh`, { method: 'POST' });
      assert.equal(plain.status, 303);
    });

    it('a speculative GET /logout (prefetch, prerender, preview) is declined with 503 and changes nothing', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      const revokeCalls = calls('/oauth2/revoke');
      for (const purpose of SPECULATIVE_HEADERS) {
        const response = await browser.request(`${app.url}/logout`, {
          headers: { ...purpose, 'sec-fetch-site': 'same-origin', ...JSON_ACCEPT },
        });
        assert.equal(response.status, 503, JSON.stringify(purpose));
        assert.equal(errorCode(response), 'ERR_SPECULATIVE_REQUEST');
        assert.deepEqual(response.setCookies, [], 'no cookie is cleared');
      }
      assert.equal(calls('/oauth2/revoke'), revokeCalls, 'nothing was revoked');
      assert.equal(await claimsStatus(browser), 200, 'still signed in');
      const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
      assert.equal(refreshed.status, 303, 'the refresh token is still alive');
      const real = await browser.request(`${app.url}/logout`, {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(real.status, 302, 'the real navigation signs out');
      assert.equal(calls('/oauth2/revoke'), revokeCalls + 1);
    });

    it('a speculative /login sets no transaction cookie, and a prefetched callback does not burn the code', async () => {
      const browser = new TestBrowser();
      for (const purpose of SPECULATIVE_HEADERS) {
        const response = await browser.request(`${app.url}/login`, { headers: purpose });
        assert.equal(response.status, 503, JSON.stringify(purpose));
        assert.deepEqual(response.setCookies, []);
      }
      const page = await browser.follow(`${app.url}/login`);
      const form = /action="([^"]+)"/.exec(page.body)?.[1]?.replaceAll('&amp;', '&');
      assert.ok(form !== undefined, 'the hosted login page');
      const fields = Object.fromEntries(
        [...page.body.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      const submitted = await browser.request(new URL(form, page.url).href, {
        form: { ...fields, username: 'carol', password: 'Passw0rd!' },
      });
      const callbackUrl = submitted.location!;
      const tokenCalls = calls('/oauth2/token');
      const prefetched = await browser.request(callbackUrl, {
        headers: { 'sec-purpose': 'prefetch', ...JSON_ACCEPT },
      });
      assert.equal(prefetched.status, 503);
      assert.deepEqual(prefetched.setCookies, [], 'the transaction cookie survives');
      assert.equal(calls('/oauth2/token'), tokenCalls, 'the code was not redeemed');
      const completed = await browser.request(callbackUrl);
      assert.equal(completed.status, 302, 'the real callback completes the sign-in');
      assert.equal(await claimsStatus(browser), 200);
    });

    it('a non-Bearer Authorization header (HTTP Basic of a staging proxy) is ignored; a malformed Bearer is 401', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      for (const authorization of [
        'Basic c3RhZ2luZzpzZWNyZXQ=',
        'Digest username="x"',
        'Negotiate abc',
      ]) {
        const response = await browser.request(`${app.url}/claims`, {
          headers: { authorization, ...JSON_ACCEPT },
        });
        assert.equal(response.status, 200, authorization);
      }
      for (const authorization of ['Bearer', 'Bearer not a token', 'bearer ###']) {
        const response = await browser.request(`${app.url}/claims`, {
          headers: { authorization, ...JSON_ACCEPT },
        });
        assert.equal(response.status, 401, authorization);
        assert.equal(errorCode(response), 'ERR_TOKEN_INVALID');
      }
      const access = browser.cookie(app.url, 'cognito_access_token')!;
      const bearer = await fetch(`${app.url}/claims`, {
        headers: { authorization: `Bearer ${access}`, ...JSON_ACCEPT },
      });
      assert.equal(bearer.status, 200, 'a Bearer access token alone is accepted');
    });

    it('logout revokes every refresh token presented: a planted duplicate does not shield the user', async () => {
      const victim = new TestBrowser();
      await login(victim, app.url, 'alice');
      const attacker = new TestBrowser();
      await login(attacker, app.url, 'carol');
      const own = victim.cookie(app.url, 'cognito_refresh_token')!;
      const planted = attacker.cookie(app.url, 'cognito_refresh_token')!;
      const others = ['cognito_access_token', 'cognito_id_token']
        .map((name) => `${name}=${victim.cookie(app.url, name)!}`)
        .join('; ');
      const revokeCalls = calls('/oauth2/revoke');
      // A cookie set by a sibling domain with Path=/logout is sent first.
      const response = await fetch(`${app.url}/logout`, {
        headers: {
          cookie: `cognito_refresh_token=${planted}; ${others}; cognito_refresh_token=${own}`,
          'sec-fetch-site': 'same-origin',
        },
        redirect: 'manual',
      });
      assert.equal(response.status, 302);
      assert.equal(calls('/oauth2/revoke'), revokeCalls + 2, 'both refresh tokens were revoked');
      const refreshWithOwn = await fetch(`${app.url}/refresh`, {
        method: 'POST',
        headers: { cookie: `cognito_refresh_token=${own}`, ...JSON_ACCEPT },
        redirect: 'manual',
      });
      assert.equal(refreshWithOwn.status, 401, "the user's own refresh token is dead at Cognito");
    });

    it('the logout confirmation form posts to the route path, even for a request line in absolute form', async () => {
      const { port } = new URL(app.url);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET http://evil.example/logout HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
              'Sec-Fetch-Site: cross-site\r\nAccept: text/html\r\nConnection: close\r\n\r\n',
          );
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => {
          resolve(text);
        });
        socket.on('error', reject);
      });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
      if (status === 200) {
        assert.match(raw, /<form method="post" action="\/logout">/);
      } else {
        assert.equal(
          status,
          adapter.absoluteFormRefusal ?? 400,
          'a framework may refuse the absolute form outright',
        );
      }
      assert.doesNotMatch(raw, /action="[^"]*evil\.example/);
    });

    it('the HTML pages the library serves cannot be framed, and error pages are titled by status', async () => {
      const confirmation = await fetch(`${app.url}/logout`, {
        headers: { 'sec-fetch-site': 'cross-site', accept: 'text/html' },
      });
      const unauthenticated = await fetch(`${app.url}/claims`, {
        headers: { accept: 'text/html' },
      });
      const prefetch = await fetch(`${app.url}/logout`, {
        headers: { 'sec-purpose': 'prefetch', accept: 'text/html' },
      });
      for (const [response, status, title] of [
        [confirmation, 200, 'Sign out?'],
        [unauthenticated, 401, 'Sign-in required'],
        [prefetch, 503, 'Service unavailable'],
      ] as const) {
        assert.equal(response.status, status);
        assert.equal(response.headers.get('x-frame-options'), 'DENY', title);
        assert.match(
          response.headers.get('content-security-policy') ?? '',
          /frame-ancestors 'none'/,
        );
        assert.match(
          await response.text(),
          new RegExp(`<title>${title.replace('?', '\\?')}</title>`),
        );
      }
    });

    it('after any number of unfinished sign-ins (each with the longest returnTo) the Cookie header stays under 8 KB, and a later sign-in completes', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      // 4,000 characters before normalisation, ~500 after: the longest path the cap keeps.
      const longest = `/reports/${'a'.repeat(490)}`;
      // Behind API Gateway the 7 KB URL beside a full Cookie header is past the 10,240-byte
      // quota on the request line and headers, refused before the function runs: there the
      // longest kept path is sent as it is (the transaction cookies grow just as much).
      const crafted =
        adapter.requestHeadQuotaBytes === undefined
          ? `/x/..${'/.'.repeat(1700)}${longest}`
          : longest;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const started = await browser.request(
          `${app.url}/login?returnTo=${encodeURIComponent(crafted)}`,
        );
        assert.equal(started.status, 302);
        const header = browser.cookieHeader(app.url);
        assert.ok(
          Buffer.byteLength(header) <= 8192,
          `attempt ${attempt}: Cookie header ${Buffer.byteLength(header)} bytes`,
        );
        const pending = [...browser.cookiesFor(app.url).keys()].filter((name) =>
          name.includes('cognito_txn_'),
        );
        assert.ok(pending.length <= 3, `${pending.length} pending transactions`);
      }
      for (const name of SESSION_COOKIES) assert.ok(browser.cookie(app.url, name), `${name} kept`);
      // The hosted-UI session signs alice in again without a password, as Cognito does.
      const toCallback = await browser.follow(
        `${app.url}/login?returnTo=${encodeURIComponent(crafted)}`,
        { stopAt: (url) => url.startsWith(`${app.url}/postlogin`) },
      );
      const callback = await browser.request(toCallback.location!);
      assert.equal(callback.status, 302);
      assert.equal(callback.location, `${app.url}${longest}`, 'the normalised returnTo is kept');
      const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
      assert.equal(JSON.parse(claims.body).claims.username, 'alice');
    });

    it('a returnTo longer than 512 characters once normalised is dropped for the default page', async () => {
      const browser = new TestBrowser();
      const tooLong = `/reports/${'b'.repeat(520)}`;
      const callback = await login(
        browser,
        app.url,
        'carol',
        undefined,
        `/login?returnTo=${encodeURIComponent(tooLong)}`,
      );
      assert.equal(callback.status, 302);
      assert.equal(callback.location, `${app.url}/claims`);
    });
  });
}
