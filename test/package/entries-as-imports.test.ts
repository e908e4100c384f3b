/**
 * The build keeps an import of another entry point (an adapter's `import … from '../index.js'`)
 * as an import of that entry's built file, with the path written relative to the importing
 * source file. Here the build's plugin runs through tsup on a scratch source tree: an importer
 * beside its entry gets the right path; an importer in another directory than the entry that
 * bundles it fails the build, naming it, instead of writing a path that points nowhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'tsup';
import { entriesAsImports } from '../../tsup.config.js';

describe('the build keeps imports of other entry points', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  /** Builds `src/index.ts` and `src/a/index.ts` of the scratch tree into `out`, ESM and CJS. */
  const buildTree = (out: string) =>
    build({
      entry: { index: join(root, 'src/index.ts'), 'a/index': join(root, 'src/a/index.ts') },
      outDir: join(root, out),
      format: ['esm', 'cjs'],
      config: false,
      silent: true,
      splitting: false,
      esbuildPlugins: [
        entriesAsImports(new Set([join(root, 'src/index.ts'), join(root, 'src/a/index.ts')])),
      ],
    });

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'cognito-guard-entries-'));
    write('src/index.ts', 'export class Core {}\n');
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("an importer beside its entry: the built entry imports the other entry's built file", async () => {
    write(
      'src/a/helper.ts',
      "import { Core } from '../index.js';\nexport const make = () => new Core();\n",
    );
    write('src/a/index.ts', "export { make } from './helper.js';\n");
    await buildTree('good');
    const esm = readFileSync(join(root, 'good/a/index.js'), 'utf8');
    const cjs = readFileSync(join(root, 'good/a/index.cjs'), 'utf8');
    assert.match(esm, /from "\.\.\/index\.js"/);
    assert.match(cjs, /require\("\.\.\/index\.cjs"\)/);
    assert.doesNotMatch(esm, /class Core/, 'no second copy of the entry');
  });

  it('an importer in another directory than the entry that bundles it fails the build, naming it', async () => {
    // Written relative to src/a/deep/, '../../index.js' would point above dist/a/index.js's
    // directory's parent: outside the package.
    write(
      'src/a/deep/helper.ts',
      "import { Core } from '../../index.js';\nexport const make = () => new Core();\n",
    );
    write('src/a/index.ts', "export { make } from './deep/helper.js';\n");
    await assert.rejects(buildTree('bad'), (error: Error) => {
      assert.match(error.message, /src\/a\/deep\/helper\.ts imports another entry point/);
      assert.match(error.message, /bundled into \S*src\/a\/index\.ts/);
      return true;
    });
  });
});
