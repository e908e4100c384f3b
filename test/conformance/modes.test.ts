/**
 * The two modes beyond `required()`: `optional()` (an identity when signed in, never a 401) and
 * the API guard (`Authorization: Bearer` access tokens with scopes, configured by the pool and
 * client alone; cookies are not read). Run against every adapter's example app.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { login } from '../support/sign-in.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { ADAPTERS, type ConformanceApp, startConformanceApp } from '../support/adapters.js';

for (const adapter of ADAPTERS) {
  describe(`optional and API modes (${adapter.name})`, () => {
    let emulator: EmulatorHandle;
    let app: ConformanceApp;
    let clientId: string;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      app = await startConformanceApp(adapter, emulator);
      clientId = app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!;
    });
    after(async () => {
      await app.stop();
      await emulator.stop();
    });

    const whoami = async (headers: Record<string, string> = {}) => {
      const response = await fetch(`${app.url}/whoami`, {
        headers: { ...JSON_ACCEPT, ...headers },
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };

    it('optional(): anonymous and signed-in requests both pass; only a signed-in one has an identity', async () => {
      assert.deepEqual(await whoami(), { status: 200, body: { signedIn: false, username: null } });
      const browser = new TestBrowser();
      await login(browser, app.url, 'alice');
      const cookie = ['cognito_access_token', 'cognito_id_token']
        .map((name) => `${name}=${browser.cookie(app.url, name)!}`)
        .join('; ');
      assert.deepEqual(await whoami({ cookie }), {
        status: 200,
        body: { signedIn: true, username: 'alice' },
      });
      const now = Math.floor(Date.now() / 1000);
      const expired = await emulator.mintToken({
        use: 'access',
        clientId,
        username: 'alice',
        claims: { iat: now - 3700, auth_time: now - 3700, exp: now - 100 },
      });
      assert.deepEqual(await whoami({ cookie: `cognito_access_token=${expired}` }), {
        status: 200,
        body: { signedIn: false, username: null },
      });
    });

    it('the API guard accepts a Bearer access token with the scope, and ignores cookies', async () => {
      const browser = new TestBrowser();
      await login(browser, app.url, 'bob');
      const access = browser.cookie(app.url, 'cognito_access_token')!;
      const ok = await fetch(`${app.url}/api/me`, {
        headers: { authorization: `Bearer ${access}`, ...JSON_ACCEPT },
      });
      assert.equal(ok.status, 200);
      assert.match(((await ok.json()) as { scope: string }).scope, /\bemail\b/);

      const cookieOnly = await fetch(`${app.url}/api/me`, {
        headers: { cookie: `cognito_access_token=${access}`, ...JSON_ACCEPT },
      });
      assert.equal(cookieOnly.status, 401, 'an API does not read the session cookie');
      assert.match(cookieOnly.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      const html = await fetch(`${app.url}/api/me`, { headers: { accept: 'text/html' } });
      assert.equal(html.status, 401);
      assert.match(
        html.headers.get('content-type') ?? '',
        /^application\/json/,
        'an API answers JSON',
      );
    });

    it('the API guard refuses a token without the scope (403 insufficient_scope), an ID token, and another client', async () => {
      const narrow = await emulator.mintToken({
        use: 'access',
        clientId,
        username: 'bob',
        claims: { scope: 'openid profile' },
      });
      const forbidden = await fetch(`${app.url}/api/me`, {
        headers: { authorization: `Bearer ${narrow}`, ...JSON_ACCEPT },
      });
      assert.equal(forbidden.status, 403);
      assert.match(forbidden.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      for (const token of [
        await emulator.mintToken({ use: 'id', clientId, username: 'bob' }),
        await emulator.mintToken({ use: 'access', clientId: 'another-client', username: 'bob' }),
      ]) {
        const refused = await fetch(`${app.url}/api/me`, {
          headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
        });
        assert.equal(refused.status, 401);
        assert.equal(((await refused.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      }
    });
  });
}
