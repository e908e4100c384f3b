/**
 * The security suite's stack, for any adapter: an emulator that records what it served, the
 * hostile Cognito domain in front of it, and the adapter's example app configured with that
 * domain as its `AWS_COGNITO_DOMAIN`.
 *
 * @example
 * ```ts
 * const sec = await startConformanceStack(adapter);
 * sec.hostile.onToken = () => ({ status: 400, body: { error: 'invalid_grant' } });
 * await sec.stop();
 * ```
 */
import type { EmulatorSwitches } from '../../src/emulator/index.js';
import {
  startConformanceApp,
  type AdapterUnderTest,
  type ConformanceApp,
  type ConformanceAppOptions,
} from './adapters.js';
import { startHostileIssuer, type HostileIssuer } from './hostile-issuer.js';
import { startRecordingEmulator, type RecordingEmulator } from './pool.js';

/** What {@link startConformanceStack} may change. */
export interface ConformanceStackOptions extends ConformanceAppOptions {
  readonly switches?: Partial<EmulatorSwitches>;
  /** Put the hostile domain in front of the emulator (default true). */
  readonly viaHostile?: boolean;
}

/**
 * The security suite's stack: an emulator that records what it served, a hostile Cognito domain
 * in front of it (recording every call, able to script `/oauth2/token` and `/oauth2/revoke`),
 * and `adapter`'s example app configured with that domain as `AWS_COGNITO_DOMAIN` (the issuer,
 * and so the JWKS, stays the emulator's).
 */
export interface ConformanceStack extends RecordingEmulator {
  readonly hostile: HostileIssuer;
  readonly app: ConformanceApp;
  /** Starts another app of the same adapter against this stack (hostile domain unless overridden). */
  startApp(options?: ConformanceAppOptions): Promise<ConformanceApp>;
  stop(): Promise<void>;
}

/** Starts a {@link ConformanceStack} for `adapter`. */
export async function startConformanceStack(
  adapter: AdapterUnderTest,
  options: ConformanceStackOptions = {},
): Promise<ConformanceStack> {
  const recording = await startRecordingEmulator(
    options.switches === undefined ? {} : { switches: options.switches },
  );
  const hostile = await startHostileIssuer(recording.emulator.domain);
  /** `options` with the hostile domain as `AWS_COGNITO_DOMAIN`, unless they set one. */
  const viaHostile = (appOptions: ConformanceAppOptions): ConformanceAppOptions => ({
    ...appOptions,
    env: (appUrl: string) => ({
      AWS_COGNITO_DOMAIN: hostile.url,
      ...(typeof appOptions.env === 'function' ? appOptions.env(appUrl) : appOptions.env),
    }),
  });
  const startApp = (appOptions: ConformanceAppOptions = {}): Promise<ConformanceApp> =>
    startConformanceApp(adapter, recording.emulator, viaHostile(appOptions));
  let app: ConformanceApp;
  try {
    app = await startConformanceApp(
      adapter,
      recording.emulator,
      options.viaHostile === false ? options : viaHostile(options),
    );
  } catch (error) {
    await hostile.stop();
    await recording.emulator.stop();
    throw error;
  }
  return {
    ...recording,
    hostile,
    app,
    startApp,
    stop: async () => {
      await app.stop();
      await hostile.stop();
      await recording.emulator.stop();
    },
  };
}
