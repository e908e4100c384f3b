/**
 * A cookie jar for tests that behaves like a browser's for the cases a sign-in meets: cookies are
 * kept per host name, not per port (so an app and the emulator on `127.0.0.1` share one jar, as
 * they do in a browser), `Domain`, `Path`, `Secure`, `Max-Age`/`Expires` are honoured, and
 * redirects are followed by hand so no `Set-Cookie` of an intermediate hop is lost. Parsing is the
 * `cookie` package's.
 *
 * @module
 */
import { parseSetCookie } from 'cookie';

/**
 * One cookie, in the shape Playwright's `browserContext.addCookies()` takes.
 *
 * @example
 * ```ts
 * const cookie: TestCookie = {
 *   name: 'cognito_access_token',
 *   value: 'eyJ…',
 *   domain: '127.0.0.1',
 *   path: '/',
 *   expires: -1,
 *   httpOnly: true,
 *   secure: false,
 *   sameSite: 'Lax',
 * };
 * ```
 */
export interface TestCookie {
  readonly name: string;
  /** The value exactly as the server set it (still encoded), as a browser keeps it. */
  readonly value: string;
  /**
   * The host name of a host-only cookie (`127.0.0.1`), or `.example.com` for a cookie set with a
   * `Domain` attribute (sent to subdomains too): Playwright's convention.
   */
  readonly domain: string;
  readonly path: string;
  /** Unix time in seconds; `-1` for a session cookie. */
  readonly expires: number;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  /** What the server set; `Lax` (what browsers assume) when it set none. */
  readonly sameSite: 'Strict' | 'Lax' | 'None';
}

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** Lower-case host name, without a leading dot. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  /** Epoch milliseconds, or `undefined` for a session cookie. */
  readonly expiresAtMs: number | undefined;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly createdAt: number;
}

/** How a redirect is followed, as in `fetch`: by hand (`follow`), not at all, or as an error. */
type RedirectMode = 'follow' | 'manual' | 'error';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[') || host.includes(':');
}

/**
 * Browsers treat loopback origins as secure contexts and send `Secure` cookies to them over plain
 * http (Chromium and Firefox alike), so an app on `http://localhost` still gets them.
 */
function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\./.test(host)
  );
}

/** RFC 6265 §5.1.3: the request host is the domain, or a subdomain of it (never for IPs). */
function domainMatches(host: string, domain: string): boolean {
  return host === domain || (!isIpAddress(host) && host.endsWith(`.${domain}`));
}

/** RFC 6265 §5.1.4: the request path is the cookie path, or below it. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

/** RFC 6265 §5.1.4: the directory of the request path. */
function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : pathname.slice(0, slash);
}

function sameSiteOf(value: unknown): 'Strict' | 'Lax' | 'None' {
  if (value === 'strict' || value === true) return 'Strict';
  if (value === 'none') return 'None';
  return 'Lax';
}

