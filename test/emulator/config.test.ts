// Configuration: the demo pool, JSON file loading, one error naming every problem, stable subs,
// and the programmatic API (addUser/addClient validate too).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  DEMO_CONFIG,
  DEMO_PASSWORD,
  EmulatorConfigError,
  demoConfig,
  loadEmulatorConfigFile,
  parseEmulatorConfig,
  stableSub,
  startEmulator,
} from '../../src/emulator/index.js';
import { browserLogin, signIn } from './helpers.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-config-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('demo configuration', () => {
  it('matches the documented demo pool', () => {
    assert.equal(DEMO_CONFIG.userPoolId, 'eu-west-1_LocalDemo');
    assert.equal(DEMO_CONFIG.region, 'eu-west-1');
    assert.equal(DEMO_PASSWORD, 'Passw0rd!');
    const client = DEMO_CONFIG.clients[0];
    assert.ok(client);
    assert.equal(client.clientId, 'demo-client');
    assert.equal(client.clientSecret, 'demo-secret');
    assert.deepEqual(client.callbackUrls, [
      'http://localhost:3000/postlogin',
      'http://127.0.0.1:3000/postlogin',
    ]);
    assert.deepEqual(client.logoutUrls, [
      'http://localhost:3000/postlogout',
      'http://127.0.0.1:3000/postlogout',
    ]);
    assert.deepEqual(client.allowedScopes, [
      'openid',
      'email',
      'profile',
      'phone',
      'aws.cognito.signin.user.admin',
    ]);
    assert.deepEqual(
      DEMO_CONFIG.users.map((u) => [u.username, u.password, u.groups ?? []]),
      [
        ['alice', DEMO_PASSWORD, ['admin']],
        ['bob', DEMO_PASSWORD, ['editor']],
        ['carol', DEMO_PASSWORD, []],
      ],
    );
    assert.equal(DEMO_CONFIG.users[0]?.email, 'alice@example.com');
  });

  it('DEMO_CONFIG is frozen; demoConfig() returns an independent copy', () => {
    assert.throws(() => {
      (DEMO_CONFIG.users as unknown[]).push({});
    });
    const copy = demoConfig();
    (copy.users as unknown[]).length = 0;
    assert.equal(DEMO_CONFIG.users.length, 3);
  });

  it('sub is a stable UUID per pool and username', () => {
    const sub = stableSub('eu-west-1_LocalDemo', 'alice');
    assert.match(sub, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(stableSub('eu-west-1_LocalDemo', 'alice'), sub);
    assert.notEqual(stableSub('eu-west-1_LocalDemo', 'bob'), sub);
    assert.notEqual(stableSub('eu-west-1_Other', 'alice'), sub);
  });
});

