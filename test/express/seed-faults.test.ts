/**
 * Regression tests named after flask-cognito-lib's faults (seed-behaviors.md, Part 2), over real
 * HTTP against the emulator, on Express 5 and Express 4. Each would fail if the fault came back;
 * each negative case has a positive control minted or logged in the same way.
 *
 * Faults already pinned elsewhere are not repeated here: 4 (401 vs 403) and "state reusable" in
 * flows.test.ts; 14, 18, 19, 21, 26 in seed-table.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { ConfigurationError, fromEnv } from '../../src/index.js';
import { cognitoGuard } from '../../src/express/index.js';
import {
  startEmulator,
  type EmulatorHandle,
  type MintTokenOptions,
} from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import {
  CLIENT_SECRET,
  EXPRESS_VERSIONS,
  SECRET_KEY,
  TestBrowser,
  guardOptions,
  login,
  registerClient,
  startStack,
  type ExpressVersion,
  type Stack,
} from '../support/stack.js';
import {
  assertCleared,
  assertNoSessionCookies,
  capturingLogger,
  expressApp,
  findCookie,
  recordingFetch,
  sessionCookiesSet,
  startApp,
  type RecordingFetch,
  type RunningApp,
} from './helpers.js';

const JSON_ACCEPT = { accept: 'application/json' };
const quiet = { warn: () => undefined };

/** The example app built from environment variables, as `npm start` builds it. */
async function startEnvApp(
  version: ExpressVersion,
  emulator: EmulatorHandle,
  clientId: string,
  extraEnv: Record<string, string>,
): Promise<RunningApp> {
  return startApp((appUrl) => {
    registerClient(emulator, appUrl, { clientId });
    const options = fromEnv({
      AWS_REGION: emulator.region,
      AWS_COGNITO_USER_POOL_ID: emulator.poolId,
      AWS_COGNITO_DOMAIN: emulator.domain,
      AWS_COGNITO_ISSUER: emulator.issuer,
      AWS_COGNITO_USER_POOL_CLIENT_ID: clientId,
      AWS_COGNITO_USER_POOL_CLIENT_SECRET: CLIENT_SECRET,
      AWS_COGNITO_REDIRECT_URL: `${appUrl}/postlogin`,
      AWS_COGNITO_LOGOUT_URL: `${appUrl}/postlogout`,
      AWS_COGNITO_SCOPES: 'openid email profile',
      SECRET_KEY,
      ...extraEnv,
    });
    return createExampleApp({ ...options, logger: quiet }, () => expressApp(version));
  });
}

