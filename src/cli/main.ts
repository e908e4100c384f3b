#!/usr/bin/env node
/**
 * The `cognito-guard` command line: runs the local Cognito emulator and drives its key rotation.
 *
 * Written without top-level await so the same file builds to ESM and CJS; it exports
 * {@link main} and only runs it when it is the entry point.
 */
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';

import {
  DEMO_CONFIG,
  DEMO_PASSWORD,
  loadEmulatorConfigFile,
  startEmulator,
} from '../emulator/index.js';
import type { EmulatorConfig, EmulatorHandle, RequestLogEntry } from '../emulator/index.js';

/** The text of `cognito-guard --help`. */
export const USAGE = `Usage:
  cognito-guard emulator [--port 9229] [--host 127.0.0.1] [--config file.json]
                         [--public-origin URL] [--allowed-host NAME ...]
      Run a local Cognito user pool: hosted login page, /oauth2/* endpoints, JWKS and discovery,
      and Cognito's JSON API at POST / for the AWS SDK (endpoint: this URL; any credentials).
      Without --config it serves the demo pool (client demo-client / demo-secret; users alice,
      bob and carol, password ${DEMO_PASSWORD}; the demo client accepts /postlogin and
      /postlogout on any loopback port). Stop it with Ctrl+C (SIGINT) or SIGTERM.

  cognito-guard emulator keys --url http://127.0.0.1:9229
      List the published signing keys of a running emulator.

  cognito-guard emulator rotate-keys --url http://127.0.0.1:9229 [--use access|id]
      Add new signing keys (both, or one use) and make them active. Old keys stay in the JWKS,
      so tokens already issued keep verifying until the keys are retired.

  cognito-guard emulator retire-key --url http://127.0.0.1:9229 [--kid KID]
      Remove a key from the JWKS (without --kid: every inactive key). Tokens it signed stop
      verifying. The admin endpoints answer loopback callers only.

  cognito-guard --help
      Show this text.

Options:
  --port           port to listen on (0 = any free port; default 9229)
  --host           interface to bind (default 127.0.0.1; 0.0.0.0 in a container)
  --config         JSON file with userPoolId, region, clients and users (see the README)
  --public-origin  the browser-facing origin (issuer, discovery, hosted-UI links) when it
                   differs from http://host:port, e.g. http://localhost:9229 in docker-compose
                   while the app calls http://cognito:9229 (--origin is the older name)
  --allowed-host   a host name, besides loopback ones and the public origin's, on which the
                   control endpoints answer (repeatable), e.g. --allowed-host cognito; other
                   Host headers get 403, which stops DNS-rebinding pages
  --url            base URL of a running emulator (default http://127.0.0.1:9229)
`;

