import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
  resolve: {
    // Only inside this repository, where the package is its own sources: an installed
    // cognito-guard needs no alias.
    alias: [
      { find: /^cognito-guard$/, replacement: `${src}index.ts` },
      { find: /^cognito-guard\/(.+)$/, replacement: `${src}$1/index.ts` },
    ],
  },
});
