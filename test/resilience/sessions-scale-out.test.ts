/**
 * Sessions across three instances of the example app behind nginx (round-robin on loopback):
 *
 * - cookie sessions with refresh-token rotation on (Cognito's 2025 feature): a page whose access
 *   token has expired fires requests that land on all three instances at once; every one is
 *   refreshed and answered (each instance exchanging the same refresh token within Cognito's grace
 *   period), and the browser ends with a session that keeps working after the grace period;
 * - sessions in one shared Redis: a logout on one instance ends the session on the others at
 *   once, and so does a sign-out everywhere from another browser.
 *
 * The instances, the emulator and the test share one clock, moved instead of waited for.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createExampleApp } from '../../examples/express/app.js';
import { fromEnv, type CognitoGuard } from '../../src/index.js';
import '../../src/redis/index.js';
import { conformanceEnv } from '../support/adapters.js';
import { closeServer, freePort, listenOn } from '../support/http.js';
import { TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { registerClient } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import {
  findSystemComponent,
  startNginx,
  startRedis,
  type NginxServer,
  type RedisServer,
} from '../support/system.js';
import {
  sessionCookies,
  SESSION_SCOPES,
  SHORT_LIFETIMES,
  startClockedEmulator,
  type ClaimsBody,
  type ClockedEmulator,
} from '../support/sessions.js';
import { cookieHeader } from '../support/cookies.js';

const redisSkip = findSystemComponent('redis-server').skip;
const nginxSkip = findSystemComponent('nginx').skip;

const GRACE_SECONDS = 10;

interface Instance {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly guard: CognitoGuard;
}

/** Three instances of the example app for the public origin `front`, sharing `env`. */
async function startInstances(
  pool: ClockedEmulator,
  front: string,
  env: Record<string, string>,
): Promise<Instance[]> {
  return Promise.all(
    ['A', 'B', 'C'].map(async (name) => {
      const app = createExampleApp({
        ...fromEnv(
          conformanceEnv(pool.emulator, front, { AWS_COGNITO_SCOPES: SESSION_SCOPES, ...env }),
        ),
        now: pool.clock.now,
        logger: { warn: () => undefined },
      });
      const server = createServer((req, res) => {
        res.setHeader('x-instance', name);
        app(req, res);
      });
      const port = await listenOn(server);
      return { name, url: `http://127.0.0.1:${port}`, port, server, guard: app.cognito.guard };
    }),
  );
}

async function stopInstances(instances: readonly Instance[]): Promise<void> {
  await Promise.all(
    instances.map(async (instance) => {
      await closeServer(instance.server);
      await instance.guard.close();
    }),
  );
}

