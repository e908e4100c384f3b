// `npm run bench` (part 2): the cookie budget. Signs in to the Express example app on loopback
// against the emulator and prints, per kind of session, how many bytes the browser is sent
// (Set-Cookie at the callback and at a refresh) and sends back (the Cookie header of the session):
// a typical session (the demo user alice), sessions whose ID token is ~4 KB and ~6 KB (groups and
// custom attributes, as real pools grow them), and the same sessions kept in a session store.
//
// Limits to compare with: a browser drops any cookie over 4,096 bytes (name, value and
// attributes); nginx refuses a Cookie header over 8 KB by default; API Gateway caps the request
// line and headers at 10,240 bytes. Run alone: `npx tsx bench/cookie-budget.ts`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExampleApp } from '../examples/express/app.js';
import { MemorySessionStore } from '../src/index.js';
import { startEmulator, type EmulatorHandle } from '../src/emulator/index.js';
import { TestBrowser } from '../test/support/browser.js';
import { guardOptions, registerClient } from '../test/support/pool.js';
import { login } from '../test/support/sign-in.js';
import {
  isSessionCookie,
  sessionCookieHeaderBytes,
  userWithIdTokenOf,
} from '../test/support/sessions.js';

interface Row {
  readonly session: string;
  readonly mode: string;
  readonly idToken: number;
  readonly accessToken: number;
  readonly cookies: number;
  readonly largestSetCookie: number;
  readonly callbackSetCookie: number;
  readonly refreshSetCookie: number;
  readonly cookieHeader: number;
}

const bytes = (headers: readonly string[]): number =>
  headers.reduce((sum, header) => sum + Buffer.byteLength(header), 0);

async function measure(
  emulator: EmulatorHandle,
  session: string,
  username: string,
  mode: 'cookies' | 'store',
): Promise<Row> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  registerClient(emulator, url);
  const app = createExampleApp(
    guardOptions(emulator, url, mode === 'store' ? { sessionStore: new MemorySessionStore() } : {}),
  );
  server.on('request', app);
  try {
    const browser = new TestBrowser();
    const callback = await login(browser, url, username);
    if (callback.status !== 302) throw new Error(`${session}: sign-in answered ${callback.status}`);
    const sessionSetCookies = callback.setCookies.filter((c) => isSessionCookie(c.split('=')[0]!));
    const cookieHeader = sessionCookieHeaderBytes(browser, url);
    const refresh = await browser.request(`${url}/refresh`, { method: 'POST' });
    if (refresh.status !== 303) throw new Error(`${session}: refresh answered ${refresh.status}`);
    const idToken = await emulator.mintToken({ use: 'id', username, clientId: 'test-client' });
    const accessToken = await emulator.mintToken({
      use: 'access',
      username,
      clientId: 'test-client',
    });
    return {
      session,
      mode,
      idToken: idToken.length,
      accessToken: accessToken.length,
      cookies: sessionSetCookies.filter((c) => !/Max-Age=0/i.test(c)).length,
      largestSetCookie: Math.max(...callback.setCookies.map((c) => Buffer.byteLength(c))),
      callbackSetCookie: bytes(callback.setCookies),
      refreshSetCookie: bytes(refresh.setCookies),
      cookieHeader,
    };
  } finally {
    await app.cognito.guard.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}

const emulator = await startEmulator({ port: 0 });
const rows: Row[] = [];
try {
  // The demo pool's alice: the admin group, e-mail and name. The other two grow their ID token.
  await userWithIdTokenOf(emulator, 'erin4k', 4 * 1024, 'test-client');
  await userWithIdTokenOf(emulator, 'erin6k', 6 * 1024, 'test-client');
  for (const mode of ['cookies', 'store'] as const) {
    rows.push(await measure(emulator, 'typical (alice)', 'alice', mode));
    rows.push(await measure(emulator, 'ID token ~4 KB', 'erin4k', mode));
    rows.push(await measure(emulator, 'ID token ~6 KB', 'erin6k', mode));
  }
} finally {
  await emulator.stop();
}

const header = [
  'session',
  'mode',
  'ID token',
  'access token',
  'cookies',
  'largest Set-Cookie',
  'callback Set-Cookie',
  'refresh Set-Cookie',
  'Cookie header',
];
const table = [
  header,
  ...rows.map((r) => [
    r.session,
    r.mode,
    String(r.idToken),
    String(r.accessToken),
    String(r.cookies),
    String(r.largestSetCookie),
    String(r.callbackSetCookie),
    String(r.refreshSetCookie),
    String(r.cookieHeader),
  ]),
];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
console.log('\nCookie budget (bytes; Cookie header = the session cookies a browser sends back)\n');
for (const [index, row] of table.entries()) {
  console.log(`| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`);
  if (index === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
const worst = Math.max(...rows.map((r) => r.largestSetCookie));
console.log(
  `\nlargest single Set-Cookie: ${worst} bytes (browser limit 4096); nginx default Cookie limit 8192, API Gateway 10240 for request line + headers`,
);
