/**
 * How the token client names a Cognito it cannot talk to, whatever the runtime's fetch throws:
 * no answer at all is "unreachable" (503, try again), no answer in time is a timeout (504).
 * Node's fetch rejects with a TypeError when a connection fails; workerd's with a plain Error
 * ("Network connection lost"), which was once reported as a bad response (502).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoError } from '../../src/core/errors.js';
import { CognitoTokenClient, globalSignOut } from '../../src/core/token-client.js';

function clientWith(fetch: typeof globalThis.fetch) {
  const options = {
    issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool',
    tokenEndpoint: 'https://auth.example.com/oauth2/token',
    revocationEndpoint: 'https://auth.example.com/oauth2/revoke',
    userPoolApi: 'https://cognito-idp.eu-west-1.amazonaws.com/',
    clientId: 'test-client',
    clientSecret: 'test-client-secret',
    timeoutMs: 3000,
    fetch,
    allowInsecureHttp: false,
  };
  return { options, client: new CognitoTokenClient(options) };
}

/** Asserts `promise` rejects with a CognitoError of `code` and `status`. */
async function rejectsWith(promise: Promise<unknown>, code: string, status: number) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CognitoError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    return true;
  });
}

describe('the token client names an unreachable Cognito the same on every runtime', () => {
  const failures: Record<string, () => Error> = {
    "Node's TypeError": () => new TypeError('fetch failed'),
    "workerd's Error": () => new Error('Network connection lost.'),
  };
  for (const [label, failure] of Object.entries(failures)) {
    it(`a fetch that rejects with ${label} is ERR_COGNITO_UNREACHABLE (503), for refresh, revoke and sign-out everywhere`, async () => {
      const { client, options } = clientWith(() => Promise.reject(failure()));
      await rejectsWith(client.refresh('a-refresh-token'), 'ERR_COGNITO_UNREACHABLE', 503);
      await rejectsWith(client.revoke('a-refresh-token'), 'ERR_COGNITO_UNREACHABLE', 503);
      await rejectsWith(globalSignOut(options, 'an-access-token'), 'ERR_COGNITO_UNREACHABLE', 503);
    });
  }

  it('a fetch that gives up in time (TimeoutError) stays ERR_COGNITO_TIMEOUT (504)', async () => {
    const timeout = () => Promise.reject(new DOMException('timed out', 'TimeoutError'));
    const { client } = clientWith(timeout);
    await rejectsWith(client.refresh('a-refresh-token'), 'ERR_COGNITO_TIMEOUT', 504);
  });
});
