/**
 * Makes a CMS (PKCS#7) signature the way a citizen's signing tool does: SignedData with the
 * signer's certificate, signed attributes (content type, signing time, message digest), detached
 * by default. RSA and ECDSA keys (PKCS#8, PKCS#1 or SEC1 PEM).
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import '../../src/methods/esign/algorithms.ts'; // sets pkijs's crypto engine
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
    return { key: await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']), hash: 'SHA-256' };
  }
  const ec = object.asymmetricKeyType === 'ec' ? CURVES[object.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!ec) throw new Error(`unsupported key type ${object.asymmetricKeyType}${object.asymmetricKeyDetails?.namedCurve ? ` (${object.asymmetricKeyDetails.namedCurve})` : ''}: use RSA or ECDSA P-256/P-384/P-521`);
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
}

/** The DER of a ContentInfo holding the SignedData. */
export async function signCms(input: SignInput): Promise<Uint8Array> {
  const [certDer] = pemBodies(Buffer.from(input.certificatePem), 'CERTIFICATE');
  if (!certDer) throw new Error('no certificate in the certificate file');
  const certificate = pkijs.Certificate.fromBER(certDer);
  const chain = input.chainPem ? pemBodies(Buffer.from(input.chainPem), 'CERTIFICATE').map((d) => pkijs.Certificate.fromBER(d)) : [];
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
