// The CLI as a user runs it: spawned with tsx, startup banner, one redacted log line per request,
// rotate-keys against the running emulator, clean exit on SIGINT; plus usage errors in-process.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { USAGE, main } from '../../src/cli/main.js';
import { freePort, rawRequest } from './helpers.js';
import type { CliIo } from '../../src/cli/main.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

function run(args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...CLI, ...args], { stdio: 'pipe' });
}

/** Keeps every stdout line of a child and lets tests wait for one matching a pattern. */
class LineReader {
  readonly lines: string[] = [];
  #buffer = '';
  #waiters: (() => void)[] = [];
  #exited = false;

  constructor(child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      this.#notify();
    });
    child.once('exit', () => {
      this.#exited = true;
      this.#notify();
    });
  }

  #notify(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  async waitFor(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (this.#exited || Date.now() > deadline) {
        throw new Error(`no line matching ${String(pattern)}; got:\n${this.lines.join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else
      child.once('exit', (code) => {
        resolve(code);
      });
  });
}

function collect(child: ChildProcessWithoutNullStreams): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  return { out: () => out, err: () => err };
}

describe('cognito-guard emulator (spawned)', () => {
  let child: ChildProcessWithoutNullStreams;
  let reader: LineReader;
  let domain = '';

  before(async () => {
    child = run(['emulator', '--port', '0']);
    reader = new LineReader(child);
    await reader.waitFor(/Press Ctrl\+C to stop/);
    domain = /domain\s+\(AWS_COGNITO_DOMAIN\)\s+(\S+)/.exec(reader.lines.join('\n'))?.[1] ?? '';
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints its URLs, clients and users with the demo password', () => {
    const text = reader.lines.join('\n');
    assert.match(domain, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(
      text,
      new RegExp(`issuer\\s+\\(AWS_COGNITO_ISSUER\\)\\s+${domain}/eu-west-1_LocalDemo`),
    );
    assert.match(
      text,
      new RegExp(`JWKS\\s+${domain}/eu-west-1_LocalDemo/\\.well-known/jwks\\.json`),
    );
    assert.match(text, /demo-client \(secret demo-secret\)/);
    assert.match(text, /Users \(password Passw0rd!\)/);
    for (const user of ['alice', 'bob', 'carol'])
      assert.match(text, new RegExp(`^  ${user} `, 'm'));
  });

  it('serves requests and logs one line each, without code/state/token values', async () => {
    const response = await fetch(
      `${domain}/oauth2/authorize?client_id=demo-client&response_type=code&redirect_uri=${encodeURIComponent(
        'http://localhost:3000/postlogin',
      )}&state=SECRET-STATE&nonce=SECRET-NONCE`,
      { redirect: 'manual' },
    );
    assert.equal(response.status, 302);
    const line = await reader.waitFor(/GET \/oauth2\/authorize/);
    assert.match(
      line,
      /^\d\d:\d\d:\d\d GET \/oauth2\/authorize\?client_id=demo-client&.* 302 \d+ms$/,
    );
    assert.match(line, /state=\*\*\*/);
    assert.doesNotMatch(line, /SECRET-STATE|SECRET-NONCE/);

    await fetch(`${domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=SECRET-TOKEN&client_id=demo-client&client_secret=demo-secret',
    });
    const tokenLine = await reader.waitFor(/POST \/oauth2\/token/);
    assert.match(tokenLine, /POST \/oauth2\/token 400 \d+ms$/);
    assert.doesNotMatch(reader.lines.join('\n'), /SECRET-TOKEN/);
  });

  it('rotate-keys and retire-key drive the running emulator through its admin endpoint', async () => {
    const before = (await (
      await fetch(`${domain}/eu-west-1_LocalDemo/.well-known/jwks.json`)
    ).json()) as {
      keys: unknown[];
    };
    assert.equal(before.keys.length, 2);
    const rotate = run(['emulator', 'rotate-keys', '--url', domain]);
    const rotateOut = collect(rotate);
    assert.equal(await exitCode(rotate), 0, rotateOut.err());
    assert.match(rotateOut.out(), /"added"/);
    const rotated = (await (
      await fetch(`${domain}/eu-west-1_LocalDemo/.well-known/jwks.json`)
    ).json()) as {
      keys: unknown[];
    };
    assert.equal(rotated.keys.length, 4);

    const retire = run(['emulator', 'retire-key', '--url', domain]);
    const retireOut = collect(retire);
    assert.equal(await exitCode(retire), 0, retireOut.err());
    const retired = (await (
      await fetch(`${domain}/eu-west-1_LocalDemo/.well-known/jwks.json`)
    ).json()) as {
      keys: unknown[];
    };
    assert.equal(retired.keys.length, 2);
  });

  it('stops cleanly on SIGINT with exit code 0', async () => {
    child.kill('SIGINT');
    assert.equal(await exitCode(child), 0);
    await reader.waitFor(/Emulator stopped\./);
    await assert.rejects(fetch(`${domain}/`), 'the port is closed');
  });
});

