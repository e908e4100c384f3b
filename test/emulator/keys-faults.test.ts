// Discovery and JWKS, key rotation and retirement (API and loopback admin endpoint), fault
// injection, clock offset and token minting.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { decodeJwt, resetSwitches, signIn } from './helpers.js';

let emulator: EmulatorHandle;

before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  resetSwitches(emulator);
});

async function jwksKids(): Promise<string[]> {
  const body = (await (await fetch(emulator.jwksUri)).json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid);
}

describe('discovery', () => {
  it('publishes the real Cognito members, issuer {origin}/{poolId}, and no revocation/end-session endpoint', async () => {
    const response = await fetch(emulator.discoveryUrl);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as Record<string, unknown>;
    assert.equal(emulator.issuer, `${emulator.url}/eu-west-1_LocalDemo`);
    assert.deepEqual(doc, {
      authorization_endpoint: `${emulator.url}/oauth2/authorize`,
      id_token_signing_alg_values_supported: ['RS256'],
      issuer: emulator.issuer,
      jwks_uri: emulator.jwksUri,
      response_types_supported: ['code', 'token'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: `${emulator.url}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${emulator.url}/oauth2/userInfo`,
    });
  });

  it('unknown paths are 404', async () => {
    assert.equal((await fetch(`${emulator.url}/nope`)).status, 404);
    assert.equal((await fetch(`${emulator.url}/other-pool/.well-known/jwks.json`)).status, 404);
  });
});

describe('key rotation', () => {
  it('rotate adds new active keys and keeps the old ones published; retire removes them', async () => {
    const old = await signIn(emulator);
    const oldKids = await jwksKids();
    const added = await emulator.rotateKeys();
    assert.equal(added.length, 2);
    const kidsAfter = await jwksKids();
    assert.equal(kidsAfter.length, 4);
    for (const kid of oldKids) assert.ok(kidsAfter.includes(kid), 'old keys stay published');

    const fresh = await signIn(emulator);
    const freshKid = String(decodeJwt(fresh.access_token).header.kid);
    assert.ok(added.some((key) => key.kid === freshKid && key.use === 'access' && key.active));
    assert.ok(!oldKids.includes(freshKid));

    // Old tokens still verify until their key is retired.
    const keySet = () => createRemoteJWKSet(new URL(emulator.jwksUri));
    await jwtVerify(old.access_token, keySet());
    const retired = emulator.retireKey();
    assert.deepEqual(retired.sort(), [...oldKids].sort());
    assert.deepEqual((await jwksKids()).sort(), added.map((key) => key.kid).sort());
    await assert.rejects(
      jwtVerify(old.access_token, keySet()),
      /no applicable key|JWKSNoMatchingKey/i,
    );
    await jwtVerify(fresh.access_token, keySet());
    assert.equal(
      (
        await fetch(`${emulator.url}/oauth2/userInfo`, {
          headers: { authorization: `Bearer ${old.access_token}` },
        })
      ).status,
      401,
      'userInfo no longer accepts tokens of a retired key',
    );
  });

  it('an active key cannot be retired; unknown kids are refused', () => {
    const active = emulator.keys().find((key) => key.active);
    assert.throws(() => emulator.retireKey(active?.kid), /active/);
    assert.throws(() => emulator.retireKey('unknown'), /unknown kid/);
  });

  it('the admin endpoint rotates one use, lists keys, and answers loopback callers only', async () => {
    const before = emulator.keys().length;
    const response = await fetch(`${emulator.url}/_emulator/keys/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ use: 'id' }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { added: { use: string }[] };
    assert.deepEqual(
      body.added.map((key) => key.use),
      ['id'],
    );
    assert.equal(emulator.keys().length, before + 1);

    const formPost = await fetch(`${emulator.url}/_emulator/keys/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(formPost.status, 415, 'a simple (CORS-less) request cannot rotate keys');

    const remote = await emulator.fetch(
      new Request(`${emulator.url}/_emulator/keys/retire`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
      { remoteAddress: '192.0.2.10' },
    );
    assert.equal(remote.status, 403);
    assert.equal(emulator.keys().length, before + 1, 'nothing retired');

    const retire = await fetch(`${emulator.url}/_emulator/keys/retire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(retire.status, 200);
    assert.equal(emulator.keys().length, 2);
  });
});

describe('fault injection', () => {
  it('jwks answers 500 HTML, then recovers when the fault is cleared', async () => {
    emulator.setFault('jwks', {
      status: 500,
      body: '<html>Internal</html>',
      contentType: 'text/html',
    });
    const faulty = await fetch(emulator.jwksUri);
    assert.equal(faulty.status, 500);
    assert.equal(faulty.headers.get('content-type'), 'text/html');
    assert.equal(await faulty.text(), '<html>Internal</html>');
    emulator.setFault('jwks', null);
    assert.equal((await fetch(emulator.jwksUri)).status, 200);
  });

  it('token answers truncated JSON with 200', async () => {
    emulator.setFault('token', {
      status: 200,
      body: '{"access_token":"ey',
      contentType: 'application/json',
    });
    const response = await fetch(`${emulator.url}/oauth2/token`, { method: 'POST' });
    assert.equal(response.status, 200);
    await assert.rejects(response.json());
  });

  it('times limits the fault to N requests', async () => {
    emulator.setFault('openid-configuration', { status: 503, times: 1 });
    assert.equal((await fetch(emulator.discoveryUrl)).status, 503);
    assert.equal((await fetch(emulator.discoveryUrl)).status, 200);
  });

  it('delayMs delays the real answer', async () => {
    emulator.setFault('userInfo', { delayMs: 300 });
    const started = Date.now();
    const response = await fetch(`${emulator.url}/oauth2/userInfo`);
    assert.ok(Date.now() - started >= 280, 'answered late');
    assert.equal(response.status, 400, 'with the real response');
  });

  it('hang never answers: the client times out', async () => {
    emulator.setFault('revoke', { hang: true });
    await assert.rejects(
      fetch(`${emulator.url}/oauth2/revoke`, { method: 'POST', signal: AbortSignal.timeout(200) }),
      /timeout|aborted/i,
    );
  });

  it('stop() ends a hanging request instead of waiting for it', async () => {
    const doomed = await startEmulator({ port: 0 });
    doomed.setFault('jwks', { hang: true });
    const pending = fetch(doomed.jwksUri).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await doomed.stop();
    assert.ok(Date.now() - started < 1000, 'stop returns promptly');
    assert.equal(await pending, 'failed', 'the connection is closed, no answer is written');
  });
});

describe('clock offset and minting', () => {
  it('setClockOffset shifts iat/exp/auth_time of issued tokens', async () => {
    emulator.setClockOffset(-7200);
    const tokens = await signIn(emulator);
    const { payload } = decodeJwt(tokens.access_token);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(Number(payload.iat) - (now - 7200)) <= 2);
    assert.ok(Number(payload.exp) < now, 'already expired');
    assert.ok(Math.abs(Number(payload.auth_time) - (now - 7200)) <= 2);
  });

  it('mintToken applies claim overrides, omissions and header overrides, signed with the current keys', async () => {
    const token = await emulator.mintToken({
      use: 'access',
      username: 'bob',
      claims: { client_id: 'evil', extra: 1, 'cognito:groups': undefined },
      omit: ['token_use'],
      header: { typ: 'JWT' },
    });
    const { header, payload } = decodeJwt(token);
    assert.deepEqual(Object.keys(header), ['kid', 'alg', 'typ']);
    assert.equal(payload.client_id, 'evil');
    assert.equal(payload.extra, 1);
    assert.equal(payload.username, 'bob');
    assert.equal('token_use' in payload, false);
    assert.equal('cognito:groups' in payload, false);
    const verified = await jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUri)));
    assert.equal(verified.payload.client_id, 'evil');
  });

  it("mintToken can sign with an unpublished key or the other use's key", async () => {
    const unknown = await emulator.mintToken({ use: 'access', key: 'unpublished' });
    const kid = String(decodeJwt(unknown).header.kid);
    assert.ok(!(await jwksKids()).includes(kid));
    await assert.rejects(jwtVerify(unknown, createRemoteJWKSet(new URL(emulator.jwksUri))));

    const crossed = await emulator.mintToken({ use: 'id', key: 'access' });
    assert.equal(decodeJwt(crossed).payload.token_use, 'id');
    assert.equal(
      decodeJwt(crossed).header.kid,
      emulator.keys().find((key) => key.use === 'access' && key.active)?.kid,
    );
  });

  it('oversized claims: a user with many groups gets them all', async () => {
    const groups = Array.from({ length: 300 }, (_, i) => `group-${i}`);
    emulator.addUser({ username: 'groupie', password: 'Passw0rd!', groups });
    const tokens = await signIn(emulator, { username: 'groupie' });
    assert.deepEqual(decodeJwt(tokens.access_token).payload['cognito:groups'], groups);
    assert.ok(tokens.access_token.length > 4096);
  });
});
