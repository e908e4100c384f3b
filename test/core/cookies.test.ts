import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cookieHeaderAfter,
  CookieTooLargeError,
  deleteCookie,
  parseCookies,
  setCookie,
} from '../../src/core/cookies.js';
import { CookieSealer } from '../../src/core/crypto.js';

const attrs = { secure: true, sameSite: 'Lax', domain: 'example.com' } as const;

describe('cookies', () => {
  it('B54 sets HttpOnly, Secure, Path=/, SameSite and Max-Age', () => {
    const header = setCookie('cognito_access_token', 'a.b.c', 1800, attrs);
    assert.match(header, /^cognito_access_token=a\.b\.c;/);
    for (const part of [
      'Max-Age=1800',
      'Domain=example.com',
      'Path=/',
      'HttpOnly',
      'Secure',
      'SameSite=Lax',
    ]) {
      assert.ok(header.includes(part), `${part} missing in ${header}`);
    }
  });

  it('deletes with the same Path/Domain/Secure/SameSite it set (B53)', () => {
    const header = deleteCookie('cognito_access_token', attrs);
    for (const part of [
      'cognito_access_token=;',
      'Max-Age=0',
      'Domain=example.com',
      'Path=/',
      'HttpOnly',
      'Secure',
      'SameSite=Lax',
      'Expires=Thu, 01 Jan 1970',
    ]) {
      assert.ok(header.includes(part), `${part} missing in ${header}`);
    }
  });

  it('B55 enforces __Host- rules', () => {
    assert.throws(
      () => setCookie('__Host-x', 'v', 1, { secure: false, sameSite: 'Lax' }),
      TypeError,
    );
    assert.throws(
      () => setCookie('__Host-x', 'v', 1, { secure: true, sameSite: 'Lax', domain: 'example.com' }),
      TypeError,
    );
    assert.match(setCookie('__Host-x', 'v', 1, { secure: true, sameSite: 'Lax' }), /Path=\//);
  });

  it('deletes a __Host- cookie on its own terms even when the app is plain http', () => {
    const header = deleteCookie('__Host-cognito_txn_x', {
      secure: false,
      sameSite: 'Lax',
      domain: 'example.com',
    });
    assert.match(header, /; Secure/);
    assert.doesNotMatch(header, /Domain=/);
  });

  it('B58 refuses a cookie over 4,096 bytes instead of letting the browser drop it', () => {
    assert.throws(
      () => setCookie('cognito_id_token', 'a'.repeat(4100), 60, attrs),
      CookieTooLargeError,
    );
  });

  it('B57 reports duplicate names', () => {
    const parsed = parseCookies('cognito_access_token=a; other=1; cognito_access_token=b', [
      'cognito_access_token',
      'other',
    ]);
    assert.ok(parsed.duplicates.has('cognito_access_token'));
    assert.ok(!parsed.duplicates.has('other'));
    assert.equal(parseCookies('a=1; b=2', ['a', 'b']).duplicates.size, 0);
  });

  it('B57 watched names: duplicates found at pair boundaries only, spaces before = included', () => {
    const watched = ['cognito_access_token'];
    assert.ok(
      parseCookies('cognito_access_token=a; cognito_access_token =b', watched).duplicates.has(
        'cognito_access_token',
      ),
    );
    assert.ok(
      parseCookies('cognito_access_token=a;cognito_access_token=b', watched).duplicates.has(
        'cognito_access_token',
      ),
    );
    assert.equal(
      parseCookies('xcognito_access_token=a; cognito_access_token=b', watched).duplicates.size,
      0,
    );
    assert.equal(
      parseCookies('other=cognito_access_token=x; cognito_access_token=b', watched).duplicates.size,
      0,
    );
    assert.equal(
      parseCookies('cognito_access_token=a; cognito_id_token=b', watched).duplicates.size,
      0,
    );
  });

  it('parses hostile headers without throwing', () => {
    for (const header of [
      '',
      ';;;',
      '=',
      'a',
      'a=%',
      'a=%E0%A4%A',
      '\u0000=\u0000',
      'x'.repeat(10000),
    ]) {
      assert.doesNotThrow(() => parseCookies(header));
    }
  });
});

describe('cookieHeaderAfter: the Cookie header once the Set-Cookie values are applied', () => {
  const lax = { secure: false, sameSite: 'Lax' } as const;

  it('replaces a set cookie, drops a deleted one, and keeps every other pair as sent', () => {
    const header = 'theme=dark; cognito_access_token=old; cognito_id_token.0=a; other=%7Bx%7D';
    assert.equal(
      cookieHeaderAfter(header, [
        setCookie('cognito_access_token', 'new.token.value', 3600, lax),
        deleteCookie('cognito_id_token.0', lax),
      ]),
      'theme=dark; other=%7Bx%7D; cognito_access_token=new.token.value',
    );
  });

  it('adds cookies to a request that had none, and answers undefined when none are left', () => {
    assert.equal(
      cookieHeaderAfter(undefined, [setCookie('cognito_session', 's1', 60, lax)]),
      'cognito_session=s1',
    );
    assert.equal(
      cookieHeaderAfter('cognito_session=s1', [deleteCookie('cognito_session', lax)]),
      undefined,
    );
  });

  it('replaces every pair of a name sent twice (a cookie planted from a sibling domain), and the last Set-Cookie of a name wins', () => {
    assert.equal(
      cookieHeaderAfter('cognito_access_token=planted; a=1; cognito_access_token=old', [
        setCookie('cognito_access_token', 'first', 60, lax),
        setCookie('cognito_access_token', 'second', 60, lax),
      ]),
      'a=1; cognito_access_token=second',
    );
  });

  it('treats an Expires in the past as a deletion, and keeps values exactly as serialised', () => {
    assert.equal(
      cookieHeaderAfter('a=1; b=2', [
        'a=gone; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
        'b=%20spaced%20; Path=/',
      ]),
      'b=%20spaced%20',
    );
  });
});

describe('CookieSealer (B59)', () => {
  const secret = 's'.repeat(32);
  const other = 'o'.repeat(32);

  it('round-trips, and the sealed value reveals nothing of the payload', async () => {
    const sealer = new CookieSealer([secret]);
    const sealed = await sealer.seal('refresh-token', { rt: 'super-secret-refresh-token' }, 60);
    assert.ok(!sealed.includes('super-secret'));
    assert.ok(
      !Buffer.from(sealed.split('.')[3] ?? '', 'base64url')
        .toString()
        .includes('super-secret'),
    );
    assert.deepEqual(
      (await sealer.unseal('refresh-token', sealed))?.rt,
      'super-secret-refresh-token',
    );
  });

  it('refuses a value sealed for another purpose (transaction ≠ refresh token)', async () => {
    const sealer = new CookieSealer([secret]);
    const sealed = await sealer.seal('transaction', { s: 'x' }, 60);
    assert.equal(await sealer.unseal('refresh-token', sealed), undefined);
  });

  it('refuses tampered values and garbage', async () => {
    const sealer = new CookieSealer([secret]);
    const sealed = await sealer.seal('transaction', { s: 'x' }, 60);
    const parts = sealed.split('.');
    const flipped = parts[3]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal(
      await sealer.unseal('transaction', [...parts.slice(0, 3), flipped, parts[4]].join('.')),
      undefined,
    );
    for (const garbage of ['', 'a.b.c.d.e', 'not-a-jwe', 'x'.repeat(9000)]) {
      assert.equal(await sealer.unseal('transaction', garbage), undefined);
    }
  });

  it('refuses expired values', async () => {
    let now = 1_700_000_000_000;
    const sealer = new CookieSealer([secret], () => now);
    const sealed = await sealer.seal('transaction', { s: 'x' }, 600);
    now += 601_000;
    assert.equal(await sealer.unseal('transaction', sealed), undefined);
  });

  it('rotation: a new first secret still opens values sealed with the old one, and a removed secret does not', async () => {
    const sealedWithOld = await new CookieSealer([other]).seal('refresh-token', { rt: 'r' }, 60);
    assert.equal(
      (await new CookieSealer([secret, other]).unseal('refresh-token', sealedWithOld))?.rt,
      'r',
    );
    assert.equal(
      await new CookieSealer([secret]).unseal('refresh-token', sealedWithOld),
      undefined,
    );
  });
});
