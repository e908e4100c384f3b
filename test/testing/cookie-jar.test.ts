/**
 * The testing jar keeps and sends cookies as a browser does: per host name (not port), with
 * Domain, Path, Secure and expiry honoured; and its fetch follows redirects hop by hop without
 * losing a Set-Cookie.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CookieJar } from '../../src/testing/index.js';
import { serve } from '../support/http.js';

describe('CookieJar', () => {
  it('shares cookies across ports of one host, as browsers do, and not across hosts', () => {
    const jar = new CookieJar();
    jar.store('a=1; Path=/', 'http://127.0.0.1:3000/login');
    assert.equal(jar.header('http://127.0.0.1:9229/oauth2/authorize'), 'a=1');
    assert.equal(jar.header('http://localhost:3000/'), '');
  });

  it('keeps a Domain cookie for subdomains, refuses one for another site, and gives Playwright its dot', () => {
    const jar = new CookieJar();
    jar.store('wide=1; Domain=example.test; Path=/', 'https://app.example.test/');
    jar.store('evil=1; Domain=other.test; Path=/', 'https://app.example.test/');
    jar.store('narrow=1; Path=/', 'https://app.example.test/');
    assert.equal(jar.header('https://api.example.test/'), 'wide=1');
    assert.equal(jar.header('https://app.example.test/'), 'wide=1; narrow=1');
    assert.equal(jar.header('https://other.test/'), '');
    const byName = Object.fromEntries(jar.cookies().map((cookie) => [cookie.name, cookie.domain]));
    assert.deepEqual(byName, { wide: '.example.test', narrow: 'app.example.test' });
  });

  it('matches paths on segment boundaries, longest path first, and defaults to the directory', () => {
    const jar = new CookieJar();
    jar.store('root=1; Path=/', 'http://h.test/');
    jar.store('deep=1; Path=/logout', 'http://h.test/');
    jar.store('dir=1', 'http://h.test/a/b');
    assert.equal(jar.header('http://h.test/logout'), 'deep=1; root=1');
    assert.equal(jar.header('http://h.test/logoutx'), 'root=1');
    assert.equal(jar.header('http://h.test/a/c'), 'dir=1; root=1');
    assert.equal(jar.cookies().find((cookie) => cookie.name === 'dir')?.path, '/a');
  });

  it('deletes on Max-Age=0 or a past Expires, and lets cookies expire on its clock', () => {
    let now = 1_000_000;
    const jar = new CookieJar(() => now);
    jar.store('a=1; Max-Age=60', 'http://h.test/');
    jar.store('b=1; Path=/', 'http://h.test/');
    jar.store('b=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'http://h.test/');
    assert.equal(jar.header('http://h.test/'), 'a=1');
    assert.equal(jar.cookies()[0]?.expires, Math.floor((1_000_000 + 60_000) / 1000));
    now += 61_000;
    assert.equal(jar.header('http://h.test/'), '');
  });

  it('sends Secure cookies over https and to loopback only, and keeps values exactly as set', () => {
    const jar = new CookieJar();
    jar.store('s=%7Bx%7D; Secure; HttpOnly; SameSite=Strict; Path=/', 'https://site.test/');
    jar.store('s=1; Secure; Path=/', 'http://localhost:3000/');
    assert.equal(jar.header('http://site.test/'), '');
    assert.equal(jar.header('https://site.test/'), 's=%7Bx%7D');
    assert.equal(jar.header('http://localhost:3000/'), 's=1');
    const [cookie] = jar.cookies('https://site.test/');
    assert.deepEqual(cookie, {
      name: 's',
      value: '%7Bx%7D',
      domain: 'site.test',
      path: '/',
      expires: -1,
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
  });

  it('fetch follows redirects by hand, keeping every hop’s cookies, and turns a POST into a GET after 303', async () => {
    const seen: string[] = [];
    const server = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} cookie=${req.headers.cookie ?? ''}`);
      if (req.url === '/start') {
        res.writeHead(303, { location: '/middle', 'set-cookie': 'one=1; Path=/' }).end();
      } else if (req.url === '/middle') {
        res.writeHead(302, { location: '/end', 'set-cookie': 'two=2; Path=/' }).end();
      } else {
        res.end('done');
      }
    });
    const base = server.url;
    try {
      const jar = new CookieJar();
      const response = await jar.fetch(`${base}/start`, {
        method: 'POST',
        body: 'x=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(await response.text(), 'done');
      assert.equal(response.url, `${base}/end`);
      assert.deepEqual(seen, [
        'POST /start cookie=',
        'GET /middle cookie=one=1',
        'GET /end cookie=one=1; two=2',
      ]);
      const manual = await jar.fetch(`${base}/start`, { redirect: 'manual' });
      assert.equal(manual.status, 303);
      await assert.rejects(jar.fetch(`${base}/start`, { redirect: 'error' }), TypeError);
    } finally {
      await server.stop();
    }
  });
});
