/**
 * Faults at Cognito (B62, B63, B36): the token, revoke and JWKS endpoints answering 500, HTML,
 * truncated JSON or nothing at all, Cognito refusing connections, keys rotated mid-run, and a
 * storm of unknown `kid`s. Every fault must give a prompt 502/503/504 or a clean 401 — never a
 * 500, never a hang — and no cookie may be half-set.
 *
 * Runs the example app over real HTTP against the emulator. The guard's `httpTimeoutMs` is short
 * so that "nothing for 30 s" (the emulator's `hang` fault) is answered well inside 5 s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createExampleApp } from '../../examples/express/app.js';
import type { EmulatorFault, EmulatorHandle, FaultEndpoint } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  guardOptions,
  type RecordingEmulator,
  startRecordingEmulator,
} from '../support/pool.js';
import { callbackUrlFor, login } from '../support/sign-in.js';
import { type Stack, startStack } from '../support/express.js';
import { type BrowserResponse, TestBrowser, JSON_ACCEPT } from '../support/browser.js';
import { assertSafeResponse } from '../support/safety.js';
import { cookiesDeleted, cookiesSet, SESSION_COOKIES } from '../support/cookies.js';
import { decodeJwt } from '../support/jwt.js';
import { type RunningServer, serveBuilt } from '../support/http.js';
import { sleep, timed } from '../support/async.js';
import {
  type BreakageMode,
  type BrokenUpstream,
  startBrokenUpstream,
  watchUnhandledRejections,
} from '../support/faults.js';

/** Short enough that a hanging Cognito is answered quickly; long enough for loopback under load. */
const HTTP_TIMEOUT_MS = 500;
/** Liveness bound: the upstream "hangs for 30 s", the app must answer well before. */
const ANSWER_WITHIN_MS = 5000;

// Aborted fetches and races with timers must never leave a rejection unhandled.
const rejections = watchUnhandledRejections();

interface FaultCase {
  readonly name: string;
  readonly fault: (endpoint: FaultEndpoint) => EmulatorFault;
  /** The status a protected flow answers with while this fault lasts. */
  readonly status: number;
  readonly code: string;
}

const FAULTS: readonly FaultCase[] = [
  {
    name: 'HTTP 500',
    fault: () => ({ status: 500, body: 'Internal Server Error' }),
    status: 502,
    code: 'ERR_COGNITO_BAD_RESPONSE',
  },
  {
    name: 'an HTML page',
    fault: () => ({
      status: 200,
      body: '<!doctype html><html><body><h1>Service Unavailable</h1></body></html>',
      contentType: 'text/html; charset=utf-8',
    }),
    status: 502,
    code: 'ERR_COGNITO_BAD_RESPONSE',
  },
  {
    name: 'truncated JSON',
    fault: (endpoint) => ({
      status: 200,
      body: endpoint === 'jwks' ? '{"keys":[{"alg":"RS256","e":"AQAB","kid":"' : '{"id_token":"eyJ',
      contentType: 'application/json;charset=UTF-8',
    }),
    status: 502,
    code: 'ERR_COGNITO_BAD_RESPONSE',
  },
  {
    name: 'nothing for 30 s',
    fault: () => ({ hang: true }),
    status: 504,
    code: 'ERR_COGNITO_TIMEOUT',
  },
];

