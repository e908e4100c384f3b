/**
 * SECURITY.md points into the test suite: its case table (B1–B67) and the table of the
 * browser-level review name test files and quote test names. This keeps them from drifting when a
 * test is renamed or moved: every test file the document names exists, and every quoted test
 * name (in “ ”, with … for an elision) stands on one line of a file its row names. It also keeps
 * flask-cognito-lib from being called "the seed" in test names and file names.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SECURITY = readFileSync('SECURITY.md', 'utf8');
const TABLES = ['## Findings of the browser-level review', '## Case table B1–B67'];

/** The table rows (after the header and separator) of the section that starts with `heading`. */
function tableRows(heading: string): string[] {
  const start = SECURITY.indexOf(heading);
  assert.notEqual(start, -1, `SECURITY.md has a section "${heading}"`);
  const next = SECURITY.indexOf('\n## ', start + heading.length);
  const section = SECURITY.slice(start, next === -1 ? undefined : next);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2);
}

/** A cited path, as the document gives it (under `test/` unless it starts with `test/`). */
function resolve(path: string): string {
  return path.startsWith('test/') ? path : join('test', path);
}

/** The test files a piece of SECURITY.md names in backticks. */
function citedFiles(text: string): string[] {
  return [...text.matchAll(/`((?:test\/)?[\w./-]+\.ts)`/g)].map((match) => match[1]!);
}

/** Whether one line of `text` holds every fragment, in order. */
function onOneLine(text: string, fragments: readonly string[]): boolean {
  return text.split('\n').some((line) => {
    let from = 0;
    for (const fragment of fragments) {
      const at = line.indexOf(fragment, from);
      if (at === -1) return false;
      from = at + fragment.length;
    }
    return true;
  });
}

function testFiles(dir = 'test'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('SECURITY.md points at tests that exist', () => {
  it('every file SECURITY.md names under test/ exists', () => {
    const cited = citedFiles(SECURITY);
    assert.ok(cited.length > 20, `only ${cited.length} files cited`);
    const missing = cited.filter((path) => !existsSync(resolve(path)));
    assert.deepEqual(missing, [], 'cited but missing');
  });

  for (const heading of TABLES) {
    it(`every test name quoted in "${heading.slice(3)}" is in a file of its row`, () => {
      const rows = tableRows(heading);
      assert.ok(rows.length >= 12, `${rows.length} rows`);
      const problems: string[] = [];
      for (const row of rows) {
        const label = row.split('|')[1]?.trim() ?? row.slice(0, 30);
        // Test names are quoted with “ ”; a straight-quoted case name is an old, unchecked one.
        if (/"B\d+ /.test(row)) problems.push(`${label}: a test name in straight quotes`);
        const files = citedFiles(row);
        if (files.length === 0 && !row.includes('| — |')) problems.push(`${label}: no file`);
        const sources = files.filter((path) => existsSync(resolve(path)));
        const texts = sources.map((path) => readFileSync(resolve(path), 'utf8'));
        for (const [, quoted] of row.matchAll(/“([^”]*)”/g)) {
          const fragments = quoted!
            .split('…')
            .map((fragment) => fragment.trim())
            .filter((fragment) => fragment !== '');
          if (fragments.length === 0) continue;
          if (!texts.some((text) => onOneLine(text, fragments))) {
            problems.push(`${label}: “${quoted}” is in none of ${files.join(', ')}`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

describe('tests call flask-cognito-lib by its name', () => {
  it('no test file name and no test or suite title uses a nickname for it', () => {
    const problems: string[] = [];
    for (const path of testFiles()) {
      if (/seed/i.test(path)) problems.push(path);
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(/\b(?:it|describe)\(\s*(['"`])((?:(?!\1).)*)\1/g)) {
        if (/\bseed\b/i.test(match[2]!)) problems.push(`${path}: ${match[2]!}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
