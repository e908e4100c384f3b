// /oauth2/token as a faithful peer: client mistakes fail the way Cognito fails them (HTTP 400 JSON
// {"error"} with Cognito's codes, CORS *, form encoding only), plus the [unk] switches.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  basic,
  browserLogin,
  decodeJwt,
  pkcePair,
  postForm,
  resetSwitches,
} from './helpers.js';

let emulator: EmulatorHandle;
let tokenUrl: string;
const PUBLIC_CLIENT = 'public-spa';
const PUBLIC_REDIRECT = 'http://localhost:5173/callback';

before(async () => {
  emulator = await startEmulator({ port: 0 });
  tokenUrl = `${emulator.url}/oauth2/token`;
  emulator.addClient({
    clientId: PUBLIC_CLIENT,
    callbackUrls: [PUBLIC_REDIRECT],
    allowedScopes: ['openid', 'email'],
  });
  emulator.addClient({
    clientId: 'machine',
    clientSecret: 'machine-secret',
    callbackUrls: [],
    allowedScopes: ['orders/read', 'orders/write'],
    allowedOAuthFlows: ['client_credentials'],
  });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  resetSwitches(emulator);
});

/** A fresh code bound to a S256 challenge (or none). */
async function freshCode(withPkce = true) {
  const { verifier, challenge } = pkcePair();
  const { code } = await browserLogin(emulator, {
    params: withPkce ? { code_challenge: challenge, code_challenge_method: 'S256' } : {},
  });
  return { code, verifier };
}

async function expectError(response: Response, error: string, status = 400) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await response.json(), { error });
}

function exchange(
  code: string,
  extra: Record<string, string | undefined> = {},
  headers: Record<string, string> = { authorization: basic() },
) {
  return postForm(
    tokenUrl,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra },
    headers,
  );
}

