// Refresh (with and without rotation, grace period, reuse detection), revocation by lineage, and
// /oauth2/userInfo (shape and errors).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  REDIRECT_URI,
  basic,
  browserLogin,
  decodeJwt,
  pkcePair,
  postForm,
  resetSwitches,
  signIn,
} from './helpers.js';
import type { TokenSet } from './helpers.js';

let emulator: EmulatorHandle;
const ROTATING = 'rotating-client';
const ROTATING_SECRET = 'rotating-secret';

before(async () => {
  emulator = await startEmulator({ port: 0 });
  emulator.addClient({
    clientId: ROTATING,
    clientSecret: ROTATING_SECRET,
    callbackUrls: [REDIRECT_URI],
    allowedScopes: ['openid', 'email'],
    refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 },
  });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  resetSwitches(emulator);
});

function refresh(token: string, auth = basic()): Promise<Response> {
  return postForm(
    `${emulator.url}/oauth2/token`,
    { grant_type: 'refresh_token', refresh_token: token },
    { authorization: auth },
  );
}

function revoke(token: string | undefined, auth: string = basic()): Promise<Response> {
  return postForm(`${emulator.url}/oauth2/revoke`, { token }, { authorization: auth });
}

function userInfo(accessToken: string | undefined): Promise<Response> {
  return fetch(`${emulator.url}/oauth2/userInfo`, {
    headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` },
  });
}

async function signInRotating(): Promise<TokenSet> {
  const { verifier, challenge } = pkcePair();
  const { code } = await browserLogin(emulator, {
    params: {
      client_id: ROTATING,
      scope: 'openid email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    },
  });
  const response = await postForm(
    `${emulator.url}/oauth2/token`,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
    { authorization: basic(ROTATING, ROTATING_SECRET) },
  );
  assert.equal(response.status, 200);
  return (await response.json()) as TokenSet;
}

describe('refresh_token grant without rotation', () => {
  it('returns new access + ID tokens and no refresh token; lineage claims stay, auth_time unchanged', async () => {
    const tokens = await signIn(emulator);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const response = await refresh(tokens.refresh_token ?? '');
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'id_token',
      'token_type',
    ]);
    const before = decodeJwt(tokens.access_token).payload;
    const after = decodeJwt(String(body.access_token)).payload;
    assert.equal(after.origin_jti, before.origin_jti);
    assert.equal(after.auth_time, before.auth_time);
    assert.ok(Number(after.iat) > Number(before.iat), 'a new iat');
    assert.notEqual(after.jti, before.jti);
    const id = decodeJwt(String(body.id_token)).payload;
    assert.equal(id.origin_jti, before.origin_jti);
    assert.equal(id.event_id, after.event_id);
    // The same refresh token keeps working.
    assert.equal((await refresh(tokens.refresh_token ?? '')).status, 200);
  });

  it('missing refresh_token → invalid_request; unknown → invalid_grant; another client → invalid_grant', async () => {
    const missing = await postForm(
      `${emulator.url}/oauth2/token`,
      { grant_type: 'refresh_token' },
      { authorization: basic() },
    );
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: 'invalid_request' });
    const unknown = await refresh(
      'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a.b.c.d',
    );
    assert.deepEqual(await unknown.json(), { error: 'invalid_grant' });
    const tokens = await signIn(emulator);
    const foreign = await refresh(tokens.refresh_token ?? '', basic(ROTATING, ROTATING_SECRET));
    assert.equal(foreign.status, 400);
    assert.deepEqual(await foreign.json(), { error: 'invalid_grant' });
  });
});

describe('refresh-token rotation', () => {
  it('returns a new refresh token; the old one dies after the grace period (0 s)', async () => {
    const tokens = await signInRotating();
    const first = await refresh(tokens.refresh_token ?? '', basic(ROTATING, ROTATING_SECRET));
    assert.equal(first.status, 200);
    const rotated = (await first.json()) as TokenSet;
    assert.ok(rotated.refresh_token);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
    const old = await refresh(tokens.refresh_token ?? '', basic(ROTATING, ROTATING_SECRET));
    assert.deepEqual(await old.json(), { error: 'invalid_grant' });
    assert.equal(
      (await refresh(rotated.refresh_token, basic(ROTATING, ROTATING_SECRET))).status,
      200,
    );
  });

  it('within a grace period the old token still works', async () => {
    emulator.addClient({
      clientId: 'grace-client',
      clientSecret: 'grace-secret',
      callbackUrls: [REDIRECT_URI],
      allowedScopes: ['openid'],
      refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 1 },
    });
    const { verifier, challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: {
        client_id: 'grace-client',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
    });
    const auth = basic('grace-client', 'grace-secret');
    const initial = (await (
      await postForm(
        `${emulator.url}/oauth2/token`,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
        },
        { authorization: auth },
      )
    ).json()) as TokenSet;
    assert.equal((await refresh(initial.refresh_token ?? '', auth)).status, 200);
    assert.equal(
      (await refresh(initial.refresh_token ?? '', auth)).status,
      200,
      'inside the grace period',
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(
      (await refresh(initial.refresh_token ?? '', auth)).status,
      400,
      'after the grace period',
    );
  });

  it('the new refresh token keeps the original expiry (no sliding extension)', async () => {
    emulator.addClient({
      clientId: 'short-rt',
      clientSecret: 'short-rt-secret',
      callbackUrls: [REDIRECT_URI],
      allowedScopes: ['openid'],
      refreshTokenValiditySeconds: 2,
      refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 },
    });
    const { verifier, challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: {
        client_id: 'short-rt',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
    });
    const auth = basic('short-rt', 'short-rt-secret');
    const initial = (await (
      await postForm(
        `${emulator.url}/oauth2/token`,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
        },
        { authorization: auth },
      )
    ).json()) as TokenSet;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rotated = (await (await refresh(initial.refresh_token ?? '', auth)).json()) as TokenSet;
    assert.ok(rotated.refresh_token);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await refresh(rotated.refresh_token, auth);
    assert.deepEqual(
      await late.json(),
      { error: 'invalid_grant' },
      'expired with the original, 2 s after sign-in',
    );
  });

  it('reuse of a rotated-out token revokes the family only when reuse detection is on', async () => {
    const auth = basic(ROTATING, ROTATING_SECRET);
    const plain = await signInRotating();
    const next = (await (await refresh(plain.refresh_token ?? '', auth)).json()) as TokenSet;
    assert.equal((await refresh(plain.refresh_token ?? '', auth)).status, 400);
    assert.equal(
      (await refresh(next.refresh_token ?? '', auth)).status,
      200,
      'no detection: the family lives',
    );

    emulator.switches.refreshTokenReuseDetection = true;
    const detected = await signInRotating();
    const successor = (await (
      await refresh(detected.refresh_token ?? '', auth)
    ).json()) as TokenSet;
    assert.equal((await refresh(detected.refresh_token ?? '', auth)).status, 400);
    assert.equal(
      (await refresh(successor.refresh_token ?? '', auth)).status,
      400,
      'the whole family is revoked',
    );
    assert.equal((await userInfo(successor.access_token)).status, 401);
  });
});

describe('/oauth2/revoke', () => {
  it('revokes the lineage: refresh and userInfo fail for every token of the sign-in (by origin_jti)', async () => {
    const tokens = await signIn(emulator);
    const refreshed = (await (await refresh(tokens.refresh_token ?? '')).json()) as TokenSet;
    assert.equal((await userInfo(refreshed.access_token)).status, 200);
    const response = await revoke(tokens.refresh_token);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
    assert.deepEqual(await (await refresh(tokens.refresh_token ?? '')).json(), {
      error: 'invalid_grant',
    });
    assert.equal((await userInfo(tokens.access_token)).status, 401);
    assert.equal(
      (await userInfo(refreshed.access_token)).status,
      401,
      'tokens from later refreshes too',
    );
    // Another sign-in of the same user is untouched.
    const other = await signIn(emulator);
    assert.equal((await userInfo(other.access_token)).status, 200);
  });

  it('answers 200 for unknown and already-revoked tokens', async () => {
    assert.equal((await revoke('not-a-token')).status, 200);
    const tokens = await signIn(emulator);
    assert.equal((await revoke(tokens.refresh_token)).status, 200);
    assert.equal((await revoke(tokens.refresh_token)).status, 200);
  });

  it('an access token → 400 unsupported_token_type; missing token → 400 invalid_request', async () => {
    const tokens = await signIn(emulator);
    const access = await revoke(tokens.access_token);
    assert.equal(access.status, 400);
    assert.deepEqual(await access.json(), { error: 'unsupported_token_type' });
    const missing = await revoke(undefined);
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: 'invalid_request' });
    assert.equal((await userInfo(tokens.access_token)).status, 200, 'nothing was revoked');
  });

  it('bad client credentials → 401 invalid_client, and the token stays valid', async () => {
    const tokens = await signIn(emulator);
    const response = await revoke(tokens.refresh_token, basic(CLIENT_ID, 'wrong'));
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: 'invalid_client' });
    assert.equal((await refresh(tokens.refresh_token ?? '')).status, 200);
  });

  it('another client cannot revoke a token it was not issued', async () => {
    const tokens = await signIn(emulator);
    assert.equal(
      (await revoke(tokens.refresh_token, basic(ROTATING, ROTATING_SECRET))).status,
      200,
    );
    assert.equal((await refresh(tokens.refresh_token ?? '')).status, 200);
  });
});

describe('/oauth2/userInfo', () => {
  it('returns attributes with email_verified as a string and a username field', async () => {
    const tokens = await signIn(emulator, { params: { scope: 'openid email' } });
    const response = await userInfo(tokens.access_token);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json;charset=UTF-8');
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(body, {
      sub: decodeJwt(tokens.access_token).payload.sub,
      email_verified: 'true',
      email: 'alice@example.com',
      username: 'alice',
    });
  });

  it('without email scope, no email', async () => {
    const tokens = await signIn(emulator, { params: { scope: 'openid profile' } });
    const body = (await (await userInfo(tokens.access_token)).json()) as Record<string, unknown>;
    assert.equal('email' in body, false);
    assert.equal(body.username, 'alice');
  });

  it("no Authorization → 400 with Cognito's WWW-Authenticate text", async () => {
    const response = await userInfo(undefined);
    assert.equal(response.status, 400);
    assert.equal(
      response.headers.get('www-authenticate'),
      'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"',
    );
  });

  it("a bad, ID or non-openid token → 401 invalid_token with Cognito's text", async () => {
    const tokens = await signIn(emulator);
    const noOpenid = await signIn(emulator, { params: { scope: 'aws.cognito.signin.user.admin' } });
    for (const token of [
      'garbage',
      tokens.id_token ?? '',
      `${tokens.access_token.slice(0, -4)}AAAA`,
      noOpenid.access_token,
    ]) {
      const response = await userInfo(token);
      assert.equal(response.status, 401, token.slice(0, 20));
      assert.equal(
        response.headers.get('www-authenticate'),
        'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."',
      );
    }
  });

  it('an expired access token → 401', async () => {
    const expired = await emulator.mintToken({
      use: 'access',
      username: 'alice',
      claims: { exp: 1_600_000_000 },
    });
    assert.equal((await userInfo(expired)).status, 401);
    const fresh = await emulator.mintToken({ use: 'access', username: 'alice' });
    assert.equal((await userInfo(fresh)).status, 200);
  });
});
