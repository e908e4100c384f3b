/**
 * The Next.js example as the tests run it: as it is (`proxy.ts`, the Node.js runtime), or as its
 * Edge-runtime variant — the same app with `edge/middleware.ts` in place of `proxy.ts`, plus the
 * test pages of `test/next/fixture/`, assembled in `.tmp/next-edge` and built there. Each build
 * is reused while its sources are unchanged.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  buildNextExample,
  EXAMPLE_DIR,
  ROOT,
  startNextExample,
  type RunningNextApp,
} from '../../examples/next/run.js';
import { endWithTestProcess } from '../support/system.js';

/** Which build of the example. */
export type NextVariant = 'proxy' | 'edge';

/** Where the Edge variant is assembled (two levels below the root, as the example is). */
const EDGE_DIR = join(ROOT, '.tmp', 'next-edge');
const FIXTURE_DIR = join(ROOT, 'test', 'next', 'fixture');

/** Files of the example that are not part of the Edge variant, or are outputs. */
const NOT_COPIED = new Set([
  '.next',
  '.next-build.lock',
  'next-env.d.ts',
  'node_modules',
  'proxy.ts',
  'edge',
  'run.ts',
  'server.ts',
]);

function assembleEdgeVariant(): void {
  mkdirSync(EDGE_DIR, { recursive: true });
  for (const name of readdirSync(EDGE_DIR)) {
    if (name !== '.next' && name !== '.next-build.lock') {
      rmSync(join(EDGE_DIR, name), { recursive: true, force: true });
    }
  }
  cpSync(EXAMPLE_DIR, EDGE_DIR, {
    recursive: true,
    filter: (source) => {
      const path = relative(EXAMPLE_DIR, source);
      return path === '' || !NOT_COPIED.has(path.split('/')[0] ?? '');
    },
  });
  cpSync(join(EXAMPLE_DIR, 'edge', 'middleware.ts'), join(EDGE_DIR, 'middleware.ts'));
  cpSync(FIXTURE_DIR, EDGE_DIR, { recursive: true });
}

/** The project directory of a variant, built (or reused). */
export async function builtNextApp(variant: NextVariant): Promise<string> {
  if (variant === 'proxy') {
    await buildNextExample();
    return EXAMPLE_DIR;
  }
  await buildNextExample({ dir: EDGE_DIR, prepare: assembleEdgeVariant });
  return EDGE_DIR;
}

/** A variant under `next start` on 127.0.0.1:`port`, ended with the test process at the latest. */
export async function startNextApp(
  variant: NextVariant,
  env: Readonly<Record<string, string | undefined>>,
  port: number,
  onOutput?: (chunk: string) => void,
): Promise<RunningNextApp> {
  const dir = await builtNextApp(variant);
  const app = await startNextExample({
    dir,
    port,
    host: '127.0.0.1',
    env,
    ...(onOutput === undefined ? {} : { onOutput }),
  });
  endWithTestProcess(app.process);
  return app;
}
