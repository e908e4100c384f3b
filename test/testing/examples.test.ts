/**
 * The testing guide's two complete examples (docs/testing.md), run by their own runners as a user
 * runs them: node:test through tsx, and Vitest for real (with supertest). Each example fails when
 * a helper stops giving a session the app accepts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly output: string;
}

/** Runs node with `args` in the repository, with a hard time limit; never leaves the child running. */
function run(args: readonly string[], timeoutMs: number): Promise<Finished> {
  // Without NODE_TEST_CONTEXT: with it, a nested node:test reports to this run instead of running.
  const environment = { ...process.env };
  delete environment['NODE_TEST_CONTEXT'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...environment, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The ```ts blocks of a Markdown file. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe('the testing guide', { timeout: 120_000 }, () => {
  it('runs the node:test example: 3 tests pass', async () => {
    const { code, output } = await run(
      ['--import', 'tsx', '--test', '--test-reporter=tap', 'examples/testing/node/app.test.ts'],
      90_000,
    );
    assert.equal(code, 0, output);
    assert.match(output, /^# pass 3$/m, output);
    assert.match(output, /^# fail 0$/m, output);
  });

  it('runs the Vitest example with Vitest: 3 tests pass', async () => {
    const { code, output } = await run(
      ['node_modules/vitest/vitest.mjs', 'run', '--root', 'examples/testing/vitest'],
      90_000,
    );
    assert.equal(code, 0, output);
    assert.match(output, /Tests\s+3 passed \(3\)/, output);
  });

  it('shows both examples in docs/testing.md exactly as they run', () => {
    const blocks = tsBlocks(readFileSync(`${ROOT}docs/testing.md`, 'utf8'));
    for (const file of [
      'examples/testing/node/app.test.ts',
      'examples/testing/vitest/app.test.ts',
    ]) {
      const source = readFileSync(`${ROOT}${file}`, 'utf8');
      assert.ok(
        blocks.some((block) => block === source),
        `docs/testing.md does not show ${file} as it is`,
      );
    }
  });
});
