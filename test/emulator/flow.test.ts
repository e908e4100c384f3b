// The hosted-UI flow driven like a browser over real HTTP: authorize → login page → POST → code,
// the 1-hour session, prompt handling, the login page itself, and /logout.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { CSRF_COOKIE, SESSION_COOKIE, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  CLIENT_ID,
  CookieJar,
  DEMO_PASSWORD,
  REDIRECT_URI,
  authorizeUrl,
  basic,
  browserLogin,
  defaultAuthorizeParams,
  get,
  parseLoginForm,
  pkcePair,
  postForm,
  resetSwitches,
} from './helpers.js';

let emulator: EmulatorHandle;

before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(async () => {
  await emulator.stop();
});
beforeEach(() => {
  resetSwitches(emulator);
});

async function loginPage(params: Record<string, string | undefined> = {}, jar = new CookieJar()) {
  const response = await get(
    `${emulator.url}/login?${new URLSearchParams(defaultAuthorizeParams(params) as Record<string, string>).toString()}`,
    jar,
  );
  return { response, text: await response.text(), jar };
}

async function submitLogin(
  jar: CookieJar,
  page: string,
  form: Record<string, string>,
): Promise<Response> {
  const { action } = parseLoginForm(page);
  const response = await fetch(new URL(action, emulator.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams(form),
  });
  jar.store(response);
  return response;
}

