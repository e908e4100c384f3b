// Token shape (reference A7): headers, kids, claim order against a real Cognito token, at_hash,
// event_id/origin_jti, no aud in access tokens, refresh-token shape, lifetimes, signatures.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { REFRESH_TOKEN_PREFIX, stableSub, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  basic,
  browserLogin,
  decodeJwt,
  pkcePair,
  postForm,
  signIn,
} from './helpers.js';
import type { TokenSet } from './helpers.js';

// Claim order of a real Cognito sign-in with groups, nonce and email (the flask-cognito-lib test
// tokens, shared/fixtures/real-cognito-tokens.json), copied here so the test is self-contained.
const REAL_ACCESS_ORDER = [
  'sub',
  'cognito:groups',
  'iss',
  'version',
  'client_id',
  'origin_jti',
  'event_id',
  'token_use',
  'scope',
  'auth_time',
  'exp',
  'iat',
  'jti',
  'username',
];
const REAL_ID_ORDER = [
  'at_hash',
  'sub',
  'cognito:groups',
  'email_verified',
  'iss',
  'cognito:username',
  'nonce',
  'origin_jti',
  'aud',
  'event_id',
  'token_use',
  'auth_time',
  'exp',
  'iat',
  'jti',
  'email',
];

let emulator: EmulatorHandle;
let alice: TokenSet;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  alice = await signIn(emulator, {
    params: { scope: 'openid email phone', nonce: 'n-0S6_WzA2Mj' },
  });
});
after(async () => {
  await emulator.stop();
});

describe('JWT headers and keys', () => {
  it('header is exactly {"kid","alg":"RS256"} in that order, no typ, with "/" escaped like Cognito', () => {
    for (const token of [alice.access_token, alice.id_token ?? '']) {
      const { header, rawHeader } = decodeJwt(token);
      const kid = String(header.kid);
      assert.equal(rawHeader, `{"kid":"${kid.replaceAll('/', '\\/')}","alg":"RS256"}`);
      assert.match(kid, /^[A-Za-z0-9+/]{43}=$/, 'kid is standard base64 of 32 bytes');
      assert.equal(Buffer.from(kid, 'base64').length, 32);
    }
  });

  it('access and ID tokens are signed by different keys, both published as RS256 RSA-2048 JWKs', async () => {
    const accessKid = decodeJwt(alice.access_token).header.kid;
    const idKid = decodeJwt(alice.id_token ?? '').header.kid;
    assert.notEqual(accessKid, idKid);
    const jwks = (await (await fetch(emulator.jwksUri)).json()) as {
      keys: Record<string, string>[];
    };
    assert.equal(jwks.keys.length, 2);
    for (const key of jwks.keys) {
      assert.deepEqual(Object.keys(key), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
      assert.equal(key.alg, 'RS256');
      assert.equal(key.use, 'sig');
      assert.equal(key.e, 'AQAB');
      assert.equal(Buffer.from(key.n ?? '', 'base64url').length, 256, '2048-bit modulus');
    }
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [accessKid, idKid].sort());
  });

  it('both tokens verify against the JWKS with an independent library (jose)', async () => {
    const keySet = createRemoteJWKSet(new URL(emulator.jwksUri));
    const access = await jwtVerify(alice.access_token, keySet, {
      issuer: emulator.issuer,
      algorithms: ['RS256'],
    });
    assert.equal(access.payload.token_use, 'access');
    const id = await jwtVerify(alice.id_token ?? '', keySet, {
      issuer: emulator.issuer,
      audience: CLIENT_ID,
      algorithms: ['RS256'],
    });
    assert.equal(id.payload.token_use, 'id');
  });
});

