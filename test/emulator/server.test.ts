// The Node server around the emulator: it is ready the moment its port opens (no 503 while keys
// are generated), it can serve a browser-facing origin that differs from the host name a server
// uses (docker-compose), and its control endpoints refuse foreign Host headers (DNS rebinding).
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { describe, it } from 'node:test';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  REDIRECT_URI,
  basic,
  browserLogin,
  freePort,
  pkcePair,
  postForm,
  rawRequest,
} from './helpers.js';

/** One GET to `/`; the status, or 0 when the port is not open yet. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = httpGet({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      response.resume();
      response.on('end', () => {
        resolve(response.statusCode ?? 0);
      });
    });
    request.on('error', () => {
      resolve(0);
    });
    request.setTimeout(2_000, () => request.destroy());
  });
}

describe('start-up', () => {
  it('answers its first request on the new port with a real response, never 503', async () => {
    const port = await freePort();
    const statuses: number[] = [];
    let started = false;
    let answeredAfterStart = 0;
    // Four clients hammer the port while the emulator starts (keys included) and a little after.
    const hammer = async () => {
      while (!started || answeredAfterStart < 20) {
        const status = await probe(port);
        if (status !== 0) statuses.push(status);
        if (started && status !== 0) answeredAfterStart += 1;
        if (status === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const hammers = [hammer(), hammer(), hammer(), hammer()];
    let emulator: EmulatorHandle | undefined;
    try {
      emulator = await startEmulator({ port });
      started = true;
      await Promise.all(hammers);
    } finally {
      started = true;
      answeredAfterStart = Infinity;
      await Promise.all(hammers);
      await emulator?.stop();
    }
    assert.ok(statuses.length >= 20, 'the hammer got answers');
    assert.deepEqual(
      statuses.filter((status) => status !== 200),
      [],
      'every answer is the real 200',
    );
  });
});

describe('public origin apart from the server-side host name (docker-compose)', () => {
  it('the browser signs in on the public origin, the server exchanges on another host name, tokens carry the public issuer', async () => {
    const port = await freePort();
    const publicOrigin = `http://localhost:${port}`;
    const internal = `http://127.0.0.1:${port}`;
    const emulator = await startEmulator({ port, publicOrigin, allowedHosts: ['cognito'] });
    try {
      assert.equal(emulator.url, publicOrigin);
      assert.equal(emulator.issuer, `${publicOrigin}/${emulator.poolId}`);

      // A server-side caller (Host: cognito:port) reads the browser-facing URLs in discovery.
      const discovery = await rawRequest(
        `${internal}/${emulator.poolId}/.well-known/openid-configuration`,
        { headers: { host: `cognito:${port}` } },
      );
      assert.equal(discovery.status, 200);
      const doc = JSON.parse(discovery.body) as Record<string, string>;
      assert.equal(doc.issuer, emulator.issuer);
      assert.equal(doc.authorization_endpoint, `${publicOrigin}/oauth2/authorize`);

      // The hosted UI links stay on the public origin.
      const { verifier, challenge } = pkcePair();
      const { code, location } = await browserLogin(emulator, {
        params: { code_challenge: challenge, code_challenge_method: 'S256' },
      });
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);

      // The app exchanges the code through its own host name for the emulator.
      const exchanged = await postForm(
        `${internal}/oauth2/token`,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
        },
        { authorization: basic() },
      );
      assert.equal(exchanged.status, 200);
      const { access_token: accessToken } = (await exchanged.json()) as { access_token: string };
      const keys = createRemoteJWKSet(
        new URL(`${internal}/${emulator.poolId}/.well-known/jwks.json`),
      );
      const { payload } = await jwtVerify(accessToken, keys, { issuer: emulator.issuer });
      assert.equal(payload.iss, `${publicOrigin}/${emulator.poolId}`);
    } finally {
      await emulator.stop();
    }
  });
});

describe('Host check on the control endpoints (DNS rebinding)', () => {
  it('loopback, the public origin and allowed host names pass; a forged Host gets 403 and changes nothing', async () => {
    const emulator = await startEmulator({ port: 0, allowedHosts: ['cognito'] });
    try {
      const keysUrl = `${emulator.url}/_emulator/keys`;
      for (const host of [
        `127.0.0.1:${emulator.port}`,
        `localhost:${emulator.port}`,
        `cognito:${emulator.port}`,
        'COGNITO',
      ]) {
        const answer = await rawRequest(keysUrl, { headers: { host } });
        assert.equal(answer.status, 200, `Host ${host} is allowed`);
      }
      const before = emulator.keys().length;
      for (const host of [
        `evil.example:${emulator.port}`,
        'attacker.test',
        'localhost.evil.example',
      ]) {
        const rotate = await rawRequest(`${emulator.url}/_emulator/keys/rotate`, {
          method: 'POST',
          headers: { host, 'content-type': 'application/json' },
          body: '{}',
        });
        assert.equal(rotate.status, 403, `Host ${host} is refused`);
        assert.match(rotate.body, /not allowed/);
        assert.match(rotate.body, /--allowed-host/);
      }
      assert.equal(emulator.keys().length, before, 'no key was rotated');
      const listed = await rawRequest(keysUrl, { headers: { host: 'evil.example' } });
      assert.equal(listed.status, 403);
    } finally {
      await emulator.stop();
    }
  });

  it('the OAuth2 endpoints answer any Host (Cognito is reached through proxies and aliases)', async () => {
    const emulator = await startEmulator({ port: 0 });
    try {
      const jwks = await rawRequest(emulator.jwksUri, { headers: { host: 'auth.example.com' } });
      assert.equal(jwks.status, 200);
    } finally {
      await emulator.stop();
    }
  });
});
