/**
 * Every TSDoc example compiles under the project's strictest settings (`strict`,
 * `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`), and so do the README's TypeScript
 * blocks: a user who copies one gets code that type-checks.
 *
 * Each ```ts block under an `@example` tag of every file in src/ (found anew on each run, so new
 * adapters are checked as soon as they land), and each ```ts block of README.md, becomes its own
 * module. It sees what a reader of that example has in scope:
 *
 * - what it imports itself;
 * - the exports of the module it documents (a reader of `src/core/cookies.ts` has its names) and
 *   of the package's public entry points (`cognito-guard`, `cognito-guard/<subpath>`), added as
 *   imports only for names it uses and does not declare;
 * - the few values an example works on without making them (IN_SCOPE below: a request, an app,
 *   the tokens of a sign-in…), declared with their real types.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The values an example works on without making them: what a reader of that part of the package
 * has in scope (a request, an app, the tokens of a sign-in…), with their real types. One is
 * declared in an example only when it uses the name without declaring it. `*` applies everywhere;
 * a folder of src/ (or `README.md`) adds or overrides. Keep it short: an example that needs more
 * should make it.
 */
const IN_SCOPE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '*': {
    request: "import('cognito-guard').IncomingRequest",
    guard: "import('cognito-guard').CognitoGuard",
    result: "import('cognito-guard').GuardResult",
    emulator: "import('cognito-guard/emulator').EmulatorHandle",
    appUrl: 'string',
    accessToken: 'string',
    idToken: 'string',
    refreshToken: 'string',
    app: "import('express').Express",
    req: "import('express').Request",
    res: "import('express').Response",
    context: "import('playwright-core').BrowserContext",
    auth: "import('cognito-guard/express').ExpressCognitoGuard",
  },
  fastify: {
    app: "import('fastify').FastifyInstance",
    request: "import('fastify').FastifyRequest",
    reply: "import('fastify').FastifyReply",
  },
  core: {
    api: "import('cognito-guard').CognitoApiGuard",
    options: "import('cognito-guard').ResolvedOptions",
    subject: 'string',
    jwks: "import('cognito-guard').JwksCache",
  },
  emulator: {
    pool: "import('{src}/emulator/pool.js').UserPool",
    request: 'Request',
  },
  lambda: {
    /** The Lambda function under the bridge, and the event it is handed. */
    handler: "import('cognito-guard/lambda/bridge').HttpApiHandler",
    event: "import('aws-lambda').APIGatewayProxyEventV2",
    request: "import('{src}/lambda/events.js').LambdaRequest",
  },
  'README.md': {
    /** The app's own lookup, in the multi-tenant example. */
    tenantOf: "(request: import('cognito-guard').IncomingRequest) => string",
  },
  web: {
    /** A Fetch-API request, and a Worker's bindings. */
    request: 'Request',
    env: 'Readonly<Record<string, string | undefined>>',
  },
  hono: {
    app: "import('hono').Hono",
    c: "import('hono').Context",
    auth: "import('cognito-guard/hono').HonoCognitoGuard",
    env: 'Readonly<Record<string, string | undefined>>',
  },
  testing: {
    jar: "import('cognito-guard/testing').CookieJar",
    session: "import('cognito-guard/testing').SignInResult",
  },
};

/** `{src}` in a type stands for the path to src/ from the example (for internal types). */
function inScope(source: string): Readonly<Record<string, string>> {
  const folder = /^src\/([^/]+)\//.exec(source)?.[1] ?? source;
  return { ...IN_SCOPE['*'], ...IN_SCOPE[folder] };
}

interface Example {
  /** `src/core/cookies.ts:120` — where the block starts. */
  readonly where: string;
  readonly source: string;
  /** The module it documents (for its own exports), or undefined for the README. */
  readonly module: string | undefined;
  readonly code: string;
  /** Source line of the block's first code line. */
  readonly firstLine: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
    })
    .sort();
}

