#!/usr/bin/env node
// Runs before `npm start` and `npm test` (prestart/pretest), so the README's two commands work on a
// fresh clone: it installs the npm dependencies with `npm ci` when node_modules is missing or no
// longer matches package-lock.json, and does nothing otherwise.
//
// Plain Node with no dependency: it runs before node_modules exists.
//
// "Matches" is decided from npm's own record of what it installed, node_modules/.package-lock.json
// (written by every `npm ci` and `npm install`): each installed package must have the version,
// source and integrity the lock file asks for, and every package the lock file needs on this
// platform must be installed. So `npm install some-pkg` (which updates both) costs no reinstall,
// while a pull that changes the lock file, or a half-finished install, triggers one. The check
// reads two JSON files and stats the installed folders: a few milliseconds.
//
// Usage: node scripts/ensure-deps.mjs [--check]   (--check: report only, exit 1 when stale)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockPath = join(root, 'package-lock.json');
const installedPath = join(root, 'node_modules', '.package-lock.json');

/** Why node_modules must be (re)installed, or undefined when it is up to date. */
function staleReason() {
  if (!existsSync(installedPath)) return 'node_modules is missing';
  let lock;
  let installed;
  try {
    lock = JSON.parse(readFileSync(lockPath, 'utf8')).packages ?? {};
    installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages ?? {};
  } catch (error) {
    return `cannot read the lock files (${error instanceof Error ? error.message : String(error)})`;
  }
  for (const [path, entry] of Object.entries(installed)) {
    const wanted = lock[path];
    if (wanted === undefined) return `${path} is installed but not in package-lock.json`;
    for (const field of ['version', 'resolved', 'integrity']) {
      if (wanted[field] !== entry[field]) return `${path} differs from package-lock.json`;
    }
    // A folder removed by hand leaves npm's record behind.
    if (!entry.link && !existsSync(join(root, path, 'package.json'))) return `${path} is missing`;
  }
  for (const [path, wanted] of Object.entries(lock)) {
    if (path === '' || path in installed) continue;
    // A package nested in another's node_modules serves that package alone: when the owner is not
    // installed (a binary for another platform, like sharp's FreeBSD build), neither is it.
    const owner = path.slice(0, Math.max(0, path.lastIndexOf('/node_modules/')));
    if (owner !== '' && !(owner in installed)) continue;
    // Optional packages for other platforms (esbuild's and rollup's binaries) are never installed.
    // (A `libc` constraint is not checked: glibc and musl builds are told apart by npm itself.)
    if (wanted.optional === true && (!runsHere(wanted) || wanted.libc !== undefined)) continue;
    // Nor are the optional dependencies of such a package (sharp's wasm32 build needs
    // @emnapi/runtime, which carries no platform constraint of its own).
    if (wanted.optional === true && onlyNeededByAbsent(path, lock, installed)) continue;
    return `${path} is in package-lock.json but not installed`;
  }
  return undefined;
}

/**
 * Whether the lock file's packages that depend on `path` are all absent from the install (and
 * there is at least one, so a package nothing names stays required).
 */
function onlyNeededByAbsent(path, lock, installed) {
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const dependents = Object.entries(lock).filter(([, entry]) =>
    [entry.dependencies, entry.optionalDependencies, entry.devDependencies].some(
      (list) => list !== undefined && name in list,
    ),
  );
  return (
    dependents.length > 0 &&
    dependents.every(([dependent]) => dependent !== '' && !(dependent in installed))
  );
}

/** Whether a package's `os`/`cpu` constraints (npm's syntax: `linux`, `!win32`) include this machine. */
function runsHere(entry) {
  const allows = (list, value) => {
    if (list === undefined) return true;
    if (list.includes(`!${value}`)) return false;
    const required = list.filter((item) => !item.startsWith('!'));
    return required.length === 0 || required.includes(value);
  };
  return allows(entry.os, process.platform) && allows(entry.cpu, process.arch);
}

const reason = staleReason();
if (reason === undefined) process.exit(0);
if (process.argv.includes('--check')) {
  console.error(`dependencies are stale: ${reason}`);
  process.exit(1);
}

console.error(`ensure-deps: ${reason}; running npm ci --no-audit --no-fund`);
// Inside an npm script, npm_execpath is the npm that is running us: use the same one.
const npmCli = process.env.npm_execpath;
const [command, args] =
  npmCli !== undefined && npmCli.endsWith('.js')
    ? [process.execPath, [npmCli, 'ci', '--no-audit', '--no-fund']]
    : ['npm', ['ci', '--no-audit', '--no-fund']];
const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('ensure-deps: npm ci failed (see above); nothing was run');
  process.exit(result.status ?? 1);
}
const after = staleReason();
if (after !== undefined) {
  console.error(`ensure-deps: still stale after npm ci: ${after}`);
  process.exit(1);
}
