/**
 * The production build (`npm run build`, issue 15: start to ready and idle memory): the server
 * (src/main.ts) and the CLI (scripts/vkhod.ts) bundled by esbuild into `dist/src/main.js` and
 * `dist/scripts/vkhod.js`, with the code they share and the code loaded on first use (pkijs, qrcode,
 * otplib, passkeys, multer, nodemailer, the ESIA profile…) in `dist/chunks/`. One file per
 * entry instead of ~540 modules: Node resolves, reads and links a few dozen files at start, not
 * hundreds (production start to ready 1.1–1.5 s → 0.87–0.94 s, idle RSS 112–115 → 108 MB on the
 * 2-core machine, docs/operations.md#running).
 *
 * `npm run build` type-checks first (tsc, no output): the bundler strips types without checking them.
 *
 * Left to Node at run time (`external`), resolved from node_modules as before:
 * - native addons: libsql, @node-rs/argon2 (its thread loads it by path, src/accounts/hash-threads.ts);
 * - mongoose (and with it the MongoDB driver): loaded only with MONGODB_URI, and the driver's
 *   optional requires (kerberos, snappy, …) are not ours to bundle;
 * - pino: its transports start worker threads by file path (`__dirname`), which a bundle moves.
 * `dist/meta.json` says which input went into which output (test/unit/build.test.ts reads the same).
 *
 * Names (issue 15): esbuild's `keepNames` pins every function's `name` with a call made each time the
 * function is created — for the closures koa, node-oidc-provider and vkhod make per request, per
 * request; without it client_credentials took 20% and userinfo 18–28% less CPU per request (paired
 * rounds of `npm run bench`). Without it a class or function can carry another name at run time:
 * esbuild renames one whose name another declaration in the same chunk already uses (`Foo` becomes
 * `Foo2`, nested declarations included), and writes a class that refers to itself as
 * `var Foo = class _Foo` (its name is then `_Foo`). Names matter only where code reads them:
 * node-oidc-provider reads its errors' and models' class names (`this.constructor.name`): a token's
 * `kind` and the adapter's model name (src/oidc/provider.ts, one-time.ts and security-events.ts go
 * by them), the device flow's errors that src/oidc/provider.ts maps by `err.name`. vkhod's own errors
 * set `name` themselves; the other packages' errors that vkhod tells apart it tells apart by
 * `instanceof` or `code`. The build fails if one of those node-oidc-provider classes has another
 * name in the bundle (`renamedClasses`).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions, Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Packages Node loads from node_modules at run time (see above). */
export const EXTERNAL_PACKAGES = ['libsql', '@node-rs/argon2', 'mongoose', 'pino'];

export function buildOptions(outdir = join(ROOT, 'dist')): BuildOptions & { metafile: true } {
  return {
    absWorkingDir: ROOT,
    entryPoints: { 'src/main': 'src/main.ts', 'scripts/vkhod': 'scripts/vkhod.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL_PACKAGES,
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __vkhodCreateRequire } from 'node:module';\nconst require = __vkhodCreateRequire(import.meta.url);",
    },
    // No per-call `__name()` pinning (see the header); the classes whose names are read are checked instead.
    keepNames: false,
    // Stack traces map back to the sources with NODE_OPTIONS=--enable-source-maps (docs/operations.md).
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  };
}

/** The inputs each output holds, and what each output imports statically (at load) and lazily. */
export function outputsOf(metafile: Metafile) {
  return Object.entries(metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, output]) => ({
      file,
      entryPoint: output.entryPoint,
      inputs: Object.keys(output.inputs),
      staticImports: output.imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => i.path),
    }));
}

/**
 * The classes whose `name` node-oidc-provider reads at run time (`this.constructor.name`): its
 * errors (`err.name`) and its models (a token's `kind`), from its sources.
 */
export function namesReadAtRunTime(): string[] {
  const lib = join(ROOT, 'node_modules', 'oidc-provider', 'lib');
  const files = [
    join(lib, 'helpers', 'errors.js'),
    join(lib, 'helpers', 're_render_errors.js'),
    ...readdirSync(join(lib, 'models'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => join(lib, 'models', f)),
  ];
  const names = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bclass\s+([A-Z]\w*)/g)].map((m) => m[1]!));
  return [...new Set(names)].sort();
}

/**
 * The run-time names the bundle gives to the classes and functions declared as `name` in the
 * sources (or renamed from it): `class X`, `function X(`, a class assigned to a variable
 * (`[var ]X = class {`, named after the variable), and a named class expression (`X = class _X {`,
 * which esbuild writes for a class that refers to itself: its name is then `_X`).
 */
function runtimeNames(texts: string[], name: string): string[] {
  const like = `_?${name}\\d*`;
  const declared = new RegExp(`\\b(?:class|function)\\s+(${like})\\b|\\b(${like})\\s*=\\s*class\\b(?!\\s+(?!extends\\b)[\\w$])`, 'g');
  return texts.flatMap((text) => [...text.matchAll(declared)].map((m) => (m[1] ?? m[2])!));
}

/**
 * Of `names`, those the bundle (the text of its files) declares under another run-time name
 * (`class Foo2`, `var Foo2 = class`, `var Foo = class _Foo`): their `name` is no longer the
 * source's. A name the bundle does not declare at all is reported too (as `Foo?`): the check would
 * no longer see a renaming.
 */
export function renamedClasses(texts: string[], names: string[]): string[] {
  return names.flatMap((name) => {
    const seen = runtimeNames(texts, name);
    if (seen.some((n) => n !== name)) return [name];
    return seen.length ? [] : [`${name}?`];
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { build } = await import('esbuild');
  const result = await build({ ...buildOptions(), write: false });
  if (result.errors.length || result.warnings.length) {
    process.stderr.write(`build: ${result.errors.length} errors, ${result.warnings.length} warnings\n`);
    process.exit(1);
  }
  const renamed = renamedClasses(
    result.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text),
    namesReadAtRunTime(),
  );
  if (renamed.length) {
    process.stderr.write(`build: classes whose names node-oidc-provider reads were renamed by the bundler: ${renamed.join(', ')}\n`);
    process.exit(1);
  }
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  writeFileSync(join(ROOT, 'dist', 'meta.json'), JSON.stringify(result.metafile));
  const outputs = outputsOf(result.metafile);
  const entries = outputs.filter((o) => !o.file.startsWith('dist/chunks/')).map((o) => o.file);
  process.stdout.write(`build: ${entries.join(', ')} and ${outputs.length - entries.length} chunks\n`);
}
