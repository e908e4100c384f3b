// Verification micro-benchmark: `npx tsx bench/verify.ts`.
//
// Measures ops/s of
//   1. raw node:crypto RS256 verify (split + base64url + signature + JSON.parse), the floor;
//   2. jose jwtVerify with a CryptoKey, and with a KeyObject (to choose JwksCache's key type);
//   3. CognitoJwtVerifier on the cache-miss path (full verification every call);
//   4. CognitoJwtVerifier on the cache-hit path (the steady-state per-request cost);
// each sequentially (one await after another) and, for the async paths, with 32 in flight.
// Several rounds; medians and ratios are printed. No assertions: numbers vary by machine.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';

import { JwksCache } from '../src/core/jwks.js';
import { CognitoJwtVerifier } from '../src/core/verify.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const ROUND_MS = Number(process.env['BENCH_ROUND_MS'] ?? 400);
const CONCURRENCY = 32;
const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench';
const CLIENT_ID = 'benchclient00000000000001';
const KID = 'spvUVat6clXStpoIh6nCUttT6y6AmPoPAty+UMNvQ2Y=';

type Op = () => unknown;

/** Runs `op` for about ROUND_MS and returns ops/s; awaits only when `op` returns a promise. */
async function round(op: Op, concurrency: number): Promise<number> {
  let count = 0;
  const started = performance.now();
  const deadline = started + ROUND_MS;
  if (concurrency === 1) {
    while (performance.now() < deadline) {
      for (let i = 0; i < 50; i++) {
        const result = op();
        if (result instanceof Promise) await result;
      }
      count += 50;
    }
  } else {
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await op();
        count += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  return (count * 1000) / (performance.now() - started);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function measure(op: Op, concurrency = 1): Promise<number> {
  await round(op, concurrency); // warm-up (JIT, key caches)
  const results: number[] = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await round(op, concurrency));
  return median(results);
}

function rawNodeVerify(token: string, key: KeyObject): unknown {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as {
    alg: string;
  };
  if (header.alg !== 'RS256') throw new Error('alg');
  const ok = nodeVerify(
    'RSA-SHA256',
    Buffer.from(token.slice(0, second)),
    key,
    Buffer.from(token.slice(second + 1), 'base64url'),
  );
  if (!ok) throw new Error('signature');
  return JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString());
}

async function main(): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const keyObject = createPublicKey({ key: jwk as never, format: 'jwk' });
  const nowS = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    sub: '9048d38f-8174-49b9-8d59-3238172823d8',
    'cognito:groups': ['admin'],
    iss: ISSUER,
    version: 2,
    client_id: CLIENT_ID,
    origin_jti: 'd4811bf1-2798-4d33-b65c-2f8254729dd2',
    event_id: '18828d18-b465-470e-84b6-17520ded299b',
    token_use: 'access',
    scope: 'phone openid email',
    auth_time: nowS,
    jti: '0fe29a9e-6e94-479b-987b-e45696d5843a',
    username: 'mblack',
  })
    .setProtectedHeader({ kid: KID, alg: 'RS256' })
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + 3600)
    .sign(privateKey);

  const jwksFetch: typeof fetch = () =>
    Promise.resolve(
      new Response(JSON.stringify({ keys: [jwk] }), {
        headers: { 'content-type': 'application/json' },
      }),
    );
  const jwks = new JwksCache({ jwksUri: 'https://bench.invalid/jwks.json', fetch: jwksFetch });
  const miss = new CognitoJwtVerifier({
    issuer: ISSUER,
    clientId: CLIENT_ID,
    jwks,
    verifiedCacheSize: 0,
  });
  const hit = new CognitoJwtVerifier({ issuer: ISSUER, clientId: CLIENT_ID, jwks });
  const cryptoKey = await jwks.getKey(KID);
  await miss.verifyAccessToken(token);
  await hit.verifyAccessToken(token);
  rawNodeVerify(token, keyObject);
  const joseOptions = { algorithms: ['RS256'], issuer: ISSUER };

  const rows: [string, number][] = [];
  const run = async (name: string, op: Op, concurrency = 1): Promise<void> => {
    const opsPerSecond = await measure(op, concurrency);
    rows.push([name, opsPerSecond]);
    process.stdout.write('.');
  };

  await run('raw node:crypto RS256 verify (sync)', () => rawNodeVerify(token, keyObject));
  await run('jose jwtVerify, CryptoKey', () => jwtVerify(token, cryptoKey, joseOptions));
  await run('jose jwtVerify, KeyObject', () => jwtVerify(token, keyObject, joseOptions));
  await run('our verifier, cache miss', () => miss.verifyAccessToken(token));
  await run('our verifier, cache hit', () => hit.verifyAccessToken(token));
  await run(
    `jose jwtVerify, CryptoKey (${CONCURRENCY} in flight)`,
    () => jwtVerify(token, cryptoKey, joseOptions),
    CONCURRENCY,
  );
  await run(
    `jose jwtVerify, KeyObject (${CONCURRENCY} in flight)`,
    () => jwtVerify(token, keyObject, joseOptions),
    CONCURRENCY,
  );
  await run(
    `our verifier, cache miss (${CONCURRENCY} in flight)`,
    () => miss.verifyAccessToken(token),
    CONCURRENCY,
  );
  process.stdout.write('\n');

  const base = rows[0]?.[1] ?? 1;
  console.log(
    `\n${ROUNDS} rounds x ${ROUND_MS} ms, medians (node ${process.version}, token ${token.length} chars)\n`,
  );
  console.log(
    `${'path'.padEnd(48)}${'ops/s'.padStart(12)}${'µs/op'.padStart(10)}${'vs raw'.padStart(9)}`,
  );
  for (const [name, opsPerSecond] of rows) {
    console.log(
      `${name.padEnd(48)}${Math.round(opsPerSecond).toLocaleString('en-US').padStart(12)}` +
        `${(1e6 / opsPerSecond).toFixed(2).padStart(10)}${`${(opsPerSecond / base).toFixed(2)}x`.padStart(9)}`,
    );
  }
}

await main();
