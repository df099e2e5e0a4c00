/**
 * Certification path checks of e-signatures (RFC 5280 §6.1), found missing by a probe: a CA's
 * pathLenConstraint, critical extensions the code does not understand, a CA's certificate used
 * as a person's, and a signature stuffed with made-up CA certificates (each one a public-key
 * operation on the event loop).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import * as x509 from '@peculiar/x509';
import { TrustStore } from '../../src/methods/esign/trust-store.ts';
import { EsignError } from '../../src/methods/esign/errors.ts';
import { CmsVerifier } from '../../src/methods/esign/verify.ts';
import { generateKeys, issueCitizen, personName, privateKeyPem, randomSerial, type Issued } from '../../scripts/esign/test-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';

const DAY = 86_400_000;
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' };
const PERSON = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247' };
const CHALLENGE = new TextEncoder().encode('vkhod:test:challenge');

/** A CA certificate (`pathLength` as given) issued by `issuer`, or self-signed. */
async function ca(name: string, pathLength: number | undefined, issuer?: Issued): Promise<Issued> {
  const keys = await generateKeys('ecdsa');
  const subject = new x509.Name([{ '2.5.4.3': [name] }]);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: issuer ? issuer.certificate.subjectName : subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: (issuer ?? { keys }).keys.privateKey,
    signingAlgorithm: ECDSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certificate, keys, kind: 'ecdsa' };
}

/** A person's certificate from `issuer` with extra extensions. */
async function person(issuer: Issued, extensions: x509.Extension[], basic = new x509.BasicConstraintsExtension(false, undefined, true)) {
  const keys = await generateKeys('ecdsa');
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: personName(PERSON),
    issuer: issuer.certificate.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ECDSA,
    extensions: [
      basic,
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      ...extensions,
    ],
  });
  return { certificate, keys, kind: 'ecdsa' as const };
}

describe('e-signature: the certification path (RFC 5280)', () => {
  let dir: string;
  let root: Issued;
  const verifier = () => new CmsVerifier(new TrustStore(dir, undefined));
  const signedBy = async (signer: Issued, chain: Issued[] = []) =>
    signCms({
      content: CHALLENGE,
      certificatePem: signer.certificate.toString('pem'),
      privateKeyPem: await privateKeyPem(signer.keys.privateKey),
      chainPem: chain.map((c) => c.certificate.toString('pem')).join('\n'),
    });
  const refusal = async (cms: Uint8Array) => {
    try {
      await verifier().verify(cms, [CHALLENGE]);
    } catch (err) {
      if (err instanceof EsignError) return err.code;
      throw err;
    }
    return 'accepted';
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-path-'));
    root = await ca('Корневой УЦ (pathlen 1)', 1);
    writeFileSync(join(dir, 'root.pem'), root.certificate.toString('pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a person’s certificate under the root and under one intermediate CA', async () => {
    expect(await refusal(await signedBy(await issueCitizen(root, PERSON, { kind: 'ecdsa' })))).to.equal('accepted');
    const intermediate = await ca('Промежуточный УЦ', 0, root);
    expect(await refusal(await signedBy(await issueCitizen(intermediate, PERSON, { kind: 'ecdsa' }), [intermediate]))).to.equal('accepted');
  });

  it('refuses a path longer than a CA’s path length allows', async () => {
    // root (pathlen 1) → a (pathlen 0) → b → person: b may not exist under a, nor two CAs under root.
    const a = await ca('УЦ A', 0, root);
    const b = await ca('УЦ B', undefined, a);
    expect(await refusal(await signedBy(await issueCitizen(b, PERSON, { kind: 'ecdsa' }), [b, a]))).to.equal('untrusted');
    const c = await ca('УЦ C', undefined, root);
    const d = await ca('УЦ D', undefined, c);
    expect(await refusal(await signedBy(await issueCitizen(d, PERSON, { kind: 'ecdsa' }), [d, c]))).to.equal('untrusted');
  });

  it('refuses a certificate with a critical extension it does not understand', async () => {
    const odd = new x509.Extension('1.2.3.4.5.6.7', true, new Uint8Array([0x05, 0x00]));
    expect(await refusal(await signedBy(await person(root, [odd])))).to.equal('untrusted');
    const fine = new x509.Extension('1.2.3.4.5.6.7', false, new Uint8Array([0x05, 0x00]));
    expect(await refusal(await signedBy(await person(root, [fine])))).to.equal('accepted');
  });

  it('refuses a CA’s certificate as a person’s', async () => {
    const caAsPerson = await person(root, [], new x509.BasicConstraintsExtension(true, undefined, true));
    expect(await refusal(await signedBy(caAsPerson))).to.equal('key_usage');
  });

  it('refuses a signature carrying more certificates than any real chain, before looking at them', async () => {
    const fakes = await Promise.all(Array.from({ length: 11 }, (_, i) => ca(`Поддельный УЦ ${i}`, undefined)));
    expect(await refusal(await signedBy(await issueCitizen(root, PERSON, { kind: 'ecdsa' }), fakes))).to.equal('malformed');
  });
});
