/**
 * `cognito-guard/web` really runs outside Node: the Worker example, bundled for a runtime without
 * Node's modules, in workerd (Cloudflare's runtime, without `nodejs_compat`), against the emulator
 * on loopback. The conformance suite runs every behaviour test against it too; here is the whole
 * sign-in life cycle in one place, and what is particular to Workers: no Node module in the
 * bundle, and one isolate serving concurrent requests that share a key fetch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { bundleWorker } from '../../examples/workers/workerd.js';
import { login } from '../support/sign-in.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';
import { startRecordingEmulator, type RecordingEmulator } from '../support/pool.js';
import { cookieNames, SESSION_COOKIES } from '../support/cookies.js';

const workerd = ADAPTERS.find((adapter) => adapter.name === 'workerd');

describe('the Worker example in workerd', () => {
  let recording: RecordingEmulator;
  let emulator: EmulatorHandle;
  let app: ConformanceApp;

  before(async () => {
    assert.ok(workerd, 'the conformance harness runs the Worker in workerd');
    recording = await startRecordingEmulator();
    emulator = recording.emulator;
    app = await startConformanceApp(workerd, emulator);
  });
  after(async () => {
    await app.stop();
    await emulator.stop();
  });

  it('bundles without a single Node module', async () => {
    const bundle = await bundleWorker();
    assert.ok(bundle.includes('cognito_access_token'), 'the core is in the bundle');
    assert.doesNotMatch(bundle, /\b(from|import|require)\s*\(?\s*["']node:/);
    assert.doesNotMatch(bundle, /\brequire\s*\(/, 'no CommonJS loading left for the runtime');
  });

  it('login, callback, protected routes, refresh and logout', async () => {
    const browser = new TestBrowser();
    const started = await browser.request(`${app.url}/login?returnTo=/edit`);
    assert.equal(started.status, 302);
    assert.ok(started.location?.startsWith(`${emulator.domain}/oauth2/authorize?`));
    assert.match(started.setCookies[0] ?? '', /^cognito_txn_[\w-]+=.+; HttpOnly; SameSite=Lax$/);

    const callback = await login(browser, app.url, 'bob', undefined, '/login?returnTo=/edit');
    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${app.url}/edit`, 'back where the sign-in started');
    for (const name of SESSION_COOKIES) {
      assert.ok(cookieNames(callback.setCookies).includes(name), `${name} was set`);
    }
    for (const cookie of callback.setCookies) {
      assert.equal(cookie.match(/HttpOnly/g)?.length, 1, 'one cookie per Set-Cookie header');
    }

    const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
    assert.equal(claims.status, 200);
    assert.equal(JSON.parse(claims.body).claims.username, 'bob');
    assert.equal(JSON.parse(claims.body).user_info.email, 'bob@example.com');
    const edit = await browser.request(`${app.url}/edit`, { headers: JSON_ACCEPT });
    assert.deepEqual([edit.status, JSON.parse(edit.body)], [200, ['editor']]);
    const admin = await browser.request(`${app.url}/admin`, { headers: JSON_ACCEPT });
    assert.equal(admin.status, 403, 'bob is not in the admin group');

    const before = browser.cookie(app.url, 'cognito_access_token');
    const refreshed = await browser.request(`${app.url}/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 303);
    assert.equal(refreshed.location, `${app.url}/claims`);
    assert.notEqual(browser.cookie(app.url, 'cognito_access_token'), before, 'new tokens');
    assert.equal(
      (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status,
      200,
    );

    const revocations = recording.count('/oauth2/revoke');
    const signedOut = await browser.request(`${app.url}/logout`, {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(signedOut.status, 302);
    assert.ok(signedOut.location?.startsWith(`${emulator.domain}/logout?`));
    assert.equal(
      recording.count('/oauth2/revoke'),
      revocations + 1,
      'the refresh token was revoked',
    );
    for (const name of SESSION_COOKIES) assert.equal(browser.cookie(app.url, name), undefined);
    const after = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
    assert.equal(after.status, 401);
  });

  it('concurrent requests with new tokens share one key fetch, across request contexts', async () => {
    const clientId = app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!;
    await emulator.rotateKeys('access');
    const tokens = await Promise.all(
      Array.from({ length: 12 }, () => emulator.mintToken({ use: 'access', clientId })),
    );
    const fetches = recording.jwksFetches();
    const statuses = await Promise.all(
      tokens.map(
        async (token) =>
          (
            await fetch(`${app.url}/api/me`, {
              headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
            })
          ).status,
      ),
    );
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(
      recording.jwksFetches(),
      fetches + 1,
      'one fetch for the new key, not one per request',
    );
  });

  it('a key fetch begun by a request whose client went away still answers the requests waiting on it', async () => {
    const clientId = app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!;
    await emulator.rotateKeys('access');
    const [first, second] = await Promise.all([
      emulator.mintToken({ use: 'access', clientId }),
      emulator.mintToken({ use: 'access', clientId }),
    ]);
    const fetches = recording.jwksFetches();
    emulator.setFault('jwks', { delayMs: 800, times: 1 });
    const request = (token: string, signal?: AbortSignal) =>
      fetch(`${app.url}/api/me`, {
        headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
        ...(signal === undefined ? {} : { signal }),
      });
    const gone = new AbortController();
    const abandoned = request(first, gone.signal).then(
      () => 'answered',
      () => 'aborted',
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    const waiting = request(second);
    await new Promise((resolve) => setTimeout(resolve, 150));
    gone.abort();
    assert.equal(await abandoned, 'aborted');
    const answered = await waiting;
    assert.equal(answered.status, 200);
    assert.equal(JSON.parse(await answered.text()).sub, emulator.users()[0]?.sub);
    assert.equal(recording.jwksFetches(), fetches + 1, 'both waited on the one (slow) key fetch');
  });
});
