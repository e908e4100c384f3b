// /oauth2/authorize strictness: bad client or redirect → the emulator's error page (never the app),
// malformed requests → error redirect to the registered URI, PKCE S256 only, scope rules.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  REDIRECT_URI,
  authorizeUrl,
  basic,
  browserLogin,
  decodeJwt,
  defaultAuthorizeParams,
  get,
  pkcePair,
  postForm,
  resetSwitches,
} from './helpers.js';
import type { TokenSet } from './helpers.js';

let emulator: EmulatorHandle;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  emulator.addClient({
    clientId: 'api-client',
    clientSecret: 'api-secret',
    callbackUrls: ['http://localhost:4000/cb'],
    allowedScopes: ['openid', 'orders/read', 'orders/write'],
  });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  resetSwitches(emulator);
});

async function authorize(params: Record<string, string | undefined>) {
  const response = await get(authorizeUrl(emulator, defaultAuthorizeParams(params)));
  assert.equal(response.status, 302);
  return new URL(response.headers.get('location') ?? '');
}

function assertErrorPage(location: URL, error: string, clientId?: string) {
  assert.equal(location.origin, emulator.url, 'the error page is on the emulator, not the app');
  assert.equal(location.pathname, '/error');
  assert.equal(location.searchParams.get('error'), error);
  if (clientId !== undefined) assert.equal(location.searchParams.get('client_id'), clientId);
}

function assertErrorRedirect(location: URL, error: string) {
  assert.equal(location.origin + location.pathname, REDIRECT_URI);
  assert.equal(location.searchParams.get('error'), error);
  assert.equal(location.searchParams.get('code'), null);
}

describe('authorize: client and redirect_uri', () => {
  it('unknown client → /error?error=redirect_mismatch&client_id=…', async () => {
    assertErrorPage(await authorize({ client_id: 'nobody' }), 'redirect_mismatch', 'nobody');
  });

  it('redirect_uri must match exactly: a trailing slash or another port fails', async () => {
    assertErrorPage(
      await authorize({ redirect_uri: `${REDIRECT_URI}/` }),
      'redirect_mismatch',
      CLIENT_ID,
    );
    assertErrorPage(
      await authorize({ client_id: 'api-client', redirect_uri: 'http://localhost:4001/cb' }),
      'redirect_mismatch',
      'api-client',
    );
    assertErrorPage(await authorize({ redirect_uri: `${REDIRECT_URI}?x=1` }), 'redirect_mismatch');
  });

  it('the demo client accepts its callback path on any loopback port (a dev default), nothing else', async () => {
    for (const accepted of [
      'http://localhost:3001/postlogin',
      'http://127.0.0.1:8080/postlogin',
      'http://localhost/postlogin',
    ]) {
      const { location } = await browserLogin(emulator, { params: { redirect_uri: accepted } });
      assert.equal(location.origin + location.pathname, accepted, 'the code goes to that port');
    }
    for (const refused of [
      'http://localhost:3001/postlogin/',
      'http://localhost:3001/other',
      'https://localhost:3001/postlogin',
      'http://example.com:3000/postlogin',
      'http://user@localhost:3001/postlogin',
      'http://localhost:3001\\@example.com/postlogin',
    ]) {
      assertErrorPage(await authorize({ redirect_uri: refused }), 'redirect_mismatch', CLIENT_ID);
    }
  });

  it('the redirect-mismatch page names the refused redirect_uri and the registered ones, escaped', async () => {
    const refused = 'http://localhost:3000/"><script>alert(1)</script>';
    const location = await authorize({ redirect_uri: refused });
    assertErrorPage(location, 'redirect_mismatch', CLIENT_ID);
    assert.equal(location.searchParams.get('redirect_uri'), refused);
    const page = await get(location.href);
    assert.equal(page.status, 400);
    const text = await page.text();
    assert.match(
      text,
      /id="refused-url">http:\/\/localhost:3000\/&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;</,
    );
    assert.doesNotMatch(text, /<script>/);
    assert.match(text, /<li><code>http:\/\/localhost:3000\/postlogin<\/code><\/li>/);
    assert.match(text, /<li><code>http:\/\/127\.0\.0\.1:3000\/postlogin<\/code><\/li>/);
    assert.match(text, /any port/);
  });

  it('missing client_id or redirect_uri → Required parameters missing', async () => {
    assertErrorPage(await authorize({ client_id: undefined }), 'Required parameters missing');
    assertErrorPage(await authorize({ redirect_uri: undefined }), 'Required parameters missing');
  });

  it('the error page renders the message escaped with status 400', async () => {
    const page = await get(`${emulator.url}/error?error=${encodeURIComponent('<b>x</b>')}`);
    assert.equal(page.status, 400);
    const text = await page.text();
    assert.match(text, /&lt;b&gt;x&lt;\/b&gt;/);
    assert.doesNotMatch(text, /<b>x<\/b>/);
  });

  it('a registered redirect on another client is still a mismatch', async () => {
    assertErrorPage(
      await authorize({ redirect_uri: 'http://localhost:4000/cb' }),
      'redirect_mismatch',
      CLIENT_ID,
    );
  });
});