/** `count` requests at once to `url` with the browser's cookies; their cookies stored on arrival. */
async function burst(browser: TestBrowser, url: string, count: number): Promise<Response[]> {
  const cookie = cookieHeader(sessionCookies(browser, url));
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${url}/claims`, { headers: { ...JSON_ACCEPT, cookie } });
      browser.store(url, response.headers.getSetCookie());
      return response;
    }),
  );
}

describe(
  'sessions across three instances behind nginx',
  { skip: nginxSkip, timeout: 60_000 },
  () => {
    describe('cookie sessions, refresh-token rotation on', () => {
      let pool: ClockedEmulator;
      let nginx: NginxServer | undefined;
      let instances: Instance[] = [];

      before(async () => {
        pool = await startClockedEmulator();
        const port = await freePort();
        const front = `http://127.0.0.1:${port}`;
        instances = await startInstances(pool, front, {});
        nginx = await startNginx({ port, upstreams: instances.map((i) => i.port) });
        registerClient(pool.emulator, front, {
          ...SHORT_LIFETIMES,
          refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: GRACE_SECONDS },
        });
      });
      after(async () => {
        await nginx?.stop();
        await stopInstances(instances);
        await pool.stop();
      });

      it('nine requests of an expired session hit all three instances at once: all answered, each instance refreshed with its own new token, and the session lives on', async () => {
        const front = nginx!.url;
        const browser = new TestBrowser();
        assert.equal((await login(browser, front, 'alice')).status, 302);
        const original = cookieHeader(sessionCookies(browser, front));

        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const calls = pool.tokenRequests();
        const responses = await burst(browser, front, 9);
        assert.deepEqual(
          responses.map((r) => r.status),
          Array.from({ length: 9 }, () => 200),
        );
        const served = responses.map((r) => r.headers.get('x-instance'));
        assert.deepEqual(new Set(served), new Set(['A', 'B', 'C']), `served by ${served.join('')}`);
        // Each instance refreshed (one exchange per request at most; requests that reach an
        // instance together share one, which test/conformance/auto-refresh.test.ts pins down).
        const exchanges = pool.tokenRequests() - calls;
        assert.ok(exchanges >= 3 && exchanges <= 9, `${exchanges} exchanges`);
        const refreshTokens = new Set(
          responses.flatMap((r) =>
            r.headers
              .getSetCookie()
              .filter((c) => c.startsWith('cognito_refresh_token='))
              .map((c) => c.split(';')[0]),
          ),
        );
        assert.equal(
          refreshTokens.size,
          exchanges,
          'rotation: every exchange gave a new refresh token',
        );

        // Past the grace period the refresh token they all spent is dead…
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + GRACE_SECONDS);
        const stale = await fetch(`${front}/claims`, {
          headers: { ...JSON_ACCEPT, cookie: original },
        });
        assert.equal(stale.status, 401, 'the pre-rotation session is over');
        // …and the one the browser kept (whichever answer came last) refreshes and works.
        const later = await browser.request(`${front}/claims`, { headers: JSON_ACCEPT });
        assert.equal(later.status, 200);
        assert.equal((JSON.parse(later.body) as ClaimsBody).claims.iat, pool.clock.seconds);
        for (let i = 0; i < 3; i += 1) {
          assert.equal(
            (await browser.request(`${front}/claims`, { headers: JSON_ACCEPT })).status,
            200,
          );
        }
      });
    });

    describe('sessions in one Redis', { skip: redisSkip }, () => {
      let pool: ClockedEmulator;
      let redis: RedisServer;
      let nginx: NginxServer | undefined;
      let instances: Instance[] = [];

      before(async () => {
        pool = await startClockedEmulator();
        redis = await startRedis();
        const port = await freePort();
        const front = `http://127.0.0.1:${port}`;
        instances = await startInstances(pool, front, {
          AWS_COGNITO_SESSION_STORE: `${redis.url}/0`,
        });
        nginx = await startNginx({ port, upstreams: instances.map((i) => i.port) });
        registerClient(pool.emulator, front, {
          ...SHORT_LIFETIMES,
          refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: GRACE_SECONDS },
        });
      });
      after(async () => {
        await nginx?.stop();
        await stopInstances(instances);
        await redis.close();
        await pool.stop();
      });

      /** The status of /claims on each instance, asked directly with the browser's cookie. */
      async function statusOnEach(browser: TestBrowser): Promise<number[]> {
        const cookie = cookieHeader(sessionCookies(browser, nginx!.url));
        return Promise.all(
          instances.map(
            async (instance) =>
              (await fetch(`${instance.url}/claims`, { headers: { ...JSON_ACCEPT, cookie } }))
                .status,
          ),
        );
      }

      it('a session started through nginx works on every instance; a logout on one ends it on all at once', async () => {
        const browser = new TestBrowser();
        assert.equal((await login(browser, nginx!.url, 'alice')).status, 302);
        assert.deepEqual(await statusOnEach(browser), [200, 200, 200]);
        const cookie = cookieHeader(sessionCookies(browser, nginx!.url));

        const logout = await fetch(`${instances[0]!.url}/logout`, {
          headers: { cookie },
          redirect: 'manual',
        });
        assert.equal(logout.status, 302);
        assert.equal(logout.headers.get('x-instance'), 'A');
        // B and C never heard of the logout: the store did.
        for (const instance of instances.slice(1)) {
          const after = await fetch(`${instance.url}/claims`, {
            headers: { ...JSON_ACCEPT, cookie },
          });
          assert.equal(after.status, 401, `${instance.name} refuses the ended session`);
        }
      });

      it('a sign-out everywhere from one browser ends the user’s sessions in other browsers on every instance', async () => {
        const here = new TestBrowser();
        const there = new TestBrowser();
        await login(here, nginx!.url, 'alice');
        await login(there, nginx!.url, 'alice');
        assert.deepEqual(await statusOnEach(there), [200, 200, 200]);
        const signOut = await here.request(`${nginx!.url}/logout/everywhere`, {
          method: 'POST',
          headers: { origin: nginx!.url, 'sec-fetch-site': 'same-origin' },
        });
        assert.equal(signOut.status, 200, signOut.body);
        assert.deepEqual(await statusOnEach(there), [401, 401, 401]);
      });

      it('nine requests of an expired session across the instances: all answered, the stored session works after', async () => {
        const browser = new TestBrowser();
        await login(browser, nginx!.url, 'bob');
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + 1);
        const calls = pool.tokenRequests();
        const responses = await burst(browser, nginx!.url, 9);
        assert.deepEqual(
          responses.map((r) => r.status),
          Array.from({ length: 9 }, () => 200),
        );
        const exchanges = pool.tokenRequests() - calls;
        assert.ok(exchanges >= 1 && exchanges <= 9, `${exchanges} exchanges`);
        pool.clock.advance(SHORT_LIFETIMES.accessTokenValiditySeconds + GRACE_SECONDS);
        assert.deepEqual(await statusOnEach(browser), [200, 200, 200]);
      });
    });
  },
);
