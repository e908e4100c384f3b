import { describe, it } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  buildAuthorizeUrl,
  checkAuthorizeParams,
  createTransactionSecrets,
  safeReturnTo,
} from '../../src/core/authorize.js';

describe('transaction secrets', () => {
  it('regression (flask-cognito-lib fault 14) / B7: the PKCE verifier is 43+ unreserved characters and the challenge is S256 of it', async () => {
    for (let i = 0; i < 200; i += 1) {
      const secrets = await createTransactionSecrets();
      assert.match(secrets.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
      const expected = createHash('sha256').update(secrets.codeVerifier).digest('base64url');
      assert.equal(secrets.codeChallenge, expected);
      assert.ok(secrets.state.length >= 22, 'state carries at least 128 bits');
      assert.ok(secrets.nonce.length >= 22, 'nonce carries at least 128 bits');
    }
  });

  it('B7 makes new values every time', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i += 1) {
      const s = await createTransactionSecrets();
      for (const value of [s.state, s.codeVerifier, s.nonce]) {
        assert.ok(!seen.has(value));
        seen.add(value);
      }
    }
  });
});

describe('buildAuthorizeUrl', () => {
  const secrets = {
    state: 'st&ate=x#y',
    codeVerifier: 'v'.repeat(43),
    codeChallenge: 'c+h/a',
    nonce: 'n o',
  };

  it('regression (flask-cognito-lib fault 12): every parameter is URL-encoded; S256 and code are fixed (B6, B15)', () => {
    const url = new URL(
      buildAuthorizeUrl({
        authorizeEndpoint: 'https://auth.example.com/oauth2/authorize',
        clientId: 'client&evil=1',
        redirectUri: 'https://example.com/postlogin?x=1&y=2',
        secrets,
        scopes: ['openid', 'https://api.example.com/read'],
        params: { login_hint: 'a+b@example.com', identity_provider: 'Google' },
      }),
    );
    assert.equal(url.origin + url.pathname, 'https://auth.example.com/oauth2/authorize');
    const q = url.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'client&evil=1');
    assert.equal(q.get('evil'), null);
    assert.equal(q.get('redirect_uri'), 'https://example.com/postlogin?x=1&y=2');
    assert.equal(q.get('state'), 'st&ate=x#y');
    assert.equal(q.get('nonce'), 'n o');
    assert.equal(q.get('code_challenge'), 'c+h/a');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('scope'), 'openid https://api.example.com/read');
    assert.equal(q.get('login_hint'), 'a+b@example.com');
    assert.equal(q.get('identity_provider'), 'Google');
    assert.equal(url.hash, '');
  });

  it('omits scope when none is configured (no empty scope=)', () => {
    const url = new URL(
      buildAuthorizeUrl({
        authorizeEndpoint: 'https://auth.example.com/oauth2/authorize',
        clientId: 'c',
        redirectUri: 'https://example.com/cb',
        secrets,
        scopes: [],
      }),
    );
    assert.equal(url.searchParams.has('scope'), false);
  });
});

describe('checkAuthorizeParams', () => {
  it('accepts the documented extras and refuses anything else', () => {
    assert.deepEqual(
      checkAuthorizeParams({ lang: 'fr', login_hint: 'alice', prompt: 'login' }),
      [],
    );
    assert.equal(
      checkAuthorizeParams({ identity_provider: 'Google', idp_identifier: 'g' }).length,
      1,
    );
    assert.equal(checkAuthorizeParams({ prompt: 'bogus' as 'login' }).length, 1);
    assert.equal(checkAuthorizeParams({ redirect_uri: 'https://evil' } as never).length, 1);
    assert.equal(checkAuthorizeParams({ login_hint: 'a\r\nb' }).length, 1);
  });
});

describe('safeReturnTo', () => {
  it('keeps same-origin relative paths', () => {
    assert.equal(safeReturnTo('/claims'), '/claims');
    assert.equal(safeReturnTo('/a/b?x=1&y=%20z#frag'), '/a/b?x=1&y=%20z#frag');
    assert.equal(safeReturnTo('/'), '/');
  });

  const hostile = [
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    'evil.example',
    '/%2F%2Fevil.example',
    '/%2f%2fevil.example',
    '/%252F%252Fevil.example',
    '/%5Cevil.example',
    '/\tevil',
    '/a\r\nSet-Cookie: x=y',
    '/%0d%0aLocation:%20https://evil',
    '',
    ' /claims',
    `/${'a'.repeat(5000)}`,
    '/%E0%A4%A',
  ];
  for (const value of hostile) {
    it(`refuses ${JSON.stringify(value.slice(0, 40))}`, () => {
      assert.equal(safeReturnTo(value), undefined);
    });
  }

  it('refuses non-strings', () => {
    assert.equal(safeReturnTo(undefined), undefined);
    assert.equal(safeReturnTo(['/a']), undefined);
  });

  it('validates its own output: a value whose normalised form decodes to another host is refused', () => {
    // Dot segments collapse `/%2e%2e/%2f/evil.example` to `/%2f/evil.example`, which decodes to
    // `//evil.example`.
    assert.equal(safeReturnTo('/%2e%2e/%2f/evil.example'), undefined);
    assert.equal(safeReturnTo('/a/%2e%2e/%2F%2Fevil.example'), undefined);
    assert.equal(safeReturnTo('/a/../b'), '/b');
  });

  it('caps the normalised path at 512 characters (longer is dropped, not truncated)', () => {
    const kept = `/${'a'.repeat(511)}`;
    assert.equal(safeReturnTo(kept), kept);
    assert.equal(safeReturnTo(`/${'a'.repeat(512)}`), undefined);
    // Long before normalisation, short after: judged by what it becomes.
    assert.equal(safeReturnTo(`/x/..${'/.'.repeat(1500)}/claims`), '/claims');
    assert.equal(
      safeReturnTo(`/${'.'.repeat(1)}${'/.'.repeat(2100)}`),
      undefined,
      'input over 4 KB',
    );
  });

  it('is idempotent: safeReturnTo(safeReturnTo(x)) === safeReturnTo(x) (fast-check)', () => {
    const piece = fc.constantFrom(
      '/',
      '//',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2e%2e',
      '%2f',
      '%2F',
      '%252f',
      '%5c',
      '\\',
      'evil.example',
      'a',
      '?',
      '#',
      '%',
      '%25',
      '%0a',
      ' ',
      '@',
      'https:',
    );
    const path = fc.array(piece, { maxLength: 10 }).map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(fc.oneof(path, fc.string(), fc.webPath()), (value) => {
        const once = safeReturnTo(value);
        assert.equal(safeReturnTo(once), once);
        if (once !== undefined) {
          // Whatever it keeps is a same-origin path a browser resolves on our own host.
          assert.equal(new URL(once, 'https://app.example').host, 'app.example');
          assert.ok(once.length <= 512);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});
