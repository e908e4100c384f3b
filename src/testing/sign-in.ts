/**
 * {@link signIn}: a real sign-in through a running app and the emulator's hosted page, the way a
 * browser does it, ending with the session's cookies.
 *
 * @module
 */
import { parseSetCookie } from 'cookie';
import { COOKIE_NAMES } from '../index.js';
import { CookieJar, type TestCookie } from './cookie-jar.js';

/**
 * Options of {@link signIn}.
 *
 * @example
 * ```ts
 * const options: SignInOptions = { username: 'alice', password: 'Passw0rd!', returnTo: '/admin' };
 * ```
 */
export interface SignInOptions {
  readonly username: string;
  readonly password: string;
  /**
   * The app's route that starts a sign-in (default `/login`), a path on the app's origin; it may
   * carry a query (`/login?returnTo=/admin`).
   */
  readonly loginPath?: string;
  /** Added to the login URL as `?returnTo=`: the page the app sends the user to after sign-in. */
  readonly returnTo?: string;
  /**
   * For a user whose status is `FORCE_CHANGE_PASSWORD`: the new password to set at the hosted
   * page's change-password step. Without it such a sign-in fails with a {@link SignInError}.
   */
  readonly newPassword?: string;
  /**
   * The jar to sign in with (default a new one): its cookies are sent, as a browser's are, and
   * the session's are added to it.
   */
  readonly jar?: CookieJar;
  /** Headers sent with every request of the sign-in (a `user-agent`, `accept-language`…). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The app's answer to the callback (its redirect URL), which ends a sign-in.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 *
 * assert.equal(session.callback.location, `${appUrl}/claims`);
 * ```
 */
export interface CallbackAnswer {
  /** The callback URL the hosted page sent the browser to (with `code` and `state`). */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** Its `Set-Cookie` values. */
  readonly setCookies: readonly string[];
  /** Where it redirects, as an absolute URL, if it does. */
  readonly location: string | undefined;
  readonly body: string;
}

/**
 * A signed-in session, ready to send: as a `Cookie` header (`fetch`, supertest, any client), as
 * Playwright cookies, or through the jar itself.
 *
 * @example
 * ```ts
 * const response = await fetch(`${appUrl}/claims`, { headers: { cookie: session.cookie } });
 * await context.addCookies([...session.cookies]);
 * ```
 */
export interface TestSession {
  /** The origin of the app the session belongs to. */
  readonly appUrl: string;
  readonly username: string;
  /** The `Cookie` header a browser would send to the app's `/` (every session cookie). */
  readonly cookie: string;
  /** The cookies a browser would send to the app, in Playwright's `addCookies()` shape. */
  readonly cookies: readonly TestCookie[];
  /** The jar holding the session (and, after {@link signIn}, the emulator's own cookies). */
  readonly jar: CookieJar;
}

/**
 * What {@link signIn} returns: the session, and the app's answer to the callback.
 *
 * @example
 * ```ts
 * const { cookie, callback } = await signIn(appUrl, { username: 'alice', password: 'Passw0rd!' });
 * ```
 */
export interface SignInResult extends TestSession {
  readonly callback: CallbackAnswer;
}

/**
 * A sign-in that did not end in a session: the message says at which step and why (the hosted
 * page's own error, the app's status), and `response` is the last answer, when there was one.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 *
 * await assert.rejects(signIn(appUrl, { username: 'alice', password: 'wrong' }), SignInError);
 * ```
 */
export class SignInError extends Error {
  /** The last answer received (for the callback step, the app's answer). */
  readonly response: CallbackAnswer | undefined;

  constructor(message: string, response?: CallbackAnswer) {
    super(message);
    this.name = 'SignInError';
    this.response = response;
  }
}

const MAX_HOPS = 20;

/**
 * A `Set-Cookie` that stores a session: a token cookie (whole or a piece of one) or a session
 * store's id, with a value (a deletion has none).
 */
function isSessionCookie(setCookie: string): boolean {
  const { name, value } = parseSetCookie(setCookie);
  const base = name.replace(/\.\d+$/, '');
  return (
    value !== undefined &&
    value !== '' &&
    (base === COOKIE_NAMES.accessToken || base === COOKIE_NAMES.session)
  );
}

/**
 * Undoes the emulator's HTML escaping of attribute values (numeric references and the named
 * `&quot;`, `&lt;`, `&gt;`, `&amp;`). Not part of the public entry; the test suite's browser
 * shares it.
 *
 * @example
 * ```ts
 * unescapeHtml('/login?client_id=a&amp;state=b'); // '/login?client_id=a&state=b'
 * ```
 */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

interface HostedForm {
  readonly action: string;
  readonly hidden: Record<string, string>;
  readonly fields: ReadonlySet<string>;
}

/**
 * The form of the emulator's hosted page (sign-in or change-password): its action, hidden fields
 * (the CSRF token, the challenge) and the names of the fields to fill. The page is the emulator's
 * own, so its markup is known; anything else is not a hosted page.
 */
function hostedForm(html: string, pageUrl: string): HostedForm | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (form === null) return undefined;
  const hidden: Record<string, string> = {};
  const fields = new Set<string>();
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    if (name === undefined) continue;
    if (/\btype="hidden"/i.test(input[0])) {
      hidden[unescapeHtml(name)] = unescapeHtml(/\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '');
    } else {
      fields.add(unescapeHtml(name));
    }
  }
  return { action: new URL(unescapeHtml(form[1] ?? ''), pageUrl).toString(), hidden, fields };
}

/** The hosted page's error message (`role="alert"`), if it shows one. */
function pageError(html: string): string | undefined {
  const match = /<p\b[^>]*role="alert"[^>]*>([\s\S]*?)<\/p>/i.exec(html);
  return match?.[1] === undefined ? undefined : unescapeHtml(match[1].replace(/<[^>]*>/g, ''));
}