describe('token endpoint: client authentication', () => {
  it('Basic and client_secret_post both work; success carries CORS * and no-store', async () => {
    const first = await freshCode();
    const viaBasic = await exchange(first.code, { code_verifier: first.verifier });
    assert.equal(viaBasic.status, 200);
    assert.equal(viaBasic.headers.get('access-control-allow-origin'), '*');
    assert.equal(viaBasic.headers.get('cache-control'), 'no-store');

    const second = await freshCode();
    const viaPost = await exchange(
      second.code,
      { code_verifier: second.verifier, client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      {},
    );
    assert.equal(viaPost.status, 200);
  });

  it('missing client authentication for a secret client → 400 invalid_client', async () => {
    const { code, verifier } = await freshCode();
    await expectError(
      await exchange(code, { code_verifier: verifier, client_id: CLIENT_ID }, {}),
      'invalid_client',
    );
    await expectError(await exchange(code, { code_verifier: verifier }, {}), 'invalid_client');
  });

  it('wrong secret → 400 invalid_client (not 401)', async () => {
    const { code, verifier } = await freshCode();
    await expectError(
      await exchange(
        code,
        { code_verifier: verifier },
        { authorization: basic(CLIENT_ID, 'wrong') },
      ),
      'invalid_client',
    );
  });

  it('Basic for one client with a different body client_id → invalid_client; Basic plus body secret → invalid_request', async () => {
    const { code, verifier } = await freshCode();
    await expectError(
      await exchange(code, { code_verifier: verifier, client_id: PUBLIC_CLIENT }),
      'invalid_client',
    );
    const other = await freshCode();
    await expectError(
      await exchange(other.code, { code_verifier: other.verifier, client_secret: CLIENT_SECRET }),
      'invalid_request',
    );
  });

  it('public client: client_id in the body, no secret; a secret sent anyway → invalid_client', async () => {
    const { verifier, challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: {
        client_id: PUBLIC_CLIENT,
        redirect_uri: PUBLIC_REDIRECT,
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
    });
    const withSecret = await postForm(tokenUrl, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: PUBLIC_REDIRECT,
      code_verifier: verifier,
      client_id: PUBLIC_CLIENT,
      client_secret: 'made-up',
    });
    await expectError(withSecret, 'invalid_client');
    const again = await browserLogin(emulator, {
      params: {
        client_id: PUBLIC_CLIENT,
        redirect_uri: PUBLIC_REDIRECT,
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
    });
    const ok = await postForm(tokenUrl, {
      grant_type: 'authorization_code',
      code: again.code,
      redirect_uri: PUBLIC_REDIRECT,
      code_verifier: verifier,
      client_id: PUBLIC_CLIENT,
    });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { access_token: string };
    assert.equal(decodeJwt(body.access_token).payload.client_id, PUBLIC_CLIENT);
  });
});

describe('token endpoint: request format and grants', () => {
  it('JSON bodies are refused: form encoding only', async () => {
    const { code, verifier } = await freshCode();
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic() },
      body: JSON.stringify({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    });
    await expectError(response, 'invalid_request');
  });

  it('GET is not allowed; missing grant_type → invalid_request; unknown grant → unsupported_grant_type', async () => {
    const get = await fetch(tokenUrl);
    assert.equal(get.status, 405);
    await expectError(await postForm(tokenUrl, {}, { authorization: basic() }), 'invalid_request');
    await expectError(
      await postForm(tokenUrl, { grant_type: 'password' }, { authorization: basic() }),
      'unsupported_grant_type',
    );
  });

  it('a repeated parameter → invalid_request', async () => {
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic() },
      body: 'grant_type=authorization_code&code=a&code=b&redirect_uri=x',
    });
    await expectError(response, 'invalid_request');
  });

  it('missing code or redirect_uri → invalid_request; unknown code → invalid_grant', async () => {
    await expectError(
      await postForm(
        tokenUrl,
        { grant_type: 'authorization_code', redirect_uri: REDIRECT_URI },
        { authorization: basic() },
      ),
      'invalid_request',
    );
    await expectError(
      await postForm(
        tokenUrl,
        { grant_type: 'authorization_code', code: 'x' },
        { authorization: basic() },
      ),
      'invalid_request',
    );
    await expectError(await exchange('00000000-0000-4000-8000-000000000000'), 'invalid_grant');
  });

  it('codes are single use', async () => {
    const { code, verifier } = await freshCode();
    assert.equal((await exchange(code, { code_verifier: verifier })).status, 200);
    await expectError(await exchange(code, { code_verifier: verifier }), 'invalid_grant');
  });

  it('redirect_uri differing from authorize (trailing slash) → unauthorized_client, and the code is burnt', async () => {
    const { code, verifier } = await freshCode();
    await expectError(
      await exchange(code, { code_verifier: verifier, redirect_uri: `${REDIRECT_URI}/` }),
      'unauthorized_client',
    );
    await expectError(await exchange(code, { code_verifier: verifier }), 'invalid_grant');
  });

  it('with failedExchangeBurnsCode off, a corrected retry succeeds', async () => {
    emulator.switches.failedExchangeBurnsCode = false;
    const { code, verifier } = await freshCode();
    await expectError(
      await exchange(code, { code_verifier: verifier, redirect_uri: `${REDIRECT_URI}/` }),
      'unauthorized_client',
    );
    assert.equal((await exchange(code, { code_verifier: verifier })).status, 200);
  });

  it('a code issued to one client cannot be redeemed by another', async () => {
    const { code, verifier } = await freshCode();
    emulator.addClient({
      clientId: 'other-client',
      clientSecret: 'other-secret',
      callbackUrls: [REDIRECT_URI],
      allowedScopes: ['openid'],
    });
    await expectError(
      await exchange(
        code,
        { code_verifier: verifier },
        { authorization: basic('other-client', 'other-secret') },
      ),
      'invalid_grant',
    );
  });
});

/**
 * flask-cognito-lib's verifier, exactly: `urlsafe_b64encode(urandom(32))` (44 characters with the
 * `=` pad), then `re.sub("[^a-zA-Z0-9]+", "", …)`: 43 characters minus every `-` and `_`, so
 * almost always 35–43 (rarely fewer).
 */
function flaskCognitoLibVerifier(): string {
  const encoded = randomBytes(32).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
  return encoded.replace(/[^a-zA-Z0-9]+/g, '');
}

/** One flask-cognito-lib verifier of each length from 35 to 42 (short ones are rare: keep drawing). */
function flaskVerifiersByLength(): Map<number, string> {
  const found = new Map<number, string>();
  for (let draws = 0; found.size < 8 && draws < 5_000_000; draws += 1) {
    const verifier = flaskCognitoLibVerifier();
    const { length } = verifier;
    if (length >= 35 && length <= 42 && !found.has(length)) found.set(length, verifier);
  }
  assert.deepEqual(
    [...found.keys()].sort((a, b) => a - b),
    [35, 36, 37, 38, 39, 40, 41, 42],
  );
  return found;
}

