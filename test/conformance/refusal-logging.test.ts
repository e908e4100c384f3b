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
import { readForm } from '../support/browser.js';
import { DEMO_PASSWORD, TestBrowser } from '../support/stack.js';
import { ADAPTERS, freePort, startConformanceApp } from './harness.js';

interface Warning {
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

for (const adapter of ADAPTERS) {
  describe(`refused sign-ins are logged once (${adapter.name})`, () => {
    /** Whether the app's warnings reach this process; says so in the test's output if not. */
    const logsVisible = (t: TestContext): boolean => {
      if (!adapter.inProcess) {
        t.diagnostic(
          'the app logger lives in another process: the answer is checked, the warning is not',
        );
      }
      return adapter.inProcess;
    };
    let emulator: EmulatorHandle;
    before(async () => {
      emulator = await startEmulator({ port: 0 });
    });
    after(async () => {
      await emulator.stop();
    });

    /** Signs in at `startUrl` and follows Cognito's redirect to the callback; returns its response. */
    async function signIn(browser: TestBrowser, startUrl: string) {
      const page = await browser.follow(startUrl);
      const form = readForm(page.body, page.url);
      const submitted = await browser.request(form.action, {
        form: { ...form.fields, username: 'alice', password: DEMO_PASSWORD },
      });
      return browser.request(submitted.location!, { headers: { accept: 'text/html' } });
    }

    it('a wrong AWS_COGNITO_ISSUER: 400, and one warning naming the issuer mismatch', async (t) => {
      const warnings: Warning[] = [];
      const app = await startConformanceApp(adapter, emulator, {
        env: { AWS_COGNITO_ISSUER: `${emulator.domain}/eu-west-1_SomeOtherPool` },
        extras: { logger: { warn: (message, fields) => warnings.push({ message, fields }) } },
      });
      try {
        const callback = await signIn(new TestBrowser(), `${app.url}/login`);
        assert.equal(callback.status, 400);
        assert.match(callback.body, /Sign in again/);
        if (!logsVisible(t)) return;
        const refused = warnings.filter((w) => w.message === 'sign-in refused');
        assert.equal(refused.length, 1, JSON.stringify(warnings));
        const fields = refused[0]?.fields ?? {};
        assert.equal(fields['code'], 'ERR_CALLBACK_REJECTED');
        assert.equal(fields['detail'], 'code exchange refused: id_token_rejected (iss mismatch)');
      } finally {
        await app.stop();
      }
    });

    it('a callback on localhost for a sign-in started on 127.0.0.1: 400, and one warning that says so', async (t) => {
      const warnings: Warning[] = [];
      const port = await freePort();
      const local = await startConformanceApp(adapter, emulator, {
        port,
        env: {
          AWS_COGNITO_REDIRECT_URL: `http://localhost:${port}/postlogin`,
          AWS_COGNITO_LOGOUT_URL: `http://localhost:${port}/postlogout`,
        },
        client: {
          callbackUrls: [`http://localhost:${port}/postlogin`],
          logoutUrls: [`http://localhost:${port}/postlogout`],
        },
        extras: { logger: { warn: (message, fields) => warnings.push({ message, fields }) } },
      });
      try {
        const callback = await signIn(new TestBrowser(), `${local.url}/login`);
        assert.ok(callback.url.startsWith(`http://localhost:${port}/postlogin?`));
        assert.equal(callback.status, 400);
        if (!logsVisible(t)) return;
        const refused = warnings.filter((w) => w.message === 'sign-in refused');
        assert.equal(refused.length, 1, JSON.stringify(warnings));
        const fields = refused[0]?.fields ?? {};
        assert.equal(fields['code'], 'ERR_CALLBACK_NO_TRANSACTION');
        assert.match(String(fields['detail']), /another host name/);
        const logged = JSON.stringify(warnings);
        const code = new URL(callback.url).searchParams.get('code')!;
        assert.ok(!logged.includes(code), 'the code is not logged');
      } finally {
        await local.stop();
      }
    });
  });
}
