/**
 * Scale-out (DESIGN, "Stateless by default"): three instances of the example app that share one
 * SECRET_KEY and nothing else. A login that starts on one instance, calls back on another and
 * is used on a third succeeds, because everything between requests lives in encrypted cookies.
 *
 * Through nginx round-robin on loopback when nginx is installed (a temporary config, nginx run as
 * a child process and stopped at the end; see test/support/system.ts), and always by alternating
 * instances directly.
 * Each instance marks its answers with `X-Instance`, so the test proves who served each step.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createExampleApp } from '../../examples/express/app.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { guardOptions, registerClient, SECRET_KEY } from '../support/pool.js';
import { type BrowserResponse, TestBrowser } from '../support/browser.js';
import { signInAt } from '../support/sign-in.js';
import { freePort, type RunningServer, serve } from '../support/http.js';
import { findSystemComponent, startNginx, type NginxServer } from '../support/system.js';

const OTHER_SECRET = 'another-secret-another-secret-0123456789';

/** One app instance, marking every answer with its name. */
async function startInstance(
  name: string,
  emulator: EmulatorHandle,
  frontUrl: string,
  secretKey = SECRET_KEY,
): Promise<RunningServer> {
  const app = createExampleApp(guardOptions(emulator, frontUrl, { secretKey }));
  return serve((req, res) => {
    res.setHeader('x-instance', name);
    app(req, res);
  });
}

function instanceOf(response: BrowserResponse): string {
  const name = response.headers.get('x-instance');
  assert.ok(name !== null, 'the answer names its instance');
  return name;
}

/** `url` with its origin replaced (to send one step to a chosen instance). */
function on(origin: string, url: string): string {
  const parsed = new URL(url);
  return `${origin}${parsed.pathname}${parsed.search}`;
}

