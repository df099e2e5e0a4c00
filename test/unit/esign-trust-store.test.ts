/**
 * The trusted CA folder as deployments fill it (the accredited CAs' certificates as they are
 * distributed): DER `.cer` files and PEM bundles, roots and intermediates; CRLs in DER or PEM; read
 * again when a file is added or rewritten, no restart. GOST certificates of vkhod's development CA.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pemBodies, TrustStore } from '../../src/methods/esign/trust-store.ts';
import { EsignError } from '../../src/methods/esign/errors.ts';
import { CmsVerifier } from '../../src/methods/esign/verify.ts';
import { createGostCa, createGostCrl, issueGostCitizen } from '../../scripts/esign/gost-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const TEXT = 'vkhod:127.0.0.1:3000:trust-store-challenge';
const der = (pem: string) => Buffer.from(pemBodies(Buffer.from(pem), 'CERTIFICATE', 'X509 CRL')[0]!);

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    if (err instanceof EsignError) return err.code;
    throw err;
  }
}

describe('the trusted CA folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-trust-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes DER .cer roots and PEM bundles of intermediates; a citizen's certificate and unreadable files are skipped", () => {
    const root = createGostCa({ paramSet: 'tc26-512-A', name: 'Корневой УЦ' });
    const sub1 = createGostCa({ paramSet: 'tc26-256-A', name: 'УЦ 1', issuer: root });
    const sub2 = createGostCa({ paramSet: 'CryptoPro-A', name: 'УЦ 2', issuer: root });
    const citizen = issueGostCitizen(sub1, IVAN);
    writeFileSync(join(dir, 'root.cer'), der(root.pem));
    writeFileSync(join(dir, 'accredited.pem'), `${sub1.pem}${sub2.pem}${citizen.pem}`);
    writeFileSync(join(dir, 'broken.crt'), 'not a certificate');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const anchors = new TrustStore(dir, undefined).current().anchors.map((c) => c.subject.typesAndValues.at(-1)!.value.valueBlock.value);
    expect(anchors.sort()).to.deep.equal(['Корневой УЦ', 'УЦ 1', 'УЦ 2']);
  });

  it('is read again when a CA certificate is added and when a DER CRL is rewritten', async () => {
    const ca = createGostCa({ paramSet: 'tc26-256-B' });
    const citizen = issueGostCitizen(ca, IVAN, { paramSet: 'tc26-512-B' });
    const signature = await signCms({ content: Buffer.from(TEXT), certificatePem: citizen.pem, privateKeyPem: citizen.keyPem });
    const verifier = new CmsVerifier(new TrustStore(dir, dir));
    expect(await outcome(verifier.verify(signature, [Buffer.from(TEXT)]))).to.equal('untrusted');
    writeFileSync(join(dir, 'ca.der'), der(ca.pem));
    writeFileSync(join(dir, 'ca.crl'), der(createGostCrl(ca, [])));
    expect(await outcome(verifier.verify(signature, [Buffer.from(TEXT)]))).to.equal('accepted');
    writeFileSync(join(dir, 'ca.crl'), der(createGostCrl(ca, [citizen.serialNumber])));
    expect(await outcome(verifier.verify(signature, [Buffer.from(TEXT)]))).to.equal('revoked');
  });
});
