/**
 * Verifies a CMS (PKCS#7) signature of a challenge, in the order that gives the citizen the most
 * useful answer: can it be read, is the algorithm supported, is the signature over this challenge,
 * is the certificate in its validity period and meant for signing, does it chain to a trusted CA,
 * is it revoked. Each refusal is an EsignError with its own code (texts in views/locales).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type SignatureSuite, webCryptoSuite } from './algorithms.ts';
import { isLegacyGost, OID } from './oids.ts';
import { encapsulatedContent as encapsulated, signerCertificate } from './cms-parts.ts';
import { gostSuite } from './gost/suite.ts';
import { allowsSigning, claimsCa, isCa, keyAlgorithm, pathLength, unknownCriticalExtension, validity } from './certificate.ts';
import { EsignError } from './errors.ts';
import type { CrlFetcher } from './crl-fetch.ts';
import type { TrustStore } from './trust-store.ts';

export interface VerifiedSignature {
  signer: pkijs.Certificate;
  /** signer first, then intermediates; the trust anchor last */
  path: pkijs.Certificate[];
}

const MAX_PATH = 6;
/**
 * Certificates a signature may carry: a real one holds the signer's and its chain (1–4). More is
 * refused before any of them is looked at: each one is a public-key operation on the event loop
 * (a GOST-512 check is ~10 ms here), and anyone may send a signature stuffed with made-up CAs.
 */
const MAX_CERTIFICATES = 10;

function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function parseSignedData(cms: Uint8Array): pkijs.SignedData {
  try {
    const asn = asn1js.fromBER(buffer(cms));
    if (asn.offset === -1) throw new Error(asn.result.error);
    const info = new pkijs.ContentInfo({ schema: asn.result });
    if (info.contentType !== OID.signedData) throw new Error(`content type ${info.contentType}`);
    return new pkijs.SignedData({ schema: info.content });
  } catch (err) {
    throw new EsignError('malformed', (err as Error).message);
  }
}

export class CmsVerifier {
  constructor(
    private readonly trust: TrustStore,
    private readonly suites: SignatureSuite[] = [webCryptoSuite, gostSuite],
    /** CRLs from the certificates' distribution points (optional; off by default) */
    private readonly fetcher?: CrlFetcher,
  ) {}

  private suiteFor(keyAlg: string, digestAlg?: string, ...others: string[]): SignatureSuite {
    const suite = this.suites.find((s) => s.supports(keyAlg, digestAlg));
    if (suite) return suite;
    // GOST R 34.10-2001 / 34.11-94 (withdrawn; certificates under them expired by 2019) get their own message
    const legacy = [keyAlg, digestAlg, ...others].find((oid) => isLegacyGost(oid));
    if (legacy) throw new EsignError('gost_unsupported', legacy);
    throw new EsignError('unsupported_algorithm', `${keyAlg}/${digestAlg ?? ''}`);
  }

