/**
 * The README's development round trip with GOST, as a developer runs it: `npm run cli -- esign
 * make-test-ca --gost` writes a GOST test CA with citizens' 256- and 512-bit certificates, and
 * `npm run esign -- --as gost256|gost512` signs a challenge with them; vkhod's verifier accepts the
 * signatures, and so does OpenSSL's GOST engine when it is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as pkijs from 'pkijs';
import { certificatePerson } from '../../src/methods/esign/certificate.ts';
import { TrustStore } from '../../src/methods/esign/trust-store.ts';
import { CmsVerifier } from '../../src/methods/esign/verify.ts';
import { gostEngineAvailable, opensslVerifies } from '../support/openssl-gost.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--no-warnings=ExperimentalWarning', script, ...args],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('CLI: a GOST test CA and signing with it', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-gost-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('make-test-ca --gost, then esign --as gost256 and --as gost512: signatures vkhod (and OpenSSL) accept', async () => {
    const made = await run('scripts/vkhod.ts', ['esign', 'make-test-ca', '--gost', '--out', dir]);
    expect(made.code, made.stderr).to.equal(0);
    expect(made.stdout).to.include('citizen-gost256.pem').and.to.include('--as gost256');
    for (const file of ['gost-ca.pem', 'gost-ca.crl', 'citizen-gost256.pem', 'citizen-gost512.pem'])
      expect(existsSync(join(dir, file)), file).to.equal(true);
    expect(statSync(join(dir, 'citizen-gost512.key')).mode & 0o077, 'keys readable by the owner only').to.equal(0);
    const person = certificatePerson(
      pkijs.Certificate.fromBER(
        new Uint8Array(Buffer.from(readFileSync(join(dir, 'citizen-gost512.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')),
      ),
    );
    expect(person).to.deep.equal({
      snils: '19876543247',
      inn: '500345678979',
      name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' },
    });

    const again = await run('scripts/vkhod.ts', ['esign', 'make-test-ca', '--gost', '--out', dir]);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include('already has a GOST test CA');

    const challenge = 'vkhod:localhost:3000:cli-round-trip-0123456789';
    writeFileSync(join(dir, 'challenge.txt'), challenge);
    const verifier = new CmsVerifier(new TrustStore(dir, dir));
    for (const [as, extra] of [
      ['gost256', []],
      ['gost512', ['--no-attributes']],
    ] as const) {
      const out = join(dir, `${as}.sig`);
      const signed = await run('scripts/esign.ts', ['--dir', dir, '--as', as, '--in', join(dir, 'challenge.txt'), '--out', out, ...extra]);
      expect(signed.code, signed.stderr).to.equal(0);
      const { signer } = await verifier.verify(new Uint8Array(readFileSync(out)), [Buffer.from(challenge)]);
      expect(signer.subjectPublicKeyInfo.algorithm.algorithmId).to.equal(as === 'gost256' ? '1.2.643.7.1.1.1.1' : '1.2.643.7.1.1.1.2');
      if (gostEngineAvailable())
        expect(opensslVerifies(readFileSync(out), challenge, join(dir, 'gost-ca.pem')), `OpenSSL verifies ${as}`).to.equal(true);
      else console.warn('    (OpenSSL check skipped: no GOST engine)');
    }
    const printed = await run('scripts/esign.ts', ['--dir', dir, '--as', 'gost256', '--challenge', challenge]);
    expect(printed.code, printed.stderr).to.equal(0);
    await verifier.verify(new Uint8Array(Buffer.from(printed.stdout.trim(), 'base64')), [Buffer.from(challenge)]);
  });
});