function errorCode(response: BrowserResponse): string | undefined {
  try {
    return (JSON.parse(response.body) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

function safe(stack: Stack, response: BrowserResponse, context: string): void {
  assertSafeResponse(
    response,
    { appUrl: stack.appUrl, emulatorUrl: stack.emulator.url, upstreamFault: true },
    context,
  );
}

/** A second instance of the example app on the same pool, with an empty JWKS cache. */
function startColdApp(emulator: EmulatorHandle): Promise<RunningServer> {
  return serveBuilt((appUrl) =>
    createExampleApp(guardOptions(emulator, appUrl, { httpTimeoutMs: HTTP_TIMEOUT_MS })),
  );
}

/** A token signed by the pool's real key but naming a `kid` the JWKS does not have. */
function unknownKidToken(emulator: EmulatorHandle, kid: string): Promise<string> {
  return emulator.mintToken({
    use: 'access',
    clientId: CLIENT_ID,
    username: 'alice',
    header: { kid },
  });
}

function snapshot(browser: TestBrowser, url: string): Record<string, string> {
  return Object.fromEntries(browser.cookiesFor(url));
}

describe('faults at Cognito', { timeout: 30_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ guard: { httpTimeoutMs: HTTP_TIMEOUT_MS } });
  });
  after(async () => {
    await stack.stop();
  });

  describe('token endpoint during the callback: 502/504, only the transaction cookie cleared', () => {
    for (const fault of FAULTS) {
      it(`token endpoint answers ${fault.name} → ${fault.status}`, async () => {
        const browser = new TestBrowser();
        const callbackUrl = await callbackUrlFor(browser, stack.appUrl, 'alice');
        stack.emulator.setFault('token', fault.fault('token'));
        let result;
        try {
          result = await timed(() => browser.request(callbackUrl, { headers: JSON_ACCEPT }));
        } finally {
          stack.emulator.clearFaults();
        }
        const response = result.value;
        assert.equal(response.status, fault.status);
        assert.equal(errorCode(response), fault.code);
        assert.ok(result.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(result.ms)} ms`);
        safe(stack, response, fault.name);
        // Nothing of the session may be set; the used transaction is ended.
        assert.deepEqual(cookiesSet(response.setCookies), []);
        assert.equal(response.setCookies.length, 1);
        assert.match(cookiesDeleted(response.setCookies)[0] ?? '', /^cognito_txn_/);
        assert.equal(browser.cookie(stack.appUrl, 'cognito_access_token'), undefined);

        // Once Cognito is back, signing in again works (silently: the hosted-UI session lives).
        const again = await browser.follow(`${stack.appUrl}/login`, { headers: JSON_ACCEPT });
        assert.equal(again.status, 200);
        assert.equal(again.url, `${stack.appUrl}/claims`);
      });
    }

    it('a slow token endpoint inside the timeout still completes the login', async () => {
      const browser = new TestBrowser();
      const callbackUrl = await callbackUrlFor(browser, stack.appUrl, 'bob');
      stack.emulator.setFault('token', { delayMs: 100, times: 1 });
      const response = await browser.request(callbackUrl);
      stack.emulator.clearFaults();
      assert.equal(response.status, 302);
      assert.equal(response.location, `${stack.appUrl}/claims`);
    });
  });

  describe('token endpoint during a refresh: 502/504, cookies untouched', () => {
    const browser = new TestBrowser();
    before(async () => {
      const response = await login(browser, stack.appUrl, 'alice');
      assert.equal(response.status, 302);
    });

    for (const fault of FAULTS) {
      it(`token endpoint answers ${fault.name} → ${fault.status}`, async () => {
        const before = snapshot(browser, stack.appUrl);
        stack.emulator.setFault('token', fault.fault('token'));
        let result;
        try {
          result = await timed(() =>
            browser.request(`${stack.appUrl}/refresh`, { method: 'POST', headers: JSON_ACCEPT }),
          );
        } finally {
          stack.emulator.clearFaults();
        }
        const response = result.value;
        assert.equal(response.status, fault.status);
        assert.equal(errorCode(response), fault.code);
        assert.ok(result.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(result.ms)} ms`);
        safe(stack, response, fault.name);
        assert.deepEqual(response.setCookies, [], 'no cookie is set or cleared');
        assert.deepEqual(snapshot(browser, stack.appUrl), before);
      });
    }

    it('after the faults, the untouched refresh cookie still refreshes the session', async () => {
      const response = await browser.request(`${stack.appUrl}/refresh`, { method: 'POST' });
      assert.equal(response.status, 303);
      assert.ok(cookiesSet(response.setCookies).includes('cognito_access_token'));
      const claims = await browser.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
      assert.equal(claims.status, 200);
    });
  });

  describe('revoke endpoint during a logout: still 302 and every cookie cleared', () => {
    for (const fault of FAULTS) {
      it(`revoke answers ${fault.name} → 302 to Cognito /logout`, async () => {
        const browser = new TestBrowser();
        await login(browser, stack.appUrl, 'alice');
        assert.ok(browser.cookie(stack.appUrl, 'cognito_refresh_token') !== undefined);
        stack.emulator.setFault('revoke', fault.fault('revoke'));
        let result;
        try {
          result = await timed(() => browser.request(`${stack.appUrl}/logout`));
        } finally {
          stack.emulator.clearFaults();
        }
        const response = result.value;
        assert.equal(response.status, 302);
        assert.ok(result.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(result.ms)} ms`);
        const location = new URL(response.location!);
        assert.equal(`${location.origin}${location.pathname}`, `${stack.emulator.url}/logout`);
        assert.equal(location.searchParams.get('client_id'), CLIENT_ID);
        safe(stack, response, fault.name);
        const deleted = cookiesDeleted(response.setCookies);
        for (const name of SESSION_COOKIES) assert.ok(deleted.includes(name), `${name} cleared`);
        assert.deepEqual(cookiesSet(response.setCookies), []);
        const claims = await browser.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 401);
      });
    }
  });

  describe('JWKS faults before any key is cached: 502/504 on protected routes', () => {
    const browser = new TestBrowser();
    before(async () => {
      await login(browser, stack.appUrl, 'alice');
    });

    for (const fault of FAULTS) {
      it(`JWKS answers ${fault.name} → ${fault.status}, then recovers`, async () => {
        const cold = await startColdApp(stack.emulator);
        try {
          stack.emulator.setFault('jwks', fault.fault('jwks'));
          let result;
          try {
            result = await timed(() =>
              browser.request(`${cold.url}/claims`, { headers: JSON_ACCEPT }),
            );
          } finally {
            stack.emulator.clearFaults();
          }
          const response = result.value;
          assert.equal(response.status, fault.status);
          assert.equal(errorCode(response), fault.code);
          assert.ok(result.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(result.ms)} ms`);
          safe(stack, response, fault.name);
          assert.deepEqual(response.setCookies, []);

          // The failure is not cached for long: once the JWKS is back, the same user gets in.
          let status = 0;
          for (let attempt = 0; attempt < 40 && status !== 200; attempt += 1) {
            if (attempt > 0) await sleep(100);
            status = (await browser.request(`${cold.url}/claims`, { headers: JSON_ACCEPT })).status;
            assert.ok(status === 200 || status === fault.status, `status ${status}`);
          }
          assert.equal(status, 200);
        } finally {
          await cold.stop();
        }
      });
    }
  });

  describe('JWKS faults with keys cached: valid users still get in', () => {
    const alice = new TestBrowser();
    const bob = new TestBrowser();
    before(async () => {
      await login(alice, stack.appUrl, 'alice');
      await login(bob, stack.appUrl, 'bob');
    });

    for (const fault of FAULTS) {
      it(`JWKS answers ${fault.name}: 200 for valid tokens, prompt 401 for an unknown kid`, async () => {
        const cold = await startColdApp(stack.emulator);
        try {
          // Warm this instance's key cache with one user; the other user's token is new to it.
          const warm = await alice.request(`${cold.url}/claims`, { headers: JSON_ACCEPT });
          assert.equal(warm.status, 200);
          const junk = await unknownKidToken(stack.emulator, `rotated-away-${fault.status}`);
          stack.emulator.setFault('jwks', fault.fault('jwks'));
          try {
            const [unknown, bobClaims, aliceClaims] = await Promise.all([
              timed(() =>
                fetch(`${cold.url}/claims`, {
                  headers: { ...JSON_ACCEPT, authorization: `Bearer ${junk}` },
                }),
              ),
              bob.request(`${cold.url}/claims`, { headers: JSON_ACCEPT }),
              alice.request(`${cold.url}/claims`, { headers: JSON_ACCEPT }),
            ]);
            assert.equal(bobClaims.status, 200);
            assert.equal(aliceClaims.status, 200);
            assert.equal(unknown.value.status, 401);
            assert.ok(unknown.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(unknown.ms)} ms`);
            const body = await unknown.value.text();
            assert.ok(!body.includes(junk));
            assert.equal(JSON.parse(body).error, 'ERR_TOKEN_INVALID', 'refused, not an outage');
            assert.equal(unknown.value.headers.getSetCookie().length, 0);

            // New sign-ins keep working too: their tokens are signed by a cached key.
            const carol = new TestBrowser();
            const signIn = await login(carol, stack.appUrl, 'carol');
            assert.equal(signIn.status, 302);
            assert.equal(signIn.location, `${stack.appUrl}/claims`);
          } finally {
            stack.emulator.clearFaults();
          }
        } finally {
          await cold.stop();
        }
      });
    }
  });
});

describe('Cognito refusing connections (emulator stopped)', { timeout: 30_000 }, () => {
  let stack: Stack;
  let cold: RunningServer;
  const alice = new TestBrowser();
  const bob = new TestBrowser();
  let bobCallback: string;

  before(async () => {
    stack = await startStack({ guard: { httpTimeoutMs: HTTP_TIMEOUT_MS } });
    await login(alice, stack.appUrl, 'alice');
    bobCallback = await callbackUrlFor(bob, stack.appUrl, 'bob');
    cold = await startColdApp(stack.emulator);
    await stack.emulator.stop();
  });
  after(async () => {
    await cold.stop();
    await stack.stop();
  });

  it('callback → 503, only the transaction cookie cleared', async () => {
    const response = await bob.request(bobCallback, { headers: JSON_ACCEPT });
    assert.equal(response.status, 503);
    assert.equal(errorCode(response), 'ERR_COGNITO_UNREACHABLE');
    assert.equal(response.headers.get('retry-after'), '5');
    safe(stack, response, 'callback');
    assert.deepEqual(cookiesSet(response.setCookies), []);
    assert.equal(response.setCookies.length, 1);
    assert.match(cookiesDeleted(response.setCookies)[0] ?? '', /^cognito_txn_/);
  });

  it('protected route with keys cached → 200; on an instance with no keys cached → 503', async () => {
    const warm = await alice.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
    assert.equal(warm.status, 200);
    const coldResponse = await alice.request(`${cold.url}/claims`, { headers: JSON_ACCEPT });
    assert.equal(coldResponse.status, 503);
    assert.equal(errorCode(coldResponse), 'ERR_COGNITO_UNREACHABLE');
    assert.deepEqual(coldResponse.setCookies, []);
    safe(stack, coldResponse, 'cold claims');
  });

  it('refresh → 503, cookies untouched', async () => {
    const before = snapshot(alice, stack.appUrl);
    const response = await alice.request(`${stack.appUrl}/refresh`, {
      method: 'POST',
      headers: JSON_ACCEPT,
    });
    assert.equal(response.status, 503);
    assert.equal(errorCode(response), 'ERR_COGNITO_UNREACHABLE');
    assert.deepEqual(response.setCookies, []);
    assert.deepEqual(snapshot(alice, stack.appUrl), before);
    safe(stack, response, 'refresh');
  });

  it('login still redirects to Cognito (no upstream call is needed to start)', async () => {
    const response = await new TestBrowser().request(`${stack.appUrl}/login`);
    assert.equal(response.status, 302);
    safe(stack, response, 'login');
  });

  it('logout → 302 to Cognito /logout with every cookie cleared', async () => {
    const response = await alice.request(`${stack.appUrl}/logout`);
    assert.equal(response.status, 302);
    assert.ok(response.location?.startsWith(`${stack.emulator.url}/logout?`));
    const deleted = cookiesDeleted(response.setCookies);
    for (const name of SESSION_COOKIES) assert.ok(deleted.includes(name), `${name} cleared`);
    assert.deepEqual(cookiesSet(response.setCookies), []);
  });
});

describe('keys rotated mid-run', { timeout: 30_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ guard: { httpTimeoutMs: HTTP_TIMEOUT_MS } });
  });
  after(async () => {
    await stack.stop();
  });

  it('new logins use the new key, existing sessions keep working while the old key is published', async () => {
    const alice = new TestBrowser();
    await login(alice, stack.appUrl, 'alice');
    const oldKid = decodeJwt(alice.cookie(stack.appUrl, 'cognito_access_token')!).header['kid'];
    assert.equal(
      (await alice.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT })).status,
      200,
    );

    const added = await stack.emulator.rotateKeys();
    const bob = new TestBrowser();
    const signIn = await login(bob, stack.appUrl, 'bob');
    assert.equal(signIn.status, 302, 'a login signed by the new key completes');
    assert.equal(signIn.location, `${stack.appUrl}/claims`);
    const newKid = decodeJwt(bob.cookie(stack.appUrl, 'cognito_access_token')!).header['kid'];
    assert.notEqual(newKid, oldKid);
    assert.ok(added.some((key) => key.kid === newKid));

    for (const browser of [alice, bob]) {
      const claims = await browser.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT });
      assert.equal(claims.status, 200);
    }
    // A fresh instance learns both keys from the JWKS.
    const cold = await startColdApp(stack.emulator);
    try {
      for (const browser of [alice, bob]) {
        const claims = await browser.request(`${cold.url}/claims`, { headers: JSON_ACCEPT });
        assert.equal(claims.status, 200);
      }
    } finally {
      await cold.stop();
    }

    // The old session refreshes onto the new key.
    const refreshed = await alice.request(`${stack.appUrl}/refresh`, { method: 'POST' });
    assert.equal(refreshed.status, 303);
    assert.equal(
      decodeJwt(alice.cookie(stack.appUrl, 'cognito_access_token')!).header['kid'],
      newKid,
      'refreshed tokens are signed by the new key',
    );
  });

  it('once the old key is retired, its tokens get a clean 401 on an instance that refetched', async () => {
    const carol = new TestBrowser();
    await login(carol, stack.appUrl, 'carol');
    const oldToken = carol.cookie(stack.appUrl, 'cognito_access_token')!;
    await stack.emulator.rotateKeys();
    stack.emulator.retireKey();
    // Minted rather than signed in: the running instance refetched for the previous rotation
    // moments ago and is inside its unknown-kid cooldown (B36), which is not under test here.
    const current = await stack.emulator.mintToken({
      use: 'access',
      clientId: CLIENT_ID,
      username: 'bob',
    });

    const cold = await startColdApp(stack.emulator);
    try {
      const stale = await fetch(`${cold.url}/claims`, {
        headers: { ...JSON_ACCEPT, authorization: `Bearer ${oldToken}` },
      });
      assert.equal(stale.status, 401);
      const staleBody = await stale.text();
      assert.ok(!staleBody.includes(oldToken));
      assert.equal(JSON.parse(staleBody).error, 'ERR_TOKEN_INVALID');
      const fresh = await fetch(`${cold.url}/claims`, {
        headers: { ...JSON_ACCEPT, authorization: `Bearer ${current}` },
      });
      assert.equal(fresh.status, 200);
      await fresh.body?.cancel();
    } finally {
      await cold.stop();
    }
  });
});

describe('unknown-kid storm (B36)', { timeout: 30_000 }, () => {
  let counting: RecordingEmulator;
  let stack: Stack;
  before(async () => {
    counting = await startRecordingEmulator();
    stack = await startStack({
      emulator: counting.emulator,
      guard: { httpTimeoutMs: HTTP_TIMEOUT_MS },
    });
  });
  after(async () => {
    await stack.stop();
    await counting.emulator.stop();
  });

  it('50 junk kids cause at most a couple of JWKS fetches; valid users are unaffected', async () => {
    const alice = new TestBrowser();
    await login(alice, stack.appUrl, 'alice');
    assert.equal(
      (await alice.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT })).status,
      200,
    );
    const junk = await Promise.all(
      Array.from({ length: 50 }, (_, i) => unknownKidToken(stack.emulator, `junk-kid-${i}`)),
    );
    const fetchesBefore = counting.jwksFetches();

    const storm = junk.map((token) =>
      fetch(`${stack.appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, cookie: `cognito_access_token=${token}` },
      }).then(async (response) => ({
        status: response.status,
        body: await response.text(),
        setCookies: response.headers.getSetCookie(),
        token,
      })),
    );
    const valid = Array.from({ length: 50 }, () =>
      alice.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT }),
    );
    const [junkResults, validResults] = await Promise.all([Promise.all(storm), Promise.all(valid)]);
    for (const result of junkResults) {
      assert.equal(result.status, 401);
      assert.deepEqual(result.setCookies, []);
      assert.ok(!result.body.includes(result.token));
    }
    for (const result of validResults) assert.equal(result.status, 200);

    // A second wave, one by one, inside the cooldown: no further fetch at all.
    for (const token of junk.slice(0, 20)) {
      const response = await fetch(`${stack.appUrl}/claims`, {
        headers: { ...JSON_ACCEPT, authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    }
    // A fresh login (its kid is cached) is not held back by the storm.
    const carol = new TestBrowser();
    assert.equal((await login(carol, stack.appUrl, 'carol')).status, 302);
    assert.equal(
      (await carol.request(`${stack.appUrl}/claims`, { headers: JSON_ACCEPT })).status,
      200,
    );

    const fetches = counting.jwksFetches() - fetchesBefore;
    assert.ok(fetches <= 2, `the storm caused ${fetches} JWKS fetches`);
  });
});

describe('broken connections to Cognito (socket-level faults)', { timeout: 30_000 }, () => {
  let upstream: BrokenUpstream;
  let stack: Stack;
  /** While set, the guard's calls to this endpoint go to the broken upstream instead. */
  let breakage: { readonly path: string; readonly mode: BreakageMode } | undefined;

  // The guard's own `fetch` option, so the real undici client meets the broken socket.
  const routedFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (breakage !== undefined && url.pathname.endsWith(breakage.path)) {
      return fetch(`${upstream.url}/${breakage.mode}`, init);
    }
    return fetch(input, init);
  };

  before(async () => {
    upstream = await startBrokenUpstream();
    stack = await startStack({ guard: { httpTimeoutMs: HTTP_TIMEOUT_MS, fetch: routedFetch } });
  });
  after(async () => {
    await stack.stop();
    await upstream.stop();
  });

  /** The answer expected from the token endpoint's calls and from the JWKS download. */
  interface Expected {
    readonly status: number;
    readonly error: string;
  }
  const TIMEOUT: Expected = { status: 504, error: 'ERR_COGNITO_TIMEOUT' };
  const UNREACHABLE: Expected = { status: 503, error: 'ERR_COGNITO_UNREACHABLE' };
  const BAD_RESPONSE: Expected = { status: 502, error: 'ERR_COGNITO_BAD_RESPONSE' };
  const MODES: readonly {
    mode: BreakageMode;
    name: string;
    token: Expected;
    jwks: Expected;
  }[] = [
    {
      mode: 'stall-body',
      name: 'headers, then a body that never ends',
      token: TIMEOUT,
      jwks: TIMEOUT,
    },
    // Headers arrived, the body broke: the token client calls that a bad answer, the JWKS
    // download an unreachable Cognito (it keeps serving cached keys either way).
    {
      mode: 'reset-mid-body',
      name: 'a reset half-way through the body',
      token: BAD_RESPONSE,
      jwks: UNREACHABLE,
    },
    { mode: 'not-http', name: 'an answer that is not HTTP', token: UNREACHABLE, jwks: UNREACHABLE },
    { mode: 'close', name: 'a close with no answer', token: UNREACHABLE, jwks: UNREACHABLE },
  ];
  const assertAnswer = (response: BrowserResponse, expected: Expected, step: string): void => {
    assert.equal(response.status, expected.status, `${step} ${response.status}`);
    assert.equal(errorCode(response), expected.error, step);
  };

  for (const { mode, name, token, jwks } of MODES) {
    it(`${name}: callback, refresh and a cold protected route fail promptly; logout completes`, async () => {
      // Callback: only the transaction cookie is cleared.
      const bob = new TestBrowser();
      const callbackUrl = await callbackUrlFor(bob, stack.appUrl, 'bob');
      breakage = { path: '/oauth2/token', mode };
      const callback = await timed(() => bob.request(callbackUrl, { headers: JSON_ACCEPT }));
      breakage = undefined;
      assertAnswer(callback.value, token, 'callback');
      assert.ok(callback.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(callback.ms)} ms`);
      assert.deepEqual(cookiesSet(callback.value.setCookies), []);
      assert.equal(callback.value.setCookies.length, 1);
      safe(stack, callback.value, `${mode} callback`);

      // Refresh: cookies untouched.
      const alice = new TestBrowser();
      await login(alice, stack.appUrl, 'alice');
      const before = snapshot(alice, stack.appUrl);
      breakage = { path: '/oauth2/token', mode };
      const refresh = await timed(() =>
        alice.request(`${stack.appUrl}/refresh`, { method: 'POST', headers: JSON_ACCEPT }),
      );
      breakage = undefined;
      assertAnswer(refresh.value, token, 'refresh');
      assert.ok(refresh.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(refresh.ms)} ms`);
      assert.deepEqual(refresh.value.setCookies, []);
      assert.deepEqual(snapshot(alice, stack.appUrl), before);
      safe(stack, refresh.value, `${mode} refresh`);

      // A protected route on an instance with nothing cached.
      const cold = await serveBuilt((appUrl) =>
        createExampleApp(
          guardOptions(stack.emulator, appUrl, {
            httpTimeoutMs: HTTP_TIMEOUT_MS,
            fetch: routedFetch,
          }),
        ),
      );
      try {
        breakage = { path: '/.well-known/jwks.json', mode };
        const claims = await timed(() =>
          alice.request(`${cold.url}/claims`, { headers: JSON_ACCEPT }),
        );
        breakage = undefined;
        assertAnswer(claims.value, jwks, 'claims');
        assert.ok(claims.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(claims.ms)} ms`);
        assert.deepEqual(claims.value.setCookies, []);
        safe(stack, claims.value, `${mode} claims`);
      } finally {
        breakage = undefined;
        await cold.stop();
      }

      // Logout: the revoke breaks, the user is signed out anyway.
      breakage = { path: '/oauth2/revoke', mode };
      const logout = await timed(() => alice.request(`${stack.appUrl}/logout`));
      breakage = undefined;
      assert.equal(logout.value.status, 302);
      assert.ok(logout.ms < ANSWER_WITHIN_MS, `answered in ${Math.round(logout.ms)} ms`);
      const deleted = cookiesDeleted(logout.value.setCookies);
      for (const cookie of SESSION_COOKIES)
        assert.ok(deleted.includes(cookie), `${cookie} cleared`);
    });
  }
});

describe('process health', () => {
  it('no unhandled promise rejection happened during the run', () => {
    rejections.stop();
    assert.deepEqual(rejections.reasons, []);
  });
});
