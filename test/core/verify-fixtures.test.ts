// Real tokens issued by AWS Cognito (eu-west-1, 2022), with the pool's real JWKS. They must
// verify with the clock inside their validity window, and every tampered variant must fail.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import type { JWK } from 'jose';

import { TokenVerifyError } from '../../src/core/errors.js';
import { JwksCache } from '../../src/core/jwks.js';
import { CognitoJwtVerifier } from '../../src/core/verify.js';
import { editSegment, flipByte, startJwksServer } from './jwks-test-server.js';
import type { JwksServer } from './jwks-test-server.js';

interface Fixture {
  issuer: string;
  clientId: string;
  jwks: { keys: JWK[] };
  accessToken: string;
  idToken: string;
  idTokenNonce: string;
  accessTokenClaims: Record<string, unknown>;
  idTokenClaims: Record<string, unknown>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/real-cognito-tokens.json', import.meta.url), 'utf8'),
) as Fixture;
const IAT_MS = 1647961493 * 1000;
const EXP_MS = 1647965093 * 1000;

async function rejects401(promise: Promise<unknown>, message?: string): Promise<void> {
  await assert.rejects(promise, TokenVerifyError, message);
}

describe('real Cognito tokens', () => {
  let server: JwksServer;
  const clock = { ms: IAT_MS + 60_000 };
  const now = (): number => clock.ms;
  const verifier = (issuer = fixture.issuer, clientId = fixture.clientId): CognitoJwtVerifier =>
    new CognitoJwtVerifier({
      issuer,
      clientId,
      jwks: new JwksCache({ jwksUri: server.url, now }),
      now,
    });

  before(async () => {
    server = await startJwksServer(fixture.jwks.keys);
  });

  after(async () => {
    await server.close();
  });

  it('accepts the real access token inside its validity window', async () => {
    clock.ms = IAT_MS + 60_000;
    const claims = await verifier().verifyAccessToken(fixture.accessToken);
    assert.deepEqual({ ...claims }, fixture.accessTokenClaims);
  });

  it('refuses every other spelling of a real token: non-canonical base64url in any segment', async () => {
    clock.ms = IAT_MS + 60_000;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let variants = 0;
    for (const token of [fixture.accessToken, fixture.idToken]) {
      const segments = token.split('.');
      for (const [index, segment] of segments.entries()) {
        const unusedBits = [0, 0, 4, 2][segment.length % 4] ?? 0;
        if (unusedBits === 0) continue;
        const last = alphabet.indexOf(segment.at(-1)!);
        for (let low = 1; low < 1 << unusedBits; low += 1) {
          const spelling = alphabet[last | low]!;
          const other = [...segments];
          other[index] = segment.slice(0, -1) + spelling;
          const variant = other.join('.');
          // The same bytes: a decoder ignores the unused bits.
          assert.deepEqual(
            Buffer.from(other[index] ?? '', 'base64url'),
            Buffer.from(segment, 'base64url'),
          );
          const use = JSON.parse(Buffer.from(segments[1]!, 'base64url').toString()).token_use;
          await rejects401(
            use === 'access'
              ? verifier().verifyAccessToken(variant)
              : verifier().verifyIdToken(variant),
          );
          variants += 1;
        }
      }
    }
    // Each RS256 signature (342 characters) alone has 15 other spellings.
    assert.ok(variants >= 30, `${variants} variants`);
    assert.ok(await verifier().verifyAccessToken(fixture.accessToken));
  });

  it('accepts the real ID token with its nonce and its at_hash against the real access token', async () => {
    clock.ms = EXP_MS - 1;
    const claims = await verifier().verifyIdToken(fixture.idToken, {
      nonce: fixture.idTokenNonce,
      accessToken: fixture.accessToken,
    });
    assert.deepEqual({ ...claims }, fixture.idTokenClaims);
  });

  it('the two real tokens are signed by different keys of the pool (A6)', () => {
    const kid = (token: string) =>
      (
        JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
          kid: string;
        }
      ).kid;
    assert.notEqual(kid(fixture.accessToken), kid(fixture.idToken));
  });

  it('B29 rejects the real tokens once expired, and before their iat', async () => {
    const v = verifier();
    clock.ms = EXP_MS;
    await rejects401(v.verifyAccessToken(fixture.accessToken));
    await rejects401(v.verifyIdToken(fixture.idToken));
    clock.ms = IAT_MS - 1000;
    await rejects401(v.verifyAccessToken(fixture.accessToken));
    clock.ms = IAT_MS + 60_000;
  });

  it('B20 rejects a real token with a payload byte flipped or a signature bit flipped', async () => {
    const v = verifier();
    await rejects401(v.verifyAccessToken(flipByte(fixture.accessToken, 1, 20)));
    await rejects401(
      v.verifyAccessToken(
        editSegment(fixture.accessToken, 1, (t) => t.replace('mblack', 'mblacl')),
      ),
    );
    await rejects401(
      v.verifyAccessToken(
        editSegment(fixture.accessToken, 1, (t) => t.replace('"admin"', '"admix"')),
      ),
    );
    await rejects401(v.verifyAccessToken(flipByte(fixture.accessToken, 2, 100)));
    await rejects401(v.verifyIdToken(flipByte(fixture.idToken, 2, 0)));
    await rejects401(
      v.verifyIdToken(editSegment(fixture.idToken, 1, (t) => t.replace('"admin"', '"root"'))),
    );
  });

  it('B22 rejects a real token whose alg was swapped', async () => {
    const v = verifier();
    for (const alg of ['RS512', 'PS256', 'HS256', 'none']) {
      const token = editSegment(fixture.accessToken, 0, (t) => t.replace('RS256', alg));
      await rejects401(v.verifyAccessToken(token), alg);
    }
  });

  it('B20 rejects a real token whose kid was swapped to the other key of the pool', async () => {
    const v = verifier();
    const [first = '', second = ''] = fixture.jwks.keys.map((key) => key.kid ?? '');
    const swap = (t: string) =>
      t.includes(first) ? t.replace(first, second) : t.replace(second, first);
    await rejects401(v.verifyAccessToken(editSegment(fixture.accessToken, 0, swap)));
    await rejects401(v.verifyIdToken(editSegment(fixture.idToken, 0, swap)));
  });

  it('B23 B25 rejects the real tokens for another issuer or another app client', async () => {
    for (const v of [
      verifier(`${fixture.issuer}/`),
      verifier(fixture.issuer.replace('eu-west-1_c7O90SNDF', 'eu-west-1_c7O90SNDG')),
      verifier(fixture.issuer, '4lln66726pp3f4gi1krj0sta9i'),
    ]) {
      await rejects401(v.verifyAccessToken(fixture.accessToken));
      await rejects401(v.verifyIdToken(fixture.idToken));
    }
  });

  it('B31 rejects the real ID token as an access token and the access token as an ID token', async () => {
    const v = verifier();
    await rejects401(v.verifyAccessToken(fixture.idToken));
    await rejects401(v.verifyIdToken(fixture.accessToken));
  });

  it('B8 B40 rejects the real ID token with a wrong nonce or a different access token', async () => {
    const v = verifier();
    await rejects401(v.verifyIdToken(fixture.idToken, { nonce: `${fixture.idTokenNonce}x` }));
    await rejects401(
      v.verifyIdToken(fixture.idToken, { accessToken: flipByte(fixture.accessToken, 2, 5) }),
    );
  });
});
