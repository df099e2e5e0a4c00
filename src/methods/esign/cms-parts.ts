/** Pieces of a CMS SignedData every suite needs: the signer's certificate and the attached content. */
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID } from './oids.ts';

/** The certificate the signer info points to (issuer + serial, or subject key identifier). */
export function signerCertificate(signed: pkijs.SignedData, info: pkijs.SignerInfo): pkijs.Certificate | undefined {
  const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const sid = info.sid as unknown;
  if (sid instanceof pkijs.IssuerAndSerialNumber)
    return certs.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  const keyId = (sid as { valueBlock?: { valueHexView?: Uint8Array } })?.valueBlock?.valueHexView;
  if (!keyId) return undefined;
  return certs.find((c) => {
    const ski = c.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue as
      { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
    return ski?.valueBlock?.valueHexView && Buffer.from(ski.valueBlock.valueHexView).equals(Buffer.from(keyId));
  });
}

/** The content inside the signature (an attached signature), or undefined for a detached one. */
export function encapsulatedContent(signed: pkijs.SignedData): Uint8Array | undefined {
  const content = signed.encapContentInfo.eContent;
  if (!content) return undefined;
  if (content.valueBlock.isConstructed)
    return Buffer.concat((content.valueBlock.value as asn1js.OctetString[]).map((p) => Buffer.from(p.valueBlock.valueHexView)));
  return content.valueBlock.valueHexView;
}
