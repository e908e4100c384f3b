/**
 * The Next.js example under `next start`, over real HTTP, on both runtimes of the proxy:
 * `proxy.ts` (Node.js) and the Edge-runtime variant (`edge/middleware.ts` in its place, plus the
 * test pages of test/next/fixture). What only Next.js shows: the refreshed tokens reach the
 * Server Component rendered for the same request, redirects of pages to sign in, Server
 * Components that protect themselves, sessions in a store across Next.js's module graphs, and
 * a store refused on the Edge runtime with a message that says why. The routes shared with every
 * adapter are in the conformance suite (test/conformance), which runs this example too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { signIn, startTestPool, type TestPool } from '../../src/testing/index.js';
import type { RunningNextApp } from '../../examples/next/run.js';
import { freePort } from '../support/http.js';
import { findSystemComponent, startRedis, type RedisServer } from '../support/system.js';
import { startNextApp, type NextVariant } from './apps.js';
import { JSON_ACCEPT } from '../support/browser.js';

const HTML = { accept: 'text/html' } as const;
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' } as const;
const TOKEN_SECONDS = 4;

/** Waits (at most half a token's lifetime) until a token is inside its refresh margin. */
async function untilRefreshDue(accessToken: string): Promise<void> {
  const { exp } = decodeJwt(accessToken);
  const wait = ((exp ?? 0) - TOKEN_SECONDS / 2) * 1000 + 100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

const VARIANTS: readonly [NextVariant, string][] = [
  ['proxy', 'proxy.ts, Node.js runtime'],
  ['edge', 'middleware.ts, Edge runtime'],
];

/** A cookie's value from a response's Set-Cookie headers. */
function setCookieValue(response: Response, name: string): string | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header?.slice(name.length + 1, header.indexOf(';'));
}

/** A cookie's value from a Cookie header. */
function cookieIn(header: string, name: string): string | undefined {
  for (const pair of header.split('; ')) {
    const equals = pair.indexOf('=');
    if (pair.slice(0, equals) === name) return pair.slice(equals + 1);
  }
  return undefined;
}

/** The access token's id the profile page rendered. */
function renderedTokenId(html: string): string | undefined {
  return /data-token-id="([^"]+)"/.exec(html)?.[1];
}

/** A running example and the pool it signs in with. */
interface Running {
  readonly pool: TestPool;
  readonly app: RunningNextApp;
  readonly output: () => string;
}

async function startRunning(
  variant: NextVariant,
  env: Readonly<Record<string, string>> = {},
): Promise<Running> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  // Four-second tokens: the proxy refreshes them in their last two seconds (the refresh margin
  // is at most half a token's lifetime), or once they have expired.
  const pool = await startTestPool({
    appUrl,
    appClient: {
      accessTokenValiditySeconds: TOKEN_SECONDS,
      idTokenValiditySeconds: TOKEN_SECONDS,
    },
    env: {
      AWS_COGNITO_SCOPES: 'openid email profile aws.cognito.signin.user.admin',
      ...env,
    },
  });
  let output = '';
  try {
    const app = await startNextApp(variant, pool.env, port, (chunk) => {
      output = (output + chunk).slice(-20_000);
    });
    return { pool, app, output: () => output };
  } catch (error) {
    await pool.stop();
    throw error;
  }
}

async function stopRunning(running: Running | undefined): Promise<void> {
  await running?.app.stop();
  await running?.pool.stop();
}