describe('validation', () => {
  it('reports every problem in one EmulatorConfigError', () => {
    const error = (() => {
      try {
        parseEmulatorConfig({
          userPoolId: 'nope',
          clients: [
            {
              clientId: '',
              callbackUrls: ['http://example.com/cb', 'https://ok.example/cb#frag', 'relative'],
              allowedScopes: ['openid', 'bad scope'],
              refreshTokenRotation: { enabled: true, retryGracePeriodSeconds: 61 },
              accessTokenValiditySeconds: 0,
            },
          ],
          users: [
            { username: 'a', password: '' },
            { username: 'a', password: 'x', groups: 'admin' },
          ],
          switches: { promptNone: 'maybe', unknown: true },
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof EmulatorConfigError);
    const text = error.problems.join('\n');
    for (const expected of [
      /userPoolId/,
      /clients\[0\]\.clientId/,
      /callbackUrls\[0\]: http is allowed only for localhost/,
      /callbackUrls\[1\]: must not contain a fragment/,
      /callbackUrls\[2\]: must be an absolute URL/,
      /allowedScopes\[1\]/,
      /retryGracePeriodSeconds/,
      /accessTokenValiditySeconds/,
      /users\[0\]\.password/,
      /users\[1\]\.username: duplicate/,
      /users\[1\]\.groups/,
      /switches\.promptNone/,
      /switches\.unknown: unknown switch/,
    ]) {
      assert.match(text, expected);
    }
    assert.ok(error.problems.length >= 13);
  });

  it('client_credentials cannot share a client with code and needs a secret', () => {
    assert.throws(
      () =>
        parseEmulatorConfig({
          userPoolId: 'us-east-1_X',
          clients: [
            {
              clientId: 'm',
              callbackUrls: [],
              allowedScopes: ['a/b'],
              allowedOAuthFlows: ['code', 'client_credentials'],
            },
          ],
          users: [],
        }),
      /cannot share.*\n.*needs a clientSecret/s,
    );
  });

  it('loads a JSON file and names the file in errors', async () => {
    const good = join(dir, 'pool.json');
    writeFileSync(
      good,
      JSON.stringify({
        userPoolId: 'us-east-1_FromFile',
        clients: [
          {
            clientId: 'file-client',
            clientSecret: 's',
            callbackUrls: ['http://localhost:3000/postlogin'],
            allowedScopes: ['openid'],
          },
        ],
        users: [
          { username: 'dora', password: 'Secret1!', email: 'dora@example.com', groups: ['ops'] },
        ],
      }),
    );
    const config = loadEmulatorConfigFile(good);
    assert.equal(config.userPoolId, 'us-east-1_FromFile');

    const emulator = await startEmulator({ port: 0, configFile: good });
    try {
      assert.equal(emulator.region, 'us-east-1', 'region defaults to the pool id prefix');
      assert.equal(emulator.issuer, `${emulator.url}/us-east-1_FromFile`);
      assert.equal(emulator.users()[0]?.sub, stableSub('us-east-1_FromFile', 'dora'));
    } finally {
      await emulator.stop();
    }

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"userPoolId": ');
    assert.throws(
      () => loadEmulatorConfigFile(broken),
      (error: unknown) => {
        assert.ok(error instanceof EmulatorConfigError);
        assert.match(error.message, /broken\.json/);
        assert.match(error.message, /not valid JSON/);
        return true;
      },
    );
    assert.throws(() => loadEmulatorConfigFile(join(dir, 'missing.json')), /cannot read the file/);
  });
});

describe('programmatic API', () => {
  it('addUser and addClient validate, and new users can sign in', async () => {
    const emulator = await startEmulator({ port: 0 });
    try {
      assert.throws(() => emulator.addUser({ username: '', password: '' }), EmulatorConfigError);
      assert.throws(
        () =>
          emulator.addClient({
            clientId: 'x',
            callbackUrls: ['http://evil.example/cb'],
            allowedScopes: ['openid'],
          }),
        /http is allowed only/,
      );
      const dave = emulator.addUser({
        username: 'dave',
        password: 'Secret1!',
        groups: ['admin', 'ops'],
      });
      assert.equal(dave.sub, stableSub(emulator.poolId, 'dave'));
      const { code } = await browserLogin(emulator, { username: 'dave', password: 'Secret1!' });
      assert.match(code, /^[0-9a-f-]{36}$/);
      await assert.rejects(
        browserLogin(emulator, { username: 'dave', password: DEMO_PASSWORD }),
        /login should redirect, got 400/,
      );
    } finally {
      await emulator.stop();
    }
  });

  it('a user removed after sign-in can no longer refresh', async () => {
    const emulator = await startEmulator({ port: 0 });
    try {
      emulator.addUser({ username: 'erin', password: DEMO_PASSWORD });
      const tokens = await signIn(emulator, { username: 'erin' });
      assert.ok(emulator.removeUser('erin'));
      const response = await fetch(`${emulator.url}/oauth2/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token ?? '',
        }),
      });
      assert.deepEqual(await response.json(), { error: 'invalid_grant' });
    } finally {
      await emulator.stop();
    }
  });
});