/** flask-cognito-lib's challenge: base64url(SHA-256(verifier)) without padding. */
function flaskChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'utf8').digest('base64url');
}

describe('token endpoint: PKCE', () => {
  it("accepts flask-cognito-lib's 35–42-character verifiers, as Cognito does (RFC length only with the switch)", async () => {
    for (const [length, verifier] of flaskVerifiersByLength()) {
      const { code } = await browserLogin(emulator, {
        params: { code_challenge: flaskChallenge(verifier), code_challenge_method: 'S256' },
      });
      const response = await exchange(code, { code_verifier: verifier });
      assert.equal(response.status, 200, `a ${length}-character verifier is accepted`);
      assert.ok(((await response.json()) as { access_token?: string }).access_token);
    }
    emulator.switches.strictPkceVerifierLength = true;
    const [, short] = [...flaskVerifiersByLength()][0] ?? [];
    assert.ok(short);
    const { code } = await browserLogin(emulator, {
      params: { code_challenge: flaskChallenge(short), code_challenge_method: 'S256' },
    });
    await expectError(await exchange(code, { code_verifier: short }), 'invalid_grant');
  });

  it('a short verifier must still hash to the challenge exactly', async () => {
    const [verifier = ''] = flaskVerifiersByLength().values();
    const { code } = await browserLogin(emulator, {
      params: { code_challenge: flaskChallenge(verifier), code_challenge_method: 'S256' },
    });
    await expectError(
      await exchange(code, { code_verifier: verifier.slice(0, -1) }),
      'invalid_grant',
    );
  });

  it('wrong verifier → invalid_grant by default, invalid_request when switched; either way the code burns', async () => {
    const first = await freshCode();
    await expectError(
      await exchange(first.code, { code_verifier: pkcePair().verifier }),
      'invalid_grant',
    );
    await expectError(
      await exchange(first.code, { code_verifier: first.verifier }),
      'invalid_grant',
    );

    emulator.switches.pkceMismatchError = 'invalid_request';
    const second = await freshCode();
    await expectError(
      await exchange(second.code, { code_verifier: pkcePair().verifier }),
      'invalid_request',
    );
  });

  it('a challenge was sent but no verifier → invalid_request', async () => {
    const { code } = await freshCode();
    await expectError(await exchange(code), 'invalid_request');
  });

  it('sending the challenge itself as the verifier (what a plain-method client does) fails', async () => {
    const { challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: { code_challenge: challenge, code_challenge_method: 'S256' },
    });
    await expectError(await exchange(code, { code_verifier: challenge }), 'invalid_grant');
  });

  it('PKCE downgrade (verifier without a challenge): accepted by default, rejected with the switch', async () => {
    const accepted = await freshCode(false);
    assert.equal(
      (await exchange(accepted.code, { code_verifier: pkcePair().verifier })).status,
      200,
    );
    emulator.switches.rejectPkceDowngrade = true;
    const rejected = await freshCode(false);
    await expectError(
      await exchange(rejected.code, { code_verifier: pkcePair().verifier }),
      'invalid_grant',
    );
  });

  it('"Basic auth with PKCE fails" mode answers invalid_client; post auth still works', async () => {
    emulator.switches.basicAuthWithPkceFails = true;
    const first = await freshCode();
    await expectError(
      await exchange(first.code, { code_verifier: first.verifier }),
      'invalid_client',
    );
    const second = await freshCode();
    const viaPost = await exchange(
      second.code,
      { code_verifier: second.verifier, client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      {},
    );
    assert.equal(viaPost.status, 200);
  });
});

describe('token endpoint: client_credentials', () => {
  it('issues only an access token whose sub is the client id', async () => {
    const response = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials', scope: 'orders/read' },
      { authorization: basic('machine', 'machine-secret') },
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    const { payload } = decodeJwt(String(body.access_token));
    assert.equal(payload.sub, 'machine');
    assert.equal(payload.client_id, 'machine');
    assert.equal(payload.scope, 'orders/read');
    assert.equal(payload.token_use, 'access');
  });

  it('a code-flow client may not use it, and unknown scopes fail', async () => {
    await expectError(
      await postForm(tokenUrl, { grant_type: 'client_credentials' }, { authorization: basic() }),
      'unauthorized_client',
    );
    await expectError(
      await postForm(
        tokenUrl,
        { grant_type: 'client_credentials', scope: 'openid' },
        { authorization: basic('machine', 'machine-secret') },
      ),
      'invalid_scope',
    );
  });
});
