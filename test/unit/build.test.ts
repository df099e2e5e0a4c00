/**
 * The production bundle (scripts/build.ts, `npm run build`): built here in memory with the same
 * options, it must be clean (no bundler errors or warnings), keep the on-demand libraries out of
 * what the server loads at start (the bundle's counterpart of startup.on-demand.test.ts, which
 * checks the sources), and hold no code that only works from its own place in node_modules.
 * .ci/dist-smoke starts the written bundle and runs the CLI from it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { build, type BuildResult, type OutputFile } from 'esbuild';
import { buildOptions, EXTERNAL_PACKAGES, namesReadAtRunTime, renamedClasses } from '../../scripts/build.ts';

const OUT = '/vkhod-build-test/dist';
const ON_DEMAND = /node_modules\/(pkijs|asn1js|qrcode|otplib|nodemailer|@simplewebauthn\/server|multer|@koa\/multer)\//;

describe('production bundle (scripts/build.ts)', function () {
  this.timeout(120_000);
  let result: BuildResult & { outputFiles: OutputFile[]; metafile: NonNullable<BuildResult['metafile']> };

  before(async () => {
    result = await build({ ...buildOptions(OUT), write: false, logLevel: 'silent' });
  });

  it('builds without errors or warnings', () => {
    expect(result.errors.map((e) => e.text)).to.deep.equal([]);
    expect(result.warnings.map((w) => `${w.text} (${w.location?.file ?? ''})`)).to.deep.equal([]);
  });

  it('puts the server and the CLI where npm start, the Docker image and the docs run them', () => {
    const files = result.outputFiles.map((f) => f.path);
    expect(files).to.include(join(OUT, 'src/main.js'));
    expect(files).to.include(join(OUT, 'scripts/vkhod.js'));
  });

  it('loads no on-demand library at start: they sit in chunks the server imports only when used', () => {
    const outputs = result.metafile.outputs;
    const main = Object.keys(outputs).find((file) => file.endsWith('/src/main.js'))!;
    // A start loads main.js, what it imports with import() once the configuration passed (the app,
    // the store…), and everything those import statically.
    const atStart = new Set<string>();
    const walk = (file: string) => {
      if (atStart.has(file)) return;
      atStart.add(file);
      for (const i of outputs[file].imports) if (!i.external && i.kind === 'import-statement') walk(i.path);
    };
    walk(main);
    for (const i of outputs[main].imports) if (!i.external && i.kind === 'dynamic-import') walk(i.path);
    // …and the store adapter adapters/open.ts picks at start (SQLite, or MongoDB with MONGODB_URI).
    for (const [file, output] of Object.entries(outputs))
      if (Object.keys(output.inputs).some((input) => /^adapters\/(sqlite|mongo)\/index\.ts$/.test(input))) walk(file);
    const loaded = [...atStart].flatMap((file) => Object.keys(outputs[file].inputs));
    expect(loaded, 'the app is loaded at start').to.include('src/app.ts');
    expect(loaded, 'the SQLite adapter is loaded at start').to.include('adapters/sqlite/index.ts');
    expect(
      loaded.some((i) => i.includes('node_modules/oidc-provider/')),
      'oidc-provider is loaded at start',
    ).to.equal(true);
    expect([...new Set(loaded.filter((i) => ON_DEMAND.test(i)).map((i) => ON_DEMAND.exec(i)![1]))]).to.deep.equal([]);
    // …and they are in the bundle, in chunks of their own
    const all = Object.keys(outputs).flatMap((file) => Object.keys(outputs[file].inputs));
    for (const lib of ['pkijs', 'asn1js', 'qrcode', 'otplib', 'nodemailer', '@simplewebauthn/server', 'multer'])
      expect(
        all.some((i) => i.includes(`node_modules/${lib}/`)),
        `${lib} in the bundle`,
      ).to.equal(true);
  });

  it('holds no code that needs its own file in node_modules (__dirname, __filename do not exist in the bundle)', () => {
    const offending = result.outputFiles
      .filter((f) => f.path.endsWith('.js'))
      .filter((f) => /(?<![\w$."'])__(dirname|filename)\b/.test(f.text))
      .map((f) => f.path);
    expect(offending).to.deep.equal([]);
  });

  it('leaves to Node only packages that production installs', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of EXTERNAL_PACKAGES) expect(manifest.dependencies, name).to.have.property(name);
  });

  it('pins no function names per call, and keeps the class names node-oidc-provider reads at run time', () => {
    const texts = result.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text);
    expect(
      texts.filter((text) => /\b__name\(/.test(text)),
      'no keepNames helper calls',
    ).to.have.length(0);
    const names = namesReadAtRunTime();
    // its errors (the device flow's are mapped by name in src/oidc/provider.ts) and models (a token's kind)
    expect(names).to.include.members([
      'NotFoundError',
      'AlreadyUsedError',
      'NoCodeError',
      'InvalidGrant',
      'AccessToken',
      'RefreshToken',
      'Session',
    ]);
    expect(renamedClasses(texts, names)).to.deep.equal([]);
  });

  it('the renaming check sees a renamed class, a self-referring one, and a name it can no longer find', () => {
    const texts = [
      'var Grant2 = class extends BaseModel {}',
      'class AccessToken extends BaseToken {}',
      'var Session = class {',
      'class Interaction3 {}',
      'var NoCodeError = class _NoCodeError extends ReRenderError {',
      '  RefreshToken2 = class extends BaseToken {',
      'var ExpiredError = class extends ReRenderError {',
    ];
    expect(
      renamedClasses(texts, ['Grant', 'AccessToken', 'Session', 'Interaction', 'NoCodeError', 'RefreshToken', 'ExpiredError', 'Client']),
    ).to.deep.equal(['Grant', 'Interaction', 'NoCodeError', 'RefreshToken', 'Client?']);
  });
});
