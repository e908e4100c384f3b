/**
 * Server-side sessions on a real Redis (`AWS_COGNITO_SESSION_STORE=redis://…`), on every adapter's
 * example app: one opaque cookie, nothing usable in a dump of Redis, entries that expire, forged
 * ids refused without a word about Redis, an outage that answers 503 and loses nothing, and one
 * Redis round trip per protected request.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CSRF_COOKIE,
  REFRESH_TOKEN_PREFIX,
  SESSION_COOKIE as EMULATOR_SESSION_COOKIE,
} from '../../src/emulator/index.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { login } from '../support/sign-in.js';
import { findSystemComponent, startRedis, type RedisServer } from '../support/system.js';
import {
  isSessionCookie,
  sessionCookieHeaderBytes,
  sessionCookies,
  setCookiesOf,
  SHORT_LIFETIMES,
  startClockedEmulator,
  trackRedisStores,
  userWithIdTokenOf,
  type ClaimsBody,
  type ClockedEmulator,
} from '../support/sessions.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';

const redisSkip = findSystemComponent('redis-server').skip;

const SESSION_COOKIE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** Every key of Redis with its value (strings, and the members of sorted sets). */
async function dump(redis: RedisServer): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const key of (await redis.command(['KEYS', '*'])) as string[]) {
    const type = (await redis.command(['TYPE', key])) as string;
    const value =
      type === 'zset'
        ? ((await redis.command(['ZRANGE', key, '0', '-1', 'WITHSCORES'])) as string[]).join(' ')
        : String(await redis.command(['GET', key]));
    entries.set(key, value);
  }
  return entries;
}

/** Signed JWTs (three base64url parts whose payload is JSON with `token_use`) in `text`. */
function jwtsIn(text: string): string[] {
  return [...text.matchAll(/[A-Za-z0-9_-]{10,}\.([A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]{10,}/g)]
    .filter((match) => {
      try {
        const payload = JSON.parse(Buffer.from(match[1]!, 'base64url').toString()) as unknown;
        return typeof payload === 'object' && payload !== null && 'token_use' in payload;
      } catch {
        return false;
      }
    })
    .map((match) => match[0]);
}

/** Calls of each Redis command since `CONFIG RESETSTAT`, leaving out the test's own connection. */
async function commandCalls(redis: RedisServer): Promise<Record<string, number>> {
  const info = (await redis.command(['INFO', 'commandstats'])) as string;
  const ignored = new Set(['hello', 'client|setinfo', 'info', 'config|resetstat']);
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (!ignored.has(match[1]!)) calls[match[1]!] = Number(match[2]);
  }
  return calls;
}

/** The attributes of a Set-Cookie header other than its value and Max-Age, normalised. */
function attributesOf(raw: string): string[] {
  return raw
    .split(';')
    .slice(1)
    .map((part) => part.trim().toLowerCase())
    .filter((part) => !part.startsWith('max-age') && !part.startsWith('expires'))
    .sort();
}

