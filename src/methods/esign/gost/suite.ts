/**
 * The GOST suite behind `SignatureSuite`: GOST R 34.10-2012 256- and 512-bit keys with Streebog
 * (GOST R 34.11-2012) for CMS signatures (with or without signed attributes, detached or
 * attached), certificate signatures and CRL signatures. vkhod's own implementation (streebog.ts,
 * gost3410.ts), tested against the standard's vectors and against OpenSSL's GOST engine.
 * GOST R 34.10-2001 with GOST R 34.11-94 (withdrawn since 2019) is not accepted.
 */
import * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';
import type { SignatureSuite } from '../algorithms.ts';
import { encapsulatedContent, signerCertificate } from '../cms-parts.ts';
import { GOST_CURVES, type GostCurve } from './curves.ts';
import { decodePublicKey, type GostPublicKey, verifyDigest } from './gost3410.ts';
import { streebog } from './streebog.ts';

export const GOST_OID = {
  key256: '1.2.643.7.1.1.1.1',
  key512: '1.2.643.7.1.1.1.2',
  streebog256: '1.2.643.7.1.1.2.2',
  streebog512: '1.2.643.7.1.1.2.3',
  signature256: '1.2.643.7.1.1.3.2',
  signature512: '1.2.643.7.1.1.3.3',
} as const;

const KEY_BITS: Record<string, 256 | 512> = { [GOST_OID.key256]: 256, [GOST_OID.key512]: 512 };
const DIGEST_BITS: Record<string, 256 | 512> = { [GOST_OID.streebog256]: 256, [GOST_OID.streebog512]: 512 };
/** A CMS signer info names either the signature algorithm or (as OpenSSL and CryptoPro do) the key algorithm. */
const SIGNATURE_BITS: Record<string, 256 | 512> = {
  [GOST_OID.signature256]: 256,
  [GOST_OID.signature512]: 512,
  [GOST_OID.key256]: 256,
  [GOST_OID.key512]: 512,
};

const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

/** The GOST public key of a certificate, or undefined when it is not one or is not on its curve. */
export function gostPublicKey(certificate: pkijs.Certificate): GostPublicKey | undefined {
  const spki = certificate.subjectPublicKeyInfo;
  const bits = KEY_BITS[spki.algorithm.algorithmId];
  if (!bits) return undefined;
  const params = spki.algorithm.algorithmParams as asn1js.Sequence | undefined;
  const paramSet = (params?.valueBlock?.value?.[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock?.toString();
  const curve: GostCurve | undefined = paramSet ? GOST_CURVES.get(paramSet) : undefined;
  if (!curve || curve.bits !== bits) return undefined;
  const inner = asn1js.fromBER(spki.subjectPublicKey.valueBlock.valueHexView.slice().buffer);
  if (inner.offset === -1 || !(inner.result instanceof asn1js.OctetString)) return undefined;
  return decodePublicKey(curve, inner.result.valueBlock.valueHexView);
}

function check(key: GostPublicKey | undefined, bits: number | undefined, signedBytes: Uint8Array, signature: Uint8Array): boolean {
  if (!key || bits !== key.curve.bits) return false;
  return verifyDigest(key, streebog(signedBytes, key.curve.bits), signature);
}

export const gostSuite: SignatureSuite = {
  name: 'gost',
  supports(keyAlgorithm, digestAlgorithm) {
    // A Streebog digest of the key's own length only (256-bit key: Streebog-256): another pairing is
    // not a GOST R 34.10-2012 signature vkhod supports, said as such — not as a signature that does not match.
    return keyAlgorithm in KEY_BITS && (digestAlgorithm === undefined || DIGEST_BITS[digestAlgorithm] === KEY_BITS[keyAlgorithm]);
  },
  async verifyContent(signed, signer, content) {
    try {
      const info = signed.signerInfos[signer];
      if (!info) return false;
      const certificate = signerCertificate(signed, info);
      const key = certificate && gostPublicKey(certificate);
      if (!key) return false;
      const digestBits = DIGEST_BITS[info.digestAlgorithm.algorithmId];
      if (digestBits !== key.curve.bits || SIGNATURE_BITS[info.signatureAlgorithm.algorithmId] !== key.curve.bits) return false;
      const data = content ? new Uint8Array(content) : encapsulatedContent(signed);
      if (!data) return false;
      const signature = info.signature.valueBlock.valueHexView;
      if (!info.signedAttrs) return check(key, digestBits, data, signature);
      const digests = info.signedAttrs.attributes.filter((a) => a.type === MESSAGE_DIGEST);
      const stated = (digests[0]?.values[0] as asn1js.OctetString | undefined)?.valueBlock?.valueHexView;
      if (digests.length !== 1 || !stated || !Buffer.from(stated).equals(Buffer.from(streebog(data, digestBits)))) return false;
      // the signature is over the DER of the attributes as a SET OF (RFC 5652 §5.4)
      const attributes = new Uint8Array(info.signedAttrs.encodedValue.slice(0));
      attributes[0] = 0x31;
      return check(key, digestBits, attributes, signature);
    } catch {
      return false;
    }
  },
  async verifyCertificate(certificate, issuer) {
    return checkIssued(
      issuer,
      certificate.signatureAlgorithm.algorithmId,
      certificate.tbsView,
      certificate.signatureValue.valueBlock.valueHexView,
    );
  },
  async verifyCrl(crl, issuer) {
    return checkIssued(issuer, crl.signature.algorithmId, crl.tbsView, crl.signatureValue.valueBlock.valueHexView);
  },
};

/** A certificate or CRL (its to-be-signed bytes) signed by `issuer` with the algorithm it names. */
function checkIssued(issuer: Parameters<typeof gostPublicKey>[0], algorithmId: string, tbs: Uint8Array, signature: Uint8Array): boolean {
  try {
    return check(gostPublicKey(issuer), SIGNATURE_BITS[algorithmId], tbs, signature);
  } catch {
    return false;
  }
}
