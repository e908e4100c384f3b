// What the load benchmarks share (bench/run.ts, bench/store.ts): building the package their
// servers import, starting a bench server as a child process and reading its CPU time over IPC,
// one GET over a keep-alive agent, and the median of the rounds. The servers' side of the IPC is
// bench/servers/common.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { type Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

import type { ParentMessage, ServerMessage } from './servers/common.js';

/** The repository root: the working directory of every child. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds dist/, which the bench servers serve (as users run the package), unless `built` says the
 * caller already did (`npm run bench` builds once for all of its parts).
 */
export function buildPackage(built: boolean): void {
  if (built) return;
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** One GET over the keep-alive agent; resolves with the status once the body is drained. */
export function get(
  agent: Agent,
  port: number,
  path: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve(res.statusCode ?? 0);
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** A bench server running as a child process. */
export interface ServerHandle {
  readonly child: ChildProcess;
  readonly port: number;
}

/**
 * Starts the bench server `file` (relative to bench/) through tsx with `env` added to this
 * process's environment, and waits for the port it reports.
 */
export function startServer(
  file: string,
  env: Readonly<Record<string, string>>,
  nodeArgs: readonly string[] = [],
): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))],
      {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, NODE_ENV: 'production', ...env },
      },
    );
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${file} did not start within 30 s`));
    }, 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited early (code ${String(code)})`));
    });
    child.on('message', (message: ServerMessage) => {
      if (message.type !== 'listening') return;
      clearTimeout(timer);
      resolve({ child, port: message.port });
    });
  });
}

/** The server's counters now (CPU time used so far, connections accepted). */
export function serverStats(
  child: ChildProcess,
): Promise<Extract<ServerMessage, { readonly type: 'stats' }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ServerMessage): void => {
      if (message.type !== 'stats') return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'stats' } satisfies ParentMessage);
  });
}

/** Stops a bench server: closing the IPC channel makes it exit; the kill is the fallback. */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => {
      resolve();
    });
    child.disconnect();
    setTimeout(() => child.kill(), 3000).unref();
  });
}