for (const [variant, label] of VARIANTS) {
  describe(`the Next.js example under next start (${label})`, () => {
    let running: Running;
    let appUrl: string;

    before(async () => {
      running = await startRunning(variant);
      appUrl = running.app.url;
    });
    after(async () => {
      await stopRunning(running);
    });

    it('the proxy refreshes an expiring session: new cookies for the browser, and the Server Component of that very request renders with the new token', async () => {
      const session = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
      const token = cookieIn(session.cookie, 'cognito_access_token') ?? '';
      const signedInWith = decodeJwt(token).jti;
      // Still valid, but inside the refresh margin: a page that saw the browser's cookies would
      // render this token.
      await untilRefreshDue(token);

      const response = await fetch(`${appUrl}/profile`, {
        headers: { cookie: session.cookie, ...HTML },
      });
      assert.equal(response.status, 200);
      const refreshed = setCookieValue(response, 'cognito_access_token');
      assert.ok(refreshed !== undefined, 'the proxy refreshed the session');
      const html = await response.text();
      assert.ok(html.includes('Signed in as alice'), 'the page names the user');
      assert.ok(html.includes('<span id="groups">admin</span>'), 'and their groups');
      const rendered = renderedTokenId(html);
      assert.notEqual(rendered, signedInWith, 'not the token the browser sent');
      assert.equal(rendered, decodeJwt(refreshed).jti, 'the token the proxy has just set');
      assert.match(response.headers.get('cache-control') ?? '', /no-store/);
    });

    it('after the access-token cookie has expired (only the refresh token is left), the proxy signs the page back in with new tokens', async () => {
      const session = await signIn(appUrl, { username: 'bob', password: 'Passw0rd!' });
      const refreshOnly = `cognito_refresh_token=${cookieIn(session.cookie, 'cognito_refresh_token') ?? ''}`;
      const response = await fetch(`${appUrl}/profile`, {
        headers: { cookie: refreshOnly, ...HTML },
        redirect: 'manual',
      });
      assert.equal(response.status, 200, 'not sent to sign in');
      const refreshed = setCookieValue(response, 'cognito_access_token');
      assert.ok(refreshed !== undefined);
      const html = await response.text();
      assert.ok(html.includes('Signed in as bob'));
      assert.equal(renderedTokenId(html), decodeJwt(refreshed).jti);
    });

    it('a signed-out browser asking for a page is sent to sign in, and comes back to it', async () => {
      const response = await fetch(`${appUrl}/profile`, { headers: HTML, redirect: 'manual' });
      assert.ok([302, 307].includes(response.status), `a redirect (got ${response.status})`);
      assert.equal(response.headers.get('location'), '/login?returnTo=%2Fprofile');
      const session = await signIn(appUrl, {
        username: 'bob',
        password: 'Passw0rd!',
        returnTo: '/profile',
      });
      assert.equal(session.callback.location, `${appUrl}/profile`);
      const api = await fetch(`${appUrl}/profile`, { headers: JSON_ACCEPT, redirect: 'manual' });
      assert.equal(api.status, 401, 'a fetch() caller is refused, not redirected');
    });

    it('groups per path: 403 without the group, the route with it', async () => {
      const carol = await signIn(appUrl, { username: 'carol', password: 'Passw0rd!' });
      const refused = await fetch(`${appUrl}/admin`, {
        headers: { cookie: carol.cookie, ...JSON_ACCEPT },
      });
      assert.equal(refused.status, 403);
      const bob = await signIn(appUrl, { username: 'bob', password: 'Passw0rd!' });
      const edit = await fetch(`${appUrl}/edit`, {
        headers: { cookie: bob.cookie, ...JSON_ACCEPT },
      });
      assert.equal(edit.status, 200);
      assert.deepEqual(await edit.json(), ['editor']);
    });

    if (variant === 'edge') {
      it('a Server Component that protects itself: requireIdentity() redirects to sign in, answers 403 without the group, and renders with it', async () => {
        const signedOut = await fetch(`${appUrl}/team`, { headers: HTML, redirect: 'manual' });
        assert.ok([303, 307].includes(signedOut.status), `a redirect (got ${signedOut.status})`);
        assert.equal(signedOut.headers.get('location'), '/login?returnTo=%2Fteam');

        const carol = await signIn(appUrl, { username: 'carol', password: 'Passw0rd!' });
        const forbidden = await fetch(`${appUrl}/team`, {
          headers: { cookie: carol.cookie, ...HTML },
        });
        assert.equal(forbidden.status, 403);
        assert.ok(!(await forbidden.text()).includes('Team page'));

        const alice = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
        const page = await fetch(`${appUrl}/team`, { headers: { cookie: alice.cookie, ...HTML } });
        assert.equal(page.status, 200);
        assert.ok((await page.text()).includes('Team page for alice'));
      });
    }

    if (variant === 'proxy') {
      it('POST /logout/everywhere signs out this browser and ends the sessions of every other one', async () => {
        const here = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
        const elsewhere = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
        const logout = await fetch(`${appUrl}/logout/everywhere`, {
          method: 'POST',
          headers: { cookie: here.cookie, ...SAME_ORIGIN, origin: appUrl },
          redirect: 'manual',
        });
        // A form POST ends on a page of the app's that continues to Cognito's sign-out.
        assert.equal(logout.status, 200);
        const continuation = await logout.text();
        assert.ok(continuation.includes(`${running.pool.emulator.domain}/logout?`));
        assert.equal(setCookieValue(logout, 'cognito_access_token'), '', 'cookies cleared');
        const refresh = await fetch(`${appUrl}/refresh`, {
          method: 'POST',
          headers: { cookie: elsewhere.cookie, ...SAME_ORIGIN, origin: appUrl, ...JSON_ACCEPT },
          redirect: 'manual',
        });
        assert.equal(refresh.status, 401, "the other browser's refresh token is revoked");
      });
    }
  });
}