/** Where the CLI writes and which process signals it listens to (injectable for tests). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: () => Promise<string>;
}

const processIo: CliIo = {
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
  stopSignal: () =>
    new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
};

class UsageError extends Error {}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new UsageError(`--port must be 0–65535, got "${value}"`);
  return port;
}

function logLine(entry: RequestLogEntry): string {
  const time = new Date().toISOString().slice(11, 19);
  return `${time} ${entry.method} ${entry.path} ${entry.status} ${entry.durationMs}ms`;
}

function banner(handle: EmulatorHandle, config: EmulatorConfig, isDemo: boolean): string[] {
  const lines = [
    `Cognito emulator: user pool ${handle.poolId} (region ${handle.region})`,
    `  domain  (AWS_COGNITO_DOMAIN)  ${handle.domain}`,
    `  issuer  (AWS_COGNITO_ISSUER)  ${handle.issuer}`,
    `  JWKS                          ${handle.jwksUri}`,
    `  discovery                     ${handle.discoveryUrl}`,
    `  region  (AWS_REGION)          ${handle.region}`,
    `  pool id (AWS_COGNITO_USER_POOL_ID) ${handle.poolId}`,
    'App clients:',
  ];
  for (const client of handle.clients()) {
    const secret =
      client.clientSecret === undefined
        ? 'public client'
        : isDemo
          ? `secret ${client.clientSecret}`
          : 'secret set';
    lines.push(`  ${client.clientId} (${secret}); scopes: ${client.allowedScopes.join(' ')}`);
    if (client.callbackUrls.length > 0)
      lines.push(`    callback URLs: ${client.callbackUrls.join(', ')}`);
    if (client.logoutUrls.length > 0)
      lines.push(`    sign-out URLs: ${client.logoutUrls.join(', ')}`);
    if (client.anyLoopbackPort)
      lines.push('    (plain-http loopback URLs also match on any port: a development default)');
  }
  lines.push(
    isDemo ? `Users (password ${DEMO_PASSWORD}):` : 'Users (passwords as in the config file):',
  );
  for (const user of handle.users()) {
    const groups = user.groups.length > 0 ? `groups: ${user.groups.join(', ')}` : 'no groups';
    lines.push(
      `  ${user.username}  ${groups}${user.email !== undefined ? `  email: ${user.email}` : ''}`,
    );
  }
  if (config.users.length === 0) lines.push('  (none)');
  lines.push('Press Ctrl+C to stop.');
  return lines;
}

async function runEmulator(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      origin: { type: 'string' },
      'public-origin': { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const isDemo = values.config === undefined;
  const publicOrigin = values['public-origin'] ?? values.origin;
  const config = values.config !== undefined ? loadEmulatorConfigFile(values.config) : DEMO_CONFIG;
  const handle = await startEmulator({
    port: parsePort(values.port, 9229),
    host: values.host ?? '127.0.0.1',
    config,
    ...(publicOrigin !== undefined ? { publicOrigin } : {}),
    ...(values['allowed-host'] !== undefined ? { allowedHosts: values['allowed-host'] } : {}),
    onRequest: (entry) => {
      io.out(logLine(entry));
    },
    // What Cognito would e-mail or text: printed, since the emulator sends nothing.
    onMessage: (message) => {
      const what =
        message.kind === 'confirmation-code' ? 'confirmation code' : 'temporary password';
      const to = message.destination !== undefined ? ` (for ${message.destination})` : '';
      io.out(`Message to ${message.username}${to}: ${what} ${message.code}`);
    },
  });
  for (const line of banner(handle, config, isDemo)) io.out(line);
  const signal = await io.stopSignal();
  io.out(`Received ${signal}, stopping the emulator…`);
  await handle.stop();
  io.out('Emulator stopped.');
  return 0;
}

async function runAdmin(command: string, args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      url: { type: 'string' },
      use: { type: 'string' },
      kid: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const base = (values.url ?? 'http://127.0.0.1:9229').replace(/\/+$/, '');
  let response: Response;
  if (command === 'keys') {
    response = await fetch(`${base}/_emulator/keys`);
  } else {
    const body =
      command === 'rotate-keys'
        ? values.use !== undefined
          ? { use: values.use }
          : {}
        : values.kid !== undefined
          ? { kid: values.kid }
          : {};
    response = await fetch(
      `${base}/_emulator/keys/${command === 'rotate-keys' ? 'rotate' : 'retire'}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    io.err(`${command} failed: HTTP ${response.status} ${text}`);
    return 1;
  }
  io.out(JSON.stringify(JSON.parse(text), null, 2));
  return 0;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. The
 * `emulator` command resolves only after SIGINT/SIGTERM stopped it.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['emulator', '--port', '0']);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command === undefined ? 1 : 0;
    }
    if (command !== 'emulator') throw new UsageError(`unknown command "${command}"`);
    if (sub === 'rotate-keys' || sub === 'retire-key' || sub === 'keys')
      return await runAdmin(sub, rest, io);
    return await runEmulator(argv.slice(1), io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(`cognito-guard: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      io.err(
        `cognito-guard: the port is already in use (${(error as Error).message}); try --port 0`,
      );
      return 1;
    }
    io.err(`cognito-guard: ${(error as Error).message}`);
    return 1;
  }
}

/** True when this file is the process entry (`node dist/cli/main.js`, the bin link, or `tsx src/cli/main.ts`). */
function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  let resolved = entry;
  try {
    resolved = realpathSync(entry);
  } catch {
    // A missing file cannot be this module; fall back to the name as given.
  }
  return /[\\/]cli[\\/]main\.[cm]?[jt]s$/.test(resolved) || /[\\/]cognito-guard$/.test(entry);
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`cognito-guard: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
