/**
 * Signing in through an app and the emulator's hosted page, whole or step by step: `login()` does
 * the whole round trip with `signIn` from `cognito-guard/testing`; `beginLogin()`, `signInAt()`
 * and the callback URL they return let a test split a sign-in between a victim and an attacker,
 * replay a callback, or rewrite its query.
 *
 * @example
 * ```ts
 * await login(browser, app.url, 'alice'); // signed in
 * const started = await beginLogin(browser, app.url);
 * const callbackUrl = await signInAt(browser, started.authorizeUrl, 'bob'); // not visited yet
 * ```
 */
import { CookieJar, SignInError, signIn, type CallbackAnswer } from '../../src/testing/index.js';
import { readForm, type BrowserResponse, type TestBrowser } from './browser.js';
import { isTransactionCookie } from './cookies.js';
import { DEMO_PASSWORD } from './pool.js';

/**
 * Logs in through the emulator's hosted page with `signIn` from cognito-guard/testing (GET
 * /login → authorize → login form → POST → callback), carrying the browser's cookies in and out.
 * Returns the callback's response (normally a 302 to returnTo or /claims), also when the app
 * refuses the sign-in there.
 */
export async function login(
  browser: TestBrowser,
  appUrl: string,
  username: string,
  password = DEMO_PASSWORD,
  loginPath = '/login',
): Promise<BrowserResponse> {
  const jar = new CookieJar();
  for (const [host, cookies] of browser.jar) {
    for (const [name, value] of cookies) jar.store(`${name}=${value}; Path=/`, `http://${host}/`);
  }
  let callback: CallbackAnswer;
  try {
    ({ callback } = await signIn(appUrl, { username, password, loginPath, jar }));
  } catch (error) {
    if (!(error instanceof SignInError) || error.response === undefined) throw error;
    callback = error.response;
  }
  browser.jar.clear();
  for (const cookie of jar.cookies()) {
    browser.setCookie(`http://${cookie.domain.replace(/^\./, '')}/`, cookie.name, cookie.value);
  }
  // This browser keeps cookies by name only (no Domain rules): the callback's cookies are kept as
  // it keeps them, even where a real browser's jar would refuse one (a Domain of another host).
  browser.store(callback.url, callback.setCookies);
  return {
    status: callback.status,
    url: callback.url,
    headers: callback.headers,
    setCookies: [...callback.setCookies],
    body: callback.body,
    location: callback.location,
  };
}

/** A started sign-in: the redirect to Cognito and the values the app put in it. */
export interface StartedLogin {
  readonly response: BrowserResponse;
  /** The authorize URL at Cognito. */
  readonly authorizeUrl: string;
  readonly state: string;
  readonly nonce: string;
  /** The `Set-Cookie` header of the transaction cookie. */
  readonly transactionCookie: string;
  /** The transaction cookie's name. */
  readonly transactionCookieName: string;
}

/** `GET {appUrl}{path}` and reads the redirect to Cognito's authorize endpoint. */
export async function beginLogin(
  browser: TestBrowser,
  appUrl: string,
  path = '/login',
): Promise<StartedLogin> {
  const response = await browser.request(`${appUrl}${path}`);
  if (response.status !== 302 || response.location === undefined) {
    throw new Error(`expected a redirect to Cognito, got ${response.status}`);
  }
  const url = new URL(response.location);
  const transactionCookie = response.setCookies.find((header) =>
    isTransactionCookie(header.slice(0, header.indexOf('='))),
  );
  if (transactionCookie === undefined) throw new Error('no transaction cookie');
  return {
    response,
    authorizeUrl: response.location,
    state: url.searchParams.get('state') ?? '',
    nonce: url.searchParams.get('nonce') ?? '',
    transactionCookie,
    transactionCookieName: transactionCookie.slice(0, transactionCookie.indexOf('=')),
  };
}

/**
 * Signs `username` in at Cognito for `authorizeUrl` and returns the callback URL (code and state)
 * without visiting it. Works with and without a live hosted-UI session in the browser; with
 * `{ loginPage: 'required' }` (a browser that holds no session) a redirect to the app without
 * the login page fails instead.
 */
export async function signInAt(
  browser: TestBrowser,
  authorizeUrl: string,
  username: string,
  options: { readonly loginPage?: 'required' } = {},
): Promise<string> {
  const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri') ?? '';
  const page = await browser.follow(authorizeUrl, { stopAt: (url) => url.startsWith(redirectUri) });
  const signedInAlready = page.status === 302 && page.location?.startsWith(redirectUri) === true;
  if (signedInAlready && options.loginPage !== 'required') return page.location;
  if (page.status !== 200) throw new Error(`expected the hosted login page, got ${page.status}`);
  const form = readForm(page.body, page.url);
  const submitted = await browser.request(form.action, {
    form: { ...form.fields, username, password: DEMO_PASSWORD },
  });
  if (submitted.status !== 302 || submitted.location === undefined) {
    throw new Error(`login form answered ${submitted.status}, not a redirect to the callback`);
  }
  return submitted.location;
}

/** Starts a sign-in at `appUrl` and returns the callback URL without visiting it. */
export async function callbackUrlFor(
  browser: TestBrowser,
  appUrl: string,
  username: string,
  path = '/login',
): Promise<string> {
  const started = await beginLogin(browser, appUrl, path);
  return signInAt(browser, started.authorizeUrl, username);
}

/** The callback URL with its query replaced (keeps origin and path). */
export function withQuery(callbackUrl: string, query: string): string {
  const url = new URL(callbackUrl);
  return `${url.origin}${url.pathname}?${query}`;
}