  /**
   * Verifies `cms` as a signature of one of `contents` (the challenge, allowing a trailing line
   * break a file may have gained). Returns the signer's certificate and its path to a trusted CA.
   */
  async verify(cms: Uint8Array, contents: Uint8Array[], now = new Date()): Promise<VerifiedSignature> {
    const signed = parseSignedData(cms);
    if ((signed.certificates?.length ?? 0) > MAX_CERTIFICATES) throw new EsignError('malformed', 'too many certificates in the signature');
    const info = signed.signerInfos[0];
    if (!info) throw new EsignError('malformed', 'no signer');
    const signer = signerCertificate(signed, info);
    if (!signer) throw new EsignError('no_certificate');

    // 1. the signature itself, over this challenge
    const suite = this.suiteFor(keyAlgorithm(signer), info.digestAlgorithm.algorithmId, info.signatureAlgorithm.algorithmId);
    const attached = encapsulated(signed);
    let signedOk = false;
    if (attached) {
      signedOk = contents.some((c) => Buffer.from(c).equals(Buffer.from(attached))) && (await suite.verifyContent(signed, 0, undefined));
    } else {
      for (const content of contents) {
        if (await suite.verifyContent(signed, 0, buffer(content))) {
          signedOk = true;
          break;
        }
      }
    }
    if (!signedOk) throw new EsignError('bad_signature');

    // 2. the certificate: in its validity period and meant for signing
    const { notBefore, notAfter } = validity(signer);
    if (now < notBefore) throw new EsignError('not_yet_valid');
    if (now > notAfter) throw new EsignError('expired');
    if (!allowsSigning(signer)) throw new EsignError('key_usage');
    // A CA's certificate is not a person's: it signs certificates (RFC 5280 §4.2.1.9).
    if (claimsCa(signer)) throw new EsignError('key_usage', 'a CA certificate');

    // 3. a path to a trusted CA, then revocation
    const material = this.trust.current();
    const pool = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate && c !== signer);
    const path = await this.buildPath(signer, pool, material.anchors, now);
    await this.checkRevocation(path, material.crls, now);
    return { signer, path };
  }

  private async issuedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
    if (!cert.issuer.isEqual(issuer.subject)) return false;
    return this.suiteFor(keyAlgorithm(issuer), undefined, cert.signatureAlgorithm.algorithmId).verifyCertificate(cert, issuer);
  }

  private async buildPath(
    signer: pkijs.Certificate,
    pool: pkijs.Certificate[],
    anchors: pkijs.Certificate[],
    now: Date,
  ): Promise<pkijs.Certificate[]> {
    const path = [signer];
    let current = signer;
    // Each supplied certificate is tried as an issuer at most once (its check is a public-key operation).
    const tried = new Set<pkijs.Certificate>();
    while (path.length <= MAX_PATH) {
      for (const anchor of anchors) {
        if (await this.issuedBy(current, anchor)) {
          const full = [...path, anchor];
          checkPath(full, now);
          return full;
        }
      }
      let next: pkijs.Certificate | undefined;
      for (const candidate of pool) {
        if (tried.has(candidate) || path.includes(candidate) || !isCa(candidate) || !current.issuer.isEqual(candidate.subject)) continue;
        tried.add(candidate);
        if (await this.issuedBy(current, candidate)) {
          next = candidate;
          break;
        }
      }
      if (!next) break;
      path.push(next);
      current = next;
    }
    throw new EsignError('untrusted');
  }

  /** Every certificate on the path whose issuer publishes a configured CRL is checked against it. */
  private async checkRevocation(path: pkijs.Certificate[], crls: pkijs.CertificateRevocationList[], now: Date): Promise<void> {
    for (let i = 0; i < path.length - 1; i += 1) {
      const cert = path[i]!;
      const issuer = path[i + 1]!;
      const lists: pkijs.CertificateRevocationList[] = [];
      const suite = this.suites.find((s) => s.supports(keyAlgorithm(issuer)));
      for (const crl of crls) {
        if (!crl.issuer.isEqual(issuer.subject)) continue;
        if (suite && (await suite.verifyCrl(crl, issuer))) lists.push(crl);
      }
      if (!lists.length && this.fetcher) {
        // no CRL file for this issuer: its distribution points (the certificate chains to a trusted CA by now)
        const fetched = await this.fetcher.crlsFor(cert, now.getTime());
        for (const crl of fetched.crls) {
          if (crl.issuer.isEqual(issuer.subject) && suite && (await suite.verifyCrl(crl, issuer))) lists.push(crl);
        }
        if (fetched.urls.length && !lists.length) throw new EsignError('revocation_unknown', 'the CRL could not be fetched');
      }
      if (!lists.length) continue;
      if (lists.some((crl) => crl.revokedCertificates?.some((r) => r.userCertificate.isEqual(cert.serialNumber))))
        throw new EsignError('revoked');
      if (lists.every((crl) => crl.nextUpdate && crl.nextUpdate.value < now))
        throw new EsignError('revocation_unknown', 'the CRL is out of date');
    }
  }
}

/**
 * RFC 5280 §6.1 on a built path (signer first, trust anchor last): every CA in its validity
 * period, no CA with more CAs below it than its pathLenConstraint allows, and no certificate with
 * a critical extension this code does not understand.
 */
function checkPath(path: pkijs.Certificate[], now: Date): void {
  for (const [i, certificate] of path.entries()) {
    // The trust anchor is configured, not presented: its extensions are the operator's choice.
    const unknown = i < path.length - 1 ? unknownCriticalExtension(certificate) : undefined;
    if (unknown) throw new EsignError('untrusted', `a critical extension not understood (${unknown})`);
    if (i === 0) continue;
    const { notBefore, notAfter } = validity(certificate);
    if (now < notBefore || now > notAfter) throw new EsignError('untrusted', 'a CA certificate is outside its validity period');
    // CAs between this one and the signer's certificate.
    const limit = pathLength(certificate);
    if (limit !== undefined && i - 1 > limit) throw new EsignError('untrusted', 'a CA issued below its path length limit');
  }
}