/** The ```ts blocks under `@example` tags of a file's TSDoc comments. */
function tsdocExamples(path: string): Example[] {
  const text = readFileSync(path, 'utf8');
  const examples: Example[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split('\n').length;
    const lines = comment[0].split('\n').map((line) => line.replace(/^\s*\/?\*+\/? ?/, ''));
    let underExample = false;
    let block: string[] | undefined;
    let blockLine = 0;
    lines.forEach((line, index) => {
      if (block !== undefined) {
        if (/^```\s*$/.test(line)) {
          examples.push({
            where: `${relative(ROOT, path)}:${blockLine}`,
            source: relative(ROOT, path),
            module: path,
            code: block.join('\n'),
            firstLine: blockLine,
          });
          block = undefined;
        } else block.push(line);
        return;
      }
      if (/^@example\b/.test(line)) underExample = true;
      else if (/^@\w/.test(line)) underExample = false;
      if (underExample && /^```(ts|typescript)\s*$/.test(line)) {
        block = [];
        blockLine = startLine + index + 1;
      }
    });
  }
  return examples;
}

/** The ```ts blocks of a Markdown file. */
function markdownExamples(path: string): Example[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((match) => {
    const firstLine = text.slice(0, match.index).split('\n').length + 1;
    return {
      where: `${relative(ROOT, path)}:${firstLine}`,
      source: relative(ROOT, path),
      module: undefined,
      code: match[1] ?? '',
      firstLine,
    };
  });
}

/** The public entry points: `cognito-guard` and every `src/<name>/index.ts`. */
function entryPoints(): Map<string, string> {
  const entries = new Map([['cognito-guard', join(ROOT, 'src/index.ts')]]);
  for (const name of readdirSync(join(ROOT, 'src')).sort()) {
    const index = join(ROOT, 'src', name, 'index.ts');
    if (name !== 'cli' && statSync(join(ROOT, 'src', name)).isDirectory()) {
      try {
        if (statSync(index).isFile()) entries.set(`cognito-guard/${name}`, index);
      } catch {
        // a folder without an entry point (core)
      }
    }
  }
  return entries;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  assert.ok(parsed !== undefined);
  // The subpaths of the entry points found, whatever tsconfig.json lists.
  const paths: Record<string, string[]> = {};
  for (const [specifier, file] of entryPoints()) paths[specifier] = [file];
  return {
    ...parsed.options,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    // An example may name a value only to show it.
    noUnusedLocals: false,
    noUnusedParameters: false,
    paths: { ...parsed.options.paths, ...paths },
  };
}

/** Identifiers an example declares or imports itself (so nothing is added for them). */
function ownNames(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(node) ||
        ts.isFunctionDeclaration(node) ||
        ts.isClassDeclaration(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) ||
        ts.isParameter(node) ||
        ts.isImportSpecifier(node) ||
        ts.isImportClause(node) ||
        ts.isNamespaceImport(node) ||
        ts.isBindingElement(node)) &&
      node.name !== undefined &&
      ts.isIdentifier(node.name)
    ) {
      names.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return names;
}

/** Every identifier an example mentions. */
function mentioned(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) names.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return names;
}

interface Exported {
  readonly name: string;
  /** A type or interface only: imported with `type` (the project uses verbatimModuleSyntax). */
  readonly typeOnly: boolean;
}

