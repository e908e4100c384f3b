import * as assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { generateKeyPair } from 'jose';

import { CognitoError, ConfigurationError, TokenVerifyError } from '../../src/core/errors.js';
import { JwksCache } from '../../src/core/jwks.js';
import { CognitoJwtVerifier } from '../../src/core/verify.js';
import type { CognitoJwtVerifierOptions } from '../../src/core/verify.js';
import {
  CLIENT_ID,
  ISSUER,
  NOW_MS,
  NOW_S,
  accessClaims,
  deadUrl,
  flipByte,
  idClaims,
  makeKey,
  sign,
  signRaw,
  startJwksServer,
  without,
} from './jwks-test-server.js';
import type { JwksServer, TestKey } from './jwks-test-server.js';

/** Asserts a clean 401 whose detail never contains the token. */
async function rejects401(promise: Promise<unknown>, token?: string, message?: string) {
  await assert.rejects(
    promise,
    (err: unknown) => {
      assert.ok(err instanceof TokenVerifyError, `expected TokenVerifyError, got ${String(err)}`);
      assert.equal(err.status, 401);
      if (token !== undefined && token.length > 8) {
        assert.ok(!(err.detail ?? '').includes(token), 'detail must not contain the token');
        assert.ok(!err.message.includes(token), 'message must not contain the token');
      }
      return true;
    },
    message,
  );
}

