/**
 * A small cookie-keeping HTTP client that behaves like a browser for the flows under test:
 * one cookie jar per host name (browsers ignore ports for cookies), manual redirects, and
 * form submission. Real sockets, real Set-Cookie headers. Unlike `CookieJar` from
 * `cognito-guard/testing` it keeps cookies by name only, with no Domain, Path or Secure rules, so
 * a test can hold and send what a real browser would refuse (a tossed cookie, a copied one).
 *
 * @example
 * ```ts
 * const browser = new TestBrowser();
 * const started = await browser.request(`${appUrl}/login`);
 * const page = await browser.follow(started.location!);
 * ```
 */
import { parseSetCookie } from 'cookie';
import { unescapeHtml } from '../../src/testing/sign-in.js';
import { cookieHeader, isTransactionCookie } from './cookies.js';

/** Headers of an API caller: error answers come as JSON. */
export const JSON_ACCEPT = { accept: 'application/json' } as const;
/** Headers of a browser navigation: error answers come as an HTML page. */
export const HTML_ACCEPT = { accept: 'text/html' } as const;
/** What a browser sends for a request from the app's own page (`Sec-Fetch-Site`). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' } as const;

export interface BrowserResponse {
  readonly status: number;
  readonly url: string;
  readonly headers: Headers;
  readonly setCookies: string[];
  readonly body: string;
  readonly location: string | undefined;
}

export interface RequestOptions {
  readonly method?: string;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

export class TestBrowser {
  /** host name → cookie name → value */
  readonly jar = new Map<string, Map<string, string>>();

  cookiesFor(url: string): Map<string, string> {
    const host = new URL(url).hostname;
    let cookies = this.jar.get(host);
    if (cookies === undefined) {
      cookies = new Map();
      this.jar.set(host, cookies);
    }
    return cookies;
  }

  cookie(url: string, name: string): string | undefined {
    return this.cookiesFor(url).get(name);
  }

  /** The Cookie header this browser sends to `url` (every cookie of its host: ports don't count). */
  cookieHeader(url: string): string {
    return cookieHeader(this.cookiesFor(url));
  }

  /** The names of the transaction cookies of sign-ins in progress at `url`'s host. */
  transactionCookies(url: string): string[] {
    return [...this.cookiesFor(url).keys()].filter(isTransactionCookie);
  }

  setCookie(url: string, name: string, value: string): void {
    this.cookiesFor(url).set(name, value);
  }

  /** Keeps `Set-Cookie` values received from `url` (by name only: no Domain or Path rules). */
  store(url: string, setCookies: readonly string[]): void {
    const cookies = this.cookiesFor(url);
    for (const header of setCookies) {
      const parsed = parseSetCookie(header);
      if (
        parsed.maxAge === 0 ||
        (parsed.expires !== undefined && parsed.expires.getTime() < Date.now())
      ) {
        cookies.delete(parsed.name);
      } else {
        cookies.set(parsed.name, parsed.value ?? '');
      }
    }
  }

  async request(url: string, options: RequestOptions = {}): Promise<BrowserResponse> {
    const cookies = this.cookiesFor(url);
    const headers: Record<string, string> = {
      accept: 'text/html,application/json',
      ...options.headers,
    };
    if (cookies.size > 0 && headers.cookie === undefined) {
      headers.cookie = cookieHeader(cookies);
    }
    let body: string | undefined;
    if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
    });
    const setCookies = response.headers.getSetCookie();
    this.store(url, setCookies);
    const location = response.headers.get('location') ?? undefined;
    return {
      status: response.status,
      url,
      headers: response.headers,
      setCookies,
      body: await response.text(),
      location: location === undefined ? undefined : new URL(location, url).toString(),
    };
  }

  /** Follows redirects (GET) until a non-redirect answer or `stopAt` matches the next URL. */
  async follow(
    url: string,
    options: RequestOptions & { stopAt?: (url: string) => boolean; maxHops?: number } = {},
  ): Promise<BrowserResponse> {
    let response = await this.request(url, options);
    for (let hop = 0; hop < (options.maxHops ?? 10); hop += 1) {
      if (response.status < 300 || response.status >= 400 || response.location === undefined)
        return response;
      if (options.stopAt?.(response.location) === true) return response;
      response = await this.request(response.location, { headers: options.headers ?? {} });
    }
    return response;
  }
}

/** Extracts the first form of an HTML page: its absolute action URL and every named input's value. */
export function readForm(
  html: string,
  pageUrl: string,
): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (form === null) throw new Error('no form on the page');
  const actionAttr = /action="([^"]*)"/i.exec(form[0])?.[1] ?? pageUrl;
  const fields: Record<string, string> = {};
  for (const input of form[1]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '';
    if (name !== undefined) fields[unescapeHtml(name)] = unescapeHtml(value);
  }
  return { action: new URL(unescapeHtml(actionAttr), pageUrl).toString(), fields };
}