async function answerOf(url: URL, response: Response): Promise<CallbackAnswer> {
  const location = response.headers.get('location');
  return {
    url: url.toString(),
    status: response.status,
    headers: response.headers,
    setCookies: response.headers.getSetCookie(),
    location: location === null ? undefined : new URL(location, url).toString(),
    body: await response.text(),
  };
}

/** A short, single-line excerpt of a page, for an error message. */
function excerpt(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** True for the request that returns from the identity provider to the app: the callback. */
function isCallback(url: URL, appOrigin: string, identityOrigin: string | undefined): boolean {
  return (
    identityOrigin !== undefined &&
    url.origin === appOrigin &&
    (url.searchParams.has('code') || url.searchParams.has('error'))
  );
}

/**
 * Signs a user in to a running app through a running emulator, as a browser would: the app's
 * login route, Cognito's `/oauth2/authorize`, the hosted sign-in form (CSRF token included), the
 * app's callback. Returns the session's cookies once the app's callback has set them.
 *
 * Works with any adapter and any route layout: the app's own redirects are followed, only the
 * login path has to be named when it is not `/login`. The emulator's own cookies stay in the jar,
 * so a second `signIn` with the same jar reuses the hosted-UI session, as a browser does.
 *
 * @param appUrl - the app's origin (or any URL on it), e.g. `http://127.0.0.1:3000`.
 * @throws {@link SignInError} naming the step that failed: the login route did not redirect, the
 *   hosted page refused the credentials (its message), the app refused the callback (its status).
 * @example
 * ```ts
 * import { signIn } from 'cognito-guard/testing';
 *
 * const session = await signIn('http://127.0.0.1:3000', { username: 'alice', password: 'Passw0rd!' });
 * const claims = await fetch('http://127.0.0.1:3000/claims', { headers: { cookie: session.cookie } });
 * ```
 */
export async function signIn(appUrl: string, options: SignInOptions): Promise<SignInResult> {
  const app = new URL(appUrl);
  const jar = options.jar ?? new CookieJar();
  const loginPath = options.loginPath ?? '/login';
  if (!loginPath.startsWith('/') || loginPath.startsWith('//')) {
    throw new TypeError(`loginPath must be a path on the app, such as /login (got ${loginPath})`);
  }
  let url = new URL(loginPath, app.origin);
  if (options.returnTo !== undefined) url.searchParams.set('returnTo', options.returnTo);
  const headers = { accept: 'text/html,application/xhtml+xml', ...options.headers };
  let method = 'GET';
  let body: URLSearchParams | undefined;
  let identityOrigin: string | undefined;
  let passwordSent = false;
  let newPasswordSent = false;

  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    const callback = isCallback(url, app.origin, identityOrigin);
    const response = await jar.fetch(url, {
      method,
      headers:
        body === undefined
          ? headers
          : { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
    });
    if (callback) {
      const answer = await answerOf(url, response);
      if (answer.status >= 400) {
        throw new SignInError(
          `the app refused the sign-in at its callback ${url.pathname} with ${answer.status}: ${excerpt(answer.body)}`,
          answer,
        );
      }
      if (!answer.setCookies.some(isSessionCookie)) {
        throw new SignInError(
          `the app's callback ${url.pathname} answered ${answer.status} but set no session cookie`,
          answer,
        );
      }
      return sessionFrom(jar, app.origin, options.username, answer);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      const next = new URL(location, url);
      // The first hop away from the app is the identity provider (the emulator's authorize).
      if (identityOrigin === undefined && next.origin !== app.origin) identityOrigin = next.origin;
      url = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    const page = await response.text();
    const where = url.origin === app.origin ? `the app (${url.pathname})` : 'the hosted page';
    if (identityOrigin === undefined) {
      throw new SignInError(
        `the app's login route ${loginPath} answered ${response.status} instead of redirecting to Cognito (is loginPath right?): ${excerpt(page)}`,
      );
    }
    const form = response.status === 200 ? hostedForm(page, url.toString()) : undefined;
    if (form?.fields.has('password') === true && !passwordSent) {
      passwordSent = true;
      body = new URLSearchParams({
        ...form.hidden,
        username: options.username,
        password: options.password,
      });
    } else if (form?.fields.has('new_password') === true && !newPasswordSent) {
      if (options.newPassword === undefined) {
        throw new SignInError(
          `${options.username} must set a new password (status FORCE_CHANGE_PASSWORD): pass newPassword`,
        );
      }
      newPasswordSent = true;
      body = new URLSearchParams({ ...form.hidden, new_password: options.newPassword });
    } else {
      const reason = pageError(page) ?? excerpt(page);
      throw new SignInError(
        `sign-in of ${options.username} stopped at ${where} with ${response.status}: ${reason}`,
      );
    }
    url = new URL(form.action);
    method = 'POST';
  }
  throw new SignInError(`more than ${MAX_HOPS} redirects during the sign-in`);
}

/** The session a jar holds for an app. */
export function sessionFrom(
  jar: CookieJar,
  appOrigin: string,
  username: string,
  callback: CallbackAnswer,
): SignInResult;
export function sessionFrom(jar: CookieJar, appOrigin: string, username: string): TestSession;
export function sessionFrom(
  jar: CookieJar,
  appOrigin: string,
  username: string,
  callback?: CallbackAnswer,
): TestSession | SignInResult {
  const root = `${appOrigin}/`;
  const session: TestSession = {
    appUrl: appOrigin,
    username,
    cookie: jar.header(root),
    cookies: jar.cookies(root),
    jar,
  };
  return callback === undefined ? session : { ...session, callback };
}