describe('code + PKCE flow like a browser', () => {
  it('authorize → login page → POST → 302 to the exact redirect_uri with code and state → tokens', async () => {
    const { verifier, challenge } = pkcePair();
    const jar = new CookieJar();
    const start = await get(
      authorizeUrl(
        emulator,
        defaultAuthorizeParams({ code_challenge: challenge, code_challenge_method: 'S256' }),
      ),
      jar,
    );
    assert.equal(start.status, 302);
    const loginUrl = new URL(start.headers.get('location') ?? '');
    assert.equal(loginUrl.origin + loginUrl.pathname, `${emulator.url}/login`);
    assert.equal(
      loginUrl.searchParams.get('code_challenge'),
      challenge,
      'authorize parameters are forwarded',
    );

    const page = await get(loginUrl.href, jar);
    assert.equal(page.status, 200);
    assert.ok(jar.cookies.has(CSRF_COOKIE), 'the CSRF cookie is set');
    const setCookie = page.headers.getSetCookie().join('\n');
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    const html = await page.text();
    const { csrf } = parseLoginForm(html);
    assert.equal(csrf, jar.cookies.get(CSRF_COOKIE));

    const submit = await submitLogin(jar, html, {
      _csrf: csrf,
      username: 'alice',
      password: DEMO_PASSWORD,
    });
    assert.equal(submit.status, 302);
    const back = new URL(submit.headers.get('location') ?? '');
    assert.equal(back.origin + back.pathname, REDIRECT_URI);
    assert.equal(back.searchParams.get('state'), 'state-123');
    const code = back.searchParams.get('code') ?? '';
    assert.match(
      code,
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'codes are UUIDs',
    );
    assert.equal(back.hash, '', 'the code travels in the query, never the fragment');
    const sessionCookie =
      submit.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    assert.match(sessionCookie, /Max-Age=3600/);
    assert.match(sessionCookie, /HttpOnly/);
    assert.match(sessionCookie, /SameSite=Lax/i);

    const tokens = await postForm(
      `${emulator.url}/oauth2/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      },
      { authorization: basic() },
    );
    assert.equal(tokens.status, 200);
    const body = (await tokens.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'id_token',
      'refresh_token',
      'token_type',
    ]);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
  });

  it('a live session sends authorize straight back with a new code (no login page)', async () => {
    const first = await browserLogin(emulator);
    const again = await get(
      authorizeUrl(emulator, defaultAuthorizeParams({ state: 'second' })),
      first.jar,
    );
    assert.equal(again.status, 302);
    const location = new URL(again.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, REDIRECT_URI);
    assert.equal(location.searchParams.get('state'), 'second');
    assert.notEqual(location.searchParams.get('code'), first.code);
  });

  it("a disabled user's session no longer signs them in: authorize sends the browser to the login page", async () => {
    emulator.addUser({ username: 'sleeper', password: DEMO_PASSWORD });
    const first = await browserLogin(emulator, { username: 'sleeper' });
    emulator.addUser({ username: 'sleeper', password: DEMO_PASSWORD, enabled: false });
    const again = await get(
      authorizeUrl(emulator, defaultAuthorizeParams({ state: 'second' })),
      first.jar,
    );
    assert.equal(again.status, 302);
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('removing a user ends their session: a user added again under the same name must sign in', async () => {
    emulator.addUser({ username: 'lazarus', password: DEMO_PASSWORD });
    const first = await browserLogin(emulator, { username: 'lazarus' });
    assert.ok(emulator.removeUser('lazarus'));
    emulator.addUser({ username: 'lazarus', password: 'Other-Passw0rd!' });
    const again = await get(authorizeUrl(emulator, defaultAuthorizeParams()), first.jar);
    assert.equal(again.status, 302);
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('prompt=login forces the login page even with a session', async () => {
    const first = await browserLogin(emulator);
    const again = await get(
      authorizeUrl(emulator, defaultAuthorizeParams({ prompt: 'login' })),
      first.jar,
    );
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('prompt=none without a session: login_required redirect, or the login page when the switch says ignore', async () => {
    const none = await get(authorizeUrl(emulator, defaultAuthorizeParams({ prompt: 'none' })));
    const location = new URL(none.headers.get('location') ?? '');
    assert.equal(location.origin + location.pathname, REDIRECT_URI);
    assert.equal(location.searchParams.get('error'), 'login_required');
    assert.equal(location.searchParams.get('code'), null);

    emulator.switches.promptNone = 'ignore';
    const ignored = await get(authorizeUrl(emulator, defaultAuthorizeParams({ prompt: 'none' })));
    assert.match(ignored.headers.get('location') ?? '', /\/login\?/);
  });
});

describe('login page', () => {
  it('is accessible, self-contained HTML with labels, a CSRF field and no external assets', async () => {
    const { response, text } = await loginPage();
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(text, /<label for="username">/);
    assert.match(text, /<label for="password">/);
    assert.match(text, /<input id="username" name="username"/);
    assert.match(text, /<input id="password" name="password" type="password"/);
    assert.match(text, /name="_csrf"/);
    assert.doesNotMatch(text, /<script|<link|src=|https?:\/\/(?!localhost)/i);
  });

  it('escapes everything it echoes and prefills login_hint', async () => {
    const { text } = await loginPage({
      login_hint: '"><script>alert(1)</script>',
      state: '"><img src=x>',
    });
    assert.doesNotMatch(text, /<script>alert/);
    assert.doesNotMatch(text, /<img src=x>/);
    assert.match(text, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });

  it('bad credentials: a clear error that does not reveal whether the user exists, and no redirect', async () => {
    const jar = new CookieJar();
    const { text } = await loginPage({}, jar);
    const { csrf } = parseLoginForm(text);
    const wrongPassword = await submitLogin(jar, text, {
      _csrf: csrf,
      username: 'alice',
      password: 'nope',
    });
    const unknownUser = await submitLogin(jar, text, {
      _csrf: csrf,
      username: 'mallory',
      password: 'nope',
    });
    assert.equal(wrongPassword.status, 400);
    assert.equal(unknownUser.status, 400);
    const a = await wrongPassword.text();
    const b = await unknownUser.text();
    assert.match(a, /role="alert"[^>]*>Incorrect username or password\./);
    assert.match(b, /role="alert"[^>]*>Incorrect username or password\./);
    const strip = (page: string) => page.replace(/value="[^"]*"/g, '');
    assert.equal(strip(a), strip(b), 'unknown user and wrong password look the same');
    assert.equal(jar.cookies.has(SESSION_COOKIE), false, 'no session after a failed login');
  });

  it('rejects a POST without the CSRF cookie or with a wrong token (403, no code)', async () => {
    const jar = new CookieJar();
    const { text } = await loginPage({}, jar);
    const wrong = await submitLogin(jar, text, {
      _csrf: 'x'.repeat(43),
      username: 'alice',
      password: DEMO_PASSWORD,
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get('location'), null);
    const noCookie = await submitLogin(new CookieJar(), text, {
      _csrf: parseLoginForm(text).csrf,
      username: 'alice',
      password: DEMO_PASSWORD,
    });
    assert.equal(noCookie.status, 403);
  });

  it('an unconfirmed or disabled user is refused with a message and no code', async () => {
    emulator.addUser({ username: 'pending', password: DEMO_PASSWORD, status: 'UNCONFIRMED' });
    emulator.addUser({ username: 'blocked', password: DEMO_PASSWORD, enabled: false });
    for (const [username, message] of [
      ['pending', 'User is not confirmed.'],
      ['blocked', 'User is disabled.'],
    ] as const) {
      const { text, jar } = await loginPage();
      const response = await submitLogin(jar, text, {
        _csrf: parseLoginForm(text).csrf,
        username,
        password: DEMO_PASSWORD,
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
      assert.match(await response.text(), new RegExp(message.replaceAll('.', '\\.')));
    }
  });

  it('a user with a temporary password chooses a new one, then lands in the app signed in', async () => {
    emulator.addUser({
      username: 'newbie',
      password: 'Temp-Passw0rd!',
      status: 'FORCE_CHANGE_PASSWORD',
    });
    const { text, jar } = await loginPage();
    const step = await submitLogin(jar, text, {
      _csrf: parseLoginForm(text).csrf,
      username: 'newbie',
      password: 'Temp-Passw0rd!',
    });
    assert.equal(step.status, 200);
    const changePage = await step.text();
    assert.match(changePage, /<h1>Change password<\/h1>/);
    assert.equal(step.headers.get('location'), null, 'no code before the password is changed');
    const challenge = /name="_challenge" value="([^"]+)"/.exec(changePage)?.[1] ?? '';

    const weak = await submitLogin(jar, changePage, {
      _csrf: parseLoginForm(changePage).csrf,
      _challenge: challenge,
      new_password: 'weak',
    });
    assert.equal(weak.status, 400);
    const retryPage = await weak.text();
    assert.match(retryPage, /Password did not conform with policy/);
    const retryChallenge = /name="_challenge" value="([^"]+)"/.exec(retryPage)?.[1] ?? '';

    const done = await submitLogin(jar, retryPage, {
      _csrf: parseLoginForm(retryPage).csrf,
      _challenge: retryChallenge,
      new_password: 'Chosen-Passw0rd!',
    });
    assert.equal(done.status, 302);
    const location = new URL(done.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
    assert.ok(location.searchParams.get('code'));
    assert.equal(emulator.users().find((u) => u.username === 'newbie')?.status, 'CONFIRMED');
    await browserLogin(emulator, { username: 'newbie', password: 'Chosen-Passw0rd!' });

    const replay = await submitLogin(new CookieJar(), retryPage, {
      _csrf: parseLoginForm(retryPage).csrf,
      _challenge: retryChallenge,
      new_password: 'Another-Passw0rd!',
    });
    assert.equal(replay.status, 403, 'the change-password form is CSRF-protected too');
    const reused = await submitLogin(jar, retryPage, {
      _csrf: parseLoginForm(retryPage).csrf,
      _challenge: retryChallenge,
      new_password: 'Another-Passw0rd!',
    });
    assert.equal(reused.status, 400, 'a change-password step answers once');
    assert.match(await reused.text(), /Your session expired/);
  });

  it('validates client and redirect like authorize (error page, never the app)', async () => {
    const { response } = await loginPage({ redirect_uri: 'https://evil.example/cb' });
    assert.equal(response.status, 302);
    assert.equal(
      response.headers.get('location'),
      `${emulator.url}/error?error=redirect_mismatch&client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    );
  });
});

