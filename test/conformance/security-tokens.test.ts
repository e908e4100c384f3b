/**
 * Security cases B19–B42 at every adapter's example app: what a protected route answers when the
 * session cookie or the Authorization header carries a hostile, foreign, expired or confused
 * token, and how group checks match. The verifier's own rules are pinned claim by claim in
 * test/core/verify.test.ts; these tests add the adapter path (cookie and header plumbing, status
 * and challenge, the verified-token cache, JWKS fetch counts against a real emulator).
 *
 * B29's expiry while a token is served from the cache needs a clock: it is in in-process.test.ts.
 * All-of group checks on a route the app declares are in test/express/flask-cognito-lib.test.ts.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atHash, startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { ADAPTERS, startConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { sessionCookiesSet } from '../support/cookies.js';
import { beginLogin, login, signInAt } from '../support/sign-in.js';

const ACCESS = 'cognito_access_token';
const ID = 'cognito_id_token';

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

for (const adapter of ADAPTERS) {
  describe(`tokens at the app (B19–B42) (${adapter.name})`, () => {
    let sec: ConformanceStack;
    let appUrl: string;

    before(async () => {
      sec = await startConformanceStack(adapter);
      appUrl = sec.app.url;
    });
    after(async () => {
      await sec.stop();
    });

    /** GET a protected route with the access token in the session cookie, then as a Bearer token. */
    async function presented(token: string, path = '/claims'): Promise<number[]> {
      const viaCookie = await fetch(`${appUrl}${path}`, {
        headers: { ...JSON_ACCEPT, cookie: `${ACCESS}=${token}` },
      });
      const viaHeader = await fetch(`${appUrl}${path}`, {
        headers: { ...JSON_ACCEPT, authorization: `Bearer ${token}` },
      });
      const statuses: number[] = [];
      for (const response of [viaCookie, viaHeader]) {
        statuses.push(response.status);
        if (response.status === 401) {
          assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
        }
        const body = await response.text();
        assert.ok(!body.includes(token.slice(0, 40)), 'the token is not echoed');
      }
      return statuses;
    }

    it('B19 B20 B21 B22 B23 B25 B27 B28 B29 B32 B33 B37 B38 B39 hostile access tokens in the cookie or Bearer header are 401 invalid_token, never 500', async () => {
      const { emulator } = sec;
      const mint = (options: Omit<Parameters<EmulatorHandle['mintToken']>[0], 'use'>) =>
        emulator.mintToken({
          use: 'access',
          username: 'alice',
          clientId: sec.app.clientId,
          ...options,
        });
      const good = await mint({});
      const [goodHeader, goodPayload, goodSignature] = good.split('.') as [string, string, string];
      const kid = JSON.parse(Buffer.from(goodHeader, 'base64url').toString()).kid as string;

      // HS256 keyed with the pool's RSA public key (PEM), the classic confusion attack.
      const jwks = (await (await fetch(emulator.jwksUri)).json()) as { keys: { kid: string }[] };
      const pem = createPublicKey({ key: jwks.keys.find((k) => k.kid === kid)!, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      const hsInput = `${b64({ alg: 'HS256', kid })}.${goodPayload}`;
      const hs256 = `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`;
      const flipped = `${goodHeader}.${goodPayload}.${goodSignature.slice(0, 10)}${goodSignature[10] === 'A' ? 'B' : 'A'}${goodSignature.slice(11)}`;
      const now = Math.floor(Date.now() / 1000);

      const hostile: Record<string, string> = {
        'B19 alg none, empty signature': `${b64({ alg: 'none', kid })}.${goodPayload}.`,
        'B19 alg none, any signature': `${b64({ alg: 'none', kid })}.${goodPayload}.${goodSignature}`,
        'B20 flipped signature': flipped,
        'B20 signed by an unpublished key under a published kid': await mint({
          key: 'unpublished',
          header: { kid },
        }),
        'B21 HS256 keyed with the RSA public key': hs256,
        'B22 RS512': await mint({ header: { alg: 'RS512' } }),
        'B22 ES256': await mint({ header: { alg: 'ES256' } }),
        'B23 issuer with a trailing slash': await mint({ claims: { iss: `${emulator.issuer}/` } }),
        'B25 another app client of the pool': await mint({ clientId: 'demo-client' }),
        'B27 no sub': await mint({ omit: ['sub'] }),
        'B28 iat an hour ahead': await mint({ claims: { iat: now + 3600 } }),
        'B29 expired': await mint({ claims: { exp: now - 10 } }),
        'B32 a Cognito-shaped refresh token': `eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.${'a'.repeat(342)}.${'b'.repeat(16)}.${'c'.repeat(1284)}.${'d'.repeat(22)}`,
        'B33 no kid': await mint({ header: { kid: undefined } }),
        'B37 jku to an attacker JWKS': await mint({
          key: 'unpublished',
          header: { kid: 'attacker', jku: 'http://127.0.0.1:9/jwks.json' },
        }),
        'B37 embedded jwk': await mint({
          key: 'unpublished',
          header: { kid: 'attacker', jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } },
        }),
        'B38 path-traversal kid': await mint({
          key: 'unpublished',
          header: { kid: '../../../etc/passwd' },
        }),
        'B38 prototype kid': await mint({ key: 'unpublished', header: { kid: '__proto__' } }),
        'B38 huge kid': await mint({ key: 'unpublished', header: { kid: 'k'.repeat(5000) } }),
        'B39 three junk segments': 'a.b.c',
        'B39 bad base64url': `${goodHeader}.${goodPayload.slice(0, -2)}!!.${goodSignature}`,
        'B39 header not JSON': `${Buffer.from('{"alg":"RS256",').toString('base64url')}.${goodPayload}.${goodSignature}`,
      };
      assert.deepEqual(await presented(good), [200, 200], 'control: the genuine token passes');
      for (const [label, token] of Object.entries(hostile)) {
        assert.deepEqual(await presented(token), [401, 401], label);
      }
    });

    it('B31 token-type confusion: the ID token in the access cookie (or as Bearer) is 401, and the access token in the ID cookie is 401', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      const access = browser.cookie(appUrl, ACCESS)!;
      const id = browser.cookie(appUrl, ID)!;
      assert.deepEqual(await presented(id), [401, 401]);
      const swapped = await fetch(`${appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, cookie: `${ACCESS}=${access}; ${ID}=${access}` },
      });
      assert.equal(swapped.status, 401);
      assert.match(swapped.headers.get('www-authenticate') ?? '', /invalid_token/);
      const genuine = await fetch(`${appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, cookie: `${ACCESS}=${access}; ${ID}=${id}` },
      });
      assert.equal(genuine.status, 200, 'control');

      // Tokens carrying both client_id and aud: only token_use tells them apart.
      const hybridId = await sec.emulator.mintToken({
        use: 'id',
        username: 'alice',
        clientId: sec.app.clientId,
        claims: { client_id: sec.app.clientId, scope: 'openid' },
      });
      assert.deepEqual(await presented(hybridId), [401, 401], 'ID token with client_id');
      const hybridAccess = await sec.emulator.mintToken({
        use: 'access',
        username: 'alice',
        clientId: sec.app.clientId,
        claims: { aud: sec.app.clientId },
      });
      const asId = await fetch(`${appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, cookie: `${ACCESS}=${access}; ${ID}=${hybridAccess}` },
      });
      assert.equal(asId.status, 401, 'access token with aud in the ID cookie');
      assert.equal(JSON.parse(await asId.text()).error, 'ERR_TOKEN_INVALID');
    });

    it('B25 a real session of another app client of the same pool is 401 here', async () => {
      const other = await sec.startApp();
      try {
        const browser = new TestBrowser();
        await login(browser, other.url, 'alice');
        const access = browser.cookie(other.url, ACCESS)!;
        assert.equal(
          (await fetch(`${other.url}/claims`, { headers: { authorization: `Bearer ${access}` } }))
            .status,
          200,
        );
        assert.deepEqual(await presented(access), [401, 401]);
      } finally {
        await other.stop();
      }
    });

    it('B26 B23 a real session from another user pool (same client id, same claim shapes) is 401 here', async () => {
      const pool = await startEmulator({ port: 0 });
      const other = await startConformanceApp(adapter, pool);
      try {
        const browser = new TestBrowser();
        await login(browser, other.url, 'alice');
        const access = browser.cookie(other.url, ACCESS)!;
        const id = browser.cookie(other.url, ID)!;
        assert.deepEqual(await presented(access), [401, 401]);
        const both = await fetch(`${appUrl}/claims`, {
          headers: { ...JSON_ACCEPT, cookie: `${ACCESS}=${access}; ${ID}=${id}` },
        });
        assert.equal(both.status, 401);
        assert.equal(JSON.parse(await both.text()).error, 'ERR_TOKEN_INVALID');
      } finally {
        await other.stop();
        await pool.stop();
      }
    });

    it('B30 tokens from a Cognito clock 2 minutes ahead are refused with no leeway, and accepted within a configured leeway', async () => {
      const lenient = await sec.startApp({ env: { AWS_COGNITO_EXPIRATION_LEEWAY: '180' } });
      sec.emulator.setClockOffset(120);
      try {
        const strict = new TestBrowser();
        const started = await beginLogin(strict, appUrl);
        const refused = await strict.request(await signInAt(strict, started.authorizeUrl, 'bob'), {
          headers: JSON_ACCEPT,
        });
        assert.equal(refused.status, 400);
        assert.equal(JSON.parse(refused.body).error, 'ERR_CALLBACK_REJECTED');
        assert.deepEqual(sessionCookiesSet(refused.setCookies), []);

        const accepted = await login(new TestBrowser(), lenient.url, 'bob');
        assert.equal(accepted.status, 302);
      } finally {
        sec.emulator.setClockOffset(0);
        await lenient.stop();
      }
    });

    it('B35 after Cognito rotates its keys a new sign-in works at once: the unknown kid triggers one JWKS refetch', async () => {
      // Its own pool: rotation must not leak into the other tests' key caches.
      const rotating = await startConformanceStack(adapter);
      try {
        const { emulator } = rotating;
        const url = rotating.app.url;
        const before = new TestBrowser();
        await login(before, url, 'alice');
        assert.equal((await before.request(`${url}/claims`)).status, 200);
        const fetchesBefore = rotating.jwksFetches();
        await emulator.rotateKeys();
        const after = new TestBrowser();
        assert.equal((await login(after, url, 'alice')).status, 302);
        assert.equal((await after.request(`${url}/claims`)).status, 200);
        assert.equal(rotating.jwksFetches() - fetchesBefore, 1);
        // Sessions signed by the previous (still published) keys keep working.
        assert.equal((await before.request(`${url}/claims`)).status, 200);
      } finally {
        await rotating.stop();
      }
    });

    it('B36 B38 a storm of junk kids against the app: every request 401, at most one JWKS refetch, real sessions unaffected', async () => {
      const app = await sec.startApp();
      try {
        const browser = new TestBrowser();
        await login(browser, app.url, 'alice');
        const fetchesBefore = sec.jwksFetches();
        const junk = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            sec.emulator.mintToken({
              use: 'access',
              username: 'alice',
              clientId: app.clientId,
              key: 'unpublished',
              header: {
                kid: i % 3 === 0 ? `../${'x'.repeat(i)}` : `junk-${i}-${crypto.randomUUID()}`,
              },
            }),
          ),
        );
        for (let round = 0; round < 2; round += 1) {
          const statuses = await Promise.all(
            junk.map(async (token) => {
              const response = await fetch(`${app.url}/claims`, {
                headers: { authorization: `Bearer ${token}` },
              });
              await response.body?.cancel();
              return response.status;
            }),
          );
          assert.ok(
            statuses.every((status) => status === 401),
            `round ${round}: ${statuses.join()}`,
          );
          assert.equal((await browser.request(`${app.url}/claims`)).status, 200);
        }
        assert.ok(sec.jwksFetches() - fetchesBefore <= 1, 'no fetch storm');
      } finally {
        await app.stop();
      }
    });

    it('B40 an ID token whose at_hash does not match the access token of the same response is refused', async () => {
      const run = async (rebind: boolean) => {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        const callback = await signInAt(browser, started.authorizeUrl, 'alice');
        sec.hostile.onToken = async (request, upstream) => {
          if (request.form.get('grant_type') !== 'authorization_code') return undefined;
          const real = (await upstream()).json();
          // Another genuine access token of the same user and client, swapped in.
          const access = await sec.emulator.mintToken({
            use: 'access',
            username: 'alice',
            clientId: sec.app.clientId,
          });
          const id = rebind
            ? await sec.emulator.mintToken({
                use: 'id',
                username: 'alice',
                clientId: sec.app.clientId,
                claims: { nonce: started.nonce, at_hash: atHash(access) },
              })
            : (real.id_token as string);
          return { status: 200, body: { ...real, access_token: access, id_token: id } };
        };
        try {
          return await browser.request(callback, { headers: JSON_ACCEPT });
        } finally {
          sec.hostile.onToken = undefined;
        }
      };
      const swapped = await run(false);
      assert.equal(swapped.status, 400);
      assert.equal(JSON.parse(swapped.body).error, 'ERR_CALLBACK_REJECTED');
      assert.deepEqual(sessionCookiesSet(swapped.setCookies), []);
      assert.equal((await run(true)).status, 302, 'control: a matching at_hash is accepted');
    });

    it('B41 documented limitation: an access token revoked at logout still passes local verification until it expires', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'alice');
      const access = browser.cookie(appUrl, ACCESS)!;
      const refreshCookie = browser.cookie(appUrl, 'cognito_refresh_token')!;
      const out = await browser.request(`${appUrl}/logout`, {
        headers: { 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(out.status, 302);
      assert.equal(
        sec.hostile.requests.at(-1)?.path,
        '/oauth2/revoke',
        'the refresh token was revoked',
      );
      // The refresh token is dead at Cognito…
      const refresh = await fetch(`${appUrl}/refresh`, {
        method: 'POST',
        headers: { ...JSON_ACCEPT, cookie: `cognito_refresh_token=${refreshCookie}` },
      });
      assert.equal(refresh.status, 401);
      assert.equal(JSON.parse(await refresh.text()).error, 'ERR_REFRESH_REJECTED');
      // …but a copy of the access token still verifies locally: only a short token lifetime (or a
      // userInfo call, which this library does not make) bounds it. See SECURITY.md.
      const replay = await fetch(`${appUrl}/claims`, {
        headers: { authorization: `Bearer ${access}` },
      });
      assert.equal(replay.status, 200);
    });

    it('B42 groups match exactly: no substring, case, whitespace or list tricks; any-of holds; a string is not a group list', async () => {
      const lookalikes = [
        'administrators',
        'Admin',
        'ADMIN',
        'xadminx',
        'admin ',
        ' admin',
        'admin,editor',
        'editors',
      ];
      sec.emulator.addUser({ username: 'mallory', password: 'Passw0rd!', groups: lookalikes });
      sec.emulator.addUser({
        username: 'frank',
        password: 'Passw0rd!',
        groups: ['admin', 'editor'],
      });
      // /admin requires the group admin; /edit any of admin and editor.
      const expect: Record<string, [admin: number, edit: number]> = {
        mallory: [403, 403],
        alice: [200, 200],
        bob: [403, 200],
        frank: [200, 200],
      };
      for (const [user, statuses] of Object.entries(expect)) {
        const browser = new TestBrowser();
        await login(browser, appUrl, user);
        const got = [];
        for (const path of ['/admin', '/edit']) {
          got.push((await browser.request(`${appUrl}${path}`, { headers: JSON_ACCEPT })).status);
        }
        assert.deepEqual(got, statuses, user);
      }
      // cognito:groups must be an array: a (validly signed) string is not a group list.
      const stringGroups = await sec.emulator.mintToken({
        use: 'access',
        username: 'alice',
        clientId: sec.app.clientId,
        claims: { 'cognito:groups': 'admin' },
      });
      assert.deepEqual(await presented(stringGroups, '/admin'), [401, 401]);
    });
  });
}