const redisSkip = findSystemComponent('redis-server').skip;

describe('sessions in a store under next start', () => {
  let memory: Running | undefined;
  let edgeRedis: Running | undefined;
  let nodeRedis: Running | undefined;
  let redis: RedisServer | undefined;
  after(async () => {
    await stopRunning(memory);
    await stopRunning(edgeRedis);
    await stopRunning(nodeRedis);
    await redis?.close();
  });

  it(
    'AWS_COGNITO_SESSION_STORE=redis://… (proxy.ts, Node.js runtime): one opaque cookie, the session in Redis for the proxy, the route handlers and the pages; sign-out deletes it',
    { skip: redisSkip },
    async () => {
      redis = await startRedis();
      nodeRedis = await startRunning('proxy', { AWS_COGNITO_SESSION_STORE: `${redis.url}/0` });
      const appUrl = nodeRedis.app.url;
      const session = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
      assert.ok(cookieIn(session.cookie, 'cognito_session') !== undefined, 'one opaque cookie…');
      assert.equal(cookieIn(session.cookie, 'cognito_access_token'), undefined, '…and no token');
      const keys = (await redis.command(['KEYS', '*'])) as string[];
      assert.ok(keys.length > 0, 'the session is in Redis');
      const claims = await fetch(`${appUrl}/claims`, {
        headers: { cookie: session.cookie, ...JSON_ACCEPT },
      });
      assert.equal(claims.status, 200);
      const profile = await fetch(`${appUrl}/profile`, {
        headers: { cookie: session.cookie, ...HTML },
      });
      assert.equal(profile.status, 200);
      assert.ok((await profile.text()).includes('Signed in as alice'));

      const logout = await fetch(`${appUrl}/logout`, {
        headers: { cookie: session.cookie, ...SAME_ORIGIN },
        redirect: 'manual',
      });
      assert.equal(logout.status, 302);
      const after = await fetch(`${appUrl}/claims`, {
        headers: { cookie: session.cookie, ...JSON_ACCEPT },
      });
      assert.equal(
        after.status,
        401,
        'the stored session is gone: the old cookie is worth nothing',
      );
    },
  );

  it('AWS_COGNITO_SESSION_STORE=memory (proxy.ts): the session the sign-in route stored is the one the proxy and the pages read', async () => {
    memory = await startRunning('proxy', { AWS_COGNITO_SESSION_STORE: 'memory' });
    const appUrl = memory.app.url;
    const session = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
    assert.ok(cookieIn(session.cookie, 'cognito_session') !== undefined, 'one opaque cookie…');
    assert.equal(cookieIn(session.cookie, 'cognito_access_token'), undefined, '…and no token');
    const claims = await fetch(`${appUrl}/claims`, {
      headers: { cookie: session.cookie, ...JSON_ACCEPT },
    });
    assert.equal(claims.status, 200);
    assert.equal(
      ((await claims.json()) as { claims: { username: string } }).claims.username,
      'alice',
    );
    const profile = await fetch(`${appUrl}/profile`, {
      headers: { cookie: session.cookie, ...HTML },
    });
    assert.equal(profile.status, 200);
    assert.ok((await profile.text()).includes('Signed in as alice'));
  });

  it('a Redis store on the Edge runtime is refused loudly: 500, and the server log says to use the Node.js runtime', async () => {
    edgeRedis = await startRunning('edge', { AWS_COGNITO_SESSION_STORE: 'redis://127.0.0.1:1' });
    const response = await fetch(`${edgeRedis.app.url}/claims`, { headers: JSON_ACCEPT });
    assert.equal(response.status, 500);
    const body = await response.text();
    assert.doesNotMatch(
      body,
      /redis:|SECRET|at .*\.js/,
      'nothing of the configuration in the answer',
    );
    const deadline = Date.now() + 2_000;
    while (!/needs the Node\.js runtime/.test(edgeRedis.output()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(edgeRedis.output(), /needs the Node\.js runtime, and this is the Edge runtime/);
  });
});
