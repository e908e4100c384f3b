// Machine to machine: resource servers with custom scopes in the configuration, the
// client_credentials grant with those scopes, and RFC 8707's `resource` parameter mapped to the
// access token's `aud` (token endpoint and authorize), as Cognito's resource binding does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  EmulatorConfigError,
  demoConfig,
  parseEmulatorConfig,
  startEmulator,
} from '../../src/emulator/index.js';
import type { EmulatorConfig, EmulatorHandle } from '../../src/emulator/index.js';
import { REDIRECT_URI, basic, browserLogin, decodeJwt, pkcePair, postForm } from './helpers.js';

const API = 'https://api.example.com';
const WEB = 'orders-web';

function config(): EmulatorConfig {
  const demo = demoConfig();
  return {
    ...demo,
    resourceServers: [
      {
        identifier: API,
        name: 'Orders API',
        scopes: [{ name: 'orders.read' }, { name: 'orders.write', description: 'Change orders' }],
      },
      { identifier: 'reports', scopes: [{ name: 'read' }] },
    ],
    clients: [
      ...demo.clients,
      {
        clientId: 'machine',
        clientSecret: 'machine-secret',
        callbackUrls: [],
        allowedScopes: [`${API}/orders.read`, `${API}/orders.write`, 'reports/read'],
        allowedOAuthFlows: ['client_credentials'],
      },
      {
        clientId: WEB,
        clientSecret: 'web-secret',
        callbackUrls: [REDIRECT_URI],
        allowedScopes: ['openid', `${API}/orders.read`],
      },
    ],
  };
}

let emulator: EmulatorHandle;

before(async () => {
  emulator = await startEmulator({ port: 0, config: config() });
});
after(async () => {
  await emulator.stop();
});

async function clientCredentials(form: Record<string, string>) {
  const response = await postForm(
    `${emulator.url}/oauth2/token`,
    { grant_type: 'client_credentials', ...form },
    { authorization: basic('machine', 'machine-secret') },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('client_credentials with resource-server scopes', () => {
  it('no scope: every custom scope of the client; a token for the machine, no aud', async () => {
    const { status, body } = await clientCredentials({});
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    const claims = decodeJwt(String(body.access_token)).payload;
    assert.equal(claims.scope, `${API}/orders.read ${API}/orders.write reports/read`);
    assert.equal(claims.sub, 'machine');
    assert.equal(claims.aud, undefined);
  });

  it('a requested subset is granted; a scope the client lacks is invalid_scope', async () => {
    const subset = await clientCredentials({ scope: 'reports/read' });
    assert.equal(decodeJwt(String(subset.body.access_token)).payload.scope, 'reports/read');
    const other = await clientCredentials({ scope: `${API}/orders.delete` });
    assert.deepEqual([other.status, other.body], [400, { error: 'invalid_scope' }]);
  });

  it('resource = a resource server identifier (a URL) becomes the aud', async () => {
    const { status, body } = await clientCredentials({
      scope: `${API}/orders.read`,
      resource: API,
    });
    assert.equal(status, 200);
    assert.equal(decodeJwt(String(body.access_token)).payload.aud, API);
  });

  it('a resource that is not a declared resource server, or not a URL, is invalid_target', async () => {
    for (const resource of ['https://elsewhere.example.com', 'reports', `${API}#x`]) {
      const refused = await clientCredentials({ resource });
      assert.deepEqual(
        [refused.status, refused.body],
        [400, { error: 'invalid_target' }],
        resource,
      );
    }
  });
});

describe('resource with the authorization code grant', () => {
  async function codeFor(params: Record<string, string>) {
    const { verifier, challenge } = pkcePair();
    const login = await browserLogin(emulator, {
      params: {
        client_id: WEB,
        scope: `openid ${API}/orders.read`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...params,
      },
    });
    return { ...login, verifier };
  }

  function exchange(code: string, verifier: string, extra: Record<string, string> = {}) {
    return postForm(
      `${emulator.url}/oauth2/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        ...extra,
      },
      { authorization: basic(WEB, 'web-secret') },
    );
  }

  it('resource on authorize puts aud in the access token (not the ID token), kept across refresh', async () => {
    const { code, verifier } = await codeFor({ resource: API });
    const response = await exchange(code, verifier);
    assert.equal(response.status, 200);
    const tokens = (await response.json()) as Record<string, string>;
    const access = decodeJwt(tokens.access_token ?? '').payload;
    assert.equal(access.aud, API);
    assert.equal(access.scope, `openid ${API}/orders.read`);
    assert.equal(decodeJwt(tokens.id_token ?? '').payload.aud, WEB);
    const refreshed = await postForm(
      `${emulator.url}/oauth2/token`,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      { authorization: basic(WEB, 'web-secret') },
    );
    const again = (await refreshed.json()) as Record<string, string>;
    assert.equal(decodeJwt(again.access_token ?? '').payload.aud, API);
  });

  it('without resource the access token has no aud, as Cognito issues it', async () => {
    const { code, verifier } = await codeFor({});
    const tokens = (await (await exchange(code, verifier)).json()) as Record<string, string>;
    assert.equal(decodeJwt(tokens.access_token ?? '').payload.aud, undefined);
  });

  it('an unknown resource on authorize is an invalid_target redirect; the token request cannot change it', async () => {
    const url = new URL('/oauth2/authorize', emulator.url);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: WEB,
      redirect_uri: REDIRECT_URI,
      resource: 'https://elsewhere.example.com',
    })) {
      url.searchParams.set(name, value);
    }
    const refused = await fetch(url, { redirect: 'manual' });
    assert.equal(refused.status, 302);
    const location = new URL(refused.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
    assert.equal(location.searchParams.get('error'), 'invalid_target');

    const { code, verifier } = await codeFor({ resource: API });
    const changed = await exchange(code, verifier, { resource: 'https://elsewhere.example.com' });
    assert.equal(changed.status, 400);
    assert.deepEqual(await changed.json(), { error: 'invalid_target' });
  });
});

describe('resource servers in the configuration', () => {
  it('with resource servers declared, a client scope that none defines is a configuration error', () => {
    const bad = config();
    assert.throws(
      () =>
        parseEmulatorConfig({
          ...bad,
          clients: [{ clientId: 'x', callbackUrls: [], allowedScopes: ['inventory/read'] }],
        }),
      (error: unknown) =>
        error instanceof EmulatorConfigError &&
        error.problems.some((problem) => problem.includes('"inventory/read" is not a scope')),
    );
    assert.throws(
      () =>
        emulator.addClient({ clientId: 'y', callbackUrls: [], allowedScopes: ['inventory/read'] }),
      EmulatorConfigError,
    );
  });

  it('a malformed resource server is reported with its path', () => {
    assert.throws(
      () =>
        parseEmulatorConfig({
          ...config(),
          resourceServers: [{ identifier: 'has space', scopes: [{}] }],
        }),
      (error: unknown) =>
        error instanceof EmulatorConfigError &&
        error.problems.some((problem) => problem.startsWith('resourceServers[0].identifier')) &&
        error.problems.some((problem) => problem.startsWith('resourceServers[0].scopes[0].name')),
    );
  });
});