describe('CognitoJwtVerifier', () => {
  let keyA: TestKey;
  let keyB: TestKey;
  let attacker: TestKey;
  let server: JwksServer;
  let attackerServer: JwksServer;
  const clock = { ms: NOW_MS };
  const now = (): number => clock.ms;

  const rs = (claims: Record<string, unknown>, key: TestKey = keyA, extra = {}) =>
    sign(key.privateKey, { kid: key.kid, alg: 'RS256', ...extra }, claims);

  /** A verifier with its own JWKS cache (so fetch counts are per test). */
  const verifier = (options: Partial<CognitoJwtVerifierOptions> = {}, jwksUri = server.url) => {
    const jwks = new JwksCache({ jwksUri, now, timeoutMs: 1000 });
    return new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now, ...options });
  };

  before(async () => {
    [keyA, keyB, attacker] = await Promise.all([
      makeKey('spvUVat6clXStpoIh6nCUttT6y6AmPoPAty+UMNvQ2Y='),
      makeKey('2gH42FHBLdfSv1YQwmql6bi45sX3dovsvvuCXQQ6Uaw='),
      makeKey('attacker-kid'),
    ]);
    server = await startJwksServer([keyA.jwk, keyB.jwk]);
    attackerServer = await startJwksServer([attacker.jwk]);
  });

  after(async () => {
    await Promise.all([server.close(), attackerServer.close()]);
  });

  const reset = (): void => {
    clock.ms = NOW_MS;
    server.keys = [keyA.jwk, keyB.jwk];
    server.behaviour = { kind: 'ok' };
  };

  describe('accepts good tokens', () => {
    it('accepts a valid access token and returns its claims', async () => {
      reset();
      const claims = await verifier().verifyAccessToken(await rs(accessClaims()));
      assert.equal(claims.sub, '9048d38f-8174-49b9-8d59-3238172823d8');
      assert.equal(claims.token_use, 'access');
      assert.deepEqual(claims['cognito:groups'], ['admin']);
    });

    it('accepts a valid ID token signed by the other key of the pool', async () => {
      reset();
      const claims = await verifier().verifyIdToken(await rs(idClaims(), keyB), {
        nonce: 'n-0S6_WzA2Mj',
      });
      assert.equal(claims.aud, CLIENT_ID);
      assert.equal(claims.email, 'alice@example.com');
    });
  });

  describe('header and shape', () => {
    it('B19 rejects alg none, unsigned or with a signature, in any case', async () => {
      reset();
      const v = verifier();
      const body = Buffer.from(JSON.stringify(accessClaims())).toString('base64url');
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const header = Buffer.from(JSON.stringify({ kid: keyA.kid, alg })).toString('base64url');
        await rejects401(v.verifyAccessToken(`${header}.${body}.`));
        await rejects401(v.verifyAccessToken(`${header}.${body}.c2ln`));
      }
    });

    it('B20 rejects an invalid RS256 signature (other key, flipped bit, truncated, swapped)', async () => {
      reset();
      const v = verifier();
      const good = await rs(accessClaims());
      await v.verifyAccessToken(good);
      const otherKey = await sign(
        attacker.privateKey,
        { kid: keyA.kid, alg: 'RS256' },
        accessClaims(),
      );
      await rejects401(v.verifyAccessToken(otherKey), otherKey);
      await rejects401(v.verifyAccessToken(flipByte(good, 2, 10)), good);
      await rejects401(v.verifyAccessToken(good.slice(0, -4)), good);
      const other = await rs(accessClaims({ username: 'mallory' }));
      const [h, p] = other.split('.');
      const spliced = `${h}.${p}.${good.split('.')[2]}`;
      await rejects401(v.verifyAccessToken(spliced), spliced);
    });

    it('B21 rejects HS256 signed with the RSA public key as HMAC secret', async () => {
      reset();
      const v = verifier();
      const spki = createPublicKey({ key: keyA.jwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      }) as string;
      const secrets = [
        new TextEncoder().encode(spki),
        new TextEncoder().encode(JSON.stringify(keyA.jwk)),
        Buffer.from(keyA.jwk.n ?? '', 'base64url'),
      ];
      for (const secret of secrets) {
        const token = await sign(secret, { kid: keyA.kid, alg: 'HS256' }, accessClaims());
        await rejects401(v.verifyAccessToken(token), token);
      }
    });

    it('B22 rejects RS512, PS256 and ES256 tokens even with a known kid', async () => {
      reset();
      const v = verifier();
      for (const alg of ['RS512', 'PS256', 'ES256', 'RS384']) {
        const { privateKey } = await generateKeyPair(alg);
        const token = await sign(privateKey, { kid: keyA.kid, alg }, accessClaims());
        await rejects401(v.verifyAccessToken(token), token, alg);
      }
    });

    it('B19 B21 B22 a non-RS256 alg is refused from the header alone, before any JWKS fetch', async () => {
      reset();
      const jwks = new JwksCache({ jwksUri: server.url, now });
      const v = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      const payload = JSON.stringify(accessClaims());
      for (const alg of ['none', 'HS256', 'RS512', 'PS256', 'ES256', 'rs256', 'RS256 ']) {
        // Signed as RS256 so that only the header's claim about the algorithm is wrong.
        const token = await signRaw(
          keyA.privateKey,
          JSON.stringify({ kid: 'unknown', alg }),
          payload,
        );
        await rejects401(v.verifyAccessToken(token), token, alg);
      }
      assert.equal(jwks.fetchCount, 0);
    });

    it('B32 rejects a Cognito refresh token (5-part JWE) and other non-JWS strings before any fetch', async () => {
      reset();
      const v = verifier();
      const refresh =
        'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.' +
        `${'A'.repeat(342)}.${'B'.repeat(16)}.${'C'.repeat(1284)}.${'D'.repeat(22)}`;
      const good = await rs(accessClaims());
      const [h, p, s] = good.split('.');
      for (const token of [
        refresh,
        'opaque-refresh-token-value',
        `${h}.${p}`,
        `${h}.${p}.${s}.${s}`,
        `${h}..${s}`,
        `.${p}.${s}`,
        `${h}.${p}.`,
        ` ${good}`,
        `${good}\n`,
        `Bearer ${good}`,
        '',
      ]) {
        await rejects401(v.verifyAccessToken(token), token);
        await rejects401(v.verifyIdToken(token), token);
      }
      assert.equal(v.verifiedCacheSize, 0, 'nothing cached');
      const jwks = new JwksCache({ jwksUri: server.url });
      const cold = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      await rejects401(cold.verifyAccessToken(refresh), refresh);
      assert.equal(jwks.fetchCount, 0, 'a JWE never reaches the JWKS');
    });

    it('B33 rejects a token without kid even when the JWKS holds a single key', async () => {
      reset();
      server.keys = [keyA.jwk];
      const token = await sign(keyA.privateKey, { alg: 'RS256' }, accessClaims());
      await rejects401(verifier().verifyAccessToken(token), token);
    });

    it('B34 rejects a missing, empty or non-string kid when the JWKS holds several keys', async () => {
      reset();
      const v = verifier();
      for (const header of [
        { alg: 'RS256' },
        { alg: 'RS256', kid: '' },
        { alg: 'RS256', kid: 1 },
        { alg: 'RS256', kid: null },
        { alg: 'RS256', kid: [keyA.kid] },
      ]) {
        const token = await sign(keyA.privateKey, header, accessClaims());
        await rejects401(v.verifyAccessToken(token), token, JSON.stringify(header));
      }
    });

    it('B37 ignores jwk, jku, x5u and x5c headers: the key comes only from the configured JWKS', async () => {
      reset();
      const v = verifier();
      const hitsBefore = attackerServer.hits;
      const embedded = await sign(
        attacker.privateKey,
        { alg: 'RS256', kid: attacker.kid, jwk: attacker.jwk },
        accessClaims(),
      );
      await rejects401(v.verifyAccessToken(embedded), embedded);
      const embeddedKnownKid = await sign(
        attacker.privateKey,
        { alg: 'RS256', kid: keyA.kid, jwk: attacker.jwk },
        accessClaims(),
      );
      await rejects401(v.verifyAccessToken(embeddedKnownKid), embeddedKnownKid);
      for (const extra of [{ jku: attackerServer.url }, { x5u: attackerServer.url }]) {
        const token = await sign(
          attacker.privateKey,
          { alg: 'RS256', kid: attacker.kid, ...extra },
          accessClaims(),
        );
        await rejects401(v.verifyAccessToken(token), token);
      }
      const x5c = await sign(
        attacker.privateKey,
        { alg: 'RS256', kid: keyA.kid, x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
        accessClaims(),
      );
      await rejects401(v.verifyAccessToken(x5c), x5c);
      assert.equal(attackerServer.hits, hitsBefore, 'no request to a header-supplied URL');
    });

    it('B38 treats kid as an opaque, bounded map key: injection and huge kids are rejected', async () => {
      reset();
      const v = verifier();
      await v.verifyAccessToken(await rs(accessClaims())); // warm
      for (const kid of [
        '__proto__',
        'constructor',
        '../../../etc/passwd',
        "' OR '1'='1",
        '${jndi}',
      ]) {
        const token = await sign(keyA.privateKey, { alg: 'RS256', kid }, accessClaims());
        await rejects401(v.verifyAccessToken(token), token, kid);
      }
      const jwks = new JwksCache({ jwksUri: server.url });
      const cold = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      for (const kid of ['k'.repeat(257), 'k'.repeat(10_000)]) {
        const token = await sign(keyA.privateKey, { alg: 'RS256', kid }, accessClaims());
        await rejects401(cold.verifyAccessToken(token), token);
      }
      assert.equal(jwks.fetchCount, 0, 'an oversized kid is refused before any fetch');
    });

    it('rejects a crit header, even one naming a known extension', async () => {
      reset();
      const v = verifier();
      const payload = JSON.stringify(accessClaims());
      for (const crit of [['exp'], ['b64'], []]) {
        // jose refuses to sign these, so the header is written by hand.
        const header = JSON.stringify({ kid: keyA.kid, alg: 'RS256', crit, exp: 1, b64: true });
        const token = await signRaw(keyA.privateKey, header, payload);
        await rejects401(v.verifyAccessToken(token), token, header);
      }
    });

    it('B61 caps the token length and JSON depth before any key lookup', async () => {
      reset();
      const jwks = new JwksCache({ jwksUri: server.url });
      const v = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      const huge = `eyJhbGciOiJSUzI1NiJ9.${'A'.repeat(16 * 1024)}.AAAA`;
      await rejects401(v.verifyAccessToken(huge), huge);
      const padded = await rs(accessClaims({ pad: 'x'.repeat(13_000) }));
      assert.ok(padded.length > 16 * 1024);
      await rejects401(v.verifyAccessToken(padded), padded);
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = [deep];
      const nested = await rs(accessClaims({ deep }));
      await rejects401(v.verifyAccessToken(nested), nested);
      assert.equal(jwks.fetchCount, 0);
      // A token just under the cap is still accepted.
      const big = await rs(accessClaims({ pad: 'x'.repeat(11_000) }));
      assert.ok(big.length < 16 * 1024);
      await v.verifyAccessToken(big);
    });
  });

  describe('JSON and encoding tricks (B39)', () => {
    it('B39 rejects duplicate security claims in the payload, escaped or not', async () => {
      reset();
      const v = verifier();
      const base = JSON.stringify(accessClaims());
      const variants = [
        `{"iss":"https://evil.example",${base.slice(1)}`,
        `${base.slice(0, -1)},"iss":"https://evil.example"}`,
        `{"\\u0069ss":"https://evil.example",${base.slice(1)}`,
        `${base.slice(0, -1)},"exp":99999999999}`,
        `${base.slice(0, -1)},"client_id":"other"}`,
        `${base.slice(0, -1)},"token_use":"access"}`,
        `${base.slice(0, -1)},"nested":{"a":1,"a":2}}`,
      ];
      for (const payload of variants) {
        const token = await signRaw(
          keyA.privateKey,
          JSON.stringify({ kid: keyA.kid, alg: 'RS256' }),
          payload,
        );
        await rejects401(v.verifyAccessToken(token), token, payload.slice(0, 40));
      }
      // Sanity: the same construction without a duplicate verifies.
      await v.verifyAccessToken(
        await signRaw(keyA.privateKey, JSON.stringify({ kid: keyA.kid, alg: 'RS256' }), base),
      );
    });

    it('B39 rejects duplicate header members (alg, kid)', async () => {
      reset();
      const v = verifier();
      const payload = JSON.stringify(accessClaims());
      for (const header of [
        `{"alg":"HS256","kid":"${keyA.kid}","alg":"RS256"}`,
        `{"kid":"nope","alg":"RS256","kid":"${keyA.kid}"}`,
      ]) {
        const token = await signRaw(keyA.privateKey, header, payload);
        await rejects401(v.verifyAccessToken(token), token, header);
      }
    });

    it('B39 rejects non-numeric exp, iat and nbf', async () => {
      reset();
      const v = verifier();
      const cases = [
        { exp: String(NOW_S + 3600) },
        { exp: null },
        { exp: [NOW_S + 3600] },
        { exp: true },
        { iat: String(NOW_S) },
        { iat: { value: NOW_S } },
        { nbf: '0' },
        { nbf: null },
      ];
      for (const override of cases) {
        const token = await rs(accessClaims(override));
        await rejects401(v.verifyAccessToken(token), token, JSON.stringify(override));
      }
    });

    it('B39 rejects bad base64url and non-UTF-8 payloads', async () => {
      reset();
      const v = verifier();
      const good = await rs(accessClaims());
      const [h, p, s] = good.split('.') as [string, string, string];
      const std = (text: string) => Buffer.from(text, 'base64url').toString('base64');
      for (const token of [
        `${h}.${std(p)}.${s}`, // standard alphabet and padding
        `${h}.${p}=.${s}`,
        `${h}.${p}.${s}==`,
        `${h}.${p.slice(0, -1)}%.${s}`,
        `${h}.${p}A.${s}`, // 4k+1 length cannot be base64
      ]) {
        if (token === good) continue;
        await rejects401(v.verifyAccessToken(token), token);
      }
      const latin1 = Buffer.from(JSON.stringify(accessClaims({ username: 'jos\u00e9' })), 'latin1');
      const nonUtf8 = await signRaw(
        keyA.privateKey,
        JSON.stringify({ kid: keyA.kid, alg: 'RS256' }),
        new Uint8Array(latin1),
      );
      await rejects401(v.verifyAccessToken(nonUtf8), nonUtf8);
      const arrayPayload = await signRaw(
        keyA.privateKey,
        JSON.stringify({ kid: keyA.kid, alg: 'RS256' }),
        JSON.stringify([accessClaims()]),
      );
      await rejects401(v.verifyAccessToken(arrayPayload), arrayPayload);
      const arrayHeader = await signRaw(
        keyA.privateKey,
        '["RS256"]',
        JSON.stringify(accessClaims()),
      );
      await rejects401(v.verifyAccessToken(arrayHeader), arrayHeader);
    });
  });

  describe('claims', () => {
    it('B23 compares iss exactly: no trailing-slash, case or scheme normalisation', async () => {
      reset();
      const v = verifier();
      for (const iss of [
        `${ISSUER}/`,
        ISSUER.toUpperCase(),
        ISSUER.replace('https://', 'http://'),
        ISSUER.replace('eu-west-1_TestPool1', 'eu-west-1_testpool1'),
        ` ${ISSUER}`,
        undefined,
      ]) {
        const token = await rs(
          iss === undefined ? without(accessClaims(), 'iss') : accessClaims({ iss }),
        );
        await rejects401(v.verifyAccessToken(token), token, String(iss));
      }
      const slashVerifier = verifier({ issuer: `${ISSUER}/` });
      const token = await rs(accessClaims());
      await rejects401(slashVerifier.verifyAccessToken(token), token);
    });

    it('B24 ID token: rejects a wrong or missing aud and untrusted extra audiences without azp', async () => {
      reset();
      const v = verifier();
      for (const claims of [
        idClaims({ aud: 'otherclient' }),
        without(idClaims(), 'aud'),
        idClaims({ aud: [] }),
        idClaims({ aud: [CLIENT_ID, 'otherclient'] }),
        idClaims({ aud: [CLIENT_ID, 'otherclient'], azp: 'otherclient' }),
        idClaims({ aud: CLIENT_ID, azp: 'otherclient' }),
        idClaims({ aud: [CLIENT_ID, 7] }),
        idClaims({ aud: CLIENT_ID.toUpperCase() }),
      ]) {
        const token = await rs(claims);
        await rejects401(v.verifyIdToken(token), token, JSON.stringify(claims['aud']));
      }
      // Accepted: a one-element array, and several audiences when azp names us.
      await v.verifyIdToken(await rs(idClaims({ aud: [CLIENT_ID] })));
      await v.verifyIdToken(
        await rs(idClaims({ aud: [CLIENT_ID, 'otherclient'], azp: CLIENT_ID })),
      );
    });

    it('B24 access token: requires client_id (aud is not a substitute)', async () => {
      reset();
      const v = verifier();
      for (const claims of [
        without(accessClaims(), 'client_id'),
        without(accessClaims({ aud: CLIENT_ID }), 'client_id'),
        accessClaims({ client_id: [CLIENT_ID] }),
      ]) {
        const token = await rs(claims);
        await rejects401(v.verifyAccessToken(token), token);
      }
      // Cognito access tokens have no aud; one carrying a resource-server aud is still ours.
      await v.verifyAccessToken(await rs(accessClaims({ aud: 'https://api.example.com' })));
    });

    it('B25 rejects tokens issued to another app client of the same pool', async () => {
      reset();
      const v = verifier();
      const access = await rs(accessClaims({ client_id: 'anotherappclient000000000' }));
      await rejects401(v.verifyAccessToken(access), access);
      const id = await rs(idClaims({ aud: 'anotherappclient000000000' }));
      await rejects401(v.verifyIdToken(id), id);
    });

    it('B26 rejects tokens from another pool, even when its key reuses one of our kids', async () => {
      reset();
      const v = verifier();
      const otherIssuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool';
      const ownKeyOtherIss = await rs(accessClaims({ iss: otherIssuer }));
      await rejects401(v.verifyAccessToken(ownKeyOtherIss), ownKeyOtherIss);
      const otherKeyOurKid = await sign(
        attacker.privateKey,
        { alg: 'RS256', kid: keyA.kid },
        accessClaims(),
      );
      await rejects401(v.verifyAccessToken(otherKeyOurKid), otherKeyOurKid);
      // The other pool's own verifier (own JWKS cache) accepts nothing signed by our pool.
      const otherPool = new CognitoJwtVerifier({
        issuer: ISSUER,
        clientId: CLIENT_ID,
        jwks: new JwksCache({ jwksUri: attackerServer.url }),
        now,
      });
      const ours = await rs(accessClaims());
      await rejects401(otherPool.verifyAccessToken(ours), ours);
    });

    it('B27 rejects a missing, empty or non-string sub', async () => {
      reset();
      const v = verifier();
      for (const claims of [
        without(accessClaims(), 'sub'),
        accessClaims({ sub: '' }),
        accessClaims({ sub: 42 }),
        accessClaims({ sub: null }),
      ]) {
        const token = await rs(claims);
        await rejects401(v.verifyAccessToken(token), token);
      }
      const id = await rs(without(idClaims(), 'sub'));
      await rejects401(v.verifyIdToken(id), id);
    });

    it('B28 rejects a missing iat or an iat in the future beyond the leeway', async () => {
      reset();
      const v = verifier();
      const missing = await rs(without(accessClaims(), 'iat'));
      await rejects401(v.verifyAccessToken(missing), missing);
      const future = await rs(accessClaims({ iat: NOW_S + 600 }));
      await rejects401(v.verifyAccessToken(future), future);
      const oneSecond = await rs(accessClaims({ iat: NOW_S + 1 }));
      await rejects401(v.verifyAccessToken(oneSecond), oneSecond);
      await verifier({ leewaySeconds: 5 }).verifyAccessToken(oneSecond);
      const idMissing = await rs(without(idClaims(), 'iat'));
      await rejects401(v.verifyIdToken(idMissing), idMissing);
    });

    it('B29 rejects an expired token, a missing exp and an nbf in the future', async () => {
      reset();
      const v = verifier();
      for (const claims of [
        accessClaims({ exp: NOW_S - 1 }),
        accessClaims({ exp: NOW_S }),
        without(accessClaims(), 'exp'),
        accessClaims({ nbf: NOW_S + 60 }),
      ]) {
        const token = await rs(claims);
        await rejects401(v.verifyAccessToken(token), token, JSON.stringify(claims));
      }
      await v.verifyAccessToken(await rs(accessClaims({ exp: NOW_S + 1, nbf: NOW_S })));
    });

    it('B30 the leeway is applied exactly and bounded at construction', async () => {
      reset();
      const v = verifier({ leewaySeconds: 60 });
      await v.verifyAccessToken(await rs(accessClaims({ exp: NOW_S - 59 })));
      const beyond = await rs(accessClaims({ exp: NOW_S - 60 }));
      await rejects401(v.verifyAccessToken(beyond), beyond);
      const nbf = await rs(accessClaims({ nbf: NOW_S + 61 }));
      await rejects401(v.verifyAccessToken(nbf), nbf);
      await v.verifyAccessToken(await rs(accessClaims({ nbf: NOW_S + 60 })));
      for (const leewaySeconds of [301, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.throws(() => verifier({ leewaySeconds }), ConfigurationError, String(leewaySeconds));
      }
    });

    it('B31 rejects token-type confusion (ID as access, access as ID, missing or odd token_use)', async () => {
      reset();
      const v = verifier();
      // Craft each so that every other claim check would pass for the target type.
      const idAsAccess = await rs(idClaims({ client_id: CLIENT_ID }));
      await rejects401(v.verifyAccessToken(idAsAccess), idAsAccess);
      const accessAsId = await rs(accessClaims({ aud: CLIENT_ID, nonce: 'n-0S6_WzA2Mj' }));
      await rejects401(v.verifyIdToken(accessAsId), accessAsId);
      for (const tokenUse of [undefined, 'ID', 'Access', 'refresh', ['access']]) {
        const claims =
          tokenUse === undefined
            ? without(accessClaims(), 'token_use')
            : accessClaims({ token_use: tokenUse });
        const token = await rs(claims);
        await rejects401(v.verifyAccessToken(token), token, String(tokenUse));
      }
    });

    it('B31 a cached ID token is not accepted as an access token (and vice versa)', async () => {
      reset();
      const v = verifier();
      const id = await rs(idClaims({ client_id: CLIENT_ID }));
      await v.verifyIdToken(id);
      await rejects401(v.verifyAccessToken(id), id);
      const access = await rs(accessClaims({ aud: CLIENT_ID }));
      await v.verifyAccessToken(access);
      await rejects401(v.verifyIdToken(access), access);
    });

    it('rejects a cognito:groups claim that is not an array of strings', async () => {
      reset();
      const v = verifier();
      for (const groups of ['admin', [1], { 0: 'admin' }]) {
        const token = await rs(accessClaims({ 'cognito:groups': groups }));
        await rejects401(v.verifyAccessToken(token), token);
      }
    });
  });

  describe('ID-token bindings', () => {
    it('B8 requires the nonce to be present and equal when one is expected', async () => {
      reset();
      const v = verifier();
      const token = await rs(idClaims());
      await v.verifyIdToken(token, { nonce: 'n-0S6_WzA2Mj' });
      await rejects401(v.verifyIdToken(token, { nonce: 'n-0S6_WzA2Mk' }), token);
      await rejects401(v.verifyIdToken(token, { nonce: '' }), token);
      const missing = await rs(without(idClaims(), 'nonce'));
      await rejects401(v.verifyIdToken(missing, { nonce: 'n-0S6_WzA2Mj' }), missing);
      const nonString = await rs(idClaims({ nonce: ['n-0S6_WzA2Mj'] }));
      await rejects401(v.verifyIdToken(nonString, { nonce: 'n-0S6_WzA2Mj' }), nonString);
    });

    it('B40 checks at_hash against the access token when present', async () => {
      reset();
      const v = verifier();
      const access = await rs(accessClaims());
      const atHash = createHash('sha256')
        .update(access)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      const id = await rs(idClaims({ at_hash: atHash }));
      await v.verifyIdToken(id, { accessToken: access });
      const otherAccess = await rs(accessClaims({ jti: 'another' }));
      await rejects401(v.verifyIdToken(id, { accessToken: otherAccess }), id);
      const wrong = await rs(idClaims({ at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }));
      await rejects401(v.verifyIdToken(wrong, { accessToken: access }), wrong);
      // at_hash is optional in the code flow: absent means nothing to compare.
      await v.verifyIdToken(await rs(idClaims()), { accessToken: access });
    });

    it('B8 B40 nonce and at_hash are checked on every call, including cache hits', async () => {
      reset();
      const v = verifier();
      const access = await rs(accessClaims());
      const atHash = createHash('sha256')
        .update(access)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      const id = await rs(idClaims({ at_hash: atHash }));
      await v.verifyIdToken(id, { nonce: 'n-0S6_WzA2Mj', accessToken: access });
      assert.equal(v.verifiedCacheSize, 1);
      await rejects401(v.verifyIdToken(id, { nonce: 'replayed-elsewhere' }), id);
      await rejects401(v.verifyIdToken(id, { accessToken: `${access}x` }), id);
      await v.verifyIdToken(id, { nonce: 'n-0S6_WzA2Mj' });
    });
  });

  describe('per-request cost and the verified-token cache', () => {
    it('steady state: repeated verification makes no network call and returns frozen claims', async () => {
      reset();
      const jwks = new JwksCache({ jwksUri: server.url, now });
      const v = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      const token = await rs(accessClaims());
      const hitsBefore = server.hits;
      const first = await v.verifyAccessToken(token);
      for (let i = 0; i < 1000; i++) {
        assert.equal(await v.verifyAccessToken(token), first);
      }
      assert.equal(jwks.fetchCount, 1);
      assert.equal(server.hits - hitsBefore, 1);
      assert.ok(Object.isFrozen(first) && Object.isFrozen(first['cognito:groups']));
    });

    it('10,000 distinct junk tokens leave the cache empty and within its bound; valid tokens respect the bound', async () => {
      reset();
      const v = verifier({ verifiedCacheSize: 50 });
      const good = await rs(accessClaims());
      const [h, p, s] = good.split('.') as [string, string, string];
      for (let i = 0; i < 10_000; i++) {
        const junk =
          i % 10 === 0
            ? `${h}.${p}.${s.slice(0, -6)}${i.toString(36).padStart(6, 'A')}` // bad signature
            : `${h}.${Buffer.from(`{"n":${i}}`).toString('base64url')}.${s}`;
        await assert.rejects(v.verifyAccessToken(junk), TokenVerifyError);
      }
      const size = (): number => v.verifiedCacheSize; // read afresh (no narrowing)
      assert.equal(size(), 0);
      for (let i = 0; i < 120; i++) {
        await v.verifyAccessToken(await rs(accessClaims({ jti: `jti-${i}` })));
        assert.ok(size() <= 50);
      }
      assert.equal(size(), 50);
    });

    it('a cached token stops being accepted at its exp (plus leeway)', async () => {
      reset();
      const v = verifier({ leewaySeconds: 30 });
      const token = await rs(accessClaims({ exp: NOW_S + 100 }));
      await v.verifyAccessToken(token);
      assert.equal(v.verifiedCacheSize, 1);
      clock.ms = (NOW_S + 129) * 1000;
      await v.verifyAccessToken(token);
      clock.ms = (NOW_S + 130) * 1000;
      await rejects401(v.verifyAccessToken(token), token);
      clock.ms = (NOW_S + 100_000) * 1000;
      await rejects401(v.verifyAccessToken(token), token);
      reset();
    });

    it('B35 the cache is cleared when the key set changes: a withdrawn key stops verifying', async () => {
      reset();
      server.keys = [keyA.jwk];
      const v = verifier();
      const signedByA = await rs(accessClaims());
      await v.verifyAccessToken(signedByA);
      assert.equal(v.verifiedCacheSize, 1);
      // Rotation: the pool now publishes only key B; a token signed by B triggers the refetch.
      server.keys = [keyB.jwk];
      await v.verifyAccessToken(await rs(accessClaims({ jti: 'b' }), keyB));
      await rejects401(v.verifyAccessToken(signedByA), signedByA);
    });

    it('B35 a key-set change seen by another user of the same JwksCache also clears the cache', async () => {
      reset();
      server.keys = [keyA.jwk];
      const jwks = new JwksCache({ jwksUri: server.url, now });
      const v = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      const signedByA = await rs(accessClaims());
      await v.verifyAccessToken(signedByA);
      // The rotation is observed outside this verifier (background refresh, a second verifier).
      server.keys = [keyB.jwk];
      await jwks.getKey(keyB.kid);
      assert.equal(jwks.generation, 2);
      await rejects401(v.verifyAccessToken(signedByA), signedByA);
      assert.equal(v.verifiedCacheSize, 0);
    });

    it('verifiedCacheSize 0 disables the cache and still verifies', async () => {
      reset();
      const v = verifier({ verifiedCacheSize: 0 });
      const token = await rs(accessClaims());
      await v.verifyAccessToken(token);
      await v.verifyAccessToken(token);
      assert.equal(v.verifiedCacheSize, 0);
    });

    it('B62 an unreachable JWKS with nothing cached is a CognitoError (503), not a 401 or a 500', async () => {
      reset();
      const v = verifier({}, await deadUrl());
      await assert.rejects(v.verifyAccessToken(await rs(accessClaims())), (err: unknown) => {
        assert.ok(err instanceof CognitoError);
        assert.equal(err.code, 'ERR_COGNITO_UNREACHABLE');
        assert.equal(err.status, 503);
        return true;
      });
    });

    it('B36 an unknown-kid storm through the verifier: at most a couple of fetches, valid tokens keep verifying', async () => {
      reset();
      const jwks = new JwksCache({ jwksUri: server.url, now, cooldownMs: 10_000 });
      const v = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks, now });
      const valid = await rs(accessClaims());
      await v.verifyAccessToken(valid);
      const junk = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          sign(attacker.privateKey, { alg: 'RS256', kid: `junk-${i}` }, accessClaims()),
        ),
      );
      const results = await Promise.allSettled([
        ...junk.map((token) => v.verifyAccessToken(token)),
        v.verifyAccessToken(valid),
      ]);
      assert.ok(results.slice(0, 50).every((r) => r.status === 'rejected'));
      assert.equal(results[50]?.status, 'fulfilled');
      assert.ok(jwks.fetchCount <= 2, `fetchCount ${jwks.fetchCount}`);
    });

    it('rejects invalid options at construction with one ConfigurationError naming each problem', () => {
      const jwks = new JwksCache({ jwksUri: server.url });
      assert.throws(
        () =>
          new CognitoJwtVerifier({
            issuer: '',
            clientId: '',
            jwks,
            leewaySeconds: 1000,
            verifiedCacheSize: -1,
          }),
        (err: unknown) => err instanceof ConfigurationError && err.problems.length === 4,
      );
    });
  });
});
