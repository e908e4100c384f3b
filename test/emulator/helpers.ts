// Helpers for the emulator tests: a browser-like login over real HTTP (cookie jar, CSRF form),
// PKCE values, token requests and JWT decoding. Not a test file itself.
import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

import { DEFAULT_SWITCHES, DEMO_PASSWORD } from '../../src/emulator/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';

export const CLIENT_ID = 'demo-client';
export const CLIENT_SECRET = 'demo-secret';
export const REDIRECT_URI = 'http://localhost:3000/postlogin';
export { DEMO_PASSWORD };

/** Restores every switch to its default (tests share one emulator per file). */
export function resetSwitches(emulator: EmulatorHandle): void {
  Object.assign(emulator.switches, DEFAULT_SWITCHES);
  emulator.clearFaults();
  emulator.setClockOffset(0);
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function basic(id = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** A minimal cookie jar: name → value, updated from Set-Cookie (Max-Age=0 deletes). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** GET without following redirects, sending and storing cookies. */
export async function get(url: string, jar?: CookieJar, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { ...(jar && jar.cookies.size > 0 ? { cookie: jar.header() } : {}), ...headers },
  });
  jar?.store(response);
  return response;
}

export function authorizeUrl(emulator: EmulatorHandle, params: Record<string, string | undefined>) {
  const url = new URL('/oauth2/authorize', emulator.url);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}

export function defaultAuthorizeParams(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    state: 'state-123',
    nonce: 'nonce-456',
    ...overrides,
  };
}

/** Reads the hidden CSRF field and the form action out of the login page. */
export function parseLoginForm(page: string): { csrf: string; action: string } {
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  assert.ok(csrf, 'login page has a CSRF field');
  assert.ok(action, 'login page has a form action');
  return { csrf, action: action.replaceAll('&amp;', '&') };
}

export interface LoginResult {
  readonly code: string;
  readonly state: string | null;
  readonly location: URL;
  readonly jar: CookieJar;
}

/**
 * Drives the hosted UI like a browser: authorize → /login form → POST credentials → redirect to
 * the app with `code` and `state`.
 */
export async function browserLogin(
  emulator: EmulatorHandle,
  options: {
    params?: Record<string, string | undefined>;
    username?: string;
    password?: string;
    jar?: CookieJar;
  } = {},
): Promise<LoginResult> {
  const jar = options.jar ?? new CookieJar();
  const start = await get(authorizeUrl(emulator, defaultAuthorizeParams(options.params)), jar);
  assert.equal(start.status, 302);
  const loginUrl = start.headers.get('location') ?? '';
  assert.match(loginUrl, /\/login\?/);
  const page = await get(loginUrl, jar);
  assert.equal(page.status, 200);
  const { csrf, action } = parseLoginForm(await page.text());
  const submit = await fetch(new URL(action, emulator.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({
      _csrf: csrf,
      username: options.username ?? 'alice',
      password: options.password ?? DEMO_PASSWORD,
    }),
  });
  jar.store(submit);
  assert.equal(submit.status, 302, `login should redirect, got ${submit.status}`);
  const location = new URL(submit.headers.get('location') ?? '');
  const code = location.searchParams.get('code');
  assert.ok(code, `redirect carries a code: ${location.href}`);
  return { code, state: location.searchParams.get('state'), location, jar };
}

/** POSTs a form to a token-style endpoint. */
export async function postForm(
  url: string,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) if (value !== undefined) body.set(name, value);
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

export interface TokenSet {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
}

/** Full sign-in with PKCE and a Basic-authenticated exchange; returns the token response. */
export async function signIn(
  emulator: EmulatorHandle,
  options: { username?: string; params?: Record<string, string | undefined> } = {},
): Promise<TokenSet> {
  const { verifier, challenge } = pkcePair();
  const { code } = await browserLogin(emulator, {
    ...(options.username !== undefined ? { username: options.username } : {}),
    params: { code_challenge: challenge, code_challenge_method: 'S256', ...options.params },
  });
  const response = await postForm(
    `${emulator.url}/oauth2/token`,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.params?.redirect_uri ?? REDIRECT_URI,
      code_verifier: verifier,
    },
    { authorization: basic() },
  );
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as TokenSet;
}

// Shared with every suite: JWT decoding, raw requests with any Host header, free ports.
export { decodeJwt } from '../support/jwt.js';
export { rawRequest } from '../support/requests.js';
export { freePort } from '../support/http.js';
