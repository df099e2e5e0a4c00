/**
 * Signature algorithms behind one interface. A `SignatureSuite` checks CMS signatures,
 * certificate signatures and CRL signatures for the key types it knows. vkhod ships the WebCrypto
 * suite (RSA, RSA-PSS, ECDSA with SHA-2) here and the GOST suite (GOST R 34.10-2012 with Streebog,
 * what Russian qualified certificates use) in gost/suite.ts. The withdrawn GOST R 34.10-2001 /
 * 34.11-94 are recognized and refused with their own message.
 */
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { OID } from './oids.ts';

// pkijs needs a crypto engine in Node; Node's WebCrypto does RSA and ECDSA.
pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as Crypto }));

/** SHA-2 digests the WebCrypto suite accepts (SHA-1 is not accepted for a signature today). */
const SHA2_DIGESTS = new Set(['2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3']);

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
