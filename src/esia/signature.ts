/**
 * The request signature of the ESIA profile: `client_secret` is a detached CMS (PKCS#7) signature,
 * Base64 URL-safe, of the concatenated request parameters, made with the key of the client's
 * registered certificate (GOST R 34.10-2012 with Streebog, or RSA). Checked with the e-signature
 * feature's suites (methods/esign). What is checked is that the signer IS the registered certificate
 * (as ESIA does) — not a trust chain: the registration is the trust.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { webCryptoSuite, type SignatureSuite } from '../methods/esign/algorithms.ts';
import { OID } from '../methods/esign/oids.ts';
import { keyAlgorithm, validity } from '../methods/esign/certificate.ts';
import { gostSuite } from '../methods/esign/gost/suite.ts';
import type { EsiaClient } from './registration.ts';

const SUITES: SignatureSuite[] = [webCryptoSuite, gostSuite];
/** A signature is a few kilobytes; anything longer is not one. */
const MAX_SIGNATURE_CHARS = 32_768;

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Base64 URL-safe (what ESIA asks for) or plain Base64 (what some libraries send), padding optional. */
function decodeSignature(value: string): Uint8Array | undefined {
  const text = value.trim();
  if (!text || text.length > MAX_SIGNATURE_CHARS || !/^[A-Za-z0-9+/_-]+=*$/.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function signedDataOf(cms: Uint8Array): pkijs.SignedData | undefined {
  try {
    const asn = asn1js.fromBER(arrayBuffer(cms));
    if (asn.offset === -1) return undefined;
    const info = new pkijs.ContentInfo({ schema: asn.result });
    if (info.contentType !== OID.signedData) return undefined;
    return new pkijs.SignedData({ schema: info.content });
  } catch {
    return undefined;
  }
}

/**
 * Why `clientSecret` is not the client's signature of one of `contents` (the concatenations the
 * recommendations and the client libraries use), or undefined when it is. A reason, not a thrown
 * EsiaError: this module is imported on first use (request.ts), and a module imported so can have
 * its own copy of errors.ts (under the test runner, tsx loads the static graph as CommonJS and
 * import() as ESM), whose EsiaError the error handlers would not recognise.
 */
export async function requestSignatureRefusal(
  client: EsiaClient,
  clientSecret: string,
  contents: string[],
  now = new Date(),
): Promise<string | undefined> {
  const cms = decodeSignature(clientSecret);
  const signed = cms && signedDataOf(cms);
  if (!signed || signed.signerInfos.length !== 1) return 'client_secret is not a CMS signature';
  if (signed.encapContentInfo.eContent) return 'client_secret must be a detached signature';
  // Only the registered certificate can be the signer, whatever the signature carries.
  signed.certificates = [client.certificate];
  const { notBefore, notAfter } = validity(client.certificate);
  if (now < notBefore || now > notAfter) return 'the registered certificate is outside its validity period';
  const info = signed.signerInfos[0]!;
  const suite = SUITES.find((s) => s.supports(keyAlgorithm(client.certificate), info.digestAlgorithm.algorithmId));
  if (!suite) return 'the signature algorithm is not supported';
  for (const content of contents) {
    if (await suite.verifyContent(signed, 0, arrayBuffer(Buffer.from(content, 'utf8')))) return undefined;
  }
  return 'client_secret is not the registered certificate’s signature of this request';
}