describe('authorize: malformed requests redirect with an error', () => {
  it('response_type missing → invalid_request; token → unauthorized_client', async () => {
    assertErrorRedirect(await authorize({ response_type: undefined }), 'invalid_request');
    assertErrorRedirect(await authorize({ response_type: 'token' }), 'unauthorized_client');
    assertErrorRedirect(await authorize({ response_type: 'id_token' }), 'invalid_request');
  });

  it('PKCE: plain is rejected, a challenge without method is rejected, S256 passes', async () => {
    const { challenge } = pkcePair();
    assertErrorRedirect(
      await authorize({ code_challenge: challenge, code_challenge_method: 'plain' }),
      'invalid_request',
    );
    assertErrorRedirect(await authorize({ code_challenge: challenge }), 'invalid_request');
    assertErrorRedirect(await authorize({ code_challenge_method: 'S256' }), 'invalid_request');
    assertErrorRedirect(
      await authorize({ code_challenge: 'short', code_challenge_method: 'S256' }),
      'invalid_request',
    );
    const ok = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal(ok.pathname, '/login');
  });

  it('unknown or malformed scope → invalid_scope', async () => {
    assertErrorRedirect(await authorize({ scope: 'openid bogus' }), 'invalid_scope');
    assertErrorRedirect(await authorize({ scope: 'openid "quoted"' }), 'invalid_scope');
    assertErrorRedirect(await authorize({ scope: 'openid unknown/scope' }), 'invalid_scope');
  });

  it('state is echoed on error redirects, unless the switch turns that off', async () => {
    const withState = await authorize({ response_type: undefined, state: 'abc' });
    assert.equal(withState.searchParams.get('state'), 'abc');
    emulator.switches.echoStateOnError = false;
    const without = await authorize({ response_type: undefined, state: 'abc' });
    assert.equal(without.searchParams.get('state'), null);
    assert.equal(without.searchParams.get('error'), 'invalid_request');
  });

  it('a federated identity_provider the pool lacks → invalid_request', async () => {
    assertErrorRedirect(await authorize({ identity_provider: 'Google' }), 'invalid_request');
  });
});

describe('authorize: scopes granted', () => {
  async function scopesFor(
    scope: string | undefined,
  ): Promise<{ access: string; tokens: TokenSet }> {
    const { verifier, challenge } = pkcePair();
    const { code } = await browserLogin(emulator, {
      params: { scope, code_challenge: challenge, code_challenge_method: 'S256' },
    });
    const response = await postForm(
      `${emulator.url}/oauth2/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      },
      { authorization: basic() },
    );
    const tokens = (await response.json()) as TokenSet;
    return { access: String(decodeJwt(tokens.access_token).payload.scope), tokens };
  }

  it('no scope → all the client allows', async () => {
    const { access, tokens } = await scopesFor(undefined);
    assert.equal(access, 'openid email profile phone aws.cognito.signin.user.admin');
    assert.ok(tokens.id_token);
  });

  it('a known scope the client may not use is ignored', async () => {
    const { access } = await scopesFor('openid orders/read');
    assert.equal(access, 'openid');
  });

  it('no openid → no ID token', async () => {
    const { access, tokens } = await scopesFor('aws.cognito.signin.user.admin');
    assert.equal(access, 'aws.cognito.signin.user.admin');
    assert.equal(tokens.id_token, undefined);
    assert.ok(tokens.refresh_token);
  });
});