describe('session store on Redis', { skip: redisSkip }, () => {
  let redis: RedisServer;
  const stores = trackRedisStores();
  before(async () => {
    // Persistent, so a restarted server still has its sessions (as a production Redis would).
    redis = await startRedis({ persistent: true });
  });
  after(async () => {
    await stores.closeAll();
    await redis.close();
  });

  for (const adapter of ADAPTERS) {
    // Next.js reaches Redis from its own process (the Node.js runtime): tested in its own suite.
    if (adapter.redisSessionsTestedIn !== undefined) continue;
    if (!adapter.inProcess) {
      describe(`sessions in Redis (${adapter.name})`, () => {
        it('a Worker has no TCP client for Redis: AWS_COGNITO_SESSION_STORE=redis://… is refused at its first request, never ignored', async () => {
          const pool = await startClockedEmulator(true);
          const app = await startConformanceApp(adapter, pool.emulator, {
            env: { AWS_COGNITO_SESSION_STORE: `${redis.url}/0` },
          });
          const control = await startConformanceApp(adapter, pool.emulator);
          try {
            const without = await fetch(`${control.url}/login`, { redirect: 'manual' });
            assert.equal(without.status, 302, 'the same Worker without the variable signs in');
            const browser = new TestBrowser();
            const started = await browser.request(`${app.url}/login`);
            assert.equal(
              started.status,
              500,
              'the Worker does not start with a store it cannot use',
            );
            assert.doesNotMatch(started.body, /SECRET|eyJ|redis:\/\//i, 'no secret, token or URL');
            assert.deepEqual([...sessionCookies(browser, app.url).keys()], []);
            assert.equal(
              started.location,
              undefined,
              'no sign-in with sessions in cookies instead',
            );
          } finally {
            await app.stop();
            await control.stop();
            await pool.stop();
          }
        });
      });
      continue;
    }
    describe(`sessions in Redis (${adapter.name})`, () => {
      let pool: ClockedEmulator;
      let app: ConformanceApp;
      const apps: ConformanceApp[] = [];

      async function startApp(env: Record<string, string> = {}): Promise<ConformanceApp> {
        const started = await startConformanceApp(adapter, pool.emulator, {
          env: { AWS_COGNITO_SESSION_STORE: `${redis.url}/0`, ...env },
          client: SHORT_LIFETIMES,
          extras: { now: pool.clock.now },
        });
        apps.push(started);
        return started;
      }

      before(async () => {
        pool = await startClockedEmulator();
        app = await startApp();
      });
      after(async () => {
        await Promise.all(apps.map((started) => started.stop()));
        await pool.stop();
      });
      beforeEach(async () => {
        await redis.command(['FLUSHALL']);
      });

      async function signedIn(target = app, username = 'alice'): Promise<TestBrowser> {
        const browser = new TestBrowser();
        const callback = await login(browser, target.url, username);
        assert.equal(callback.status, 302);
        return browser;
      }

      it('the browser holds one opaque cookie: 256 random bits, HttpOnly, the same attributes as the token cookies', async () => {
        const browser = new TestBrowser();
        const callback = await login(browser, app.url, 'alice');
        assert.equal(callback.status, 302);
        const set = setCookiesOf(callback);
        const kept = [...set.values()].filter((c) => !c.deleted && isSessionCookie(c.name));
        assert.deepEqual(
          kept.map((c) => c.name),
          ['cognito_session'],
        );
        const session = set.get('cognito_session')!;
        const match = SESSION_COOKIE.exec(session.value);
        assert.ok(match, `an opaque value: ${session.value}`);
        assert.equal(Buffer.from(match[2]!, 'base64url').length, 32, '256 bits of secret');
        assert.match(session.raw, /; HttpOnly/);
        assert.match(session.raw, /; Max-Age=86400/, 'lives as long as a refresh cookie');
        assert.deepEqual([...sessionCookies(browser, app.url).keys()], ['cognito_session']);

        // The same app in cookie mode: the token cookies carry exactly these attributes.
        const cookieMode = await startConformanceApp(adapter, pool.emulator, {
          client: SHORT_LIFETIMES,
          extras: { now: pool.clock.now },
        });
        apps.push(cookieMode);
        const other = await login(new TestBrowser(), cookieMode.url, 'alice');
        const access = setCookiesOf(other).get('cognito_access_token')!;
        assert.deepEqual(attributesOf(session.raw), attributesOf(access.raw));

        const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
        assert.equal((JSON.parse(claims.body) as ClaimsBody).claims.username, 'alice');
      });

      it('a new id at every sign-in, and the previous entry deleted', async () => {
        const browser = await signedIn();
        const first = browser.cookie(app.url, 'cognito_session')!;
        // Signed out of the hosted UI (its own cookies), signed in again in the same browser.
        for (const name of [EMULATOR_SESSION_COOKIE, CSRF_COOKIE]) {
          browser.cookiesFor(app.url).delete(name);
        }
        await login(browser, app.url, 'alice');
        const second = browser.cookie(app.url, 'cognito_session')!;
        assert.notEqual(second, first);
        const keys = (await redis.command(['KEYS', '*:session:*'])) as string[];
        assert.equal(keys.length, 1, 'only the new session is stored');
        const old = await fetch(`${app.url}/claims`, {
          headers: { ...JSON_ACCEPT, cookie: `cognito_session=${first}` },
        });
        assert.equal(old.status, 401);
        // The dead id is cleared with the refusal, so the browser stops sending it.
        assert.ok(
          old.headers
            .getSetCookie()
            .some((c) => c.startsWith('cognito_session=;') && /Max-Age=0/.test(c)),
          `cleared: ${old.headers.getSetCookie().join(' | ')}`,
        );
      });

      it('a dump of Redis holds no token, no refresh token, no cookie and nothing naming the user', async () => {
        const browser = await signedIn();
        const cookie = browser.cookie(app.url, 'cognito_session')!;
        const claims = JSON.parse(
          (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).body,
        ) as ClaimsBody & { claims: { sub: string } };
        const entries = await dump(redis);
        assert.equal(entries.size, 2, 'a session and its user index');
        const text = [...entries].flat().join('\n');
        assert.deepEqual(jwtsIn(text), [], 'no signed token');
        assert.ok(!text.includes(REFRESH_TOKEN_PREFIX), 'no refresh token');
        const [, userTag, secret] = SESSION_COOKIE.exec(cookie)!;
        assert.ok(!text.includes(secret!), 'no cookie secret');
        assert.ok(text.includes(userTag!), 'keys are found by the user tag (an HMAC)');
        for (const personal of ['alice', 'alice@example.com', claims.claims.sub]) {
          assert.ok(!text.includes(personal), `no ${personal}`);
        }
        for (const [key, value] of entries) {
          if (key.endsWith(':sessions')) continue;
          assert.equal(value.split('.').length, 5, 'the value is encrypted (compact JWE)');
        }
      });

      it('entries expire with the refresh cookie’s age; the index with them', async () => {
        await signedIn();
        for (const key of (await redis.command(['KEYS', '*'])) as string[]) {
          const ttl = (await redis.command(['TTL', key])) as number;
          assert.ok(ttl > 86_400 - 10 && ttl <= 86_400, `${key} expires in ${ttl} s`);
        }
        await redis.command(['FLUSHALL']);
        const short = await startApp({ AWS_COGNITO_REFRESH_COOKIE_AGE_SECONDS: '1' });
        const browser = await signedIn(short);
        assert.equal(
          (await browser.request(`${short.url}/claims`, { headers: JSON_ACCEPT })).status,
          200,
        );
        await new Promise((resolve) => setTimeout(resolve, 1100));
        assert.equal(
          (await browser.request(`${short.url}/claims`, { headers: JSON_ACCEPT })).status,
          401,
        );
        const left = (await redis.command(['KEYS', '*'])) as string[];
        assert.deepEqual(left, [], 'Redis forgot the session and its index');
      });

      it('forged, garbled and duplicated session ids: 401, and not a word about Redis', async () => {
        const browser = await signedIn();
        const real = browser.cookie(app.url, 'cognito_session')!;
        const [, userTag] = SESSION_COOKIE.exec(real)!;
        const forged = `${userTag!}.${Buffer.alloc(32, 7).toString('base64url')}`;
        for (const cookie of [
          `cognito_session=${forged}`,
          'cognito_session=not-a-session',
          `cognito_session=${'A'.repeat(5000)}`,
          `cognito_session=${userTag!}}{.x`,
          'cognito_session=',
          `cognito_session=${real}; cognito_session=${forged}`,
        ]) {
          const response = await fetch(`${app.url}/claims`, {
            headers: { ...JSON_ACCEPT, cookie },
          });
          const body = await response.text();
          assert.equal(response.status, 401, `${cookie.slice(0, 40)}: ${body}`);
          assert.doesNotMatch(body, /redis|econn|wrongtype|ERR |stack|at \w+ \(/i);
        }
      });

      it('an expired access token is refreshed in the request; the entry is rewritten, its expiry kept', async () => {
        const browser = await signedIn();
        const [key] = (await redis.command(['KEYS', '*:session:*'])) as string[];
        const before = (await redis.command(['GET', key!])) as string;
        const ttlBefore = (await redis.command(['TTL', key!])) as number;
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const calls = pool.tokenRequests();
        const response = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(response.status, 200);
        assert.equal(pool.tokenRequests() - calls, 1);
        assert.equal(
          (JSON.parse(response.body) as ClaimsBody).claims.iat,
          pool.clock.seconds,
          'the handler got the new token',
        );
        assert.deepEqual(response.setCookies, [], 'the cookie does not change');
        const after = (await redis.command(['GET', key!])) as string;
        assert.notEqual(after, before, 'the stored tokens were replaced');
        const ttlAfter = (await redis.command(['TTL', key!])) as number;
        assert.ok(ttlAfter <= ttlBefore, 'a refresh never extends the session');
        // The next request reads the new tokens: no second refresh.
        await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(pool.tokenRequests() - calls, 1);
      });

      it('a 6 KB ID token: the browser still holds one small cookie, and the session reads back', async () => {
        await userWithIdTokenOf(
          pool.emulator,
          'erin',
          6 * 1024,
          app.env['AWS_COGNITO_USER_POOL_CLIENT_ID']!,
        );
        const browser = await signedIn(app, 'erin');
        assert.ok(sessionCookieHeaderBytes(browser, app.url) < 100);
        const claims = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
        assert.equal(
          String((JSON.parse(claims.body) as ClaimsBody).user_info?.['custom:profile_0']).length,
          2000,
        );
      });

      it('a protected request makes one Redis round trip: one GET', async () => {
        const browser = await signedIn();
        await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
        await redis.command(['CONFIG', 'RESETSTAT']);
        for (let i = 0; i < 5; i += 1) {
          const response = await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT });
          assert.equal(response.status, 200);
        }
        assert.deepEqual(await commandCalls(redis), { get: 5 });
      });

      it('Redis stopped: 503 within the timeout, the cookie kept; restarted: the same session works again by itself', async () => {
        const browser = await signedIn();
        const cookie = browser.cookie(app.url, 'cognito_session');
        await redis.stop();
        try {
          for (let i = 0; i < 3; i += 1) {
            const started = Date.now();
            const response = await browser.request(`${app.url}/claims`, {
              headers: JSON_ACCEPT,
            });
            assert.equal(response.status, 503);
            assert.ok(Date.now() - started < 3500, 'within the guard’s deadline');
            assert.equal(
              (JSON.parse(response.body) as { error: string }).error,
              'ERR_SESSION_STORE_UNAVAILABLE',
            );
            assert.doesNotMatch(response.body, /redis|econn/i);
            assert.deepEqual(response.setCookies, [], 'the session cookie is kept');
          }
        } finally {
          await redis.start();
        }
        assert.equal(browser.cookie(app.url, 'cognito_session'), cookie);
        const deadline = Date.now() + 5000;
        let status = 0;
        while (Date.now() < deadline) {
          status = (await browser.request(`${app.url}/claims`, { headers: JSON_ACCEPT })).status;
          if (status === 200) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(status, 200, 'the session survived the outage');
      });

      it('logout deletes the stored session: the cookie no longer signs anyone in', async () => {
        const browser = await signedIn();
        const cookie = browser.cookie(app.url, 'cognito_session')!;
        const logout = await browser.request(`${app.url}/logout`);
        assert.equal(logout.status, 302);
        assert.equal(setCookiesOf(logout).get('cognito_session')?.deleted, true);
        assert.deepEqual(await redis.command(['KEYS', '*:session:*']), []);
        const replay = await fetch(`${app.url}/claims`, {
          headers: { ...JSON_ACCEPT, cookie: `cognito_session=${cookie}` },
        });
        assert.equal(replay.status, 401);
      });
    });
  }
});
