#!/usr/bin/env node
// Emits the package's declarations with tsc, one .d.ts per source file (dist/ mirrors src/, so a
// user who opens a type lands in a file named after its module, never in a hashed chunk), then
// writes a .d.cts twin of each for `require` users, with relative specifiers pointing at .cjs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const tsc = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

let count = 0;
for (const file of walk('dist').filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8').replace(
    /(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.js\2/g,
    (_, lead, quote, path) => `${lead}${quote}${path}.cjs${quote}`,
  );
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), text);
  count += 1;
}
console.log(`declarations: ${count} modules (.d.ts and .d.cts)`);
