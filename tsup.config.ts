import { defineConfig } from 'tsup';
import type { Options } from 'tsup';

// esbuild's plugin type, through tsup (esbuild is only tsup's dependency, not ours).
type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Keeps an import of another entry point as an import of that entry's built file instead of
 * bundling a second copy of it. Two copies would break `instanceof` across subpaths: a
 * `CognitoGuard` made with `cognito-guard` and passed to `cognito-guard/express`, or a
 * `CognitoGuardError` thrown by the adapter and checked against the core's class.
 *
 * The source tree mirrors `dist/` (src/express → dist/express), so the relative specifier stays
 * valid; only the extension follows the output format (`.cjs` for the CommonJS build).
 */
function entryAsImport(importer: RegExp, specifier: string): Plugin {
  return {
    name: 'entry-as-import',
    setup(build) {
      const builtPath =
        build.initialOptions.format === 'cjs' ? specifier.replace(/\.js$/, '.cjs') : specifier;
      build.onResolve({ filter: /^\.\.\/[\w-]+(\/[\w-]+)*\.js$/ }, (args) =>
        args.path === specifier && importer.test(args.importer.replaceAll('\\', '/'))
          ? { path: builtPath, external: true }
          : undefined,
      );
    },
  };
}

export default defineConfig([
  {
    // The library: dual ESM/CJS with declarations for each format.
    entry: {
      index: 'src/index.ts',
      'express/index': 'src/express/index.ts',
      'emulator/index': 'src/emulator/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // dist/cli belongs to the CLI build below, which runs in parallel and cleans it itself.
    clean: ['!cli/**'],
    target: 'node20',
    // Keep `node:` specifiers as written (tsup strips them by default).
    removeNodeProtocol: false,
    splitting: false,
    // `jose` and `oauth4webapi` are ESM-only and stay external in the CJS build too: Node ≥ 20.19
    // (our `engines`) loads them with require(esm), and the app keeps one npm-updatable copy of
    // the crypto code instead of one frozen into our bundle.
    external: ['express'],
    esbuildPlugins: [entryAsImport(/\/src\/express\/index\.ts$/, '../index.js')],
  },
  {
    // The `cognito-guard` bin: ESM only (the package is `"type": "module"`); tsup keeps the
    // source's shebang and marks the file executable. It imports the built emulator entry.
    entry: { main: 'src/cli/main.ts' },
    outDir: 'dist/cli',
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    removeNodeProtocol: false,
    splitting: false,
    esbuildPlugins: [entryAsImport(/\/src\/cli\/main\.ts$/, '../emulator/index.js')],
  },
]);
