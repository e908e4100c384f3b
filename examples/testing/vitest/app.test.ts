/**
 * Testing an app protected by cognito-guard, with Vitest (and supertest): `npx vitest run`.
 * The app under test is the Express example (`examples/express/app.ts`).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromEnv } from 'cognito-guard';
import { sessionCookies, signIn, startTestPool, type TestPool } from 'cognito-guard/testing';
import { createExampleApp } from '../../express/app.js';

describe('the example app', () => {
  let pool: TestPool;
  let server: Server;
  let appUrl: string;

  beforeAll(async () => {
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

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await pool.stop();
  });

  it('shows ann her claims once she signs in on the hosted page', async () => {
    const session = await signIn(appUrl, { username: 'ann', password: 'Ann-Passw0rd!' });
    const response = await request(appUrl).get('/claims').set('Cookie', session.cookie);
    expect(response.status).toBe(200);
    expect(response.body.claims.username).toBe('ann');
  });

  it('lets ann into the admin page with a session made without HTTP (supertest, no server)', async () => {
    const options = fromEnv(pool.envFor(appUrl));
    const session = await sessionCookies(pool, options, 'ann');
    // The same environment builds a second app in-process; supertest sends the session to it.
    await request(createExampleApp(options))
      .get('/admin')
      .set('Cookie', session.cookie)
      .expect(200);
  });

  it('refuses ben the admin page', async () => {
    const session = await sessionCookies(pool, fromEnv(pool.envFor(appUrl)), 'ben');
    await request(appUrl).get('/admin').set('Cookie', session.cookie).expect(403);
  });
});
