/**
 * `req.cognito` and `req.cognitoReturnTo` as Express users meet them: set by the guard, readable
 * in later handlers — also in a mounted sub-app, whose requests Express gives another prototype —
 * assignable by the app itself, and never shared between requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Request, Response } from 'express';
import { cognitoGuard } from '../../src/express/index.js';
import { startEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { EXPRESS_VERSIONS, expressApp } from '../support/express.js';
import { closeServer, listenOn } from '../support/http.js';
import { guardOptions, registerClient } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { TestBrowser } from '../support/browser.js';

for (const version of EXPRESS_VERSIONS) {
  const create = () => expressApp(version);
  describe(`req.cognito on ${version}`, () => {
    let emulator: EmulatorHandle;
    let server: Server;
    let appUrl: string;

    before(async () => {
      emulator = await startEmulator({ port: 0 });
      server = createServer();
      appUrl = `http://127.0.0.1:${await listenOn(server)}`;
      registerClient(emulator, appUrl);
      const auth = cognitoGuard(guardOptions(emulator, appUrl));
      const app = create();
      app.get('/login', auth.login());
      app.get('/postlogin', auth.callback(), (req: Request, res: Response) => {
        res.json({ sub: req.cognito?.claims.sub, returnTo: req.cognitoReturnTo ?? null });
      });
      // The guard in the main app, the handler in a sub-app: another request prototype.
      const reports = create();
      reports.get('/', (req: Request, res: Response) => {
        res.json({ username: req.cognito?.claims.username ?? null });
      });
      app.use('/reports', auth.required(), reports);
      app.get('/mine', (req: Request, res: Response) => {
        // An app may set it itself (tests, a custom guard).
        req.cognito = undefined;
        res.json({ before: 'cognito' in req, own: Object.keys(req).includes('cognito') });
      });
      app.get('/anonymous', (req: Request, res: Response) => {
        res.json({ cognito: req.cognito ?? null });
      });
      server.on('request', app);
    });
    after(async () => {
      await closeServer(server);
      await emulator.stop();
    });

    it('is set by the callback (with returnTo) and by required(), and read in a mounted sub-app', async () => {
      const browser = new TestBrowser();
      const callback = await login(browser, appUrl, 'alice', undefined, '/login?returnTo=/reports');
      assert.equal(callback.status, 200);
      const signedIn = JSON.parse(callback.body) as { sub: string; returnTo: string };
      assert.equal(signedIn.returnTo, '/reports');
      assert.match(signedIn.sub, /^[0-9a-f-]{36}$/);
      const reports = await browser.request(`${appUrl}/reports/`);
      assert.deepEqual(JSON.parse(reports.body), { username: 'alice' });
    });

    it('belongs to one request: the next request without a session has none', async () => {
      const browser = new TestBrowser();
      await login(browser, appUrl, 'bob');
      assert.equal((await browser.request(`${appUrl}/reports/`)).status, 200);
      const anonymous = await fetch(`${appUrl}/anonymous`);
      assert.deepEqual(await anonymous.json(), { cognito: null });
    });

    it('can be assigned by the app, and is not an own enumerable property of the request', async () => {
      const mine = await fetch(`${appUrl}/mine`);
      assert.deepEqual(await mine.json(), { before: true, own: false });
    });
  });
}
