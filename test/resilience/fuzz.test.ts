/**
 * Property-based fuzzing with fast-check, against the example app over real HTTP: cookie
 * values, JWTs (structured, random and mutated real ones), the transaction cookie, callback
 * query strings and `returnTo` values (B11, B16, B32, B38, B39, B61, B64).
 *
 * For every response: status < 500 (and the status the route owes that input), any Location is
 * the app's own origin or the emulator's /oauth2/authorize or /logout, no stack trace, and no
 * fuzzed value echoed in the body. An unhandled rejection anywhere in the process fails the run.
 *
 * Counterexamples print generated inputs (or mutation steps), never a real session token.
 * `FUZZ_SCALE` multiplies the number of runs; fast-check prints the seed of a failing run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLIENT_ID } from '../support/pool.js';
import { login } from '../support/sign-in.js';
import { type Stack, startStack } from '../support/express.js';
import { readForm, TestBrowser } from '../support/browser.js';
import { assertSafeResponse } from '../support/safety.js';
import { watchUnhandledRejections } from '../support/faults.js';

const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const runs = (base: number): number => Math.max(1, Math.round(base * SCALE));

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const BASE64URL = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
/** Characters a browser may put in a header value (printable ASCII, tab, one Latin-1 letter). */
const HEADER_CHARS = [
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)),
  '\t',
  'é',
];
/** Characters that matter to URL, query and path parsing. */
const URL_CHARS = [
  ...Array.from('/\\:%.@?#&=;+ \t\n\r<>"\'`'),
  ...Array.from('evil.com%2F%5C%0A%00'),
  'é',
  '\u2028',
];

const headerString = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...HEADER_CHARS), maxLength });
const base64urlString = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength, maxLength });
const urlishString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...URL_CHARS), maxLength }),
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
  );
const b64json = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/** A change to a real token or cookie, as steps (so a counterexample never prints the value). */
type Mutation =
  | { readonly kind: 'replace'; readonly at: number; readonly char: string }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'swap-segments'; readonly a: number; readonly b: number }
  | { readonly kind: 'drop-segment'; readonly index: number }
  | { readonly kind: 'append'; readonly text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    char: fc.constantFrom(...BASE64URL, '.', '=', '+', '/', '%'),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: headerString(8) }),
  fc.record({ kind: fc.constant('swap-segments' as const), a: fc.nat(4), b: fc.nat(4) }),
  fc.record({ kind: fc.constant('drop-segment' as const), index: fc.nat(4) }),
  fc.record({ kind: fc.constant('append' as const), text: headerString(40) }),
);

function mutate(value: string, mutations: readonly Mutation[]): string {
  let out = value;
  for (const m of mutations) {
    const at =
      out.length === 0
        ? 0
        : m.kind === 'replace' || m.kind === 'truncate' || m.kind === 'insert'
          ? m.at % out.length
          : 0;
    switch (m.kind) {
      case 'replace': {
        // Always a different character, so the mutation is never the identity.
        const char = out[at] === m.char ? (m.char === 'A' ? 'B' : 'A') : m.char;
        out = `${out.slice(0, at)}${char}${out.slice(at + 1)}`;
        break;
      }
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert':
        out = `${out.slice(0, at)}${m.text}${out.slice(at)}`;
        break;
      case 'swap-segments': {
        const parts = out.split('.');
        const a = m.a % parts.length;
        const b = m.b % parts.length;
        [parts[a], parts[b]] = [parts[b]!, parts[a]!];
        out = parts.join('.');
        break;
      }
      case 'drop-segment': {
        const parts = out.split('.');
        parts.splice(m.index % parts.length, 1);
        out = parts.join('.');
        break;
      }
      case 'append':
        out = `${out}${m.text}`;
        break;
    }
  }
  return out;
}

/** What the server reads from `name=<value>` as the cookie's value (cut at `;`, trimmed, unquoted, decoded). */
function cookieView(value: string): string {
  let view = (value.split(';')[0] ?? '').trim();
  if (view.length >= 2 && view.startsWith('"') && view.endsWith('"')) view = view.slice(1, -1);
  if (!view.includes('%')) return view;
  try {
    return decodeURIComponent(view);
  } catch {
    return view;
  }
}

/** The bytes a compact JWS stands for (what the signature covers), for "same token" checks. */
function jwsBytes(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  return parts.map((p) => Buffer.from(p, 'base64url').toString('hex')).join('.');
}

