/**
 * The cookie budget behind API Gateway: its quota on the request line plus headers is 10,240
 * bytes (HTTP API and REST alike), refused before the function runs. A typical signed-in
 * browser request — a user in several groups with the usual attributes, Chrome's own headers,
 * the session cookies of a real sign-in through the Lambda example — must fit, with room to
 * spare; the margin is printed for the cookie-budget work (session store, split cookies).
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { DEMO_PASSWORD } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { TestBrowser } from '../support/browser.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';
import { SESSION_COOKIES, cookieHeader } from '../support/cookies.js';

const API_GATEWAY_QUOTA_BYTES = 10_240;

/** What Chrome sends with a top-level navigation, besides Host and Cookie. */
const CHROME_HEADERS: Record<string, string> = {
  connection: 'keep-alive',
  'sec-ch-ua': '"Chromium";v="131", "Not_A Brand";v="24", "Google Chrome";v="131"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Windows"',
  'upgrade-insecure-requests': '1',
  'user-agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept:
    'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-user': '?1',
  'sec-fetch-dest': 'document',
  referer: 'https://app.example.com/',
  'accept-encoding': 'gzip, deflate, br, zstd',
  'accept-language': 'en-GB,en-US;q=0.9,en;q=0.8',
};

describe('the cookie budget behind API Gateway (10,240 bytes of request line and headers)', () => {
  let emulator: EmulatorHandle;
  let app: ConformanceApp;
  const lambda = ADAPTERS.find((adapter) => adapter.name === 'lambda')!;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
    emulator.addUser({
      username: 'dana.fernandez-whitaker',
      password: DEMO_PASSWORD,
      email: 'dana.fernandez-whitaker@engineering.example.com',
      phoneNumber: '+447700900123',
      attributes: {
        name: 'Dana Fernández-Whitaker',
        given_name: 'Dana',
        family_name: 'Fernández-Whitaker',
        locale: 'en-GB',
        'custom:tenant': 'acme-industries-europe',
        'custom:role': 'regional-billing-administrator',
      },
      groups: ['admin', 'editor', 'billing-eu', 'support-tier-2'],
    });
    app = await startConformanceApp(lambda, emulator);
  });
  after(async () => {
    await app.stop();
    await emulator.stop();
  });

  it('a typical session fits, with the margin printed for the cookie-budget work', async (t) => {
    const browser = new TestBrowser();
    const signedIn = await login(browser, app.url, 'dana.fernandez-whitaker');
    assert.equal(signedIn.status, 302);
    // The app's cookies only: the emulator shares the host here, but Cognito's domain is another.
    const session = [...browser.cookiesFor(app.url)].filter(
      ([name]) => !name.startsWith('cognito_emulator_'),
    );
    const cookie = cookieHeader(new Map(session));
    for (const name of SESSION_COOKIES) {
      assert.ok(cookie.includes(`${name}=`), `${name} in the session`);
    }
    const host = new URL(app.url).host;
    const requestLine = 'GET /claims HTTP/1.1';
    const headers = { host, ...CHROME_HEADERS, cookie };
    // AWS counts the request line and header values; names and separators are counted too here,
    // so the margin is a lower bound.
    const headBytes =
      Buffer.byteLength(`${requestLine}\r\n`) +
      Object.entries(headers).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(`${name}: ${value}\r\n`),
        0,
      );
    const sizes = Object.fromEntries(
      session.map(([name, value]) => [name, name.length + 1 + value.length]),
    );
    t.diagnostic(
      `cookie header ${Buffer.byteLength(cookie)} bytes ${JSON.stringify(sizes)}; request head ${headBytes} of ${API_GATEWAY_QUOTA_BYTES} bytes, ${API_GATEWAY_QUOTA_BYTES - headBytes} to spare`,
    );
    assert.ok(headBytes <= API_GATEWAY_QUOTA_BYTES, `request head ${headBytes} bytes`);
    // Leave room for cookies of the app's own and of other apps on the same site.
    assert.ok(
      API_GATEWAY_QUOTA_BYTES - headBytes >= 2048,
      `only ${API_GATEWAY_QUOTA_BYTES - headBytes} bytes to spare`,
    );

    // The same request through the bridge, which enforces the quota: it reaches the handler.
    const response = await fetch(`${app.url}/claims`, {
      headers: { ...CHROME_HEADERS, cookie, accept: 'application/json' },
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { claims: { 'cognito:groups': string[] } };
    assert.equal(body.claims['cognito:groups'].length, 4);
  });
});
