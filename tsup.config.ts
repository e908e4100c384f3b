import { relative, dirname, resolve } from 'node:path';
import { defineConfig } from 'tsup';
import type { Options } from 'tsup';

// esbuild's plugin type, through tsup (esbuild is only tsup's dependency, not ours).
type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Every public entry point: `dist/{name}.js` (ESM) and `dist/{name}.cjs` (CommonJS) are built from
 * `src/{name}.ts`. The source tree mirrors `dist/`, so a relative import between entries stays
 * valid once built. Declarations are emitted by `tsc` (scripts/build-types.mjs), file for file,
 * so no type sits in a hashed chunk. A missing source fails the build: every name here is a
 * subpath `package.json` exports.
 */
const ENTRIES = [
  'index',
  'express/index',
  'emulator/index',
  'fastify/index',
  'web/index',
  'hono/index',
  'lambda/index',
  'lambda/bridge',
  'next/index',
  'testing/index',
  'redis/index',
];

/** The entries' source files, absolute. */
const entrySources = new Set(ENTRIES.map((name) => resolve(`src/${name}.ts`)));

/**
 * Keeps an import of another entry point as an import of that entry's built file instead of
 * bundling a second copy of it. Two copies would break `instanceof` across subpaths: a
 * `CognitoGuard` made with `cognito-guard` and passed to `cognito-guard/express`, or a
 * `CognitoGuardError` thrown by an adapter and checked against the core's class.
 *
 * The kept import's path is written relative to the importing source file, and it ends up in the
 * built file of every entry that bundles that source file: right only when the importer sits in
 * that entry's directory. A source file elsewhere (`src/core/x.ts`, `src/emulator/api/x.ts`, or a
 * file of `src/web/` bundled into `dist/hono/index.js`) would get a path that points at another
 * file or at nothing, so the build fails naming it instead.
 *
 * @param sources - the entries' source files, absolute.
 */
export function entriesAsImports(sources: ReadonlySet<string>): Plugin {
  return {
    name: 'entries-as-imports',
    setup(build) {
      const extension = build.initialOptions.format === 'cjs' ? '.cjs' : '.js';
      /** The source files that import another entry, absolute. */
      const importers = new Set<string>();
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const target = resolve(dirname(args.importer), args.path.replace(/\.js$/, '.ts'));
        if (!sources.has(target) || resolve(args.importer) === target) return undefined;
        importers.add(resolve(args.importer));
        let specifier = relative(dirname(args.importer), target).replace(/\.ts$/, extension);
        if (!specifier.startsWith('.')) specifier = `./${specifier}`;
        return { path: specifier.replaceAll('\\', '/'), external: true };
      });
      // Every file each entry bundles (its imports, followed through the metafile), against the
      // entry's directory.
      build.onEnd(({ metafile }) => {
        if (metafile === undefined) return undefined;
        const errors: { text: string }[] = [];
        for (const { entryPoint } of Object.values(metafile.outputs)) {
          if (entryPoint === undefined) continue;
          const seen = new Set([entryPoint]);
          for (const file of seen) {
            if (importers.has(resolve(file)) && dirname(file) !== dirname(entryPoint)) {
              errors.push({
                text: `${file} imports another entry point, but is bundled into ${entryPoint}, whose directory is another: the import's path would be wrong in the built file. Import the entry from ${entryPoint} (or a file beside it) instead.`,
              });
            }
            for (const imported of metafile.inputs[file]?.imports ?? []) {
              if (imported.external !== true) seen.add(imported.path);
            }
          }
        }
        return { errors };
      });
    },
  };
}

const shared = {
  target: 'node20',
  sourcemap: true,
  splitting: false,
  // Keep `node:` specifiers as written (tsup strips them by default).
  removeNodeProtocol: false,
  esbuildPlugins: [entriesAsImports(entrySources)],
} satisfies Options;

export default defineConfig([
  {
    ...shared,
    // The library: dual ESM/CJS. Declarations come from tsc (see ENTRIES).
    entry: Object.fromEntries(ENTRIES.map((name) => [name, `src/${name}.ts`])),
    format: ['esm', 'cjs'],
    dts: false,
    // dist/cli belongs to the CLI build below, which runs in parallel and cleans it itself.
    clean: ['!cli/**'],
    // Every dependency and peer dependency, subpaths included (`jose/jwt/encrypt`, `next/server`),
    // stays an import: tsup's default. The frameworks are the app's (optional peers); `jose` and
    // `oauth4webapi` are ESM-only and stay imports in the CJS build too: Node ≥ 20.19 (our
    // `engines`) loads them with require(esm), and the app keeps one npm-updatable copy of the
    // crypto code instead of one frozen into ours.
  },
  {
    ...shared,
    // The `cognito-guard` bin: ESM only (the package is `"type": "module"`); tsup keeps the
    // source's shebang and marks the file executable.
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    clean: ['cli/**'],
  },
]);
