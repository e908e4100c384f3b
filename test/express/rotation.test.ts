/**
 * A key rotation right after junk `kid`s: the unknown-kid cooldown must not fail fresh logins,
 * whose tokens come straight from the token endpoint — and must still hold for presented junk.
 * JWKS downloads are counted from the emulator's request log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { login, startStack, TestBrowser, type Stack } from '../support/stack.js';

describe('key rotation during the unknown-kid cooldown', () => {
  let emulator: EmulatorHandle;
  let stack: Stack;
  let jwksFetches = 0;
  before(async () => {
    emulator = await startEmulator({
      port: 0,
      onRequest: (entry) => {
        if (entry.path.endsWith('/.well-known/jwks.json')) jwksFetches += 1;
      },
    });
    stack = await startStack({ emulator });
  });
  after(async () => {
    try {
      await stack.stop();
    } finally {
      await emulator.stop();
    }
  });

  /** Presents an access token signed by a key the pool never published. */
  const presentJunkKid = async (): Promise<Response> => {
    const junk = await emulator.mintToken({
      use: 'access',
      clientId: 'test-client',
      key: 'unpublished',
    });
    return fetch(`${stack.appUrl}/claims`, {
      headers: { cookie: `cognito_access_token=${junk}`, accept: 'application/json' },
    });
  };

  it('a login signed by a just-rotated key succeeds; a presented junk kid still gets 401 without a refetch', async () => {
    const warm = new TestBrowser();
    await login(warm, stack.appUrl, 'alice');
    assert.equal(jwksFetches, 1, 'the first login downloads the JWKS once');

    // A junk kid from a client: one refetch (it might have been a rotation), then the cooldown.
    const first = await presentJunkKid();
    assert.equal(first.status, 401);
    assert.equal(jwksFetches, 2, 'the first unknown kid refetches once');
    const second = await presentJunkKid();
    assert.equal(second.status, 401);
    assert.equal(jwksFetches, 2, 'a second junk kid inside the cooldown does not refetch');

    await emulator.rotateKeys();
    const browser = new TestBrowser();
    const callback = await login(browser, stack.appUrl, 'bob');
    assert.equal(callback.status, 302, 'the fresh login verified against the rotated key');
    assert.equal(callback.location, `${stack.appUrl}/claims`);
    assert.equal(jwksFetches, 3, 'tokens from the token endpoint may refetch during the cooldown');
    assert.equal((await browser.request(`${stack.appUrl}/claims`)).status, 200);

    // Presented junk is still held by the cooldown after that trusted refetch.
    const after = await presentJunkKid();
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
    assert.equal(jwksFetches, 3, 'a presented junk kid gets 401 without a refetch');
  });
});
