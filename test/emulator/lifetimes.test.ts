// Lifetimes measured on the emulator's injected clock: an authorization code dies 5 minutes after
// it is issued, and the hosted-UI session 1 hour after sign-in (Cognito's values). The clock is
// moved, never waited for.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  REDIRECT_URI,
  authorizeUrl,
  basic,
  browserLogin,
  defaultAuthorizeParams,
  get,
  pkcePair,
  postForm,
} from './helpers.js';

const MINUTE = 60_000;
let now = Date.now();
let emulator: EmulatorHandle;

before(async () => {
  emulator = await startEmulator({ port: 0, now: () => now });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  now = Date.now();
});

async function exchange(code: string, verifier: string): Promise<Response> {
  return postForm(
    `${emulator.url}/oauth2/token`,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
    { authorization: basic() },
  );
}

async function loginCode() {
  const { verifier, challenge } = pkcePair();
  const login = await browserLogin(emulator, {
    params: { code_challenge: challenge, code_challenge_method: 'S256' },
  });
  return { ...login, verifier };
}

describe('authorization code lifetime (5 minutes)', () => {
  it('a code redeemed just before 5 minutes works', async () => {
    const { code, verifier } = await loginCode();
    now += 5 * MINUTE - 1_000;
    const response = await exchange(code, verifier);
    assert.equal(response.status, 200, await response.clone().text());
  });

  it('a code redeemed at 5 minutes is refused with invalid_grant', async () => {
    const { code, verifier } = await loginCode();
    now += 5 * MINUTE;
    const response = await exchange(code, verifier);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'invalid_grant' });
  });
});

describe('hosted-UI session lifetime (1 hour)', () => {
  async function authorizeWith(jar: Awaited<ReturnType<typeof loginCode>>['jar']) {
    const response = await get(authorizeUrl(emulator, defaultAuthorizeParams()), jar);
    assert.equal(response.status, 302);
    return new URL(response.headers.get('location') ?? '');
  }

  it('within the hour, authorize signs the user in silently (a code, no login page)', async () => {
    const { jar } = await loginCode();
    now += 60 * MINUTE - 1_000;
    const location = await authorizeWith(jar);
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
    assert.ok(location.searchParams.get('code'), 'a silent sign-in issues a code');
  });

  it('after the hour, authorize asks for the password again', async () => {
    const { jar } = await loginCode();
    now += 60 * MINUTE;
    const location = await authorizeWith(jar);
    assert.equal(`${location.origin}${location.pathname}`, `${emulator.url}/login`);
    assert.equal(location.searchParams.get('code'), null);
  });
});