describe('cognito-guard (in-process main)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function fakeIo(stop: Promise<string> = new Promise(() => undefined)) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      stopSignal: () => stop,
    };
    return { io, out, err };
  }

  it('--help prints the usage (with rotate-keys) and exits 0; no command exits 1', async () => {
    const { io, out } = fakeIo();
    assert.equal(await main(['--help'], io), 0);
    assert.equal(out.join('\n'), USAGE);
    assert.match(USAGE, /emulator rotate-keys --url/);
    assert.match(USAGE, /--port 9229/);
    assert.equal(await main([], fakeIo().io), 1);
  });

  it('an unknown command or option exits 2 with the usage', async () => {
    const unknown = fakeIo();
    assert.equal(await main(['serve'], unknown.io), 2);
    assert.match(unknown.err.join('\n'), /unknown command "serve"/);
    const badOption = fakeIo();
    assert.equal(await main(['emulator', '--bogus'], badOption.io), 2);
    const badPort = fakeIo();
    assert.equal(await main(['emulator', '--port', 'abc'], badPort.io), 2);
    assert.match(badPort.err.join('\n'), /--port must be/);
  });

  it('--public-origin sets the browser-facing URLs; --allowed-host opens the control endpoints to that name', async () => {
    let stop: (signal: string) => void = () => undefined;
    const { io, out } = fakeIo(new Promise((resolve) => (stop = resolve)));
    const port = await freePort();
    const running = main(
      [
        'emulator',
        '--port',
        String(port),
        '--public-origin',
        `http://localhost:${port}`,
        '--allowed-host',
        'cognito',
      ],
      io,
    );
    while (!out.some((line) => line.includes('Press Ctrl+C')))
      await new Promise((r) => setTimeout(r, 10));
    try {
      const text = out.join('\n');
      assert.match(
        text,
        new RegExp(`domain\\s+\\(AWS_COGNITO_DOMAIN\\)\\s+http://localhost:${port}$`, 'm'),
      );
      assert.match(
        text,
        new RegExp(`issuer\\s+\\(AWS_COGNITO_ISSUER\\)\\s+http://localhost:${port}/`),
      );
      assert.match(text, /any port/);
      const keys = `http://127.0.0.1:${port}/_emulator/keys`;
      assert.equal((await rawRequest(keys, { headers: { host: `cognito:${port}` } })).status, 200);
      assert.equal((await rawRequest(keys, { headers: { host: `other:${port}` } })).status, 403);
    } finally {
      stop('SIGTERM');
      assert.equal(await running, 0);
    }
  });

  it('prints what Cognito would e-mail (a sign-up confirmation code)', async () => {
    let stop: (signal: string) => void = () => undefined;
    const { io, out } = fakeIo(new Promise((resolve) => (stop = resolve)));
    const running = main(['emulator', '--port', '0'], io);
    while (!out.some((line) => line.includes('Press Ctrl+C')))
      await new Promise((r) => setTimeout(r, 10));
    try {
      const url = /domain\s+\(AWS_COGNITO_DOMAIN\)\s+(\S+)/.exec(out.join('\n'))?.[1] ?? '';
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.SignUp',
        },
        body: JSON.stringify({
          ClientId: 'demo-client',
          SecretHash: createHmac('sha256', 'demo-secret')
            .update('pat' + 'demo-client')
            .digest('base64'),
          Username: 'pat',
          Password: 'Pat-Passw0rd!',
          UserAttributes: [{ Name: 'email', Value: 'pat@example.com' }],
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.ok(
        out.some((line) =>
          /^Message to pat \(for pat@example\.com\): confirmation code \d{6}$/.test(line),
        ),
        out.join('\n'),
      );
    } finally {
      stop('SIGTERM');
      assert.equal(await running, 0);
    }
  });

  it('an invalid --config file exits 1 naming the problems', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ userPoolId: 'x', clients: [], users: [] }));
    const { io, err } = fakeIo();
    assert.equal(await main(['emulator', '--port', '0', '--config', file], io), 1);
    assert.match(err.join('\n'), /bad\.json[\s\S]*userPoolId/);
  });

  it('runs from a config file, hides its secrets and passwords, and stops on the signal', async () => {
    const file = join(dir, 'pool.json');
    writeFileSync(
      file,
      JSON.stringify({
        userPoolId: 'us-east-1_Cli',
        clients: [
          {
            clientId: 'cli-client',
            clientSecret: 'TOP-SECRET',
            callbackUrls: ['http://localhost:8080/cb'],
            allowedScopes: ['openid'],
          },
        ],
        users: [{ username: 'zoe', password: 'HIDDEN-PASSWORD' }],
      }),
    );
    let stop: (signal: string) => void = () => undefined;
    const { io, out } = fakeIo(new Promise((resolve) => (stop = resolve)));
    const running = main(['emulator', '--port', '0', '--config', file], io);
    while (!out.some((line) => line.includes('Press Ctrl+C')))
      await new Promise((r) => setTimeout(r, 10));
    const text = out.join('\n');
    assert.match(text, /us-east-1_Cli/);
    assert.match(text, /cli-client \(secret set\)/);
    assert.match(text, /zoe/);
    assert.doesNotMatch(text, /TOP-SECRET|HIDDEN-PASSWORD/);
    stop('SIGTERM');
    assert.equal(await running, 0);
    assert.match(out.join('\n'), /Received SIGTERM/);
  });
});
