/**
 * Testing an app protected by cognito-guard, with node:test: `node --import tsx --test app.test.ts`.
 * The app under test is the Express example (`examples/express/app.ts`); yours is built the same
 * way, from the environment `startTestPool` gives.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fromEnv } from 'cognito-guard';
import { sessionCookies, signIn, startTestPool, type TestPool } from 'cognito-guard/testing';
import { createExampleApp } from '../../express/app.js';

describe('the example app', () => {
  let pool: TestPool;
  let server: Server;
  let appUrl: string;

  before(async () => {
    pool = await startTestPool({
      users: [
        { username: 'ann', password: 'Ann-Passw0rd!', groups: ['admin'] },
        { username: 'ben', password: 'Ben-Passw0rd!' },
      ],
    });
    // Listen first, on a free port: the app's URL is part of its environment.
    server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('request', createExampleApp(fromEnv(pool.envFor(appUrl))));
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await pool.stop();
  });

  it('refuses a visitor who is not signed in', async () => {
    const response = await fetch(`${appUrl}/claims`);
    assert.equal(response.status, 401);
  });

  it('shows ann her claims once she signs in on the hosted page', async () => {
    const session = await signIn(appUrl, { username: 'ann', password: 'Ann-Passw0rd!' });
    const response = await fetch(`${appUrl}/claims`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { claims: { username: string } };
    assert.equal(body.claims.username, 'ann');
  });

  it('refuses ben the admin page (a session made without the login round trips)', async () => {
    const session = await sessionCookies(pool, fromEnv(pool.envFor(appUrl)), 'ben');
    const response = await fetch(`${appUrl}/admin`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 403);
  });
});
