/**
 * Runs an example Worker in workerd, Cloudflare's runtime, on this machine: `worker.ts` (or the
 * Hono example's) is bundled with esbuild for a runtime without Node (an import of a Node module
 * fails the bundle) and served by Miniflare, which drives the `workerd` binary from npm. Used by
 * `server.ts` (`npm run example:workers`) and by the conformance suite.
 */
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/**
 * The newest date this workerd understands; no compatibility flag, in particular no
 * `nodejs_compat`: the app must run on the Web APIs alone.
 */
const COMPATIBILITY_DATE = '2026-04-01';

/** The Workers in this repository's examples. */
export const WORKERS = {
  /** `examples/workers/worker.ts`: the Fetch-API example on `cognito-guard/web`. */
  web: new URL('./worker.ts', import.meta.url),
  /** `examples/hono/worker.ts`: the Hono example on `cognito-guard/hono`. */
  hono: new URL('../hono/worker.ts', import.meta.url),
} as const;

const bundles = new Map<string, Promise<string>>();

/** A Worker and everything it imports as one ES module (built once per process). */
export function bundleWorker(worker: keyof typeof WORKERS = 'web'): Promise<string> {
  let bundled = bundles.get(worker);
  if (bundled !== undefined) return bundled;
  bundled = build({
    entryPoints: [fileURLToPath(WORKERS[worker])],
    tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)),
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    // No Node built-ins: `platform: 'neutral'` resolves none, so the bundle fails on any.
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['browser', 'module', 'main'],
    logLevel: 'silent',
  }).then((result) => {
    const [output] = result.outputFiles;
    if (output === undefined) throw new Error('esbuild produced no bundle');
    return output.text;
  });
  bundles.set(worker, bundled);
  return bundled;
}

/** A running Worker. */
export interface RunningWorker {
  /** `http://127.0.0.1:{port}` */
  readonly url: string;
  stop(): Promise<void>;
}

/** How to run the Worker. */
export interface WorkerOptions {
  /** Which example Worker; default `web`. */
  readonly worker?: keyof typeof WORKERS;
  /** The Worker's environment bindings (text only: `AWS_COGNITO_*`, `SECRET_KEY`…). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Port on 127.0.0.1 (0 for any free one). */
  readonly port: number;
  /** What workerd prints (the Worker's `console`); discarded when absent. */
  readonly onOutput?: (stdout: Readable, stderr: Readable) => void;
}

/**
 * Starts the Worker in workerd on 127.0.0.1. The Worker may reach loopback addresses only (the
 * emulator runs there); workerd's default would refuse them and allow the public internet.
 *
 * @example
 * ```ts
 * const worker = await startWorker({ env: environment.env, port: 3000 });
 * console.log(worker.url);
 * await worker.stop();
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const bindings: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env)) {
    if (value !== undefined) bindings[name] = value;
  }
  const miniflare = new Miniflare({
    modules: true,
    script: await bundleWorker(options.worker),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    host: '127.0.0.1',
    port: options.port,
    outboundService: { network: { allow: ['local'] } },
    // Miniflare would otherwise download Cloudflare's request metadata (`request.cf`).
    cf: false,
    handleRuntimeStdio:
      options.onOutput ??
      ((stdout: Readable, stderr: Readable) => {
        stdout.resume();
        stderr.resume();
      }),
  });
  try {
    const url = await miniflare.ready;
    return { url: url.origin, stop: () => miniflare.dispose() };
  } catch (error) {
    await miniflare.dispose();
    throw error;
  }
}
