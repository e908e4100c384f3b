#!/usr/bin/env node
// Runs every test file under test/ with Node's own test runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the files are listed here.
//
// Usage: node scripts/run-tests.mjs [--require-all] [substring-filter ...]
//
// A test that needs a system component (Chromium, nginx, redis-server) skips, with the install line
// in its reason, when the component is missing. With --require-all, or CI=true, any skip fails the
// run: CI installs everything, so a skip there means a test silently stopped running.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Each test and each whole file fails after this long instead of hanging the run. Node's
// --test-timeout applies to a file's process as well as to every test in it, so it must fit the
// slowest legitimate *file*: the packed-tarball suite (build, npm pack, npm installs, tsc, and a
// Next.js app built from the tarball) takes ~80 s on a two-core machine and 140 s in a full run
// beside another full run; every other file stays under 40 s (the Next.js ones build the example
// once, ~12 s each). Four minutes, the pack suite's own budget (its describe timeout), leaves room for a
// slower CI machine, while a hang (a server left open, a call with no timeout) costs four minutes
// of CI's ninety instead of all of them.
const TEST_TIMEOUT_MS = 240_000;

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return /\.test\.ts$/.test(name) ? [path] : [];
  });
}

const args = process.argv.slice(2);
const requireAll = args.includes('--require-all') || process.env.CI === 'true';
const filters = args.filter((arg) => arg !== '--require-all');
const files = collect('test')
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const reportDir = mkdtempSync(join(tmpdir(), 'cognito-guard-tests-'));
const reportFile = join(reportDir, 'report.json');
let status;
let skipped;
try {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=./scripts/test-reporter.mjs',
      '--test-reporter-destination=stdout',
      ...files,
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        NODE_ENV: 'test',
        COGNITO_GUARD_TEST_REPORT: reportFile,
        COGNITO_GUARD_REQUIRE_ALL: requireAll ? '1' : '0',
      },
    },
  );
  status = result.status ?? 1;
  try {
    skipped = JSON.parse(readFileSync(reportFile, 'utf8')).skipped.length;
  } catch {
    skipped = undefined;
  }
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}

// The reporter already listed every skip above node's summary; only the exit code changes here, so
// the summary stays the last lines.
if (requireAll && status === 0 && skipped !== 0) {
  if (skipped === undefined) console.error('--require-all: the test reporter wrote no report');
  process.exit(1);
}
process.exit(status);
