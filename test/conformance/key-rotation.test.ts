/**
 * A key rotation right after junk `kid`s, on every adapter: the unknown-kid cooldown must not fail
 * fresh logins, whose tokens come straight from the token endpoint — and must still hold for
 * presented junk. JWKS downloads are counted from the emulator's request log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { TestBrowser } from '../support/browser.js';
import { startRecordingEmulator, type RecordingEmulator } from '../support/pool.js';
import { login } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`key rotation during the unknown-kid cooldown (${adapter.name})`, () => {
    let pool: RecordingEmulator;
    let app: ConformanceApp;
    before(async () => {
      pool = await startRecordingEmulator();
      app = await startConformanceApp(adapter, pool.emulator);
    });
    after(async () => {
      try {
        await app.stop();
      } finally {
        await pool.emulator.stop();
      }
    });

    /** Presents an access token signed by a key the pool never published. */
    const presentJunkKid = async (): Promise<Response> => {
      const junk = await pool.emulator.mintToken({
        use: 'access',
        clientId: app.clientId,
        key: 'unpublished',
      });
      return fetch(`${app.url}/claims`, {
        headers: { cookie: `cognito_access_token=${junk}`, accept: 'application/json' },
      });
    };

    it('a login signed by a just-rotated key succeeds; a presented junk kid still gets 401 without a refetch', async () => {
      const warm = new TestBrowser();
      await login(warm, app.url, 'alice');
      assert.equal(pool.jwksFetches(), 1, 'the first login downloads the JWKS once');

      // A junk kid from a client: one refetch (it might have been a rotation), then the cooldown.
      const first = await presentJunkKid();
      assert.equal(first.status, 401);
      assert.equal(pool.jwksFetches(), 2, 'the first unknown kid refetches once');
      const second = await presentJunkKid();
      assert.equal(second.status, 401);
      assert.equal(pool.jwksFetches(), 2, 'a second junk kid inside the cooldown does not refetch');

      await pool.emulator.rotateKeys();
      const browser = new TestBrowser();
      const callback = await login(browser, app.url, 'bob');
      assert.equal(callback.status, 302, 'the fresh login verified against the rotated key');
      assert.equal(callback.location, `${app.url}/claims`);
      assert.equal(
        pool.jwksFetches(),
        3,
        'tokens from the token endpoint may refetch during the cooldown',
      );
      assert.equal((await browser.request(`${app.url}/claims`)).status, 200);

      // Presented junk is still held by the cooldown after that trusted refetch.
      const after = await presentJunkKid();
      assert.equal(after.status, 401);
      assert.equal(((await after.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      assert.equal(pool.jwksFetches(), 3, 'a presented junk kid gets 401 without a refetch');
    });
  });
}
