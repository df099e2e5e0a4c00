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
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    // Class and function names as in the sources (logs, error names), not the bundler's renamings.
    keepNames: true,
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { build } = await import('esbuild');
  const result = await build(buildOptions());
  if (result.errors.length || result.warnings.length) {
    process.stderr.write(`build: ${result.errors.length} errors, ${result.warnings.length} warnings\n`);
    process.exit(1);
  }
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  writeFileSync(join(ROOT, 'dist', 'meta.json'), JSON.stringify(result.metafile));
  const outputs = outputsOf(result.metafile);
  const entries = outputs.filter((o) => !o.file.startsWith('dist/chunks/')).map((o) => o.file);
  process.stdout.write(`build: ${entries.join(', ')} and ${outputs.length - entries.length} chunks\n`);
}