describe('/logout', () => {
  it('redirects to a registered logout_uri and ends the 1-hour session', async () => {
    const { jar } = await browserLogin(emulator);
    const logout = await get(
      `${emulator.url}/logout?client_id=${CLIENT_ID}&logout_uri=${encodeURIComponent('http://localhost:3000/postlogout')}`,
      jar,
    );
    assert.equal(logout.status, 302);
    assert.equal(logout.headers.get('location'), 'http://localhost:3000/postlogout');
    assert.match(
      logout.headers.getSetCookie().join('\n'),
      new RegExp(`${SESSION_COOKIE}=; .*Max-Age=0`),
    );
    const again = await get(authorizeUrl(emulator, defaultAuthorizeParams()), jar);
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('the old session cookie value no longer signs in after logout', async () => {
    const { jar } = await browserLogin(emulator);
    const sessionValue = jar.cookies.get(SESSION_COOKIE) ?? '';
    await get(
      `${emulator.url}/logout?client_id=${CLIENT_ID}&logout_uri=${encodeURIComponent('http://localhost:3000/postlogout')}`,
      jar,
    );
    const replay = new CookieJar();
    replay.cookies.set(SESSION_COOKIE, sessionValue);
    const again = await get(authorizeUrl(emulator, defaultAuthorizeParams()), replay);
    assert.match(again.headers.get('location') ?? '', /\/login\?/);
  });

  it('an unregistered logout_uri shows the error page and does not redirect there', async () => {
    const response = await get(
      `${emulator.url}/logout?client_id=${CLIENT_ID}&logout_uri=${encodeURIComponent('https://evil.example/')}`,
    );
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location') ?? '');
    assert.equal(location.origin, emulator.url);
    assert.equal(location.pathname, '/error');
    assert.equal(
      location.searchParams.get('error'),
      "Required String parameter 'redirect_uri' is not present",
    );
    const page = await get(location.href);
    assert.equal(page.status, 400);
    const text = await page.text();
    assert.match(text, /Required String parameter &#39;redirect_uri&#39; is not present/);
    assert.match(text, /id="refused-url">https:\/\/evil\.example\/</, 'names the refused URL');
    assert.match(text, /sign-out URLs/);
    assert.match(text, /<li><code>http:\/\/localhost:3000\/postlogout<\/code><\/li>/);
  });

  it('the demo client accepts its sign-out path on any loopback port (a dev default)', async () => {
    const logoutUri = 'http://127.0.0.1:4567/postlogout';
    const response = await get(
      `${emulator.url}/logout?client_id=${CLIENT_ID}&logout_uri=${encodeURIComponent(logoutUri)}`,
    );
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), logoutUri);
  });

  it('logout with redirect_uri sends the user to /login again; unknown client → error page', async () => {
    const relogin = await get(
      `${emulator.url}/logout?client_id=${CLIENT_ID}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
    );
    assert.match(relogin.headers.get('location') ?? '', new RegExp(`^${emulator.url}/login\\?`));
    const unknown = await get(`${emulator.url}/logout?client_id=nope&logout_uri=x`);
    assert.match(unknown.headers.get('location') ?? '', /\/error\?/);
  });
});
