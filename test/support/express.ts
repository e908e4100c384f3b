/**
 * Express-only test apps: the example app (`examples/express/app.ts`) on Express 4 or 5 built
 * from guard options (so a test can pass what no environment variable sets: a `fetch`, a clock,
 * a logger, extra routes), and a whole stack of emulator plus app. Behaviour every adapter must
 * share is tested through `adapters.ts` instead; these are for what is Express's own (its
 * middleware wiring, `req.cognito`, custom routes) and for suites that need an in-process app.
 *
 * @example
 * ```ts
 * const stack = await startStack({ express: 'express4' });
 * await login(new TestBrowser(), stack.appUrl, 'alice');
 * await stack.stop();
 * ```
 */
import type { Express } from 'express';
import express5 from 'express';
import express4 from 'express4';
import type { CognitoGuardOptions } from '../../src/index.js';
import {
  startEmulator,
  type EmulatorClient,
  type EmulatorHandle,
  type EmulatorSwitches,
} from '../../src/emulator/index.js';
import { createExampleApp } from '../../examples/express/app.js';
import { serveBuilt } from './http.js';
import { captureLogger, type CapturedLog } from './logs.js';
import { guardOptions, registerClient } from './pool.js';

/** The Express majors the Express-only suites run on. */
export type ExpressVersion = 'express4' | 'express5';
export const EXPRESS_VERSIONS: readonly ExpressVersion[] = ['express5', 'express4'];

/** A fresh Express app of the given major version. */
export function expressApp(version: ExpressVersion = 'express5'): Express {
  return version === 'express5' ? express5() : (express4() as unknown as Express);
}

/** What {@link startExampleApp} may change. */
export interface ExampleAppOptions {
  readonly express?: ExpressVersion;
  /** Guard option overrides (applied last). */
  readonly guard?: Partial<CognitoGuardOptions>;
  /**
   * Registers an emulator app client for the app's URLs, under the guard's client id and secret
   * (default true); an object overrides the client's settings.
   */
  readonly register?: boolean | Partial<EmulatorClient>;
  /** Adds routes after the example app's own. */
  readonly extend?: (app: Express, options: CognitoGuardOptions) => void;
}

/** A running example app. */
export interface ExampleApp {
  readonly appUrl: string;
  /** The guard options it was built with. */
  readonly options: CognitoGuardOptions;
  /** What its guard logged (unless `guard.logger` was given). */
  readonly log: CapturedLog;
  stop(): Promise<void>;
}

/** Starts the Express example app against `emulator` on a fresh loopback port. */
export async function startExampleApp(
  emulator: EmulatorHandle,
  options: ExampleAppOptions = {},
): Promise<ExampleApp> {
  const log = captureLogger();
  let guard: CognitoGuardOptions | undefined;
  const server = await serveBuilt((appUrl) => {
    guard = guardOptions(emulator, appUrl, { logger: log.logger, ...options.guard });
    if (options.register !== false) {
      registerClient(emulator, appUrl, {
        clientId: guard.clientId,
        ...(guard.clientSecret === undefined ? {} : { clientSecret: guard.clientSecret }),
        ...(typeof options.register === 'object' ? options.register : {}),
      });
    }
    const app = createExampleApp(guard, () => expressApp(options.express));
    options.extend?.(app, guard);
    return app;
  });
  return { appUrl: server.url, options: guard!, log, stop: () => server.stop() };
}

/** What {@link startStack} may change. */
export interface StackOptions extends ExampleAppOptions {
  readonly switches?: Partial<EmulatorSwitches>;
  /** Reuse a running emulator instead of starting one (it is then not stopped). */
  readonly emulator?: EmulatorHandle;
}

/** An emulator and the Express example app. */
export interface Stack extends ExampleApp {
  readonly emulator: EmulatorHandle;
}

/** Starts the emulator (unless given) and the Express example app. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator =
    options.emulator ??
    (await startEmulator({ port: 0, ...(options.switches ? { switches: options.switches } : {}) }));
  const app = await startExampleApp(emulator, options);
  return {
    ...app,
    emulator,
    stop: async () => {
      await app.stop();
      if (options.emulator === undefined) await emulator.stop();
    },
  };
}
