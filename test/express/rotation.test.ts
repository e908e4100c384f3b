/**
 * A key rotation right after junk `kid`s: the unknown-kid cooldown must not fail fresh logins,
 * whose tokens come straight from the token endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { login, startStack, TestBrowser, type Stack } from '../support/stack.js';

describe('key rotation during the unknown-kid cooldown', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('a login signed by a just-rotated key succeeds; a presented junk kid still gets 401 without a refetch', async () => {
    const warm = new TestBrowser();
    await login(warm, stack.appUrl, 'alice');
    // A junk kid from a client starts the cooldown.
    const junk = await stack.emulator.mintToken({
      use: 'access',
      clientId: 'test-client',
      key: 'unpublished',
    });
    const refused = await fetch(`${stack.appUrl}/claims`, {
      headers: { cookie: `cognito_access_token=${junk}` },
    });
    assert.equal(refused.status, 401);

    await stack.emulator.rotateKeys();
    const browser = new TestBrowser();
    const callback = await login(browser, stack.appUrl, 'bob');
    assert.equal(callback.status, 302, 'the fresh login verified against the rotated key');
    assert.equal(callback.location, `${stack.appUrl}/claims`);
    assert.equal((await browser.request(`${stack.appUrl}/claims`)).status, 200);
  });
});