describe('claims', () => {
  it('access-token claims come in the same order as a real Cognito access token', () => {
    const { payload } = decodeJwt(alice.access_token);
    assert.deepEqual(Object.keys(payload), REAL_ACCESS_ORDER);
    assert.equal(payload.iss, emulator.issuer);
    assert.equal(payload.version, 2);
    assert.equal(payload.client_id, CLIENT_ID);
    assert.equal(payload.username, 'alice');
    assert.deepEqual(payload['cognito:groups'], ['admin']);
    assert.equal('aud' in payload, false, 'access tokens have no aud');
    assert.equal(payload.scope, 'openid email phone');
    assert.equal(payload.sub, stableSub(emulator.poolId, 'alice'));
  });

  it('ID-token claims come in the same order as a real Cognito ID token', () => {
    const { payload } = decodeJwt(alice.id_token ?? '');
    assert.deepEqual(Object.keys(payload), REAL_ID_ORDER);
    assert.equal(payload.aud, CLIENT_ID, 'aud is the client id as a single string');
    assert.equal(payload.email_verified, true, 'email_verified is a boolean in the ID token');
    assert.equal(payload['cognito:username'], 'alice');
    assert.equal(payload.email, 'alice@example.com');
    assert.equal(payload.nonce, 'n-0S6_WzA2Mj', 'nonce is copied from authorize');
  });

  it('payload JSON escapes "/" as Cognito does', () => {
    const { rawPayload } = decodeJwt(alice.access_token);
    assert.ok(rawPayload.includes('"iss":"http:\\/\\/'), rawPayload);
  });

  it('at_hash is base64url of the left half of SHA-256 of the access token', () => {
    const expected = createHash('sha256')
      .update(alice.access_token, 'ascii')
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    assert.equal(decodeJwt(alice.id_token ?? '').payload.at_hash, expected);
  });

  it('event_id and origin_jti are shared by the two tokens of one sign-in; jti differs; UUIDs', () => {
    const access = decodeJwt(alice.access_token).payload;
    const id = decodeJwt(alice.id_token ?? '').payload;
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.equal(access.event_id, id.event_id);
    assert.equal(access.origin_jti, id.origin_jti);
    assert.notEqual(access.jti, id.jti);
    for (const value of [access.event_id, access.origin_jti, access.jti, id.jti])
      assert.match(String(value), uuid);
    assert.equal(access.auth_time, id.auth_time);
    assert.equal(Number(access.exp) - Number(access.iat), 3600);
  });

  it('a new sign-in has a new event_id and origin_jti', async () => {
    const other = await signIn(emulator);
    const a = decodeJwt(alice.access_token).payload;
    const b = decodeJwt(other.access_token).payload;
    assert.notEqual(a.event_id, b.event_id);
    assert.notEqual(a.origin_jti, b.origin_jti);
  });

  it('cognito:groups appears only for users in groups', async () => {
    const carol = await signIn(emulator, { username: 'carol' });
    assert.equal('cognito:groups' in decodeJwt(carol.access_token).payload, false);
    assert.equal('cognito:groups' in decodeJwt(carol.id_token ?? '').payload, false);
    const bob = await signIn(emulator, { username: 'bob' });
    assert.deepEqual(decodeJwt(bob.access_token).payload['cognito:groups'], ['editor']);
  });

  it('no nonce sent → no nonce claim', async () => {
    const tokens = await signIn(emulator, { params: { nonce: undefined } });
    assert.equal('nonce' in decodeJwt(tokens.id_token ?? '').payload, false);
  });
});

describe('refresh token shape and lifetimes', () => {
  it('is an opaque 5-part string shaped like Cognito JWE (prefix, part lengths, ~1,730 chars)', () => {
    const token = alice.refresh_token ?? '';
    assert.ok(token.startsWith(`${REFRESH_TOKEN_PREFIX}.`));
    assert.equal(
      token.startsWith('eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.'),
      true,
    );
    assert.deepEqual(
      token.split('.').map((part) => part.length),
      [62, 342, 16, 1284, 22],
    );
    assert.equal(token.length, 1730);
  });

  it('per-client lifetimes set exp and expires_in', async () => {
    emulator.addClient({
      clientId: 'short-lived',
      clientSecret: 'short-secret',
      callbackUrls: ['http://localhost:3000/postlogin'],
      allowedScopes: ['openid'],
      accessTokenValiditySeconds: 300,
      idTokenValiditySeconds: 600,
    });
    const { verifier, challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: {
        client_id: 'short-lived',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      },
    });
    const response = await postForm(
      `${emulator.url}/oauth2/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://localhost:3000/postlogin',
        code_verifier: verifier,
      },
      { authorization: basic('short-lived', 'short-secret') },
    );
    const body = (await response.json()) as TokenSet;
    assert.equal(body.expires_in, 300);
    const access = decodeJwt(body.access_token).payload;
    const id = decodeJwt(body.id_token ?? '').payload;
    assert.equal(Number(access.exp) - Number(access.iat), 300);
    assert.equal(Number(id.exp) - Number(id.iat), 600);
  });
});
