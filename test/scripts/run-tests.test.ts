/**
 * scripts/run-tests.mjs counts what was skipped and, in --require-all mode (CI), fails a run that
 * skipped anything. Checked on the system-helper suite with redis-server hidden, as on a machine
 * that lacks it: node's own count says `skipped 0` for a skipped suite; ours must not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
}

/** Runs the test runner on the system-helper suite with redis-server hidden. */
function runWithoutRedis(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  // NODE_TEST_CONTEXT tells a nested node --test to talk to a parent runner instead of printing.
  const inherited = { ...process.env };
  delete inherited.CI;
  delete inherited.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['scripts/run-tests.mjs', ...args, 'test/support/system.test.ts'],
      {
        env: { ...inherited, COGNITO_GUARD_HIDE_COMPONENTS: 'redis-server', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (status) => {
      resolve({ status, stdout });
    });
  });
}

/** Node's summary block: the last lines, `ℹ tests N` … `ℹ duration_ms N`. */
function summary(stdout: string): Record<string, number> {
  const lines = stdout.trimEnd().split('\n');
  const block = lines.slice(-8);
  assert.match(block[0]!, /^ℹ tests \d+$/, `the summary ends the output:\n${stdout}`);
  assert.match(block[7]!, /^ℹ duration_ms [\d.]+$/);
  return Object.fromEntries(
    block.map((line) => {
      const [, key, value] = /^ℹ (\w+) ([\d.]+)$/.exec(line) ?? [];
      return [key!, Number(value)];
    }),
  );
}

const INSTALL_LINE = 'install it with: apt-get install -y redis-server';

describe('scripts/run-tests.mjs: skips are counted', () => {
  it('a suite skipped for a missing component is counted and shown with its install line', async () => {
    const run = await runWithoutRedis([]);
    assert.equal(run.status, 0, 'a skip alone does not fail a local run');
    const counts = summary(run.stdout);
    assert.equal(counts.skipped, 1);
    assert.equal(counts.fail, 0);
    assert.ok(
      run.stdout.includes(
        'ℹ skipped suite test/support/system.test.ts › startRedis: redis-server is not installed',
      ),
      run.stdout,
    );
    assert.ok(run.stdout.includes(INSTALL_LINE));
  });

  it('--require-all fails a run that skipped anything, saying why above the summary', async () => {
    const run = await runWithoutRedis(['--require-all']);
    assert.equal(run.status, 1);
    assert.equal(summary(run.stdout).skipped, 1);
    assert.match(run.stdout, /ℹ --require-all \(CI\): 1 skipped, so this run fails/);
  });

  it('CI=true is --require-all', async () => {
    const run = await runWithoutRedis([], { CI: 'true' });
    assert.equal(run.status, 1);
    assert.equal(summary(run.stdout).skipped, 1);
  });
});
