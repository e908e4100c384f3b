/**
 * The README, as a new user reads it: the two commands come first, every option is in the options
 * table with the environment variable `fromEnv` really reads (the table is checked against the
 * options type, so it cannot drift), and no internal vocabulary leaks into it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { OPTION_ENVIRONMENT_NAMES } from '../../src/core/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table under `## Options`: option name → its environment-variable cell. */
function optionRows(): Map<string, string> {
  const section = readme.slice(readme.indexOf('\n## Options\n'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const rows = new Map<string, string>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined) rows.set(name, cells[2] ?? '');
  }
  return rows;
}

describe('README', () => {
  it('starts with the two commands: npm start and npm test', () => {
    const head = readme.split('\n').slice(0, 8).join('\n');
    assert.match(head, /^npm start\b/m);
    assert.match(head, /^npm test\b/m);
  });

  it('lists every option with the environment variable fromEnv reads, and nothing else', () => {
    const rows = optionRows();
    assert.deepEqual([...rows.keys()].sort(), [...OPTION_ENVIRONMENT_NAMES.keys()].sort());
    for (const [option, variable] of OPTION_ENVIRONMENT_NAMES) {
      const cell = rows.get(option) ?? '';
      if (variable === undefined) assert.equal(cell, '—', `${option} has no environment variable`);
      else
        assert.ok(cell.includes(`\`${variable}\``), `${option}: ${cell} should name ${variable}`);
    }
  });

  it('speaks plainly: no internal case numbers, and flask-cognito-lib is named', () => {
    assert.doesNotMatch(readme, /\bB\d{1,2}\b/);
    assert.doesNotMatch(readme, /\bseed\b/i);
  });

  it('links only to what works from the npm page: absolute URLs, or files the package ships', () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
    const relative = links.filter((link) => !/^(https?:|#)/.test(link));
    assert.deepEqual(relative, [], 'relative links break on npmjs.com');
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { files: string[] };
    const prefix = 'https://cdn.jsdelivr.net/npm/cognito-guard/';
    for (const link of links.filter((l) => l.startsWith(prefix))) {
      const path = link.slice(prefix.length).replace(/\/$/, '');
      assert.ok(
        manifest.files.some((shipped) => path === shipped || path.startsWith(`${shipped}/`)),
        `${path} is not in the package's files`,
      );
      assert.ok(existsSync(new URL(`../../${path}`, import.meta.url)), `${path} does not exist`);
    }
  });

  it('has an install line', () => {
    assert.match(readme, /^npm install cognito-guard\b/m);
  });
});
