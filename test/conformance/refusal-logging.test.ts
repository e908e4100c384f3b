/**
 * A refused sign-in is never silent: the browser gets a 400 "sign in again" page and the operator
 * gets exactly one `warn` line with the reason code and a detail that points at the cause —
 * never a token, a code, a state or a secret. The two classic misconfigurations: a wrong
 * `AWS_COGNITO_ISSUER`, and a sign-in started on `127.0.0.1` while the redirect URL says
 * `localhost` (the transaction cookie stays on the other host name).
 *
 * An app in another process (the Worker in workerd) keeps its logger there: for it the answer is
 * checked and the warning is not, and the test says so in its output.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { TestBrowser } from '../support/browser.js';
import { ADAPTERS, startConformanceApp, type ConformanceApp } from '../support/adapters.js';
import { callbackUrlFor } from '../support/sign-in.js';

for (const adapter of ADAPTERS) {
  describe(`refused sign-ins are logged once (${adapter.name})`, () => {
    /**
     * The app's refusal warnings, when its log reaches this process; `undefined` (and a line in
     * the test's output saying so) for an app in another process.
     */
    const refusals = (t: TestContext, app: ConformanceApp) => {
      if (app.log === undefined) {
        t.diagnostic(
          'the app logger lives in another process: the answer is checked, the warning is not',
        );
        return undefined;
      }
      return app.log.warnings().filter((w) => w.message === 'sign-in refused');
    };
    let emulator: EmulatorHandle;
    before(async () => {
      emulator = await startEmulator({ port: 0 });
    });
    after(async () => {
      await emulator.stop();
    });

    /** Signs alice in at `appUrl` and follows Cognito's redirect to the callback. */
    async function signIn(appUrl: string) {
      const browser = new TestBrowser();
      const callbackUrl = await callbackUrlFor(browser, appUrl, 'alice');
      return browser.request(callbackUrl, { headers: { accept: 'text/html' } });
    }

    it('a wrong AWS_COGNITO_ISSUER: 400, and one warning naming the issuer mismatch', async (t) => {
      const app = await startConformanceApp(adapter, emulator, {
        env: { AWS_COGNITO_ISSUER: `${emulator.domain}/eu-west-1_SomeOtherPool` },
      });
      try {
        const callback = await signIn(app.url);
        assert.equal(callback.status, 400);
        assert.match(callback.body, /Sign in again/);
        const refused = refusals(t, app);
        if (refused === undefined) return;
        assert.equal(refused.length, 1, app.log?.text());
        const fields = refused[0]?.fields ?? {};
        assert.equal(fields['code'], 'ERR_CALLBACK_REJECTED');
        assert.equal(fields['detail'], 'code exchange refused: id_token_rejected (iss mismatch)');
      } finally {
        await app.stop();
      }
    });

    it('a callback on localhost for a sign-in started on 127.0.0.1: 400, and one warning that says so', async (t) => {
      /** The app's origin with the host name localhost instead of 127.0.0.1. */
      const onLocalhost = (appUrl: string) => appUrl.replace('127.0.0.1', 'localhost');
      const local = await startConformanceApp(adapter, emulator, {
        env: (appUrl) => ({
          AWS_COGNITO_REDIRECT_URL: `${onLocalhost(appUrl)}/postlogin`,
          AWS_COGNITO_LOGOUT_URL: `${onLocalhost(appUrl)}/postlogout`,
        }),
        client: (appUrl) => ({
          callbackUrls: [`${onLocalhost(appUrl)}/postlogin`],
          logoutUrls: [`${onLocalhost(appUrl)}/postlogout`],
        }),
      });
      const port = new URL(local.url).port;
      try {
        const callback = await signIn(local.url);
        assert.ok(callback.url.startsWith(`http://localhost:${port}/postlogin?`));
        assert.equal(callback.status, 400);
        const refused = refusals(t, local);
        if (refused === undefined) return;
        assert.equal(refused.length, 1, local.log?.text());
        const fields = refused[0]?.fields ?? {};
        assert.equal(fields['code'], 'ERR_CALLBACK_NO_TRANSACTION');
        assert.match(String(fields['detail']), /another host name/);
        const logged = local.log?.text() ?? '';
        const code = new URL(callback.url).searchParams.get('code')!;
        assert.ok(!logged.includes(code), 'the code is not logged');
      } finally {
        await local.stop();
      }
    });
  });
}
