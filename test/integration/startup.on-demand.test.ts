/**
 * Libraries that serve one rarely used path load on its first use, not at start (issue 15: start to
 * ready and idle memory): pkijs and asn1js (~8 MB and >100 ms) the e-signature sign-in and the ESIA
 * profile, qrcode an authenticator app's enrolment and the cross-device sign-in, otplib the
 * authenticator app, @simplewebauthn/server passkeys, multer an uploaded signature file, nodemailer
 * SMTP. A deployment with no e-signature trust store, no ESIA client and console mail loads none. The real process (src/main.ts)
 * runs as a child with a module-resolution hook that writes down every module it loads; by the time
 * /readyz answers 200, neither library is among them. A child process, because the test runner's own
 * process has long loaded both.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { freePort } from '../../scripts/bench/local-server.ts';
import { ServerProcess } from '../../scripts/bench/server-process.ts';
import { productionStartEnv } from '../support/production-start.ts';

// Registered with --import in the child; the hooks run on the loader's thread and append each resolved URL.
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export async function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}
`;

describe('start-up without e-signature trust store, ESIA clients or SMTP: on-demand libraries', function () {
  this.timeout(180_000);
  let dir: string;
  let server: ServerProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-lazy-pki-'));
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads none of them by the time /readyz answers', async () => {
    const loaded = join(dir, 'loaded.txt');
    writeFileSync(loaded, '');
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { out: ${JSON.stringify(loaded)} } });\n`,
    );
    const port = await freePort();
    // Only what this start needs: no VKHOD_* of the runner's environment (an e-signature trust store, say).
    server = await ServerProcess.start(
      'vkhod',
      [process.execPath, '--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, 'src/main.ts'],
      productionStartEnv(dir, port, 'lazy-rp'),
      `http://127.0.0.1:${port}`,
      150_000,
      false,
    );

    const urls = readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
    // the hook saw the start (else an empty list would prove nothing)
    expect(
      urls.some((u) => u.endsWith('/src/app.ts')),
      'src/app.ts among the loaded modules',
    ).to.equal(true);
    expect(
      urls.some((u) => u.includes('/node_modules/oidc-provider/')),
      'oidc-provider among the loaded modules',
    ).to.equal(true);
    const onDemand = /\/node_modules\/(pkijs|asn1js|qrcode|otplib|nodemailer|@simplewebauthn\/server|multer|@koa\/multer)\//;
    expect([...new Set(urls.filter((u) => onDemand.test(u)))]).to.deep.equal([]);
  });
});