describe('fuzzing the example app over HTTP', { timeout: 55_000 }, () => {
  let stack: Stack;
  let rejections: ReturnType<typeof watchUnhandledRejections>;
  const alice = new TestBrowser();
  let aliceAccess: string;
  let aliceId: string;
  let issuer: string;
  let accessKid: string;

  before(async () => {
    rejections = watchUnhandledRejections();
    stack = await startStack();
    await login(alice, stack.appUrl, 'alice');
    aliceAccess = alice.cookie(stack.appUrl, 'cognito_access_token')!;
    aliceId = alice.cookie(stack.appUrl, 'cognito_id_token')!;
    issuer = stack.emulator.issuer;
    accessKid = stack.emulator.keys().find((key) => key.active && key.use === 'access')!.kid;
  });
  after(async () => {
    await stack.stop();
    rejections.stop();
  });

  async function send(
    path: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${stack.appUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...init.headers },
      redirect: 'manual',
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  }

  function check(answer: Answer, secrets: readonly string[], context: string): void {
    assertSafeResponse(
      answer,
      { appUrl: stack.appUrl, emulatorUrl: stack.emulator.url, secrets },
      context,
    );
    assert.deepEqual(rejections.reasons, [], 'no unhandled rejection');
  }

  it('cookie values: any Cookie header gets the answer the route owes, never a 5xx', async () => {
    const routes = [
      { method: 'GET', path: '/claims', statuses: [401] },
      { method: 'GET', path: '/admin', statuses: [401] },
      { method: 'GET', path: '/edit', statuses: [401] },
      { method: 'POST', path: '/refresh', statuses: [401] },
      { method: 'GET', path: '/logout', statuses: [302] },
      // A form POST ends on a page that continues to Cognito (a CSP with form-action 'self'
      // would block a redirect there).
      { method: 'POST', path: '/logout', statuses: [200] },
      { method: 'GET', path: '/postlogin?code=abc&state=xyz', statuses: [400] },
      { method: 'GET', path: '/login?returnTo=/admin', statuses: [302] },
    ] as const;
    const name = fc.oneof(
      fc.constantFrom(
        'cognito_access_token',
        'cognito_id_token',
        'cognito_refresh_token',
        'cognito_txn_',
        '__Host-cognito_txn_AAAAAAAAAAAAAAAA',
        '__Host-cognito_access_token',
      ),
      fc
        .string({ unit: fc.constantFrom(...BASE64URL), maxLength: 16 })
        .map((s) => `cognito_txn_${s}`),
      headerString(12).filter((s) => !s.includes('=') && !s.includes(';')),
    );
    const value = fc.oneof(
      headerString(300),
      fc.base64String({ maxLength: 200 }),
      fc.array(base64urlString(0, 60), { minLength: 2, maxLength: 6 }).map((s) => s.join('.')),
      fc.constantFrom('', '""', '%', '%zz', '%00', 'deleted', 'null', '[]', '{}'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(fc.tuple(name, value), { maxLength: 6 }),
        async (route, cookies) => {
          const header = cookies.map(([n, v]) => `${n}=${v}`).join('; ');
          const answer = await send(route.path, {
            method: route.method,
            ...(header.trim() === '' ? {} : { headers: { cookie: header } }),
          });
          assert.ok(
            (route.statuses as readonly number[]).includes(answer.status),
            `${route.method} ${route.path}: ${answer.status}`,
          );
          check(
            answer,
            cookies.map(([, v]) => v),
            route.path,
          );
        },
      ),
      { numRuns: runs(250) },
    );
  });

  it('JWTs (structured, random and mutated real ones) as cookie or Bearer: 401 unless the very same signed bytes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const numberish = fc.oneof(
      fc.constantFrom(now + 3600, now - 10, now + 10_000_000, 0, -1, 1e308, 2 ** 53),
      fc.double(),
      fc.integer(),
      fc.string({ maxLength: 12 }),
      fc.constant(null),
    );
    const header = fc.record(
      {
        alg: fc.constantFrom('RS256', 'none', 'None', 'HS256', 'RS512', 'PS256', 'ES256', ''),
        kid: fc.oneof(
          fc.constant(accessKid),
          fc.string({ maxLength: 64 }),
          fc.string({ minLength: 257, maxLength: 400 }),
          fc.constantFrom('../../etc/passwd', "' OR 1=1 --", '__proto__', 'constructor'),
        ),
        typ: fc.constantFrom('JWT', 'at+jwt', 'JWE'),
        jku: fc.constantFrom('http://127.0.0.1:1/jwks.json', 'https://evil.example/jwks'),
        jwk: fc.constant({ kty: 'oct', k: 'AAAA' }),
        crit: fc.constantFrom(['exp'], [], 'b64'),
        enc: fc.constant('A256GCM'),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.record(
        {
          iss: fc.oneof(
            fc.constantFrom(issuer, `${issuer}/`, issuer.toUpperCase(), ''),
            fc.string({ maxLength: 40 }),
          ),
          token_use: fc.constantFrom('access', 'id', 'refresh', '', 1),
          client_id: fc.oneof(fc.constant(CLIENT_ID), fc.string({ maxLength: 20 })),
          aud: fc.oneof(
            fc.constantFrom(CLIENT_ID, [CLIENT_ID], [CLIENT_ID, 'other'], []),
            fc.string({ maxLength: 20 }),
          ),
          sub: fc.oneof(fc.uuid(), fc.constantFrom('', 1, null)),
          exp: numberish,
          iat: numberish,
          nbf: numberish,
          'cognito:groups': fc.oneof(
            fc.constantFrom(['admin'], 'admin', [1], {}, null),
            fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
          ),
          scope: fc.oneof(fc.constantFrom('openid', '', ['openid']), fc.string({ maxLength: 20 })),
          constructor: fc.constant({ admin: true }),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 4 }),
    );
    const structured = fc
      .tuple(header, payload, fc.oneof(base64urlString(0, 400), fc.constant('')))
      .map(([h, p, sig]) => ({ token: `${b64json(h)}.${b64json(p)}.${sig}`, from: 'structured' }));
    const rawText = fc
      .array(
        fc.oneof(
          base64urlString(0, 80),
          fc.string({
            unit: fc.constantFrom(...BASE64URL, '.', '=', '+', '/', ' '),
            maxLength: 80,
          }),
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((parts) => ({ token: parts.join('.'), from: 'random' }));
    // Duplicate members and deep nesting, which JSON.parse alone would accept (B39, B61).
    const trickyJson = fc
      .constantFrom(
        `{"iss":"evil","iss":"${issuer}","token_use":"access","client_id":"${CLIENT_ID}","sub":"x","exp":${now + 3600},"iat":${now}}`,
        `{"\\u0069ss":"${issuer}","iss":"${issuer}","token_use":"access","client_id":"${CLIENT_ID}","sub":"x","exp":${now + 3600},"iat":${now}}`,
        `${'['.repeat(2000)}${']'.repeat(2000)}`,
        `{"a":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`,
        '{"exp":1e999999}',
        '\uFEFF{}',
      )
      .map((text) => ({
        token: `${b64json({ alg: 'RS256', kid: accessKid })}.${Buffer.from(text).toString('base64url')}.${'A'.repeat(342)}`,
        from: 'tricky',
      }));
    const mutated = fc
      .tuple(fc.constantFrom('access', 'id'), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([which, steps]) => ({ which, steps, from: 'mutated' as const }));
    const placement = fc.constantFrom('access-cookie', 'id-cookie', 'bearer');

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(structured, rawText, trickyJson, mutated),
        placement,
        async (input, place) => {
          const original =
            'which' in input ? (input.which === 'access' ? aliceAccess : aliceId) : undefined;
          const token = 'which' in input ? mutate(original!, input.steps) : input.token;
          // A header value cannot carry control characters; fetch would refuse to send it.
          if (/[\u0000-\u001f\u007f]/.test(token) || token.length > 12_000) return;
          const headers: Record<string, string> =
            place === 'bearer'
              ? { authorization: `Bearer ${token}` }
              : place === 'access-cookie'
                ? { cookie: `cognito_access_token=${token}` }
                : { cookie: `cognito_access_token=${aliceAccess}; cognito_id_token=${token}` };
          const answer = await send('/claims', { headers });
          // What the app reads: fetch trims a header value's ends; the cookie parser does more.
          const seen =
            place === 'bearer' ? token.replace(/^[ \t]+|[ \t]+$/g, '') : cookieView(token);
          if (place === 'id-cookie' && seen === '') {
            // An empty ID cookie is no ID cookie; the valid access token alone signs alice in.
            assert.equal(answer.status, 200);
          } else if (answer.status === 200) {
            // Base64url with non-zero padding bits decodes to the same bytes: the same signed token.
            const expected = place === 'id-cookie' ? aliceId : aliceAccess;
            assert.ok(
              original === expected &&
                jwsBytes(seen) !== undefined &&
                jwsBytes(seen) === jwsBytes(expected),
              `${input.from} token accepted`,
            );
          } else {
            assert.equal(answer.status, 401, `${input.from} ${place}: ${answer.status}`);
          }
          check(answer, [token], `${input.from} ${place}`);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it('the transaction cookie: tampered, forged or misplaced → 400, no code exchange succeeds', async () => {
    const forged = fc.oneof(
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((steps) => ({ steps })),
      fc
        .array(base64urlString(0, 80), { minLength: 5, maxLength: 5 })
        .map((parts) => ({ value: parts.join('.') })),
      fc
        .tuple(
          fc.constantFrom('dir', 'A256KW', 'none', 'RSA-OAEP'),
          fc.string({ maxLength: 30 }),
          base64urlString(0, 200),
        )
        .map(([alg, kid, rest]) => ({
          value: `${b64json({ alg, enc: 'A256GCM', kid })}..${rest}.${rest}.${rest.slice(0, 22)}`,
        })),
      headerString(200).map((value) => ({ value })),
    );
    const placementArb = fc.constantFrom('own-name', 'other-name', 'duplicate', 'host-prefixed');
    await fc.assert(
      fc.asyncProperty(
        forged,
        placementArb,
        base64urlString(1, 40),
        async (input, placement, code) => {
          const browser = new TestBrowser();
          const started = await browser.request(`${stack.appUrl}/login`);
          const state = new URL(started.location!).searchParams.get('state')!;
          const [name, sealed] = [...browser.cookiesFor(stack.appUrl)][0]!;
          const value = 'steps' in input ? mutate(sealed, input.steps) : input.value;
          if (/[\u0000-\u001f\u007f]/.test(value)) return;
          const cookie =
            placement === 'own-name'
              ? `${name}=${value}`
              : placement === 'other-name'
                ? `cognito_txn_AAAAAAAAAAAAAAAA=${sealed}; ${name}=${value}`
                : placement === 'duplicate'
                  ? `${name}=${sealed}; ${name}=${value}`
                  : `__Host-${name}=${sealed}; ${name}=${value}`;
          const answer = await send(`/postlogin?code=${code}&state=${encodeURIComponent(state)}`, {
            headers: { cookie },
          });
          assert.equal(answer.status, 400, `${placement}: ${answer.status}`);
          check(answer, [value, sealed, state], placement);
          const cookies = answer.headers.getSetCookie();
          assert.ok(
            cookies.every((c) => !/^cognito_(access|id|refresh)_token=[^;]/.test(c)),
            'no session cookie is set',
          );
        },
      ),
      { numRuns: runs(150) },
    );
  });

  it('callback query strings: any query → 400, error text never reflected', async () => {
    const paramName = fc.oneof(
      fc.constantFrom(
        'code',
        'state',
        'error',
        'error_description',
        'error_uri',
        'iss',
        'access_token',
        'id_token',
        'token',
        'refresh_token',
        'session_state',
        'returnTo',
      ),
      urlishString(10),
    );
    const param = fc.tuple(paramName, urlishString(120), fc.boolean());
    await fc.assert(
      fc.asyncProperty(
        fc.array(param, { maxLength: 6 }),
        fc.constantFrom('none', 'real-state-first', 'real-state-last'),
        fc.option(urlishString(60)),
        async (params, withState, tail) => {
          const browser = new TestBrowser();
          const pairs = params.map(([n, v, encode]) =>
            encode ? `${encodeURIComponent(n)}=${encodeURIComponent(v)}` : `${n}=${v}`,
          );
          if (withState !== 'none') {
            const started = await browser.request(`${stack.appUrl}/login`);
            const state = new URL(started.location!).searchParams.get('state')!;
            const pair = `state=${encodeURIComponent(state)}`;
            if (withState === 'real-state-first') pairs.unshift(pair);
            else pairs.push(pair);
          }
          const query = `${pairs.join('&')}${tail ?? ''}`;
          const jar = [...browser.cookiesFor(stack.appUrl)];
          const headers: Record<string, string> =
            jar.length === 0 ? {} : { cookie: jar.map(([n, v]) => `${n}=${v}`).join('; ') };
          let answer: Answer;
          try {
            answer = await send(`/postlogin?${query}`, { headers });
          } catch (error) {
            // fetch refuses some URLs before sending (nothing reached the app).
            if (error instanceof TypeError && /URL|Invalid/i.test(error.message)) return;
            throw error;
          }
          assert.equal(answer.status, 400, `query gave ${answer.status}`);
          assert.equal(answer.headers.get('location'), null);
          check(
            answer,
            params.map(([, v]) => v),
            'callback',
          );
        },
      ),
      { numRuns: runs(250) },
    );
  });

  it('returnTo: after a complete login the redirect never leaves the app', async () => {
    const browser = new TestBrowser();
    await login(browser, stack.appUrl, 'bob');
    const nasty = fc.constantFrom(
      '//evil.com',
      '///evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      '/\\/evil.com',
      '/%2F%2Fevil.com',
      '/%5Cevil.com',
      '%2F%2Fevil.com',
      'https://evil.com',
      'http:evil.com',
      'javascript:alert(1)',
      '\t//evil.com',
      ' //evil.com',
      '/\t/evil.com',
      '/\n/evil.com',
      '/.//evil.com',
      '/..//evil.com',
      '//evil.com/%2e%2e',
      '/\u3002evil.com',
      '//evil%E3%80%82com',
      '/@evil.com',
      '/admin',
      '/claims?x=1#frag',
      '',
    );
    const generated = fc.oneof(
      urlishString(40),
      fc
        .tuple(fc.constantFrom('/', '//', '/\\', '\\', ''), urlishString(30))
        .map(([a, b]) => a + b),
      fc.webUrl(),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(nasty, generated), fc.boolean(), async (returnTo, encode) => {
        const query = encode ? `returnTo=${encodeURIComponent(returnTo)}` : `returnTo=${returnTo}`;
        let start;
        try {
          start = await browser.request(`${stack.appUrl}/login?${query}`);
        } catch (error) {
          // fetch refuses some URLs before sending (nothing reached the app).
          if (error instanceof TypeError && /URL|Invalid/i.test(error.message)) return;
          throw error;
        }
        assert.equal(start.status, 302);
        check(start, [], 'login');
        let hop = await browser.request(start.location!);
        if (hop.status === 200) {
          // No hosted-UI session (should not happen after the first login): sign in.
          const form = readForm(hop.body, hop.url);
          hop = await browser.request(form.action, {
            form: { ...form.fields, username: 'bob', password: 'Passw0rd!' },
          });
        }
        assert.equal(hop.status, 302);
        assert.ok(hop.location!.startsWith(`${stack.appUrl}/postlogin?`));
        const done = await browser.request(hop.location!);
        assert.equal(done.status, 302, `callback ${done.status}`);
        check(done, [], `returnTo ${JSON.stringify(returnTo)}`);
        const target = new URL(done.headers.get('location')!, `${stack.appUrl}/postlogin`);
        assert.equal(target.origin, stack.appUrl);
      }),
      { numRuns: runs(150) },
    );
  });

  // Found by the cookie property: on a plain-http (local) app, a `__Host-cognito_txn_…` cookie
  // (which an https app on the same host can set) makes the flows that clear pending
  // transactions build a deletion that `deleteCookie` refuses (`__Host-` without Secure), so the
  // request ends in a 502.
  it('regression (fuzz): a __Host- transaction cookie on a plain-http app does not turn logout, callback or login into a 502', async () => {
    const hostCookie = '__Host-cognito_txn_AAAAAAAAAAAAAAAA=x';
    const pending = Array.from({ length: 4 }, (_, i) => `cognito_txn_${'B'.repeat(15)}${i}=y`);
    const cases = [
      { path: '/logout', cookie: hostCookie, status: 302 },
      { path: '/postlogin?code=abc', cookie: hostCookie, status: 400 },
      { path: '/login', cookie: [hostCookie, ...pending].join('; '), status: 302 },
    ];
    for (const { path, cookie, status } of cases) {
      const answer = await send(path, { headers: { cookie } });
      assert.equal(answer.status, status, path);
      check(answer, [], path);
      const deletion = answer.headers
        .getSetCookie()
        .find((c) => c.startsWith('__Host-cognito_txn_AAAAAAAAAAAAAAAA='));
      if (deletion !== undefined)
        assert.match(deletion, /; Secure/i, 'a __Host- deletion is Secure');
    }
  });

  it('no unhandled rejection happened anywhere in the run', () => {
    assert.deepEqual(rejections.reasons, []);
  });
});
