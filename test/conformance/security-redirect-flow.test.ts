/**
 * Security cases B1–B18 (redirect flow, state, PKCE, nonce) against every adapter's example app,
 * over real HTTP, with the emulator behind a recording hostile domain (given to the app as
 * `AWS_COGNITO_DOMAIN`). Each test plays the attack as a browser would and checks what the victim
 * ends up with: status, cookies, redirects, and whether a code was ever redeemed.
 *
 * B18's expiry of a transaction after 10 minutes needs a clock: it is in in-process.test.ts.
 */
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atHash, startEmulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { stateId, transactionCookieName } from '../../src/core/transaction.js';
import { ADAPTERS, startConformanceApp } from '../support/adapters.js';
import { startConformanceStack, type ConformanceStack } from '../support/security-stack.js';
import { TestBrowser, JSON_ACCEPT, HTML_ACCEPT } from '../support/browser.js';
import { sessionCookiesSet } from '../support/cookies.js';
import { CLIENT_SECRET } from '../support/pool.js';
import { rawRequest } from '../support/requests.js';
import { beginLogin, signInAt, withQuery } from '../support/sign-in.js';

const CODE_GRANT = 'authorization_code';

for (const adapter of ADAPTERS) {
  describe(`redirect flow, state, PKCE, nonce (B1–B18) (${adapter.name})`, () => {
    let sec: ConformanceStack;
    let appUrl: string;

    before(async () => {
      sec = await startConformanceStack(adapter);
      appUrl = sec.app.url;
    });
    after(async () => {
      await sec.stop();
    });

    /** The number of code exchanges the app has made so far. */
    const exchanges = () => sec.hostile.tokenRequests(CODE_GRANT).length;

    async function assertSignedOut(browser: TestBrowser): Promise<void> {
      const claims = await browser.request(`${appUrl}/claims`, { headers: JSON_ACCEPT });
      assert.equal(claims.status, 401, 'the browser has no session');
    }

    it("B1 a forged callback (the attacker's own code and state) is 400 in the victim's browser and redeems nothing", async () => {
      const attacker = new TestBrowser();
      const attackerLogin = await beginLogin(attacker, appUrl);
      const forged = await signInAt(attacker, attackerLogin.authorizeUrl, 'carol');
      const before = exchanges();

      // A victim with no login in progress, and one in the middle of their own login.
      const idle = new TestBrowser();
      const busy = new TestBrowser();
      await beginLogin(busy, appUrl);
      for (const victim of [idle, busy]) {
        const response = await victim.request(forged, { headers: HTML_ACCEPT });
        assert.equal(response.status, 400);
        assert.match(response.body, /Sign in again/);
        assert.deepEqual(sessionCookiesSet(response.setCookies), []);
        await assertSignedOut(victim);
      }
      assert.equal(exchanges(), before, 'the injected code was never sent to Cognito');

      // The attacker's code was not burned by the victims: their own browser still completes.
      const own = await attacker.request(forged);
      assert.equal(own.status, 302);
    });

    it('B1 a transaction cookie holding another state is refused by the state comparison', async () => {
      const victim = new TestBrowser();
      const victimLogin = await beginLogin(victim, appUrl);
      const sealedVictimTransaction = victim.cookie(appUrl, victimLogin.transactionCookieName)!;
      const attacker = new TestBrowser();
      const attackerLogin = await beginLogin(attacker, appUrl);
      const forged = await signInAt(attacker, attackerLogin.authorizeUrl, 'carol');

      // Plant the victim's (valid, sealed) transaction under the name the attacker's state selects,
      // so only the constant-time state comparison stands between the two.
      const name = transactionCookieName(await stateId(attackerLogin.state), false);
      const response = await new TestBrowser().request(forged, {
        headers: { ...JSON_ACCEPT, cookie: `${name}=${sealedVictimTransaction}` },
      });
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_STATE_MISMATCH');
      assert.deepEqual(sessionCookiesSet(response.setCookies), []);
    });

    it('B2 a replayed callback URL shows "sign in again" and is never exchanged twice, even with the transaction cookie re-sent', async () => {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      const sealed = browser.cookie(appUrl, started.transactionCookieName)!;
      const callback = await signInAt(browser, started.authorizeUrl, 'bob');
      const first = await browser.request(callback);
      assert.equal(first.status, 302);
      const afterFirst = exchanges();

      const replay = await browser.request(callback, { headers: HTML_ACCEPT });
      assert.equal(replay.status, 400);
      assert.match(replay.body, /Sign in again/);
      // An attacker who kept a copy of the transaction cookie (e.g. from a shared machine).
      const withCookie = await new TestBrowser().request(callback, {
        headers: { ...JSON_ACCEPT, cookie: `${started.transactionCookieName}=${sealed}` },
      });
      assert.equal(withCookie.status, 400);
      assert.equal(JSON.parse(withCookie.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
      assert.deepEqual(sessionCookiesSet(withCookie.setCookies), []);
      assert.equal(exchanges(), afterFirst, 'no second exchange');
    });

    it('B3 an unsolicited callback (no transaction cookie, or one that is not ours) is 400 and starts no exchange', async () => {
      const before = exchanges();
      const state = 'x'.repeat(43);
      const name = transactionCookieName(await stateId(state), false);
      const noTransaction = 'ERR_CALLBACK_NO_TRANSACTION';
      const cases: { query: string; cookie?: string; error: string }[] = [
        { query: `code=${crypto.randomUUID()}&state=${state}`, error: noTransaction },
        { query: '', error: 'ERR_CALLBACK_INVALID' },
        { query: `code=${crypto.randomUUID()}`, error: 'ERR_CALLBACK_INVALID' },
        {
          query: `code=${crypto.randomUUID()}&state=${state}`,
          cookie: `${name}=garbage`,
          error: noTransaction,
        },
        {
          query: `code=${crypto.randomUUID()}&state=${state}`,
          cookie: `${name}=a.b.c.d.e`,
          error: noTransaction,
        },
      ];
      for (const { query, cookie, error } of cases) {
        const response = await new TestBrowser().request(`${appUrl}/postlogin?${query}`, {
          headers: { ...JSON_ACCEPT, ...(cookie === undefined ? {} : { cookie }) },
        });
        assert.equal(response.status, 400, query);
        assert.equal(JSON.parse(response.body).error, error, `${query} ${cookie ?? ''}`);
        assert.deepEqual(sessionCookiesSet(response.setCookies), []);
      }
      assert.equal(exchanges(), before);
    });

    it("B4 code injection: the victim's stolen code replayed with the attacker's own transaction fails PKCE", async () => {
      const victim = new TestBrowser();
      const victimLogin = await beginLogin(victim, appUrl);
      const stolen = new URL(await signInAt(victim, victimLogin.authorizeUrl, 'alice'));

      const attacker = new TestBrowser();
      const attackerLogin = await beginLogin(attacker, appUrl);
      const injected = withQuery(
        stolen.href,
        new URLSearchParams({
          code: stolen.searchParams.get('code')!,
          state: attackerLogin.state,
        }).toString(),
      );
      const before = exchanges();
      const response = await attacker.request(injected, { headers: JSON_ACCEPT });
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
      assert.deepEqual(sessionCookiesSet(response.setCookies), []);
      await assertSignedOut(attacker);
      // The app did try, with the attacker's verifier, and Cognito refused it.
      const exchange = sec.hostile.tokenRequests(CODE_GRANT).slice(before);
      assert.equal(exchange.length, 1);
      assert.notEqual(exchange[0]!.form.get('code_verifier'), null);
      assert.match(exchange[0]!.answer ?? '', /invalid_grant/);
    });

    it("B4 code injection: the attacker's code replayed in the victim's browser with the victim's transaction is refused", async () => {
      const attacker = new TestBrowser();
      const attackerLogin = await beginLogin(attacker, appUrl);
      const attackerCode = new URL(
        await signInAt(attacker, attackerLogin.authorizeUrl, 'carol'),
      ).searchParams.get('code')!;

      const victim = new TestBrowser();
      const victimLogin = await beginLogin(victim, appUrl);
      const injected = `${appUrl}/postlogin?${new URLSearchParams({ code: attackerCode, state: victimLogin.state }).toString()}`;
      const response = await victim.request(injected, { headers: JSON_ACCEPT });
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
      assert.deepEqual(sessionCookiesSet(response.setCookies), []);
      await assertSignedOut(victim);
    });

    it('B5 PKCE downgrade: Cognito redeems a code issued without a challenge, yet state and nonce keep it out of the victim session', async () => {
      const { switches } = sec.emulator;
      assert.equal(switches.rejectPkceDowngrade, false, 'Cognito is assumed not to enforce PKCE');
      const attacker = new TestBrowser();
      const downgradedCode = async (stripNonce = false): Promise<URL> => {
        const started = await beginLogin(attacker, appUrl);
        const url = new URL(started.authorizeUrl);
        url.searchParams.delete('code_challenge');
        url.searchParams.delete('code_challenge_method');
        if (stripNonce) url.searchParams.delete('nonce');
        return new URL(await signInAt(attacker, url.href, 'carol'));
      };

      // Precondition: the AS really accepts any verifier for such a code.
      const probe = await downgradedCode();
      const direct = await fetch(`${sec.emulator.domain}/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${sec.app.clientId}:${CLIENT_SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: probe.searchParams.get('code')!,
          redirect_uri: `${appUrl}/postlogin`,
          code_verifier: 'a'.repeat(43),
        }),
      });
      assert.equal(direct.status, 200, 'the emulator (like Cognito) does not stop the downgrade');

      for (const stripNonce of [false, true]) {
        const code = (await downgradedCode(stripNonce)).searchParams.get('code')!;
        const victim = new TestBrowser();
        const victimLogin = await beginLogin(victim, appUrl);
        // Without the victim's state the callback is refused before any exchange…
        const before = exchanges();
        const noState = await victim.request(
          `${appUrl}/postlogin?${new URLSearchParams({ code, state: 'attacker-state' }).toString()}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(noState.status, 400);
        assert.equal(JSON.parse(noState.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
        assert.equal(exchanges(), before);
        // …and even an attacker who learned the state is stopped by the nonce.
        const withState = await victim.request(
          `${appUrl}/postlogin?${new URLSearchParams({ code, state: victimLogin.state }).toString()}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(withState.status, 400, `nonce ${stripNonce ? 'stripped' : 'swapped'}`);
        assert.equal(JSON.parse(withState.body).error, 'ERR_CALLBACK_REJECTED');
        assert.deepEqual(sessionCookiesSet(withState.setCookies), []);
        await assertSignedOut(victim);
        const exchange = sec.hostile.tokenRequests(CODE_GRANT).at(-1)!;
        assert.match(exchange.answer ?? '', /access_token/, 'Cognito did hand out tokens');
      }

      // With the (undocumented) rejection switched on, Cognito refuses the exchange itself.
      switches.rejectPkceDowngrade = true;
      try {
        const code = (await downgradedCode()).searchParams.get('code')!;
        const victim = new TestBrowser();
        const victimLogin = await beginLogin(victim, appUrl);
        const response = await victim.request(
          `${appUrl}/postlogin?${new URLSearchParams({ code, state: victimLogin.state }).toString()}`,
          { headers: JSON_ACCEPT },
        );
        assert.equal(response.status, 400);
        assert.match(sec.hostile.tokenRequests(CODE_GRANT).at(-1)!.answer ?? '', /invalid_grant/);
      } finally {
        switches.rejectPkceDowngrade = false;
      }
    });

    it('B6 the app only ever sends S256 and does not retry (with plain or otherwise) after a failed exchange', async () => {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      assert.equal(new URL(started.authorizeUrl).searchParams.get('code_challenge_method'), 'S256');
      const callback = await signInAt(browser, started.authorizeUrl, 'bob');
      sec.hostile.onToken = () => ({ status: 400, body: { error: 'invalid_request' } });
      const before = exchanges();
      try {
        const response = await browser.request(callback, { headers: JSON_ACCEPT });
        assert.equal(response.status, 400);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
      } finally {
        sec.hostile.onToken = undefined;
      }
      const sent = sec.hostile.tokenRequests(CODE_GRANT).slice(before);
      assert.equal(sent.length, 1, 'exactly one attempt');
      assert.equal(sent[0]!.form.get('code_challenge_method'), null);
      const again = await beginLogin(browser, appUrl);
      assert.equal(new URL(again.authorizeUrl).searchParams.get('code_challenge_method'), 'S256');
    });

    it('B7 every login gets a fresh state, nonce and 43-character verifier whose S256 is the challenge sent', async () => {
      const browser = new TestBrowser();
      const seen = new Set<string>();
      for (let i = 0; i < 3; i += 1) {
        const started = await beginLogin(browser, appUrl);
        const query = new URL(started.authorizeUrl).searchParams;
        for (const name of ['state', 'nonce', 'code_challenge']) {
          const value = query.get(name)!;
          assert.ok(value.length >= 43, `${name} carries at least 256 bits`);
          assert.ok(!seen.has(value), `${name} is never reused`);
          seen.add(value);
        }
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        assert.equal((await browser.request(callback)).status, 302);
        const verifier = sec.hostile.tokenRequests(CODE_GRANT).at(-1)!.form.get('code_verifier')!;
        assert.match(verifier, /^[A-Za-z0-9._~-]{43,128}$/);
        assert.equal(
          createHash('sha256').update(verifier).digest('base64url'),
          query.get('code_challenge'),
        );
      }
    });

    describe('B8 nonce', () => {
      async function loginWithForgedIdToken(
        forge: (nonce: string, accessToken: string) => Promise<string>,
      ) {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        const callback = await signInAt(browser, started.authorizeUrl, 'alice');
        sec.hostile.onToken = async (request, upstream) => {
          if (request.form.get('grant_type') !== CODE_GRANT) return undefined;
          const real = (await upstream()).json();
          const accessToken = real.access_token as string;
          return {
            status: 200,
            body: { ...real, id_token: await forge(started.nonce, accessToken) },
          };
        };
        try {
          return { browser, response: await browser.request(callback, { headers: JSON_ACCEPT }) };
        } finally {
          sec.hostile.onToken = undefined;
        }
      }
      const mintId = (claims: Record<string, unknown>, omit: string[] = []) =>
        sec.emulator.mintToken({
          use: 'id',
          username: 'alice',
          clientId: sec.app.clientId,
          claims,
          omit,
        });

      it('B8 an ID token with the right nonce (control) completes the login', async () => {
        const { response } = await loginWithForgedIdToken((nonce, accessToken) =>
          mintId({ nonce, at_hash: atHash(accessToken) }),
        );
        assert.equal(response.status, 302);
        assert.deepEqual(sessionCookiesSet(response.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
          'cognito_refresh_token',
        ]);
      });

      it('B8 an ID token with a wrong, missing or replayed nonce is 400 and sets no session', async () => {
        const other = await beginLogin(new TestBrowser(), appUrl);
        const forgeries: Record<string, (nonce: string, at: string) => Promise<string>> = {
          wrong: (_nonce, at) => mintId({ nonce: 'not-the-nonce', at_hash: atHash(at) }),
          missing: (_nonce, at) => mintId({ at_hash: atHash(at) }, ['nonce']),
          "another login's": (_nonce, at) => mintId({ nonce: other.nonce, at_hash: atHash(at) }),
        };
        for (const [label, forge] of Object.entries(forgeries)) {
          const { browser, response } = await loginWithForgedIdToken(forge);
          assert.equal(response.status, 400, `${label} nonce`);
          assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
          assert.deepEqual(sessionCookiesSet(response.setCookies), [], `${label} nonce`);
          await assertSignedOut(browser);
        }
      });
    });

    describe('B9 mix-up', () => {
      let otherServed: RequestLogEntry[];
      let other: Awaited<ReturnType<typeof startEmulator>>;
      before(async () => {
        otherServed = [];
        other = await startEmulator({
          port: 0,
          onRequest: (entry) => {
            otherServed.push(entry);
          },
        });
      });
      after(async () => {
        await other.stop();
      });

      it('B9 tokens from another issuer in the token response are refused (only iss differs)', async () => {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        const callback = await signInAt(browser, started.authorizeUrl, 'alice');
        other.addClient({
          clientId: sec.app.clientId,
          callbackUrls: [`${appUrl}/postlogin`],
          allowedScopes: ['openid', 'email', 'profile'],
        });
        sec.hostile.onToken = async (request, upstream) => {
          if (request.form.get('grant_type') !== CODE_GRANT) return undefined;
          const real = (await upstream()).json();
          const access = await other.mintToken({
            use: 'access',
            username: 'alice',
            clientId: sec.app.clientId,
          });
          const id = await other.mintToken({
            use: 'id',
            username: 'alice',
            clientId: sec.app.clientId,
            claims: { nonce: started.nonce, at_hash: atHash(access) },
          });
          return { status: 200, body: { ...real, access_token: access, id_token: id } };
        };
        try {
          const response = await browser.request(callback, { headers: JSON_ACCEPT });
          assert.equal(response.status, 400);
          assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_REJECTED');
          assert.deepEqual(sessionCookiesSet(response.setCookies), []);
          await assertSignedOut(browser);
        } finally {
          sec.hostile.onToken = undefined;
        }
      });

      it('B9 a transaction started against one issuer is refused by an app of another issuer before any exchange', async () => {
        // Two apps, two pools, one secret and one browser: the recommended distinct redirect URI
        // per issuer, with the issuer also bound into the transaction.
        const otherApp = await startConformanceApp(adapter, other);
        try {
          const browser = new TestBrowser();
          const started = await beginLogin(browser, appUrl);
          const code = new URL(
            await signInAt(browser, started.authorizeUrl, 'alice'),
          ).searchParams.get('code')!;
          const tokenCallsBefore = otherServed.filter((e) => e.path === '/oauth2/token').length;
          const response = await browser.request(
            `${otherApp.url}/postlogin?${new URLSearchParams({ code, state: started.state }).toString()}`,
            { headers: JSON_ACCEPT },
          );
          assert.equal(response.status, 400);
          assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_STATE_MISMATCH');
          assert.equal(
            otherServed.filter((e) => e.path === '/oauth2/token').length,
            tokenCallsBefore,
            "the other issuer's token endpoint was never called",
          );
        } finally {
          await otherApp.stop();
        }
      });
    });

    it('B10 Host and X-Forwarded-Host never change redirect_uri, at authorize or at token', async () => {
      const spoofed = {
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'host=evil.example;proto=https',
      };
      const start = await rawRequest(`${appUrl}/login`, { headers: spoofed });
      assert.equal(start.status, 302);
      const authorize = new URL(start.headers.location!);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${appUrl}/postlogin`);

      // Finish the login in a browser whose callback request is spoofed the same way.
      const browser = new TestBrowser();
      const cookies = (start.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!);
      for (const pair of cookies) {
        const eq = pair.indexOf('=');
        browser.setCookie(appUrl, pair.slice(0, eq), pair.slice(eq + 1));
      }
      const callback = await signInAt(browser, authorize.href, 'bob');
      const done = await rawRequest(callback, {
        headers: { ...spoofed, cookie: browser.cookieHeader(appUrl) },
      });
      assert.equal(done.status, 302);
      assert.ok(
        !String(done.headers.location).includes('evil'),
        'the redirect after sign-in stays on the app',
      );
      const exchange = sec.hostile.tokenRequests(CODE_GRANT).at(-1)!;
      assert.equal(exchange.form.get('redirect_uri'), `${appUrl}/postlogin`);
    });

    it('B11 returnTo: only same-origin paths survive the login; every open-redirect variant lands on /claims', async () => {
      const hostile = [
        '//evil.example/x',
        '///evil.example',
        '/\\evil.example',
        '\\\\evil.example',
        '/\\/evil.example',
        'https://evil.example/',
        'http:evil.example',
        'javascript:alert(1)',
        'evil.example',
        '/%2F%2Fevil.example',
        '/%252F%252Fevil.example',
        '%2F%2Fevil.example',
        '/%5Cevil.example',
        '/%09/evil.example',
        '/..//evil.example',
        '/.//evil.example',
        '/a/..//evil.example',
        '/%2e%2e//evil.example',
        '/%2e//evil.example',
        '/%0d%0aLocation:%20https://evil.example',
      ];
      const browser = new TestBrowser();
      for (const returnTo of hostile) {
        const started = await beginLogin(
          browser,
          appUrl,
          `/login?${new URLSearchParams({ returnTo }).toString()}`,
        );
        assert.ok(!started.authorizeUrl.includes('evil'), 'returnTo never travels in the URL');
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        const done = await browser.request(callback);
        assert.equal(done.status, 302, returnTo);
        assert.equal(done.location, `${appUrl}/claims`, returnTo);
      }
      // Control: a same-origin path with a query is kept, and is not in the state or the cookie.
      const started = await beginLogin(browser, appUrl, '/login?returnTo=%2Fedit%3Ftab%3D2');
      assert.ok(!started.state.includes('edit'), 'returnTo is not in the state');
      assert.ok(
        !started.transactionCookie.includes('edit'),
        'returnTo is not readable in the transaction cookie',
      );
      const done = await browser.request(await signInAt(browser, started.authorizeUrl, 'bob'));
      assert.equal(done.location, `${appUrl}/edit?tab=2`);
    });

    it('B12 logout: logout_uri comes from configuration only, whatever the request carries', async () => {
      const query = new URLSearchParams({
        logout_uri: 'https://evil.example/',
        redirect_uri: 'https://evil.example/',
        returnTo: '//evil.example',
        client_id: 'evil-client',
      }).toString();
      const response = await rawRequest(`${appUrl}/logout?${query}`, {
        headers: {
          'sec-fetch-site': 'same-origin',
          host: 'evil.example',
          'x-forwarded-host': 'evil.example',
        },
      });
      assert.equal(response.status, 302);
      const location = new URL(response.headers.location!);
      assert.equal(`${location.origin}${location.pathname}`, `${sec.hostile.url}/logout`);
      assert.deepEqual([...location.searchParams.keys()].sort(), ['client_id', 'logout_uri']);
      assert.equal(location.searchParams.get('client_id'), sec.app.clientId);
      assert.equal(location.searchParams.get('logout_uri'), `${appUrl}/postlogout`);
      // And the post-logout landing page does not redirect anywhere but home.
      const landing = await rawRequest(`${appUrl}/postlogout?returnTo=%2F%2Fevil.example`);
      assert.equal(landing.headers.location, '/');
    });

    describe('B13 error callbacks', () => {
      const script = '<script>alert(document.cookie)</script>';

      it('B13 ?error= with the state echoed: 400, fixed message, description not reflected, transaction ended, nothing exchanged', async () => {
        assert.equal(sec.emulator.switches.echoStateOnError, true);
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        // prompt=none without a hosted-UI session makes Cognito answer with an error redirect.
        const errorRedirect = await browser.request(`${started.authorizeUrl}&prompt=none`);
        const errorUrl = new URL(errorRedirect.location!);
        assert.equal(errorUrl.searchParams.get('error'), 'login_required');
        assert.equal(errorUrl.searchParams.get('state'), started.state);
        errorUrl.searchParams.set('error_description', script);
        const before = exchanges();
        // The JSON answer from a sign-in of its own: the HTML one below ends its transaction, and a
        // second answer to the same state would be refused for that reason instead.
        const jsonBrowser = new TestBrowser();
        const jsonStarted = await beginLogin(jsonBrowser, appUrl);
        const jsonErrorUrl = new URL(
          (await jsonBrowser.request(`${jsonStarted.authorizeUrl}&prompt=none`)).location!,
        );
        jsonErrorUrl.searchParams.set('error_description', script);
        for (const [client, url, headers] of [
          [browser, errorUrl, HTML_ACCEPT],
          [jsonBrowser, jsonErrorUrl, JSON_ACCEPT],
        ] as const) {
          const response = await client.request(url.href, { headers });
          assert.equal(response.status, 400);
          if (headers === JSON_ACCEPT)
            assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_ERROR_RESPONSE');
          assert.ok(!response.body.includes('<script'), 'error_description is not reflected');
          assert.ok(!response.body.includes('alert('), 'the description is not reflected');
          assert.ok(!response.body.includes('login_required'), 'upstream text is not shown');
        }
        assert.equal(exchanges(), before);
        assert.deepEqual(browser.transactionCookies(appUrl), [], 'the transaction is ended');
        // A real code arriving later for the same state is refused.
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        const late = await browser.request(callback, { headers: JSON_ACCEPT });
        assert.equal(late.status, 400);
        assert.equal(JSON.parse(late.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
        assert.equal(exchanges(), before);
      });

      it('B13 ?error= without state (echoStateOnError off): 400, not reflected, every pending transaction ended', async () => {
        const { switches } = sec.emulator;
        switches.echoStateOnError = false;
        try {
          const browser = new TestBrowser();
          await beginLogin(browser, appUrl);
          const started = await beginLogin(browser, appUrl);
          assert.equal(browser.transactionCookies(appUrl).length, 2);
          const errorRedirect = await browser.request(`${started.authorizeUrl}&prompt=none`);
          const errorUrl = new URL(errorRedirect.location!);
          assert.equal(errorUrl.searchParams.get('state'), null, 'Cognito sent no state');
          errorUrl.searchParams.set('error_description', script);
          const response = await browser.request(errorUrl.href, { headers: HTML_ACCEPT });
          assert.equal(response.status, 400);
          assert.ok(!response.body.includes('<script'), 'the description is not reflected');
          assert.ok(!response.body.includes('alert('), 'the description is not reflected');
          assert.deepEqual(browser.transactionCookies(appUrl), []);
          assert.deepEqual(sessionCookiesSet(response.setCookies), []);
        } finally {
          switches.echoStateOnError = true;
        }
      });
    });

    it('B14 the callback answers only with a redirect that sends no Referer and is not cached, on success and failure', async () => {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      assert.equal(started.response.headers.get('referrer-policy'), 'no-referrer');
      const callback = await signInAt(browser, started.authorizeUrl, 'bob');
      const code = new URL(callback).searchParams.get('code')!;
      const success = await browser.request(callback);
      assert.equal(success.status, 302);
      const failure = await browser.request(callback, { headers: HTML_ACCEPT });
      assert.equal(failure.status, 400);
      for (const response of [success, failure]) {
        assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
        assert.match(response.headers.get('cache-control') ?? '', /no-store/);
        assert.ok(!response.body.includes(code), 'the code is not echoed');
        assert.ok(!/<(script|img|link|iframe)\b/i.test(response.body), 'no third-party content');
      }
      assert.ok(!success.location!.includes(code), 'the code is stripped from the URL at once');
    });

    it('B15 a callback carrying tokens (implicit flow) is refused before any exchange and ends the transaction', async () => {
      for (const name of ['access_token', 'id_token', 'token', 'refresh_token']) {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        assert.equal(new URL(started.authorizeUrl).searchParams.get('response_type'), 'code');
        const callback = await signInAt(browser, started.authorizeUrl, 'bob');
        const before = exchanges();
        const response = await browser.request(`${callback}&${name}=eyJhbGciOiJub25lIn0.e30.`, {
          headers: JSON_ACCEPT,
        });
        assert.equal(response.status, 400, name);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_INVALID', name);
        assert.deepEqual(sessionCookiesSet(response.setCookies), [], name);
        assert.equal(exchanges(), before, name);
        assert.equal((await browser.request(callback)).status, 400, 'the transaction is over');
      }
    });

    it('B16 repeated code, state or iss parameters are 400 before any exchange', async () => {
      const variants = (code: string, state: string) => [
        `code=${code}&code=${code}&state=${state}`,
        `code=${code}&code=other&state=${state}`,
        `code=${code}&state=${state}&state=${state}`,
        `code=${code}&state=${state}&iss=a&iss=b`,
        `code=${code}&state=${state}&error=access_denied&error=x`,
      ];
      for (let i = 0; i < variants('c', 's').length; i += 1) {
        const browser = new TestBrowser();
        const started = await beginLogin(browser, appUrl);
        const callback = new URL(await signInAt(browser, started.authorizeUrl, 'bob'));
        const query = variants(callback.searchParams.get('code')!, started.state)[i]!;
        const before = exchanges();
        const response = await browser.request(withQuery(callback.href, query), {
          headers: JSON_ACCEPT,
        });
        assert.equal(response.status, 400, query);
        assert.equal(JSON.parse(response.body).error, 'ERR_CALLBACK_INVALID', query);
        assert.deepEqual(sessionCookiesSet(response.setCookies), []);
        assert.equal(exchanges(), before, query);
      }
    });

    it('B17 concurrent redemptions of one callback: exactly one session, one exchange, the rest fail cleanly', async () => {
      const browser = new TestBrowser();
      const started = await beginLogin(browser, appUrl);
      const callback = await signInAt(browser, started.authorizeUrl, 'bob');
      const before = exchanges();
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => browser.request(callback, { headers: JSON_ACCEPT })),
      );
      const statuses = responses.map((r) => r.status).sort();
      assert.deepEqual(statuses, [302, 400, 400, 400, 400]);
      for (const response of responses.filter((r) => r.status === 400)) {
        assert.deepEqual(sessionCookiesSet(response.setCookies), []);
        assert.ok(response.body.startsWith('{'), 'a clean error, not a crash');
      }
      assert.equal(exchanges() - before, 1, 'the code is redeemed once, never retried');
    });

    it('B18 two tabs: each login has its own transaction cookie (Max-Age ≤ 600) and both complete in either order', async () => {
      const browser = new TestBrowser();
      const tab1 = await beginLogin(browser, appUrl);
      const tab2 = await beginLogin(browser, appUrl);
      assert.notEqual(tab1.transactionCookieName, tab2.transactionCookieName);
      for (const tab of [tab1, tab2]) {
        const maxAge = Number(/Max-Age=(\d+)/.exec(tab.transactionCookie)?.[1]);
        assert.ok(maxAge > 0 && maxAge <= 600, `Max-Age ${maxAge}`);
      }
      const callback1 = await signInAt(browser, tab1.authorizeUrl, 'bob');
      const callback2 = await signInAt(browser, tab2.authorizeUrl, 'bob');
      assert.equal((await browser.request(callback2)).status, 302);
      const first = await browser.request(callback1);
      assert.equal(first.status, 302, "the first tab's transaction survived the second login");
      assert.deepEqual(browser.transactionCookies(appUrl), []);
    });

    it('B18 pending transactions are bounded (the Cookie header cannot grow without limit)', async () => {
      const browser = new TestBrowser();
      for (let i = 0; i < 8; i += 1) await beginLogin(browser, appUrl);
      assert.ok(browser.transactionCookies(appUrl).length <= 4, 'at most 4 sign-ins are pending');
    });
  });
}
