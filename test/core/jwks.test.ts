import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CognitoError, TokenVerifyError } from '../../src/core/errors.js';
import { JwksCache } from '../../src/core/jwks.js';
import type { JwksCacheEvent, JwksCacheOptions } from '../../src/core/jwks.js';
import { deadUrl, makeKey, startJwksServer } from './jwks-test-server.js';
import type { JwksServer, TestKey } from './jwks-test-server.js';

function isCognitoError(code: CognitoError['code']) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof CognitoError, `expected CognitoError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

function isTokenVerifyError(err: unknown): boolean {
  assert.ok(err instanceof TokenVerifyError, `expected TokenVerifyError, got ${String(err)}`);
  assert.equal(err.status, 401);
  return true;
}

describe('JwksCache', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  let weak: TestKey;
  let server: JwksServer;
  const clock = { ms: 1_700_000_000_000 };
  const now = (): number => clock.ms;

  const cache = (options: Partial<JwksCacheOptions> = {}): JwksCache =>
    new JwksCache({ jwksUri: server.url, now, timeoutMs: 1000, ...options });

  before(async () => {
    [keyA, keyB, weak] = await Promise.all([
      makeKey('spvUVat6clXStpoIh6nCUttT6y6AmPoPAty+UMNvQ2Y='),
      makeKey('2gH42FHBLdfSv1YQwmql6bi45sX3dovsvvuCXQQ6Uaw='),
      makeKey('weak-1024', 1024),
    ]);
    server = await startJwksServer([keyA.jwk]);
  });

  after(async () => {
    await server.close();
  });

  const reset = (keys = [keyA.jwk]): void => {
    server.keys = keys;
    server.behaviour = { kind: 'ok' };
  };

  it('serves every lookup from memory after one fetch (no network call in steady state)', async () => {
    reset();
    const jwks = cache();
    const hitsBefore = server.hits;
    for (let i = 0; i < 100; i++) await jwks.getKey(keyA.kid);
    assert.equal(jwks.fetchCount, 1);
    assert.equal(server.hits - hitsBefore, 1);
    assert.equal(jwks.keyCount, 1);
    assert.equal(jwks.generation, 1);
  });

  it('returns a CryptoKey usable for RS256 verification only', async () => {
    reset();
    const key = await cache().getKey(keyA.kid);
    assert.equal(key.type, 'public');
    assert.deepEqual(key.usages, ['verify']);
    assert.equal(key.algorithm.name, 'RSASSA-PKCS1-v1_5');
  });

  it('B36 single-flight: 50 concurrent lookups on a cold cache make one fetch', async () => {
    reset();
    server.behaviour = { kind: 'delay', ms: 50 };
    const jwks = cache();
    const keys = await Promise.all(Array.from({ length: 50 }, () => jwks.getKey(keyA.kid)));
    assert.equal(jwks.fetchCount, 1);
    assert.ok(keys.every((key) => key === keys[0]));
  });

  it('B35 an unknown kid triggers one refetch that finds a rotated-in key; generation increments', async () => {
    reset();
    const jwks = cache();
    await jwks.warm();
    assert.equal(jwks.generation, 1);
    server.keys = [keyA.jwk, keyB.jwk];
    const key = await jwks.getKey(keyB.kid);
    assert.equal(key.type, 'public');
    assert.equal(jwks.fetchCount, 2);
    assert.equal(jwks.generation, 2);
    assert.equal(jwks.keyCount, 2);
    // The old key still works and costs nothing.
    await jwks.getKey(keyA.kid);
    assert.equal(jwks.fetchCount, 2);
  });

  it('B35 a refetch that returns the same keys does not change the generation', async () => {
    reset();
    const jwks = cache();
    await jwks.warm();
    await assert.rejects(jwks.getKey('not-there'), isTokenVerifyError);
    assert.equal(jwks.fetchCount, 2);
    assert.equal(jwks.generation, 1);
  });

  it('B36 a storm of 50 junk kids makes at most one refetch per cooldown; valid kids keep resolving', async () => {
    reset();
    const jwks = cache({ cooldownMs: 10_000 });
    await jwks.warm();
    const junk = Array.from({ length: 50 }, (_, i) => jwks.getKey(`junk-${i}`));
    const valid = jwks.getKey(keyA.kid);
    const results = await Promise.allSettled(junk);
    assert.ok(results.every((r) => r.status === 'rejected' && isTokenVerifyError(r.reason)));
    assert.equal((await valid).type, 'public');
    assert.ok(jwks.fetchCount <= 2, `fetchCount ${jwks.fetchCount}`);

    // Still inside the cooldown: junk fails at once with no fetch at all.
    for (let i = 0; i < 50; i++) {
      await assert.rejects(jwks.getKey(`more-junk-${i}`), isTokenVerifyError);
    }
    assert.ok(jwks.fetchCount <= 2);
    const fetchesSoFar = jwks.fetchCount;

    // After the cooldown, one more refetch is allowed (key rotation must stay possible).
    clock.ms += 10_001;
    await assert.rejects(jwks.getKey('junk-after-cooldown'), isTokenVerifyError);
    assert.equal(jwks.fetchCount, fetchesSoFar + 1);
  });

  it('B38 kids are opaque map keys: prototype names, traversal strings and huge kids are just unknown', async () => {
    reset();
    const jwks = cache();
    await jwks.warm();
    for (const kid of ['__proto__', 'constructor', 'toString', '../../etc/passwd', "' OR 1=1 --"]) {
      await assert.rejects(jwks.getKey(kid), isTokenVerifyError);
    }
    const fetches = jwks.fetchCount;
    await assert.rejects(jwks.getKey('k'.repeat(100_000)), isTokenVerifyError);
    await assert.rejects(jwks.getKey(''), isTokenVerifyError);
    assert.equal(jwks.fetchCount, fetches, 'malformed kids never cause a fetch');
  });

  it('B62 a JWKS that never answers yields ERR_COGNITO_TIMEOUT within about timeoutMs', async () => {
    reset();
    server.behaviour = { kind: 'hang' };
    const jwks = cache({ timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(jwks.getKey(keyA.kid), isCognitoError('ERR_COGNITO_TIMEOUT'));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 1500, `took ${elapsed} ms`);
  });

  it('B62 the timeout holds even when a custom fetch ignores the abort signal', async () => {
    const jwks = new JwksCache({
      jwksUri: 'https://jwks.invalid/keys',
      timeoutMs: 100,
      fetch: () => new Promise<Response>(() => undefined),
    });
    await assert.rejects(jwks.getKey('k'), isCognitoError('ERR_COGNITO_TIMEOUT'));
  });

  it('B62 an unreachable JWKS yields ERR_COGNITO_UNREACHABLE (503) when nothing is cached', async () => {
    const jwks = new JwksCache({ jwksUri: await deadUrl(), timeoutMs: 2000 });
    await assert.rejects(jwks.getKey(keyA.kid), (err: unknown) => {
      isCognitoError('ERR_COGNITO_UNREACHABLE')(err);
      assert.equal((err as CognitoError).status, 503);
      return true;
    });
  });

  it('B62 an HTTP 500 from the JWKS yields ERR_COGNITO_BAD_RESPONSE (502) when nothing is cached', async () => {
    reset();
    server.behaviour = { kind: 'status', status: 500 };
    await assert.rejects(cache().getKey(keyA.kid), (err: unknown) => {
      isCognitoError('ERR_COGNITO_BAD_RESPONSE')(err);
      assert.equal((err as CognitoError).status, 502);
      return true;
    });
  });

  it('B62 after a failed fetch with nothing cached, requests fail fast instead of refetching each time', async () => {
    reset();
    server.behaviour = { kind: 'status', status: 503 };
    const jwks = cache();
    for (let i = 0; i < 20; i++) {
      await assert.rejects(jwks.getKey(keyA.kid), isCognitoError('ERR_COGNITO_BAD_RESPONSE'));
    }
    assert.equal(jwks.fetchCount, 1);
    // Recovery: after the short back-off the next request fetches again and succeeds.
    server.behaviour = { kind: 'ok' };
    clock.ms += 1000;
    await jwks.getKey(keyA.kid);
    assert.equal(jwks.fetchCount, 2);
  });

  it('B62 a failed refetch keeps the cached keys: known kids verify, unknown kids are a clean 401', async () => {
    reset();
    const jwks = cache();
    await jwks.warm();
    for (const behaviour of [
      { kind: 'status', status: 500 },
      { kind: 'refuse' },
      { kind: 'raw', contentType: 'text/html', body: '<html>down</html>' },
    ] as const) {
      server.behaviour = behaviour;
      clock.ms += 10_001;
      await assert.rejects(jwks.getKey(`unknown-${behaviour.kind}`), isTokenVerifyError);
      assert.equal((await jwks.getKey(keyA.kid)).type, 'public');
      assert.equal(jwks.keyCount, 1);
      assert.equal(jwks.generation, 1);
    }
  });

  it('B62 a hanging refetch does not delay lookups of known kids', async () => {
    reset();
    const jwks = cache({ timeoutMs: 300 });
    await jwks.warm();
    server.behaviour = { kind: 'hang' };
    clock.ms += 10_001;
    const unknown = jwks.getKey('rotated-in');
    const started = Date.now();
    await jwks.getKey(keyA.kid);
    assert.ok(Date.now() - started < 100, 'known kid answered without waiting');
    await assert.rejects(unknown, isTokenVerifyError);
  });

  it('B62 maxAge: a stale key set is refreshed in the background while cached keys keep serving', async () => {
    reset();
    const jwks = cache({ maxAgeMs: 60_000 });
    await jwks.warm();
    clock.ms += 60_000;
    server.behaviour = { kind: 'delay', ms: 100 };
    server.keys = [keyA.jwk, keyB.jwk];
    const started = Date.now();
    await jwks.getKey(keyA.kid); // stale: served at once, refresh starts behind it
    assert.ok(Date.now() - started < 80);
    assert.equal(jwks.fetchCount, 2);
    await jwks.getKey(keyB.kid); // joins the running refresh instead of starting another
    assert.equal(jwks.fetchCount, 2);
    assert.equal(jwks.generation, 2);
  });

  it('B63 unusable JWKS answers never populate the cache (502 when nothing is cached)', async () => {
    const bad = [
      { kind: 'raw', contentType: 'text/html', body: '<html>{"keys":[]}</html>' },
      { kind: 'raw', contentType: 'application/json', body: '{"keys":[{"kty":"RSA"' },
      { kind: 'raw', contentType: 'application/json', body: '{"keys":[]}' },
      { kind: 'raw', contentType: 'application/json', body: '{"notkeys":[]}' },
      { kind: 'raw', contentType: 'application/json', body: '[]' },
      { kind: 'raw', contentType: 'application/json', body: 'null' },
      { kind: 'raw', contentType: 'application/json', body: '' },
      { kind: 'raw', contentType: 'text/plain', body: JSON.stringify({ keys: [keyA.jwk] }) },
      { kind: 'status', status: 302 },
      { kind: 'status', status: 404 },
    ] as const;
    for (const behaviour of bad) {
      server.behaviour = behaviour;
      const jwks = cache();
      await assert.rejects(
        jwks.getKey(keyA.kid),
        isCognitoError('ERR_COGNITO_BAD_RESPONSE'),
        JSON.stringify(behaviour),
      );
      assert.equal(jwks.keyCount, 0);
      assert.equal(jwks.generation, 0);
    }
  });

  it('B63 a malformed or empty refetch never replaces a good cached set', async () => {
    reset();
    const jwks = cache();
    await jwks.warm();
    const bodies = [
      '{"keys":[]}',
      '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"x"}]}',
      '{"keys":',
      '{}',
    ];
    for (const body of bodies) {
      server.behaviour = { kind: 'raw', contentType: 'application/json', body };
      clock.ms += 10_001;
      await assert.rejects(jwks.getKey('rotated'), isTokenVerifyError);
      assert.equal(jwks.keyCount, 1);
      assert.equal(jwks.generation, 1);
      assert.equal((await jwks.getKey(keyA.kid)).type, 'public');
    }
  });

  it('B63 a JWKS response over maxResponseBytes is refused, declared or streamed', async () => {
    reset();
    server.keys = [
      keyA.jwk,
      ...Array.from({ length: 40 }, (_, i) => ({ ...keyB.jwk, kid: `k${i}` })),
    ];
    await assert.rejects(
      cache({ maxResponseBytes: 4096 }).getKey(keyA.kid),
      isCognitoError('ERR_COGNITO_BAD_RESPONSE'),
    );
    // Without a content-length (streamed), the cap is enforced while reading.
    const streamed = new JwksCache({
      jwksUri: 'https://jwks.invalid/keys',
      maxResponseBytes: 1024,
      fetch: () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                controller.enqueue(new TextEncoder().encode(' '.repeat(512)));
              },
            }),
            { headers: { 'content-type': 'application/json' } },
          ),
        ),
    });
    await assert.rejects(streamed.getKey('k'), isCognitoError('ERR_COGNITO_BAD_RESPONSE'));
  });

  it('B63 accepts application/jwk-set+json and a charset parameter', async () => {
    for (const contentType of ['application/jwk-set+json', 'application/json; charset=utf-8']) {
      server.behaviour = {
        kind: 'raw',
        contentType,
        body: JSON.stringify({ keys: [keyA.jwk] }),
      };
      assert.equal((await cache().getKey(keyA.kid)).type, 'public');
    }
    reset();
  });

  it('B21 B63 skips JWKS entries that are not RS256 RSA signing keys of at least 2048 bits', async () => {
    const hostile = [
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: 'oct' },
      { ...keyB.jwk, kid: 'enc', use: 'enc' },
      { ...keyB.jwk, kid: 'rs512', alg: 'RS512' },
      { ...keyB.jwk, kid: 'hs256', alg: 'HS256' },
      { ...keyB.jwk, kid: 'ec', kty: 'EC' },
      { ...weak.jwk },
      { ...keyB.jwk, kid: undefined },
      { ...keyB.jwk, kid: 'bad-n', n: 'not base64url!' },
      { ...keyB.jwk, kid: 'x'.repeat(300) },
      'a string',
      null,
    ];
    server.keys = [...hostile, keyA.jwk] as typeof server.keys;
    server.behaviour = { kind: 'ok' };
    const jwks = cache();
    await jwks.warm();
    assert.equal(jwks.keyCount, 1);
    for (const kid of ['oct', 'enc', 'rs512', 'hs256', 'ec', 'weak-1024', 'bad-n']) {
      clock.ms += 10_001;
      await assert.rejects(jwks.getKey(kid), isTokenVerifyError, kid);
    }
    await jwks.getKey(keyA.kid);
    reset();
  });

  it('reports fetch, keys-changed and fetch-failed events without any kid from a token', async () => {
    reset();
    const events: JwksCacheEvent[] = [];
    const jwks = cache({ onEvent: (event) => events.push(event) });
    await jwks.warm();
    server.behaviour = { kind: 'status', status: 500 };
    await assert.rejects(jwks.getKey('attacker-kid-\nINJECTED'), isTokenVerifyError);
    assert.deepEqual(
      events.map((event) => event.type),
      ['fetch', 'keys-changed', 'fetch', 'fetch-failed'],
    );
    assert.ok(events.every((event) => !(event.detail ?? '').includes('attacker')));
    reset();
  });

  it('a throwing onEvent hook does not break lookups', async () => {
    reset();
    const jwks = cache({
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    assert.equal((await jwks.getKey(keyA.kid)).type, 'public');
  });

  it('rejects invalid options at construction', () => {
    assert.throws(() => new JwksCache({ jwksUri: '' }), TypeError);
    assert.throws(() => new JwksCache({ jwksUri: server.url, timeoutMs: 0 }), TypeError);
    assert.throws(() => new JwksCache({ jwksUri: server.url, cooldownMs: -1 }), TypeError);
    assert.throws(() => new JwksCache({ jwksUri: server.url, maxAgeMs: Number.NaN }), TypeError);
  });
});