/**
 * A browser-like cookie jar. `jar.fetch` is a drop-in `fetch` that sends the jar's cookies,
 * keeps the ones set, and follows redirects itself; `jar.header(url)` is the `Cookie` header a
 * browser would send (for supertest's `.set('Cookie', …)` or any HTTP client); `jar.cookies(url)`
 * are Playwright's `addCookies()` objects.
 *
 * @example
 * ```ts
 * const jar = new CookieJar();
 * const response = await jar.fetch('http://127.0.0.1:3000/claims');
 * console.log(jar.header('http://127.0.0.1:3000/'));
 * ```
 */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  readonly #now: () => number;
  #created = 0;

  /** @param now - the clock in milliseconds that expiry is judged on (default `Date.now`). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Keeps one `Set-Cookie` header value received from `url`, as a browser would: a cookie for
   * another site's `Domain` is ignored, an expired one deletes what it names.
   *
   * @example
   * ```ts
   * jar.store('theme=dark; Path=/; Max-Age=3600', 'http://127.0.0.1:3000/');
   * ```
   */
  store(setCookie: string, url: string | URL): void {
    const from = new URL(url);
    const host = from.hostname.toLowerCase();
    // Values stay as sent: a browser returns exactly the bytes it received.
    const parsed = parseSetCookie(setCookie, { decode: (value) => value });
    if (parsed.name === '') return;
    let domain = host;
    let hostOnly = true;
    if (parsed.domain !== undefined && parsed.domain !== '') {
      const wanted = parsed.domain.toLowerCase().replace(/^\./, '');
      if (!domainMatches(host, wanted)) return;
      domain = wanted;
      hostOnly = false;
    }
    const path = parsed.path?.startsWith('/') === true ? parsed.path : defaultPath(from.pathname);
    const now = this.#now();
    let expiresAtMs: number | undefined;
    if (parsed.maxAge !== undefined) expiresAtMs = now + parsed.maxAge * 1000;
    else if (parsed.expires !== undefined) expiresAtMs = parsed.expires.getTime();
    const key = `${domain};${path};${parsed.name}`;
    if (expiresAtMs !== undefined && expiresAtMs <= now) {
      this.#cookies.delete(key);
      return;
    }
    this.#created += 1;
    this.#cookies.set(key, {
      name: parsed.name,
      value: parsed.value ?? '',
      domain,
      hostOnly,
      path,
      expiresAtMs,
      httpOnly: parsed.httpOnly === true,
      secure: parsed.secure === true,
      sameSite: sameSiteOf(parsed.sameSite),
      createdAt: this.#cookies.get(key)?.createdAt ?? this.#created,
    });
  }

  /** The live cookies a browser would send to `url`, longest path first (RFC 6265 §5.4). */
  #matching(url: string | URL): StoredCookie[] {
    const target = new URL(url);
    const host = target.hostname.toLowerCase();
    const now = this.#now();
    return [...this.#cookies.values()]
      .filter(
        (cookie) =>
          (cookie.expiresAtMs === undefined || cookie.expiresAtMs > now) &&
          (cookie.hostOnly ? host === cookie.domain : domainMatches(host, cookie.domain)) &&
          pathMatches(target.pathname, cookie.path) &&
          (!cookie.secure || target.protocol === 'https:' || isLoopback(host)),
      )
      .sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
  }

  /**
   * The `Cookie` header a browser would send to `url` (`''` when none).
   *
   * @example
   * ```ts
   * import request from 'supertest';
   *
   * await request(app).get('/claims').set('Cookie', jar.header('http://127.0.0.1/claims'));
   * ```
   */
  header(url: string | URL): string {
    return this.#matching(url)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  /**
   * The value of the cookie `name` a browser would send to `url`.
   *
   * @example
   * ```ts
   * jar.get('http://127.0.0.1:3000/', 'cognito_access_token');
   * ```
   */
  get(url: string | URL, name: string): string | undefined {
    return this.#matching(url).find((cookie) => cookie.name === name)?.value;
  }

  /**
   * The cookies for Playwright's `browserContext.addCookies()`: those a browser would send to
   * `url`, or every live cookie of the jar without one.
   *
   * @example
   * ```ts
   * await context.addCookies([...jar.cookies('http://127.0.0.1:3000/')]);
   * ```
   */
  cookies(url?: string | URL): TestCookie[] {
    const now = this.#now();
    const chosen =
      url === undefined
        ? [...this.#cookies.values()].filter(
            (cookie) => cookie.expiresAtMs === undefined || cookie.expiresAtMs > now,
          )
        : this.#matching(url);
    return chosen.map((cookie) => ({
      name: cookie.name,
      value: cookie.value,
      domain: cookie.hostOnly ? cookie.domain : `.${cookie.domain}`,
      path: cookie.path,
      expires: cookie.expiresAtMs === undefined ? -1 : Math.floor(cookie.expiresAtMs / 1000),
      httpOnly: cookie.httpOnly,
      secure: cookie.secure,
      sameSite: cookie.sameSite,
    }));
  }

  /**
   * Forgets every cookie.
   *
   * @example
   * ```ts
   * jar.clear();
   * ```
   */
  clear(): void {
    this.#cookies.clear();
  }

  /**
   * `fetch` with this jar: sends the cookies for each URL, keeps every `Set-Cookie`, and follows
   * redirects hop by hop as a browser does (a 303, or a 301/302 after a POST, continues as a GET
   * without a body). `redirect: 'manual'` returns the first answer as it is.
   *
   * @example
   * ```ts
   * const claims = await jar.fetch(`${appUrl}/claims`);
   * const refreshed = await jar.fetch(`${appUrl}/refresh`, { method: 'POST' });
   * ```
   */
  fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const mode: RedirectMode = init.redirect ?? 'follow';
    const first = new URL(input);
    let url = first;
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    for (let hop = 0; ; hop += 1) {
      const headers = new Headers(init.headers);
      // What fetch itself does on a redirect: the body's type goes with the body, and
      // credentials do not follow to another origin.
      if (body === undefined) headers.delete('content-type');
      if (url.origin !== first.origin) headers.delete('authorization');
      const cookie = this.header(url);
      if (cookie !== '' && !headers.has('cookie')) headers.set('cookie', cookie);
      const response = await fetch(url, {
        ...init,
        method,
        headers,
        ...(body === undefined || body === null ? { body: null } : { body }),
        redirect: 'manual',
      });
      for (const value of response.headers.getSetCookie()) this.store(value, url);
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || location === null || mode === 'manual') {
        return response;
      }
      if (mode === 'error') throw new TypeError(`redirected (${response.status}) from ${url}`);
      if (hop >= MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
      await response.body?.cancel();
      url = new URL(location, url);
      if (response.status === 303 || (response.status <= 302 && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
    }
  };
}