/** The exported names of each module, read with the type checker. */
function exportsOf(
  modules: readonly string[],
  options: ts.CompilerOptions,
): Map<string, Exported[]> {
  const program = ts.createProgram(modules, options);
  const checker = program.getTypeChecker();
  const result = new Map<string, Exported[]>();
  for (const path of modules) {
    const file = program.getSourceFile(path);
    const symbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    const exported = symbol === undefined ? [] : checker.getExportsOfModule(symbol);
    result.set(
      path,
      exported.map((item) => {
        const target =
          (item.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(item) : item;
        return { name: item.name, typeOnly: (target.flags & ts.SymbolFlags.Value) === 0 };
      }),
    );
  }
  return result;
}

function specifierFor(from: string, module: string): string {
  const path = relative(dirname(from), module).replace(/\.ts$/, '.js');
  return path.startsWith('.') ? path : `./${path}`;
}

interface Checked {
  readonly examples: number;
  readonly problems: string[];
}

function checkExamples(examples: readonly Example[]): Checked {
  const options = compilerOptions();
  const entries = entryPoints();
  const documented = [...new Set(examples.flatMap((e) => (e.module ? [e.module] : [])))];
  const exported = exportsOf([...new Set([...documented, ...entries.values()])], options);
  const virtual = new Map<string, { text: string; example: Example; offset: number }>();

  examples.forEach((example, index) => {
    // Next to the module it documents, so relative imports resolve as from that module.
    const dir = example.module === undefined ? join(ROOT, 'src') : dirname(example.module);
    const path = join(dir, `__tsdoc_example_${index}__.ts`);
    const parsed = ts.createSourceFile(path, example.code, ts.ScriptTarget.ES2022, true);
    const own = ownNames(parsed);
    const wanted = [...mentioned(parsed)].filter((name) => !own.has(name));
    const taken = new Set<string>();
    const imports: string[] = [];
    const sources: [string, string][] = [
      ...(example.module === undefined
        ? []
        : [[specifierFor(path, example.module), example.module] as [string, string]]),
      ...[...entries].map(([specifier, file]): [string, string] => [specifier, file]),
    ];
    for (const [specifier, module] of sources) {
      const names = (exported.get(module) ?? []).filter(
        ({ name }) => wanted.includes(name) && !taken.has(name) && name !== 'default',
      );
      names.forEach(({ name }) => taken.add(name));
      if (names.length > 0) {
        const list = names.map(({ name, typeOnly }) => (typeOnly ? `type ${name}` : name));
        imports.push(`import { ${list.join(', ')} } from '${specifier}';`);
      }
    }
    const scope = inScope(example.source);
    const src = specifierFor(path, join(ROOT, 'src', 'x.ts')).replace(/\/x\.js$/, '');
    const declared = wanted
      .filter((name) => !taken.has(name) && scope[name] !== undefined)
      .map((name) => `declare const ${name}: ${(scope[name] ?? 'never').replace('{src}', src)};`);
    const header = `${[...imports, ...declared].join('\n')}\n`;
    virtual.set(path, {
      text: `${header}${example.code}\nexport {};\n`,
      example,
      offset: header.split('\n').length - 1,
    });
  });

  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => virtual.get(name)?.text ?? readFile(name);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  host.getSourceFile = (name, language, onError, shouldCreate) => {
    const text = virtual.get(name)?.text;
    return text === undefined
      ? getSourceFile(name, language, onError, shouldCreate)
      : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file;
    const entry = file === undefined ? undefined : virtual.get(file.fileName);
    if (file === undefined || entry === undefined) {
      // A problem outside the examples (a library file, the options): reported as it is.
      problems.push(`${file?.fileName ?? '(options)'}: ${message}`);
      continue;
    }
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const sourceLine = entry.example.firstLine + line - entry.offset;
    problems.push(`${entry.example.source}:${sourceLine}: ${message}`);
  }
  return { examples: virtual.size, problems };
}

describe('TypeScript examples', { timeout: 120_000 }, () => {
  it('every TSDoc @example in src/ compiles under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess', () => {
    const examples = sourceFiles(join(ROOT, 'src')).flatMap(tsdocExamples);
    assert.ok(examples.length > 100, `only ${examples.length} examples found`);
    const { problems } = checkExamples(examples);
    assert.deepEqual(problems, []);
  });

  it("the README's TypeScript blocks compile too", () => {
    const examples = markdownExamples(join(ROOT, 'README.md'));
    assert.ok(examples.length > 3);
    const { problems } = checkExamples(examples);
    assert.deepEqual(problems, []);
  });
});
