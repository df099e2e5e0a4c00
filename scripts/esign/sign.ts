/**
 * Makes a CMS (PKCS#7) signature the way a citizen's signing tool does: SignedData with the
 * signer's certificate, signed attributes (content type, signing time, message digest), detached
 * by default. RSA and ECDSA keys (PKCS#8, PKCS#1 or SEC1 PEM), and GOST R 34.10-2012 256/512 keys
 * (PKCS#8 PEM as OpenSSL's GOST engine writes them) with Streebog.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import '../../src/methods/esign/algorithms.ts'; // sets pkijs's crypto engine
import { gostSign, streebog } from '../../src/methods/esign/gost/index.ts';
import { type GostPrivateKey, parseGostPrivateKey } from '../../src/methods/esign/gost/keys.ts';
import { GOST_OID } from '../../src/methods/esign/gost/suite.ts';
import { pemBodies } from '../../src/methods/esign/trust-store.ts';

const CURVES: Record<string, { curve: string; hash: string }> = {
  prime256v1: { curve: 'P-256', hash: 'SHA-256' },
  secp384r1: { curve: 'P-384', hash: 'SHA-384' },
  secp521r1: { curve: 'P-521', hash: 'SHA-512' },
};

async function importSigningKey(pem: string): Promise<{ key: CryptoKey; hash: string }> {
  const object = createPrivateKey(pem);
  const der = object.export({ type: 'pkcs8', format: 'der' });
  if (object.asymmetricKeyType === 'rsa') {
    return {
      key: await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']),
      hash: 'SHA-256',
    };
  }
  const ec = object.asymmetricKeyType === 'ec' ? CURVES[object.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!ec)
    throw new Error(
      `unsupported key type ${object.asymmetricKeyType}${object.asymmetricKeyDetails?.namedCurve ? ` (${object.asymmetricKeyDetails.namedCurve})` : ''}: use RSA or ECDSA P-256/P-384/P-521`,
    );
  return { key: await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: ec.curve }, false, ['sign']), hash: ec.hash };
}

export interface SignInput {
  content: Uint8Array;
  /** the signer's certificate, PEM */
  certificatePem: string;
  privateKeyPem: string;
  /** more certificates to include (intermediate CAs), PEM */
  chainPem?: string;
  /** include the content in the signature instead of a detached signature */
  attached?: boolean;
  /** no signed attributes: the signature is over the content itself (GOST keys only) */
  noAttributes?: boolean;
}

/** The DER of a ContentInfo holding the SignedData. */
export async function signCms(input: SignInput): Promise<Uint8Array> {
  const [certDer] = pemBodies(Buffer.from(input.certificatePem), 'CERTIFICATE');
  if (!certDer) throw new Error('no certificate in the certificate file');
  const certificate = pkijs.Certificate.fromBER(certDer);
  const chain = input.chainPem ? pemBodies(Buffer.from(input.chainPem), 'CERTIFICATE').map((d) => pkijs.Certificate.fromBER(d)) : [];
  const [keyDer] = pemBodies(Buffer.from(input.privateKeyPem), 'PRIVATE KEY');
  const gost = keyDer ? parseGostPrivateKey(keyDer) : undefined;
  if (gost) return signGost(input, certificate, chain, gost);
  const { key, hash } = await importSigningKey(input.privateKeyPem);
  const content = input.content.buffer.slice(input.content.byteOffset, input.content.byteOffset + input.content.byteLength) as ArrayBuffer;
  const digest = await webcrypto.subtle.digest(hash, content);
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.7.1',
      ...(input.attached ? { eContent: new asn1js.OctetString({ valueHex: content }) } : {}),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })] }),
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.5', values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
            new pkijs.Attribute({ type: '1.2.840.113549.1.9.4', values: [new asn1js.OctetString({ valueHex: digest })] }),
          ],
        }),
      }),
    ],
    certificates: [certificate, ...chain],
  });
  await signed.sign(key, 0, hash, content);
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signed.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER(false));
}

const CONTENT_TYPE = '1.2.840.113549.1.9.3';
const SIGNING_TIME = '1.2.840.113549.1.9.5';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

/** GOST: pkijs cannot sign with GOST keys, so the signer info is filled in by hand. */
function signGost(input: SignInput, certificate: pkijs.Certificate, chain: pkijs.Certificate[], key: GostPrivateKey): Uint8Array {
  const bits = key.curve.bits;
  const digestOid = bits === 256 ? GOST_OID.streebog256 : GOST_OID.streebog512;
  const content = new Uint8Array(input.content);
  const signedAttrs = input.noAttributes
    ? undefined
    : new pkijs.SignedAndUnsignedAttributes({
        type: 0,
        attributes: [
          new pkijs.Attribute({ type: CONTENT_TYPE, values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })] }),
          new pkijs.Attribute({ type: SIGNING_TIME, values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
          new pkijs.Attribute({ type: MESSAGE_DIGEST, values: [new asn1js.OctetString({ valueHex: streebog(content, bits) })] }),
        ],
      });
  let signedBytes = content;
  if (signedAttrs) {
    signedBytes = new Uint8Array(signedAttrs.toSchema().toBER(false));
    signedBytes[0] = 0x31; // signed as a SET OF (RFC 5652 §5.4)
  }
  const signature = gostSign(key.curve, key.d, streebog(signedBytes, bits));
  const signed = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: digestOid })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.7.1',
      ...(input.attached ? { eContent: new asn1js.OctetString({ valueHex: content }) } : {}),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }),
        digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: digestOid }),
        ...(signedAttrs ? { signedAttrs } : {}),
        signatureAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: bits === 256 ? GOST_OID.key256 : GOST_OID.key512 }),
        signature: new asn1js.OctetString({ valueHex: signature }),
      }),
    ],
    certificates: [certificate, ...chain],
  });
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signed.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER(false));
}