for (const version of EXPRESS_VERSIONS) {
  describe(`seed faults (${version})`, () => {
    let emulator: EmulatorHandle;
    let stack: Stack;
    let recorder: RecordingFetch;
    let logger: ReturnType<typeof capturingLogger>;
    /** Public client (no secret). */
    let publicStack: Stack;
    let publicRecorder: RecordingFetch;
    /** Client with refresh-token rotation, no grace period. */
    let rotating: Stack;
    /** A logout URL with characters that need escaping. */
    const escapingLogoutPath = '/postlogout?next=/a/b&tab=x+y%20z';
    /** A custom app that mounts refresh on GET by mistake. */
    let custom: RunningApp;

    /** Sends `cookies` (name → value) to `path` of the main stack and returns status + body. */
    const withCookies = async (
      path: string,
      cookies: Record<string, string>,
      headers: Record<string, string> = JSON_ACCEPT,
    ) => {
      const browser = new TestBrowser();
      for (const [name, value] of Object.entries(cookies))
        browser.setCookie(stack.appUrl, name, value);
      return browser.request(`${stack.appUrl}${path}`, { headers });
    };
    const mint = (options: Omit<MintTokenOptions, 'clientId'>) =>
      emulator.mintToken({ username: 'alice', clientId: 'test-client', ...options });

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      recorder = recordingFetch();
      logger = capturingLogger();
      stack = await startStack({
        express: version,
        emulator,
        guard: { fetch: recorder.fetch, logger },
      });
      publicRecorder = recordingFetch();
      publicStack = await startStack({
        express: version,
        emulator,
        client: { clientId: 'public-client' },
        guard: { clientId: 'public-client', clientSecret: undefined, fetch: publicRecorder.fetch },
      });
      // Re-register it without a secret: Cognito then refuses any client authentication.
      emulator.addClient({
        clientId: 'public-client',
        callbackUrls: [`${publicStack.appUrl}/postlogin`],
        logoutUrls: [`${publicStack.appUrl}/postlogout`],
        allowedScopes: ['openid', 'email', 'profile'],
      });
      rotating = await startStack({
        express: version,
        emulator,
        client: {
          clientId: 'rotating-client',
          refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 0 },
        },
        guard: { clientId: 'rotating-client' },
      });
      custom = await startApp((appUrl) => {
        registerClient(emulator, appUrl, { clientId: 'custom-client' });
        const auth = cognitoGuard(
          guardOptions(emulator, appUrl, { clientId: 'custom-client', logger: quiet }),
        );
        const app = expressApp(version);
        app.get('/login', auth.login());
        app.get('/postlogin', auth.callback({ redirectTo: '/' }));
        // A routing mistake the seed allowed (fault 27): refresh reachable by a GET.
        app.get('/refresh-get', auth.refresh(), (_req: Request, res: Response) => {
          res.send('refreshed');
        });
        return app;
      });
    });

    after(async () => {
      await custom.stop();
      await rotating.stop();
      await publicStack.stop();
      await stack.stop();
      await emulator.stop();
    });

    it('seed fault 1 (JWKS fetched on every request): many protected requests, one JWKS download', async () => {
      let jwksFetches = 0;
      const counted = await startEmulator({
        port: 0,
        onRequest: (entry) => {
          if (entry.path.endsWith('/.well-known/jwks.json')) jwksFetches += 1;
        },
      });
      const own = await startStack({ express: version, emulator: counted });
      try {
        const browsers = [];
        // /edit needs group admin or editor: alice (admin) and bob (editor) in, carol (none) out.
        const editStatus: Record<string, number> = { alice: 200, bob: 200, carol: 403 };
        for (const user of ['alice', 'bob', 'carol']) {
          const browser = new TestBrowser();
          assert.equal((await login(browser, own.appUrl, user)).status, 302);
          browsers.push({ user, browser });
        }
        for (let round = 0; round < 5; round += 1) {
          for (const { user, browser } of browsers) {
            const claims = await browser.request(`${own.appUrl}/claims`, { headers: JSON_ACCEPT });
            assert.equal(claims.status, 200);
            const token = browser.cookie(own.appUrl, 'cognito_access_token')!;
            const bearer = await fetch(`${own.appUrl}/edit`, {
              headers: { authorization: `Bearer ${token}`, ...JSON_ACCEPT },
            });
            assert.equal(bearer.status, editStatus[user], `${user} on /edit`);
            if (bearer.status === 403) {
              assert.equal(
                ((await bearer.json()) as { error: string }).error,
                'ERR_GROUP_REQUIRED',
              );
            } else {
              await bearer.body?.cancel();
            }
          }
        }
        // Three logins and refreshes verify new tokens too; still no second download.
        const refreshed = await browsers[0]!.browser.request(`${own.appUrl}/refresh`, {
          method: 'POST',
        });
        assert.equal(refreshed.status, 303);
        assert.equal(jwksFetches, 1, 'the JWKS is fetched once and cached');
      } finally {
        await own.stop();
        await counted.stop();
      }
    });

    it('seed fault 2 (tokens without exp accepted): an access or ID token without exp/iat is a 401', async () => {
      const control = await mint({ use: 'access' });
      assert.equal((await withCookies('/claims', { cognito_access_token: control })).status, 200);
      for (const claim of ['exp', 'iat']) {
        const token = await mint({ use: 'access', omit: [claim] });
        const response = await withCookies('/claims', { cognito_access_token: token });
        assert.equal(response.status, 401, `access token without ${claim}`);
        assert.equal(JSON.parse(response.body).error, 'ERR_TOKEN_INVALID');
        assert.equal(
          response.headers.get('www-authenticate'),
          'Bearer realm="cognito-guard", error="invalid_token"',
        );
        const idToken = await mint({ use: 'id', omit: [claim] });
        const withId = await withCookies('/claims', {
          cognito_access_token: control,
          cognito_id_token: idToken,
        });
        assert.equal(withId.status, 401, `ID token without ${claim}`);
        assert.equal(JSON.parse(withId.body).error, 'ERR_TOKEN_INVALID');
      }
    });

    it('seed fault 3 (500 on unknown kid): a token with an unknown, missing or junk kid is a 401', async () => {
      const tokens = [
        await mint({ use: 'access', key: 'unpublished' }),
        await mint({ use: 'access', header: { kid: 'no-such-key' } }),
        await mint({ use: 'access', header: { kid: undefined } }),
      ];
      for (const token of tokens) {
        for (const headers of [JSON_ACCEPT, { accept: 'text/html' }]) {
          const response = await withCookies('/claims', { cognito_access_token: token }, headers);
          assert.equal(response.status, 401);
          assert.doesNotMatch(response.body, /Error:|\bat \w/);
        }
        const bearer = await fetch(`${stack.appUrl}/claims`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(bearer.status, 401);
        assert.equal(((await bearer.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      }
      // The app still serves genuine tokens afterwards.
      const control = await mint({ use: 'access' });
      assert.equal((await withCookies('/claims', { cognito_access_token: control })).status, 200);
    });

    it('seed fault 5 (token_use unchecked): an ID token in the access cookie (or as Bearer) is a 401', async () => {
      const browser = new TestBrowser();
      await login(browser, stack.appUrl, 'carol');
      const idToken = browser.cookie(stack.appUrl, 'cognito_id_token')!;
      const accessToken = browser.cookie(stack.appUrl, 'cognito_access_token')!;
      assert.equal((await browser.request(`${stack.appUrl}/claims`)).status, 200, 'control');

      const swapped = await withCookies('/claims', { cognito_access_token: idToken });
      assert.equal(swapped.status, 401);
      assert.equal(JSON.parse(swapped.body).error, 'ERR_TOKEN_INVALID');
      const bearer = await fetch(`${stack.appUrl}/claims`, {
        headers: { authorization: `Bearer ${idToken}` },
      });
      assert.equal(bearer.status, 401);
      assert.equal(((await bearer.json()) as { error: string }).error, 'ERR_TOKEN_INVALID');
      const both = await withCookies('/claims', {
        cognito_access_token: idToken,
        cognito_id_token: accessToken,
      });
      assert.equal(both.status, 401);
      assert.equal(JSON.parse(both.body).error, 'ERR_TOKEN_INVALID');
      // An access token claiming to be an ID token, with client_id intact, is refused too.
      const relabelled = await mint({ use: 'access', claims: { token_use: 'id' } });
      assert.equal(
        (await withCookies('/claims', { cognito_access_token: relabelled })).status,
        401,
      );
    });

    it('seed faults 6 and 24 (ID-token cookie never verified; auth split across cookies): a forged, expired or foreign ID cookie is a 401', async () => {
      const alice = new TestBrowser();
      await login(alice, stack.appUrl, 'alice');
      const bob = new TestBrowser();
      await login(bob, stack.appUrl, 'bob');
      const aliceAccess = alice.cookie(stack.appUrl, 'cognito_access_token')!;
      const aliceId = alice.cookie(stack.appUrl, 'cognito_id_token')!;
      const control = await withCookies('/claims', {
        cognito_access_token: aliceAccess,
        cognito_id_token: aliceId,
      });
      assert.equal(control.status, 200);

      const nowSeconds = Math.floor(Date.now() / 1000);
      const forged = {
        'signed by an unpublished key': await mint({ use: 'id', key: 'unpublished' }),
        expired: await mint({
          use: 'id',
          claims: { iat: nowSeconds - 7200, exp: nowSeconds - 3600 },
        }),
        "bob's": bob.cookie(stack.appUrl, 'cognito_id_token')!,
        'for another client': await mint({ use: 'id', claims: { aud: 'another-client' } }),
      };
      for (const [name, idToken] of Object.entries(forged)) {
        const response = await withCookies('/claims', {
          cognito_access_token: aliceAccess,
          cognito_id_token: idToken,
        });
        assert.equal(response.status, 401, `${name} ID token`);
        assert.equal(JSON.parse(response.body).error, 'ERR_TOKEN_INVALID');
      }
    });

    it('seed fault 12 (unescaped URL parameters): client_id and a logout URL with & ? + % arrive intact', async () => {
      const app = await startApp((appUrl) => {
        const logoutUrl = `${appUrl}${escapingLogoutPath}`;
        registerClient(emulator, appUrl, { clientId: 'escape+client', logoutUrls: [logoutUrl] });
        return createExampleApp(
          guardOptions(emulator, appUrl, { clientId: 'escape+client', logoutUrl, logger: quiet }),
          () => expressApp(version),
        );
      });
      try {
        const browser = new TestBrowser();
        const start = await browser.request(`${app.appUrl}/login`);
        const authorize = new URL(start.location!);
        // Unescaped, `+` would arrive as a space and Cognito would not know the client.
        assert.equal(authorize.searchParams.get('client_id'), 'escape+client');
        const callback = await login(browser, app.appUrl, 'bob');
        assert.equal(callback.status, 302, 'the login completes with the escaped client id');

        const logout = await browser.request(`${app.appUrl}/logout`);
        assert.equal(logout.status, 302);
        const location = new URL(logout.location!);
        assert.deepEqual([...location.searchParams.keys()].sort(), ['client_id', 'logout_uri']);
        assert.equal(location.searchParams.get('client_id'), 'escape+client');
        assert.equal(location.searchParams.get('logout_uri'), `${app.appUrl}${escapingLogoutPath}`);
        // Cognito matches the logout URL exactly and sends the browser back to it.
        const landed = await browser.request(logout.location!);
        assert.equal(landed.status, 302);
        assert.equal(landed.location, `${app.appUrl}${escapingLogoutPath}`);
      } finally {
        await app.stop();
      }
    });

    it('seed fault 16 (truthy-string booleans): AWS_COGNITO_DISABLED=False/0 still protects; only true/1 bypass', async () => {
      for (const value of ['False', 'false', '0']) {
        const app = await startEnvApp(version, emulator, 'env-client', {
          AWS_COGNITO_DISABLED: value,
        });
        try {
          for (const path of ['/claims', '/admin']) {
            const response = await new TestBrowser().request(`${app.appUrl}${path}`, {
              headers: JSON_ACCEPT,
            });
            assert.equal(response.status, 401, `DISABLED=${value} ${path}`);
            assert.equal(JSON.parse(response.body).error, 'ERR_AUTHENTICATION_REQUIRED');
          }
        } finally {
          await app.stop();
        }
      }
      for (const value of ['true', 'TRUE', '1']) {
        const app = await startEnvApp(version, emulator, 'env-client', {
          AWS_COGNITO_DISABLED: value,
        });
        try {
          const claims = await new TestBrowser().request(`${app.appUrl}/claims`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(claims.status, 200, `DISABLED=${value}`);
          assert.deepEqual(JSON.parse(claims.body), {}, 'no req.cognito when disabled');
          const admin = await new TestBrowser().request(`${app.appUrl}/admin`, {
            headers: JSON_ACCEPT,
          });
          assert.equal(admin.status, 200);
        } finally {
          await app.stop();
        }
      }
      for (const value of ['yes', 'off', 'no', 'Flase']) {
        await assert.rejects(
          // Stopped at once if it wrongly starts, so a failure here cannot leave a server open.
          startEnvApp(version, emulator, 'env-client', { AWS_COGNITO_DISABLED: value }).then(
            (app) => app.stop(),
          ),
          (error: unknown) =>
            error instanceof ConfigurationError &&
            error.problems.some((p) => p.startsWith('AWS_COGNITO_DISABLED')),
          `DISABLED=${value} is refused at startup`,
        );
      }
    });

    it('seed fault 16 (truthy-string booleans): AWS_COGNITO_REFRESH_FLOW_ENABLED=False stores no refresh token', async () => {
      const app = await startEnvApp(version, emulator, 'env-client', {
        AWS_COGNITO_REFRESH_FLOW_ENABLED: 'False',
      });
      try {
        const browser = new TestBrowser();
        const callback = await login(browser, app.appUrl, 'alice');
        assert.equal(callback.status, 302);
        assert.deepEqual(sessionCookiesSet(callback.setCookies).sort(), [
          'cognito_access_token',
          'cognito_id_token',
        ]);
        const refresh = await browser.request(`${app.appUrl}/refresh`, {
          method: 'POST',
          headers: JSON_ACCEPT,
        });
        assert.equal(refresh.status, 404);
      } finally {
        await app.stop();
      }
    });

    it('seed fault 9 (logout failing on revoke errors): a failing revoke still logs out (302, cookies cleared)', async () => {
      const faults = [
        { status: 500, body: '<html>Internal error</html>', contentType: 'text/html' },
        {
          status: 400,
          body: '{"error":"invalid_request"}',
          contentType: 'application/json',
        },
        { status: 503 },
      ];
      try {
        for (const fault of faults) {
          const browser = new TestBrowser();
          await login(browser, stack.appUrl, 'alice');
          emulator.setFault('revoke', fault);
          const warningsBefore = logger.warnings.length;
          const callsBefore = recorder.calls.length;
          const response = await browser.request(`${stack.appUrl}/logout`);
          emulator.setFault('revoke', null);
          assert.equal(response.status, 302, `revoke ${fault.status}`);
          assert.equal(new URL(response.location!).pathname, '/logout');
          for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token'])
            assertCleared(response.setCookies, name);
          assert.equal((await browser.request(`${stack.appUrl}/claims`)).status, 401);
          // The revoke was attempted, and the operator is told without the token.
          const revokes = recorder.calls
            .slice(callsBefore)
            .filter((c) => c.path === '/oauth2/revoke');
          assert.equal(revokes.length, 1);
          const warnings = logger.warnings.slice(warningsBefore);
          assert.ok(warnings.some((w) => /revocation failed/.test(w.message)));
          const refreshToken = revokes[0]!.body.get('token') ?? '';
          assert.ok(!JSON.stringify(warnings).includes(refreshToken), 'no token in the log');
        }
      } finally {
        emulator.setFault('revoke', null);
      }
    });

    it('seed fault 9 (logout failing on decrypt errors): an unreadable refresh cookie still logs out, with no revoke call', async () => {
      const browser = new TestBrowser();
      await login(browser, stack.appUrl, 'alice');
      // As after a SECRET_KEY change, or a tampered cookie.
      browser.setCookie(stack.appUrl, 'cognito_refresh_token', 'not-a-sealed-value');
      const callsBefore = recorder.calls.length;
      const response = await browser.request(`${stack.appUrl}/logout`);
      assert.equal(response.status, 302);
      assertCleared(response.setCookies, 'cognito_refresh_token');
      assertCleared(response.setCookies, 'cognito_access_token');
      assert.equal(recorder.calls.length, callsBefore, 'nothing to revoke');
    });

    it('seed fault 10 (public-client revoke without client_id) and a public client end to end: login, refresh, logout', async () => {
      const browser = new TestBrowser();
      const callsBefore = publicRecorder.calls.length;
      const callback = await login(browser, publicStack.appUrl, 'bob');
      assert.equal(callback.status, 302);
      const claims = await browser.request(`${publicStack.appUrl}/claims`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(claims.status, 200);
      assert.equal(JSON.parse(claims.body).claims.client_id, 'public-client');

      const refreshed = await browser.request(`${publicStack.appUrl}/refresh`, { method: 'POST' });
      assert.equal(refreshed.status, 303);
      const refreshCookie = browser.cookie(publicStack.appUrl, 'cognito_refresh_token')!;
      const logout = await browser.request(`${publicStack.appUrl}/logout`);
      assert.equal(logout.status, 302);
      assertCleared(logout.setCookies, 'cognito_refresh_token');

      const calls = publicRecorder.calls
        .slice(callsBefore)
        .filter((c) => c.path.startsWith('/oauth2/'));
      assert.deepEqual(
        calls.map((c) => [c.path, c.body.get('grant_type')]),
        [
          ['/oauth2/token', 'authorization_code'],
          ['/oauth2/token', 'refresh_token'],
          ['/oauth2/revoke', null],
        ],
      );
      for (const call of calls) {
        assert.equal(call.authScheme, undefined, `${call.path}: no Authorization header`);
        assert.equal(
          call.body.get('client_id'),
          'public-client',
          `${call.path}: client_id in body`,
        );
        assert.equal(call.body.has('client_secret'), false);
      }
      // The revoke worked: the old refresh cookie no longer refreshes.
      const replay = new TestBrowser();
      replay.setCookie(publicStack.appUrl, 'cognito_refresh_token', refreshCookie);
      const refused = await replay.request(`${publicStack.appUrl}/refresh`, {
        method: 'POST',
        headers: JSON_ACCEPT,
      });
      assert.equal(refused.status, 401);
      assert.equal(JSON.parse(refused.body).error, 'ERR_REFRESH_REJECTED');
      assertNoSessionCookies(refused.setCookies, 'refresh after revoke');
    });

    it('seed fault 8 (rotated refresh token dropped): the rotated token is stored; the old one fails, the new one works', async () => {
      const browser = new TestBrowser();
      await login(browser, rotating.appUrl, 'carol');
      const original = browser.cookie(rotating.appUrl, 'cognito_refresh_token')!;
      const first = await browser.request(`${rotating.appUrl}/refresh`, { method: 'POST' });
      assert.equal(first.status, 303);
      const rotated = findCookie(first.setCookies, 'cognito_refresh_token');
      assert.ok(rotated !== undefined && rotated.value !== '', 'the rotated token is stored');
      assert.ok(rotated.value !== original, 'a new refresh cookie');
      assert.match(rotated.header, /HttpOnly/);
      assert.match(rotated.header, /Max-Age=86400/);

      const stale = new TestBrowser();
      stale.setCookie(rotating.appUrl, 'cognito_refresh_token', original);
      const refused = await stale.request(`${rotating.appUrl}/refresh`, {
        method: 'POST',
        headers: JSON_ACCEPT,
      });
      assert.equal(refused.status, 401, 'the rotated-out token is refused');
      assert.equal(JSON.parse(refused.body).error, 'ERR_REFRESH_REJECTED');
      assertNoSessionCookies(refused.setCookies, 'stale refresh token');

      const again = await browser.request(`${rotating.appUrl}/refresh`, { method: 'POST' });
      assert.equal(again.status, 303, 'the stored rotated token works');
      assert.equal((await browser.request(`${rotating.appUrl}/claims`)).status, 200);
    });

    it('seed fault 27 (refresh via GET works if routed so): a GET to a refresh route is refused, cookies untouched', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, custom.appUrl, 'bob');
      assert.equal(callback.status, 302);
      const response = await browser.request(`${custom.appUrl}/refresh-get`, {
        headers: JSON_ACCEPT,
      });
      assert.equal(response.status, 401);
      assert.equal(JSON.parse(response.body).error, 'ERR_REFRESH_REJECTED');
      assert.deepEqual(response.setCookies, []);
      assert.notEqual(response.body, 'refreshed', 'the route handler did not run');
    });

    it('seed fault 29 (groups as a bare string checked per character): refused when the route is declared', () => {
      const auth = cognitoGuard(stack.options);
      assert.throws(
        () => auth.required({ groups: 'admin' as unknown as string[] }),
        ConfigurationError,
      );
      assert.throws(
        () => auth.required({ groups: ['admin'], anyGroup: 'yes' as unknown as boolean }),
        ConfigurationError,
      );
      assert.doesNotThrow(() => auth.required({ groups: ['admin'], anyGroup: true }));
    });

    it('seed fault 15 (Secure hard-coded): plain-http loopback development works without Secure', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, stack.appUrl, 'carol');
      for (const name of ['cognito_access_token', 'cognito_id_token', 'cognito_refresh_token']) {
        const header = findCookie(callback.setCookies, name)!.header;
        assert.doesNotMatch(header, /Secure/, name);
        assert.match(header, /HttpOnly/, name);
      }
    });
  });
}