describe('scale-out: three instances, one SECRET_KEY, no shared store', { timeout: 40_000 }, () => {
  describe('alternating instances directly', () => {
    let emulator: EmulatorHandle;
    let instances: RunningServer[];
    let stranger: RunningServer;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      // The public origin is a load balancer's; here the test itself plays it, sending each
      // step to the instance it chooses (cookies are per host name, as in a browser).
      const front = `http://127.0.0.1:${await freePort()}`;
      instances = await Promise.all(
        ['A', 'B', 'C'].map((name) => startInstance(name, emulator, front)),
      );
      registerClient(emulator, front);
      stranger = await startInstance('D', emulator, front, OTHER_SECRET);
    });
    after(async () => {
      await Promise.all([...instances, stranger].map((instance) => instance.stop()));
      await emulator.stop();
    });

    it('login on A, callback on B, claims on C, refresh on A, logout on B', async () => {
      const [a, b, c] = instances as [RunningServer, RunningServer, RunningServer];
      const browser = new TestBrowser();
      const started = await browser.request(`${a.url}/login?returnTo=/edit`);
      assert.equal(started.status, 302);
      assert.equal(instanceOf(started), 'A');
      const callbackUrl = await signInAt(browser, started.location!, 'alice', {
        loginPage: 'required',
      });

      const callback = await browser.request(on(b.url, callbackUrl));
      assert.equal(instanceOf(callback), 'B');
      assert.equal(callback.status, 302, 'B completes a login A started');
      assert.equal(new URL(callback.location!).pathname, '/edit', 'A’s returnTo survives on B');

      const claims = await browser.request(`${c.url}/claims`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(instanceOf(claims), 'C');
      assert.equal(claims.status, 200);
      assert.equal(
        (JSON.parse(claims.body) as { claims: { username: string } }).claims.username,
        'alice',
      );

      const refreshed = await browser.request(`${a.url}/refresh`, { method: 'POST' });
      assert.equal(instanceOf(refreshed), 'A');
      assert.equal(refreshed.status, 303, 'A reads the refresh cookie B sealed');

      const logout = await browser.request(`${b.url}/logout`);
      assert.equal(instanceOf(logout), 'B');
      assert.equal(logout.status, 302);
      const after = await browser.request(`${c.url}/claims`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(after.status, 401);
      assert.equal(JSON.parse(after.body).error, 'ERR_AUTHENTICATION_REQUIRED');
    });

    it('an instance with another SECRET_KEY cannot complete the login (the secret is what is shared)', async () => {
      const [a] = instances as [RunningServer];
      const browser = new TestBrowser();
      const started = await browser.request(`${a.url}/login`);
      const callbackUrl = await signInAt(browser, started.location!, 'alice', {
        loginPage: 'required',
      });
      const refused = await browser.request(on(stranger.url, callbackUrl), {
        headers: { accept: 'application/json' },
      });
      assert.equal(instanceOf(refused), 'D');
      assert.equal(refused.status, 400);
      // D cannot open the transaction cookie A sealed.
      assert.equal(JSON.parse(refused.body).error, 'ERR_CALLBACK_NO_TRANSACTION');
      assert.equal(browser.cookie(a.url, 'cognito_access_token'), undefined);
    });

    it('a callback replayed on another instance is refused (the code is single-use at Cognito)', async () => {
      const [a, b, c] = instances as [RunningServer, RunningServer, RunningServer];
      const browser = new TestBrowser();
      const started = await browser.request(`${a.url}/login`);
      const callbackUrl = await signInAt(browser, started.location!, 'alice', {
        loginPage: 'required',
      });
      // The attacker's copy: the callback URL and the transaction cookie, before first use.
      const transaction = [...browser.cookiesFor(a.url)].filter(([name]) =>
        name.startsWith('cognito_txn_'),
      );
      assert.equal((await browser.request(on(b.url, callbackUrl))).status, 302);

      const attacker = new TestBrowser();
      for (const [name, value] of transaction) attacker.setCookie(c.url, name, value);
      const replay = await attacker.request(on(c.url, callbackUrl), {
        headers: { accept: 'application/json' },
      });
      assert.equal(instanceOf(replay), 'C');
      assert.equal(replay.status, 400);
      // C never saw this state: Cognito's refusal of the spent code is what stops the replay.
      assert.equal(JSON.parse(replay.body).error, 'ERR_CALLBACK_REJECTED');
      assert.equal(attacker.cookie(c.url, 'cognito_access_token'), undefined);
    });
  });

  describe(
    'through nginx round-robin on loopback',
    { skip: findSystemComponent('nginx').skip },
    () => {
      let emulator: EmulatorHandle;
      let nginx: NginxServer | undefined;
      let instances: RunningServer[] = [];

      before(async () => {
        emulator = await startEmulator({ port: 0 });
        // Instances need the public (nginx) origin before nginx can be told their ports.
        const port = await freePort();
        const front = `http://127.0.0.1:${port}`;
        instances = await Promise.all(
          ['A', 'B', 'C'].map((name) => startInstance(name, emulator, front)),
        );
        nginx = await startNginx({
          port,
          upstreams: instances.map((instance) => instance.port),
        });
        registerClient(emulator, nginx.url);
      });
      after(async () => {
        await nginx?.stop();
        await Promise.all(instances.map((instance) => instance.stop()));
        await emulator.stop();
      });

      it('login, callback and claims are served by three different instances and succeed', async () => {
        const front = nginx!.url;
        const browser = new TestBrowser();
        const served: string[] = [];

        const started = await browser.request(`${front}/login`);
        assert.equal(started.status, 302);
        served.push(instanceOf(started));
        const callbackUrl = await signInAt(browser, started.location!, 'alice', {
          loginPage: 'required',
        });
        assert.ok(
          callbackUrl.startsWith(`${front}/postlogin?`),
          'Cognito returns to the nginx origin',
        );

        const callback = await browser.request(callbackUrl);
        served.push(instanceOf(callback));
        assert.equal(callback.status, 302);
        assert.equal(callback.location, `${front}/claims`);

        const claims = await browser.request(`${front}/claims`, {
          headers: { accept: 'application/json' },
        });
        served.push(instanceOf(claims));
        assert.equal(claims.status, 200);

        assert.equal(new Set(served).size, 3, `steps served by ${served.join(', ')}`);

        // The rest of the session keeps rotating over the instances.
        const refreshed = await browser.request(`${front}/refresh`, { method: 'POST' });
        assert.equal(refreshed.status, 303);
        const admin = await browser.request(`${front}/admin`, {
          headers: { accept: 'application/json' },
        });
        assert.equal(admin.status, 200, 'alice is in group admin');
        const logout = await browser.request(`${front}/logout`);
        assert.equal(logout.status, 302);
        served.push(instanceOf(refreshed), instanceOf(admin), instanceOf(logout));
        assert.deepEqual(new Set(served), new Set(['A', 'B', 'C']));
      });
    },
  );
});
