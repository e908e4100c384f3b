/**
 * scripts/ensure-deps.mjs (run before `npm start` and `npm test`) decides from npm's record of
 * what it installed whether node_modules matches package-lock.json. Here it runs with --check
 * (report, do not install) on a scratch project whose lock files the test writes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface LockEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  dependencies?: Record<string, string>;
}

const entry = (name: string, version: string, extra: Partial<LockEntry> = {}): LockEntry => ({
  version,
  resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
  integrity: `sha512-${name}-${version}`,
  ...extra,
});

describe('ensure-deps: is node_modules up to date with package-lock.json?', () => {
  let project: string;
  const lock: Record<string, LockEntry> = {
    'node_modules/jose': entry('jose', '6.2.0'),
    'node_modules/cookie': entry('cookie', '1.0.2'),
    // A binary for another platform: never installed here, and that is fine.
    'node_modules/@esbuild/other-os': entry('other-os', '0.1.0', {
      optional: true,
      os: process.platform === 'aix' ? ['!aix'] : ['aix'],
    }),
  };

  /** Writes the project's lock file, and npm's record of an install of `installed`. */
  function setUp(installed: Record<string, LockEntry> | undefined): void {
    rmSync(join(project, 'node_modules'), { recursive: true, force: true });
    writeFileSync(
      join(project, 'package-lock.json'),
      JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'scratch' }, ...lock } }),
    );
    if (installed === undefined) return;
    for (const path of Object.keys(installed)) {
      mkdirSync(join(project, path), { recursive: true });
      writeFileSync(join(project, path, 'package.json'), '{}');
    }
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(
      join(project, 'node_modules', '.package-lock.json'),
      JSON.stringify({ lockfileVersion: 3, packages: installed }),
    );
  }

  function check(): { status: number | null; stderr: string } {
    const result = spawnSync(
      process.execPath,
      [join(project, 'scripts', 'ensure-deps.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    return { status: result.status, stderr: result.stderr };
  }

  before(() => {
    project = mkdtempSync(join(tmpdir(), 'cognito-guard-ensure-deps-'));
    mkdirSync(join(project, 'scripts'));
    copyFileSync('scripts/ensure-deps.mjs', join(project, 'scripts', 'ensure-deps.mjs'));
  });
  after(() => {
    rmSync(project, { recursive: true, force: true });
  });

  it('a fresh clone (no node_modules) needs an install', () => {
    setUp(undefined);
    const { status, stderr } = check();
    assert.equal(status, 1);
    assert.match(stderr, /node_modules is missing/);
  });

  it('an install that matches the lock file needs nothing', () => {
    setUp({
      'node_modules/jose': lock['node_modules/jose']!,
      'node_modules/cookie': lock['node_modules/cookie']!,
    });
    assert.deepEqual(check(), { status: 0, stderr: '' });
  });

  it('a lock file changed since the install (a pull that bumps a version) needs an install', () => {
    setUp({ ...lock, 'node_modules/jose': entry('jose', '6.1.0') });
    const { status, stderr } = check();
    assert.equal(status, 1);
    assert.match(stderr, /node_modules\/jose differs from package-lock.json/);
  });

  it('a package added to the lock file but not installed needs an install', () => {
    setUp({ 'node_modules/jose': lock['node_modules/jose']! });
    const { status, stderr } = check();
    assert.equal(status, 1);
    assert.match(stderr, /node_modules\/cookie is in package-lock.json but not installed/);
  });

  it('an installed package the lock file no longer lists needs an install', () => {
    setUp({ ...lock, 'node_modules/left-pad': entry('left-pad', '1.3.0') });
    const { status, stderr } = check();
    assert.equal(status, 1);
    assert.match(stderr, /node_modules\/left-pad is installed but not in package-lock.json/);
  });

  it('a package folder deleted by hand needs an install', () => {
    setUp(lock);
    rmSync(join(project, 'node_modules', 'cookie'), { recursive: true });
    const { status, stderr } = check();
    assert.equal(status, 1);
    assert.match(stderr, /node_modules\/cookie is missing/);
  });

  it('an optional package for this platform that is missing needs an install', () => {
    const here = entry('here', '1.0.0', {
      optional: true,
      os: [process.platform],
      cpu: [process.arch],
    });
    lock['node_modules/@esbuild/here'] = here;
    try {
      setUp({
        'node_modules/jose': lock['node_modules/jose']!,
        'node_modules/cookie': lock['node_modules/cookie']!,
      });
      const { status, stderr } = check();
      assert.equal(status, 1);
      assert.match(
        stderr,
        /node_modules\/@esbuild\/here is in package-lock.json but not installed/,
      );
    } finally {
      delete lock['node_modules/@esbuild/here'];
    }
  });

  it("an optional dependency of another platform's package is not required; of an installed one it is", () => {
    // sharp's wasm32 build (never installed on x64) needs @emnapi/runtime, which has no platform
    // constraint of its own: npm leaves it out, and so must the check.
    lock['node_modules/@img/sharp-wasm32'] = entry('sharp-wasm32', '0.34.5', {
      optional: true,
      cpu: ['wasm32'], // never process.arch: Node does not run as wasm32
      dependencies: { '@emnapi/runtime': '^1.5.0' },
    });
    lock['node_modules/@emnapi/runtime'] = entry('runtime', '1.11.3', { optional: true });
    try {
      const base = {
        'node_modules/jose': lock['node_modules/jose']!,
        'node_modules/cookie': lock['node_modules/cookie']!,
      };
      setUp(base);
      assert.deepEqual(check(), { status: 0, stderr: '' });
      // Once something installed depends on it, it must be there.
      lock['node_modules/cookie'] = entry('cookie', '1.0.2', {
        dependencies: { '@emnapi/runtime': '^1.5.0' },
      });
      setUp({ ...base, 'node_modules/cookie': lock['node_modules/cookie'] });
      const { status, stderr } = check();
      assert.equal(status, 1);
      assert.match(
        stderr,
        /node_modules\/@emnapi\/runtime is in package-lock.json but not installed/,
      );
    } finally {
      delete lock['node_modules/@img/sharp-wasm32'];
      delete lock['node_modules/@emnapi/runtime'];
      lock['node_modules/cookie'] = entry('cookie', '1.0.2');
    }
  });

  it("a package nested in an absent package's node_modules is not required; in an installed one it is", () => {
    // sharp 0.35's FreeBSD build carries its own copy of the wasm32 build, which no
    // other-platform constraint marks: npm leaves both out on Linux.
    lock['node_modules/@img/sharp-freebsd-wasm32'] = entry('sharp-freebsd-wasm32', '0.35.5', {
      optional: true,
      os: process.platform === 'aix' ? ['!aix'] : ['aix'],
    });
    lock['node_modules/@img/sharp-freebsd-wasm32/node_modules/@img/sharp-wasm32'] = entry(
      'sharp-wasm32',
      '0.35.5',
      { optional: true },
    );
    lock['node_modules/jose/node_modules/nested'] = entry('nested', '1.0.0');
    try {
      const base = {
        'node_modules/jose': lock['node_modules/jose']!,
        'node_modules/cookie': lock['node_modules/cookie']!,
      };
      setUp(base);
      const { status, stderr } = check();
      assert.equal(status, 1, 'the copy nested in an installed package is required');
      assert.match(stderr, /node_modules\/jose\/node_modules\/nested is in package-lock.json/);
      setUp({
        ...base,
        'node_modules/jose/node_modules/nested': lock['node_modules/jose/node_modules/nested'],
      });
      assert.deepEqual(check(), { status: 0, stderr: '' });
    } finally {
      delete lock['node_modules/@img/sharp-freebsd-wasm32'];
      delete lock['node_modules/@img/sharp-freebsd-wasm32/node_modules/@img/sharp-wasm32'];
      delete lock['node_modules/jose/node_modules/nested'];
    }
  });

  it('this checkout is up to date after npm ci (what pretest sees on every later run)', () => {
    const result = spawnSync(process.execPath, ['scripts/ensure-deps.mjs', '--check'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
  });
});
