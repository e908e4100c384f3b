/**
 * A running stack for behaviour tests: the emulator and the example app (Express 4 or 5) on
 * loopback, each on its own port, plus a browser-like client that can log in.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import express5 from 'express';
import express4 from 'express4';
import type { CognitoGuardOptions } from '../../src/index.js';
import {
  DEMO_PASSWORD,
  startEmulator,
  type EmulatorClient,
  type EmulatorHandle,
  type EmulatorSwitches,
} from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { CookieJar, SignInError, signIn, type CallbackAnswer } from '../../src/testing/index.js';
import { TestBrowser, readForm, type BrowserResponse } from './browser.js';

export { DEMO_PASSWORD };
export const SECRET_KEY = 'test-secret-key-test-secret-key-0123456789';
export const CLIENT_ID = 'test-client';
export const CLIENT_SECRET = 'test-client-secret';

export type ExpressVersion = 'express4' | 'express5';
export const EXPRESS_VERSIONS: readonly ExpressVersion[] = ['express5', 'express4'];

const factories: Record<ExpressVersion, () => Express> = {
  express5: () => express5(),
  express4: () => express4() as unknown as Express,
};

export interface StackOptions {
  readonly express?: ExpressVersion;
  /** Overrides of the guard options. */
  readonly guard?: Partial<CognitoGuardOptions>;
  /** Overrides of the emulator app client. */
  readonly client?: Partial<EmulatorClient>;
  readonly switches?: Partial<EmulatorSwitches>;
  /** Reuse a running emulator instead of starting one. */
  readonly emulator?: EmulatorHandle;
}

export interface Stack {
  readonly emulator: EmulatorHandle;
  readonly appUrl: string;
  readonly options: CognitoGuardOptions;
  readonly server: Server;
  stop(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with an ephemeral port. The server never closes an idle keep-alive
 * connection itself (the test's stop() closes them all): otherwise, on a loaded machine, the
 * client (undici, whose idle timer is coarse) can send its next request on a connection the
 * server is closing at that moment, and the request fails with ECONNRESET.
 */
export async function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

/** Guard options for an app at `appUrl` using `emulator`. */
export function guardOptions(
  emulator: EmulatorHandle,
  appUrl: string,
  overrides: Partial<CognitoGuardOptions> = {},
): CognitoGuardOptions {
  return {
    region: emulator.region,
    userPoolId: emulator.poolId,
    domain: emulator.domain,
    issuer: emulator.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUrl: `${appUrl}/postlogin`,
    logoutUrl: `${appUrl}/postlogout`,
    secretKey: SECRET_KEY,
    scopes: ['openid', 'email', 'profile'],
    refreshFlowEnabled: true,
    logger: { warn: () => undefined },
    ...overrides,
  };
}

/** Registers an app client for an app at `appUrl`. */
export function registerClient(
  emulator: EmulatorHandle,
  appUrl: string,
  overrides: Partial<EmulatorClient> = {},
): void {
  emulator.addClient({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackUrls: [`${appUrl}/postlogin`],
    logoutUrls: [`${appUrl}/postlogout`],
    allowedScopes: ['openid', 'email', 'profile', 'phone', 'aws.cognito.signin.user.admin'],
    ...overrides,
  });
}

/** Starts the emulator (unless given) and the example app. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator =
    options.emulator ??
    (await startEmulator({ port: 0, ...(options.switches ? { switches: options.switches } : {}) }));
  const server = createServer();
  const port = await listen(server);
  const appUrl = `http://127.0.0.1:${port}`;
  const clientOverrides: Partial<EmulatorClient> = { ...options.client };
  registerClient(emulator, appUrl, clientOverrides);
  const guard = guardOptions(emulator, appUrl, options.guard);
  const app = createExampleApp(guard, factories[options.express ?? 'express5']);
  server.on('request', app);
  return {
    emulator,
    appUrl,
    options: guard,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      if (options.emulator === undefined) await emulator.stop();
    },
  };
}

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

/** Logs in and returns the authorization-code callback URL without visiting it. */
export async function callbackUrlFor(
  browser: TestBrowser,
  appUrl: string,
  username: string,
): Promise<string> {
  const page = await browser.follow(`${appUrl}/login`);
  const form = readForm(page.body, page.url);
  const submitted = await browser.request(form.action, {
    form: { ...form.fields, username, password: DEMO_PASSWORD },
  });
  if (submitted.location === undefined) throw new Error(`login form answered ${submitted.status}`);
  return submitted.location;
}

export { TestBrowser };
