import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

/** The repository root: the example imports cognito-guard from its source there. */
const root = fileURLToPath(new URL('../..', import.meta.url));

const config: NextConfig = {
  // cognito-guard's source lives outside this project's directory (an app installs the package
  // instead and needs neither line).
  turbopack: { root },
  outputFileTracingRoot: root,
  // `forbidden()` (403) for signed-in users without the group, instead of `notFound()` (404).
  experimental: { authInterrupts: true },
  poweredByHeader: false,
};

export default config;
