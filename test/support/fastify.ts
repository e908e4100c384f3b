/**
 * Fastify-only test apps, for the Fastify-specific suites (the plugin, its encapsulation, cookies
 * with and without @fastify/cookie): a Fastify app built by the test, on a loopback port
 * its guard options already know (the redirect URL names the port), against the emulator, with
 * Fastify's own log captured so a test can assert that nothing was sent twice.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { CognitoGuardOptions } from '../../src/index.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { freePort } from './http.js';
import { CLIENT_ID, guardOptions, registerClient } from './pool.js';

/** One line of Fastify's (pino) JSON log. */
export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly err?: { readonly code?: string; readonly message?: string };
}

/** A running Fastify app. */
export interface FastifyUnderTest {
  readonly app: FastifyInstance;
  readonly url: string;
  /** The guard options the app was given (client registered with the emulator). */
  readonly options: CognitoGuardOptions;
  /** Fastify's log lines at `warn` and above. */
  readonly warnings: LogLine[];
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clientId?: string;
  readonly guard?: Partial<CognitoGuardOptions>;
  readonly fastify?: FastifyServerOptions;
}

/**
 * Builds a Fastify app with `build` (given guard options for the app's own URL), then listens on
 * 127.0.0.1. A failing `build` leaves nothing running.
 */
export async function startFastify(
  emulator: EmulatorHandle,
  build: (app: FastifyInstance, options: CognitoGuardOptions, url: string) => Promise<void> | void,
  start: StartOptions = {},
): Promise<FastifyUnderTest> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const clientId = start.clientId ?? CLIENT_ID;
  registerClient(emulator, url, { clientId });
  const options = guardOptions(emulator, url, { clientId, ...start.guard });
  const warnings: LogLine[] = [];
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: {
        write: (line: string) => {
          warnings.push(JSON.parse(line) as LogLine);
        },
      },
    },
    ...start.fastify,
  });
  try {
    await build(app, options, url);
    await app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, url, options, warnings, stop: () => app.close() };
}
