/**
 * GOST R 34.11-2012 (Streebog) and GOST R 34.10-2012 in vkhod: the standards' test vectors, then
 * both directions against an independent implementation (OpenSSL's GOST engine): vkhod verifies
 * OpenSSL's CMS signatures, certificates and CRLs for every standard parameter set, and OpenSSL
 * verifies the signatures, certificates and CRLs vkhod's development tool makes.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { GOST_CURVES, generatePrivateKey, gostSign, gostVerify, publicKeyOf, streebog } from '../../src/methods/esign/gost/index.ts';
import { decodePublicKey } from '../../src/methods/esign/gost/gost3410.ts';
import { parseGostPrivateKey } from '../../src/methods/esign/gost/keys.ts';
import { pemBodies, TrustStore } from '../../src/methods/esign/trust-store.ts';
import { EsignError } from '../../src/methods/esign/errors.ts';
import { CmsVerifier } from '../../src/methods/esign/verify.ts';
import { createGostCa, createGostCrl, issueGostCitizen } from '../../scripts/esign/gost-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';
import {
  makeOpensslGostPki,
  openssl,
  type OpensslGostPki,
  opensslVerifies,
  PARAM_SETS_256,
  PARAM_SETS_512,
  skipWithoutGostEngine,
} from '../support/openssl-gost.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EsignError) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('GOST R 34.11-2012 (Streebog)', () => {
  // RFC 6986 §10 (GOST R 34.11-2012 Appendix A), digests in the byte order tools print them
  const M1 = Buffer.from('012345678901234567890123456789012345678901234567890123456789012');
  const M2 = Buffer.from(
    'd1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20f120eceef0ff20f1f2f0e5ebe0ece820ede020f5f0e0e1f0fbff20efebfaeafb20c8e3eef0e5e2fb',
    'hex',
  );

  it("gives the standard's digests of its two example messages, 512 and 256 bit", () => {
    expect(hex(streebog(M1, 512))).to.equal(
      '1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48',
    );
    expect(hex(streebog(M1, 256))).to.equal('9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500');
    expect(hex(streebog(M2, 512))).to.equal(
      '1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28',
    );
    expect(hex(streebog(M2, 256))).to.equal('9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50');
  });

  it('agrees with OpenSSL on messages of every length around the block boundaries', function () {
    skipWithoutGostEngine(this);
    for (const length of [0, 1, 63, 64, 65, 127, 128, 129, 1000]) {
      const message = randomBytes(length);
      for (const bits of [256, 512] as const) {
        const theirs = openssl(['dgst', '-engine', 'gost', `-md_gost12_${bits}`, '-r'], message)
          .toString()
          .split(' ')[0];
        expect(hex(streebog(message, bits)), `${length} bytes, ${bits} bit`).to.equal(theirs);
      }
    }
  });
});

describe('GOST R 34.10-2012 signatures', () => {
  it("checks the standard's example signature (RFC 7091 §A.1) and derives its public key", () => {
    const curve = GOST_CURVES.get('1.2.643.2.2.35.0')!;
    const d = 0x7a929ade789bb9be10ed359dd39a72c11b60961f49397eee1d19ce9891ec3b28n;
    const key = publicKeyOf(curve, d);
    expect(key.x.toString(16)).to.equal('7f2b49e270db6d90d8595bec458b50c58585ba1d4e9b788f6689dbd8e56fd80b');
    expect(key.y.toString(16)).to.equal('26f1b489d6701dd185c8413a977b3cbbaf64d1c593d26627dffb101a87ff77da');
    const digest = Buffer.from('2dfbc1b372d89a1188c09c52e0eec61fce52032ab1022e8e67ece6672b043ee5', 'hex').reverse(); // e, little-endian
    const s = '01456c64ba4642a1653c235a98a60249bcd6d3f746b631df928014f6c5bf9c40';
    const r = '41aa28d2f1ab148280cd9ed56feda41974053554a42767b83ad043fd39dc0493';
    expect(gostVerify(key, digest, Buffer.from(s + r, 'hex'))).to.equal(true);
    expect(gostVerify(key, digest, Buffer.from(r + s, 'hex')), 'r and s swapped').to.equal(false);
  });

  it('signs and verifies on every standard curve; refuses another digest, a zero or too large r/s, and a point off the curve', () => {
    for (const [oid, curve] of GOST_CURVES) {
      const d = generatePrivateKey(curve);
      const key = publicKeyOf(curve, d);
      const digest = randomBytes(curve.bits / 8);
      const signature = gostSign(curve, d, digest);
      expect(gostVerify(key, digest, signature), oid).to.equal(true);
      expect(gostVerify(key, randomBytes(curve.bits / 8), signature), oid).to.equal(false);
      const n = curve.bits / 8;
      expect(gostVerify(key, digest, new Uint8Array(2 * n)), 'zeros').to.equal(false);
      expect(gostVerify(key, digest, Uint8Array.from([...new Uint8Array(n).fill(0xff), ...signature.subarray(n)])), 's ≥ q').to.equal(
        false,
      );
      const raw = Buffer.alloc(2 * n);
      raw[0] = 1;
      raw[n] = 1;
      expect(decodePublicKey(curve, raw), 'off the curve').to.equal(undefined);
    }
  });
});

describe('GOST: vkhod verifies what OpenSSL signs', function () {
  let pki: OpensslGostPki;
  let verifier: CmsVerifier;
  const challenge = 'vkhod:127.0.0.1:3000:abcdefghijklmnopqrstuvwxyz012345';
  before(function () {
    this.timeout(60_000);
    skipWithoutGostEngine(this);
    pki = makeOpensslGostPki();
    verifier = new CmsVerifier(new TrustStore(pki.trustDir, pki.trustDir));
  });
  after(() => pki?.close());

  it('every 256-bit parameter set (CryptoPro A, B, C, XchA, XchB; TC26 A, B, C, D): with and without signed attributes, detached and attached, chained through a GOST-signed intermediate to a 512-bit root', async function () {
    this.timeout(60_000);
    for (const [name, oid] of PARAM_SETS_256) {
      const citizen = pki.sub.issue(IVAN, { algorithm: 'gost2012_256', paramSet: name });
      for (const options of [{}, { noAttributes: true }, { attached: true }, { attached: true, noAttributes: true }]) {
        const { signer, path } = await verifier.verify(pki.sign(citizen, challenge, options), [Buffer.from(challenge)]);
        expect(signer.subjectPublicKeyInfo.algorithm.algorithmParams.valueBlock.value[0].valueBlock.toString(), name).to.equal(oid);
        expect(path, `${name} ${JSON.stringify(options)}`).to.have.length(3);
      }
      expect(await refusal(verifier.verify(pki.sign(citizen, `${challenge}x`), [Buffer.from(challenge)])), `${name}: other data`).to.equal(
        'bad_signature',
      );
    }
  });

  it('every 512-bit parameter set (TC26 A, B, C), with and without signed attributes', async function () {
    this.timeout(60_000);
    for (const [name, oid] of PARAM_SETS_512) {
      const citizen = pki.sub.issue(IVAN, { algorithm: 'gost2012_512', paramSet: name });
      for (const options of [{}, { noAttributes: true }, { attached: true }]) {
        const { signer } = await verifier.verify(pki.sign(citizen, challenge, options), [Buffer.from(challenge)]);
        expect(signer.subjectPublicKeyInfo.algorithm.algorithmParams.valueBlock.value[0].valueBlock.toString(), name).to.equal(oid);
      }
      expect(await refusal(verifier.verify(pki.sign(citizen, 'другой текст'), [Buffer.from(challenge)])), `${name}: other data`).to.equal(
        'bad_signature',
      );
    }
  });

  it('refuses a GOST certificate that is expired, revoked in the GOST-signed CRL, from an untrusted CA, or not for signing; and a tampered signature', async function () {
    this.timeout(60_000);
    const expired = pki.sub.issue(IVAN, { notBefore: new Date(Date.now() - 400 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    expect(await refusal(verifier.verify(pki.sign(expired, challenge), [Buffer.from(challenge)]))).to.equal('expired');

    const revoked = pki.sub.issue(IVAN, { algorithm: 'gost2012_512', paramSet: 'A' });
    expect(await refusal(verifier.verify(pki.sign(revoked, challenge), [Buffer.from(challenge)]))).to.equal('accepted');
    pki.sub.revoke(revoked.cert);
    pki.publishCrl();
    expect(await refusal(verifier.verify(pki.sign(revoked, challenge), [Buffer.from(challenge)]))).to.equal('revoked');

    const stranger = pki.stranger.issue(IVAN);
    expect(await refusal(verifier.verify(pki.sign(stranger, challenge, { chain: false }), [Buffer.from(challenge)]))).to.equal('untrusted');
    const noIntermediate = pki.sub.issue(IVAN);
    expect(
      await refusal(verifier.verify(pki.sign(noIntermediate, challenge, { chain: false }), [Buffer.from(challenge)])),
      'the intermediate is neither trusted nor in the signature',
    ).to.equal('untrusted');

    const encipher = pki.sub.issue(IVAN, { extensions: 'encipher' });
    expect(await refusal(verifier.verify(pki.sign(encipher, challenge), [Buffer.from(challenge)]))).to.equal('key_usage');

    const good = pki.sign(pki.sub.issue(IVAN), challenge, { noAttributes: true });
    const signatureAt = good.lastIndexOf(Buffer.from([0x04, 0x40])) + 2;
    const tampered = Buffer.from(good);
    tampered[signatureAt + 5] ^= 1;
    expect(await refusal(verifier.verify(tampered, [Buffer.from(challenge)]))).to.equal('bad_signature');
  });

  it('ignores a CRL whose GOST signature does not check (a forged list cannot revoke, nor un-revoke)', async function () {
    this.timeout(60_000);
    const citizen = pki.sub.issue(IVAN);
    const sig = pki.sign(citizen, challenge);
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-gost-crl-'));
    try {
      // a CRL with the intermediate's name, signed by vkhod's tool with another key
      const impostor = createGostCa({ paramSet: 'tc26-256-B' });
      impostor.certificate.subject = (await verifier.verify(sig, [Buffer.from(challenge)])).path[1]!.subject;
      writeFileSync(join(dir, 'root.pem'), openssl(['x509', '-in', pki.root.cert]));
      writeFileSync(join(dir, 'forged.crl'), createGostCrl(impostor, [citizen.serial]));
      expect(await refusal(new CmsVerifier(new TrustStore(dir, dir)).verify(sig, [Buffer.from(challenge)]))).to.equal('accepted');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("GOST: OpenSSL verifies what vkhod's tool signs", function () {
  let pki: OpensslGostPki;
  const challenge = 'vkhod:127.0.0.1:3000:ZYXWVUTSRQPONMLKJIHGFEDCBA987654';
  before(function () {
    this.timeout(60_000);
    skipWithoutGostEngine(this);
    pki = makeOpensslGostPki();
  });
  after(() => pki?.close());

  it('signatures by keys OpenSSL made (256 and 512 bit; with and without signed attributes; attached)', async function () {
    this.timeout(60_000);
    const both = `${pki.root.cert}.both`;
    writeFileSync(both, Buffer.concat([openssl(['x509', '-in', pki.root.cert]), openssl(['x509', '-in', pki.sub.cert])]));
    for (const [algorithm, paramSet] of [
      ['gost2012_256', 'TCA'],
      ['gost2012_256', 'A'],
      ['gost2012_512', 'C'],
    ] as const) {
      const citizen = pki.sub.issue(IVAN, { algorithm, paramSet });
      expect(parseGostPrivateKey(pemBodies(Buffer.from(citizen.privateKeyPem), 'PRIVATE KEY')[0]!), "reads OpenSSL's key").to.not.equal(
        undefined,
      );
      for (const options of [{}, { noAttributes: true }, { attached: true }]) {
        const sig = await signCms({
          content: Buffer.from(challenge),
          certificatePem: citizen.certificatePem,
          privateKeyPem: citizen.privateKeyPem,
          ...options,
        });
        expect(opensslVerifies(sig, challenge, both), `${algorithm} ${paramSet} ${JSON.stringify(options)}`).to.equal(true);
        expect(opensslVerifies(sig, `${challenge}!`, both), 'other data').to.equal(false);
      }
    }
  });

  it("the development GOST CA: OpenSSL accepts its certificates (256-bit CA over a 512-bit root) and its CRL, and the tool's signatures", async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-gost-dev-'));
    try {
      const root = createGostCa({ paramSet: 'tc26-512-B', name: 'Root' });
      const ca = createGostCa({ paramSet: 'CryptoPro-C', name: 'Sub', issuer: root });
      const citizen = issueGostCitizen(ca, IVAN, { paramSet: 'tc26-512-C' });
      const revoked = issueGostCitizen(ca, IVAN, { paramSet: 'tc26-256-D' });
      writeFileSync(join(dir, 'root.pem'), root.pem);
      writeFileSync(join(dir, 'sub.pem'), ca.pem);
      writeFileSync(join(dir, 'citizen.pem'), citizen.pem);
      writeFileSync(join(dir, 'revoked.pem'), revoked.pem);
      writeFileSync(join(dir, 'sub.crl'), createGostCrl(ca, [revoked.serialNumber]));
      const verify = (cert: string, crl: boolean) => {
        const args = [
          'verify',
          '-engine',
          'gost',
          '-CAfile',
          join(dir, 'root.pem'),
          '-untrusted',
          join(dir, 'sub.pem'),
          ...(crl ? ['-crl_check', '-CRLfile', join(dir, 'sub.crl')] : []),
          join(dir, cert),
        ];
        const { status } = spawnSync('openssl', args);
        return status === 0;
      };
      expect(verify('citizen.pem', false)).to.equal(true);
      expect(verify('citizen.pem', true), 'not in the CRL').to.equal(true);
      expect(verify('revoked.pem', true), 'in the CRL').to.equal(false);
      const text = openssl(['x509', '-in', join(dir, 'citizen.pem'), '-noout', '-text']).toString();
      expect(text).to.include('SNILS = 11223344595').and.to.include('INN = 770123456703').and.to.include('Signing Tool of Issuer');
      const sig = await signCms({
        content: Buffer.from(challenge),
        certificatePem: citizen.pem,
        privateKeyPem: citizen.keyPem,
        chainPem: ca.pem,
      });
      expect(opensslVerifies(sig, challenge, join(dir, 'root.pem'))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GOST suite: which pairings of key and digest it takes', () => {
  it('a Streebog digest of the key’s own length only; another pairing is "not supported" (422), not "does not match"', async () => {
    const { gostSuite, GOST_OID } = await import('../../src/methods/esign/gost/suite.ts');
    expect(gostSuite.supports(GOST_OID.key256, GOST_OID.streebog256)).to.equal(true);
    expect(gostSuite.supports(GOST_OID.key512, GOST_OID.streebog512)).to.equal(true);
    expect(gostSuite.supports(GOST_OID.key256, GOST_OID.streebog512)).to.equal(false);
    expect(gostSuite.supports(GOST_OID.key512, GOST_OID.streebog256)).to.equal(false);
    expect(gostSuite.supports(GOST_OID.key256, undefined)).to.equal(true);
  });
});
