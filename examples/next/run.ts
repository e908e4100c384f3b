/**
 * Builds the Next.js example once and serves it with `next start`: used by `server.ts`
 * (`npm run example:next`) and by the conformance suite.
 *
 * A build takes ~10–20 s, so it is reused while its sources are unchanged: a digest of the
 * example, the library's source and the lockfile is kept beside the build, and a build whose
 * digest matches is served as it is. Several test processes may ask at once; a lock directory
 * lets one build while the others wait for it.
 *
 * The build runs without any `AWS_COGNITO_*` or `SECRET_KEY` in its environment: configuration
 * is read when the server runs, so one build serves every environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This example's directory (the Next.js project). */
export const EXAMPLE_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NEXT_BIN = createRequire(import.meta.url).resolve('next/dist/bin/next');

/** Files and folders that are outputs, not sources. */
const NOT_SOURCES = new Set(['.next', '.next-build.lock', 'next-env.d.ts', 'node_modules']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !NOT_SOURCES.has(name))
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

/** A digest of everything the build of the project in `dir` is made from. */
export function sourceDigest(dir: string = EXAMPLE_DIR): string {
  const hash = createHash('sha256');
  const files = [
    ...filesUnder(dir),
    ...filesUnder(join(ROOT, 'src')),
    join(ROOT, 'package-lock.json'),
  ].sort();
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** Where the digest of a project's build is kept, beside the build. */
const digestFile = (dir: string): string => join(dir, '.next', 'cognito-guard-sources.sha256');
const lockDir = (dir: string): string => join(dir, '.next-build.lock');

function currentDigest(dir: string): string | undefined {
  try {
    statSync(join(dir, '.next', 'BUILD_ID'));
    return readFileSync(digestFile(dir), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** Whether the process that took the lock is gone (a build killed half-way). */
function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process. A lock without its pid file yet is being taken: not stale.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function withLock<T>(dir: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
  const lock = lockDir(dir);
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`waited ${timeoutMs} ms for another build of the Next.js example`);
      }
      await sleep(250);
    }
  }
  try {
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** What {@link buildNextExample} did. */
export interface BuildOutcome {
  /** False when a build of the same sources was reused. */
  readonly built: boolean;
  /** How long `next build` took (0 when reused). */
  readonly durationMs: number;
}

/** The environment of `next build`: no configuration of the app (none is inlined). */
function buildEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('AWS_') || name.startsWith('SECRET_KEY')) continue;
    // A test runner's variables would make the build's own Node processes report to it.
    if (name.startsWith('NODE_TEST') || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return { ...env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' };
}

/** How to build. */
export interface BuildOptions {
  /** The Next.js project; default this example. */
  readonly dir?: string;
  /**
   * Writes the project's sources first, under the build's lock (a test's variant of the
   * example, assembled from it).
   */
  readonly prepare?: () => void;
  readonly log?: (line: string) => void;
  readonly timeoutMs?: number;
}

/**
 * Builds the example unless a build of the same sources is there.
 *
 * @example
 * ```ts
 * const { built, durationMs } = await buildNextExample({ log: console.log });
 * ```
 */
export async function buildNextExample(options: BuildOptions = {}): Promise<BuildOutcome> {
  const dir = options.dir ?? EXAMPLE_DIR;
  const timeoutMs = options.timeoutMs ?? 180_000;
  return withLock(
    dir,
    async () => {
      options.prepare?.();
      const digest = sourceDigest(dir);
      if (currentDigest(dir) === digest) return { built: false, durationMs: 0 };
      options.log?.('Building the Next.js example (next build)…');
      const started = Date.now();
      const child = spawn(process.execPath, [NEXT_BIN, 'build', dir], {
        cwd: ROOT,
        // Next.js's types require NODE_ENV, which buildEnvironment() sets.
        env: buildEnvironment() as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = keepOutput(child);
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`next build took over ${timeoutMs} ms:\n${output()}`));
        }, timeoutMs);
        child.once('error', reject);
        child.once('exit', (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });
      if (code !== 0) throw new Error(`next build failed (exit ${String(code)}):\n${output()}`);
      writeFileSync(digestFile(dir), `${digest}\n`);
      const durationMs = Date.now() - started;
      options.log?.(`Built in ${(durationMs / 1000).toFixed(1)} s.`);
      return { built: true, durationMs };
    },
    timeoutMs + 30_000,
  );
}

/** Keeps the last few KB a child printed, for an error message. */
function keepOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-6000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

function acceptsConnections(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** A running `next start`. */
export interface RunningNextApp {
  /** `http://{host}:{port}` */
  readonly url: string;
  /** The server process (its output is piped to `onOutput`, or discarded). */
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** How to serve the example. */
export interface StartOptions {
  /** The Next.js project; default this example. */
  readonly dir?: string;
  readonly port: number;
  /** Default: every interface, as `next start` does (tests pass `127.0.0.1`). */
  readonly host?: string;
  /** The app's environment (`AWS_COGNITO_*`, `SECRET_KEY`…), over this process's own. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the server's output goes; default discarded (kept for the error of a failed start). */
  readonly onOutput?: (chunk: string) => void;
  readonly timeoutMs?: number;
}

/**
 * Serves the built example with `next start` (call {@link buildNextExample} first).
 *
 * @example
 * ```ts
 * const app = await startNextExample({ port: 3000, env: environment.env });
 * await app.stop();
 * ```
 */
export async function startNextExample(options: StartOptions): Promise<RunningNextApp> {
  const args = [NEXT_BIN, 'start', options.dir ?? EXAMPLE_DIR, '-p', String(options.port)];
  if (options.host !== undefined) args.push('-H', options.host);
  // The app's environment over this process's own; NODE_OPTIONS (a test runner's loader) stays here.
  const env = new Map(Object.entries({ ...process.env, ...options.env }));
  env.delete('NODE_OPTIONS');
  env.set('NEXT_TELEMETRY_DISABLED', '1');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // Next.js's types require NODE_ENV; `next start` sets it when absent.
    env: Object.fromEntries(env) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = keepOutput(child);
  if (options.onOutput !== undefined) {
    const forward = options.onOutput;
    child.stdout.on('data', (chunk: Buffer) => {
      forward(chunk.toString('utf8'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      forward(chunk.toString('utf8'));
    });
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', () => {
        resolve();
      });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const late = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(late);
    }
  };
  const probeHost = options.host ?? '127.0.0.1';
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await acceptsConnections(options.port, probeHost)) {
      return { url: `http://${probeHost}:${options.port}`, process: child, stop };
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`next start did not start:\n${output()}`);
}
