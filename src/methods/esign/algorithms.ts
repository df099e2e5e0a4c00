/**
 * Signature algorithms behind one interface. A `SignatureSuite` checks CMS signatures,
 * certificate signatures and CRL signatures for the key types it knows. vkhod ships the WebCrypto
 * suite (RSA, RSA-PSS, ECDSA with SHA-2) here and the GOST suite (GOST R 34.10-2012 with Streebog,
 * what Russian qualified certificates use) in gost/suite.ts. The withdrawn GOST R 34.10-2001 /
 * 34.11-94 are recognized and refused with their own message.
 */
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

// pkijs needs a crypto engine in Node; Node's WebCrypto does RSA and ECDSA.
pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as Crypto }));

export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  rsa: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  ec: '1.2.840.10045.2.1',
} as const;

/** SHA-2 digests the WebCrypto suite accepts (SHA-1 is not accepted for a signature today). */
const SHA2_DIGESTS = new Set(['2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3']);

/** GOST algorithm identifiers: keys, digests and signature algorithms (RFC 4491, RFC 9215). */
export const GOST_OIDS: Readonly<Record<string, string>> = {
  '1.2.643.2.2.19': 'GOST R 34.10-2001 key',
  '1.2.643.2.2.20': 'GOST R 34.10-94 key',
  '1.2.643.7.1.1.1.1': 'GOST R 34.10-2012 256-bit key',
  '1.2.643.7.1.1.1.2': 'GOST R 34.10-2012 512-bit key',
  '1.2.643.2.2.9': 'GOST R 34.11-94 digest',
  '1.2.643.7.1.1.2.2': 'GOST R 34.11-2012 (Streebog) 256-bit digest',
  '1.2.643.7.1.1.2.3': 'GOST R 34.11-2012 (Streebog) 512-bit digest',
  '1.2.643.2.2.3': 'GOST R 34.11-94 with GOST R 34.10-2001 signature',
  '1.2.643.2.2.4': 'GOST R 34.11-94 with GOST R 34.10-94 signature',
  '1.2.643.7.1.1.3.2': 'GOST R 34.10-2012 256-bit signature',
  '1.2.643.7.1.1.3.3': 'GOST R 34.10-2012 512-bit signature',
};

export function isGost(oid: string | undefined): boolean {
  return Boolean(oid && (oid in GOST_OIDS || oid.startsWith('1.2.643.7.1.1.') || oid.startsWith('1.2.643.2.2.')));
}

/** GOST R 34.10-2001 / 34.10-94 keys and GOST R 34.11-94 digests (CryptoPro's 1.2.643.2.2 arc): not accepted. */
export function isLegacyGost(oid: string | undefined): boolean {
  return Boolean(oid?.startsWith('1.2.643.2.2.'));
}

export interface SignatureSuite {
  readonly name: string;
  /** True when this suite checks signatures by keys of `keyAlgorithm` (a SubjectPublicKeyInfo OID) with `digestAlgorithm`. */
  supports(keyAlgorithm: string, digestAlgorithm?: string): boolean;
  /** The CMS signer's signature over `content` (detached) or over the encapsulated content. */
  verifyContent(signed: pkijs.SignedData, signer: number, content: ArrayBuffer | undefined): Promise<boolean>;
  /** `certificate` was signed by `issuer`'s key. */
  verifyCertificate(certificate: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean>;
  /** `crl` was signed by `issuer`'s key. */
  verifyCrl(crl: pkijs.CertificateRevocationList, issuer: pkijs.Certificate): Promise<boolean>;
}

/** RSA (PKCS#1 v1.5 and PSS) and ECDSA (P-256, P-384, P-521) with SHA-2, through WebCrypto. */
export const webCryptoSuite: SignatureSuite = {
  name: 'webcrypto',
  supports(keyAlgorithm, digestAlgorithm) {
    const keyOk = keyAlgorithm === OID.rsa || keyAlgorithm === OID.rsaPss || keyAlgorithm === OID.ec;
    return keyOk && (digestAlgorithm === undefined || SHA2_DIGESTS.has(digestAlgorithm));
  },
  async verifyContent(signed, signer, content) {
    try {
      const result = await signed.verify({ signer, ...(content ? { data: content } : {}), checkChain: false, extendedMode: true });
      return result.signatureVerified === true;
    } catch {
      return false;
    }
  },
  async verifyCertificate(certificate, issuer) {
    try {
      return await certificate.verify(issuer);
    } catch {
      return false;
    }
  },
  async verifyCrl(crl, issuer) {
    try {
      return await crl.verify({ issuerCertificate: issuer });
    } catch {
      return false;
    }
  },
};
