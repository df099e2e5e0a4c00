/**
 * Tokens signed with GOST R 34.10-2012 (256 bit, Streebog-256), `alg: GOST3410_2012_256`, for
 * clients registered with `token_signing_alg: GOST3410_2012_256` — as ESIA signs its own. The
 * key is generated once, sealed with the at-rest key in the store's settings (like the RSA
 * signing keys), and its public key is published the way ESIA publishes its own: as a
 * certificate file, at `/aas/oauth2/certificates/gost2012_256.pem` (self-signed; its SHA-1
 * thumbprint is the tokens' `kid`). The JWS signature is s ‖ r, big-endian, over the Streebog-256
 * digest of `header.payload` — the layout of a GOST signature in CMS and of OpenSSL's GOST
 * engine (`openssl dgst -md_gost12_256 -verify`).
 *
 * vkhod's GOST code is not a certified cryptographic tool (СКЗИ): a deployment that must sign
 * with one keeps RS256 or puts such a tool behind this interface.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  GOST_CURVES,
  GOST_OID,
  encodePublicKey,
  generatePrivateKey,
  gostPublicKey,
  gostSign,
  gostVerify,
  publicKeyOf,
  streebog256,
} from '../methods/esign/gost/index.ts';
import { gostKeyAlgorithm, type GostPrivateKey } from '../methods/esign/gost/keys.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { SettingRepository } from '../store.ts';
import { parseCertificatePem } from './clients.ts';
import type { EsiaJwtSigner } from './tokens.ts';

export const GOST_ALG = 'GOST3410_2012_256';
const SETTING = 'esia.gost-signing-key';
/** id-tc26-gost-3410-12-256-paramSetA */
const CURVE_OID = '1.2.643.7.1.2.1.1.1';
const YEAR = 365 * 86400_000;

interface StoredGostKey {
  curveOid: string;
  d: string;
  certificatePem: string;
}

export interface EsiaTokenVerifier {
  /** The claims of a token vkhod signed (RS256 or GOST), unexpired; throws otherwise. */
  verify(token: string): Promise<Record<string, unknown>>;
}

function pem(der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

function selfSigned(key: GostPrivateKey, name: string): string {
  const info = new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({ schema: gostKeyAlgorithm(key.curve, key.curveOid) }),
    subjectPublicKey: new asn1js.BitString({
      valueHex: new asn1js.OctetString({ valueHex: encodePublicKey(publicKeyOf(key.curve, key.d)) }).toBER(false),
    }),
  });
  const subject = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.6', value: new asn1js.PrintableString({ value: 'RU' }) }),
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: name }) }),
    ],
  });
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: Uint8Array.from([0x01, ...randomBytes(15)]) });
  cert.issuer = subject;
  cert.subject = subject;
  cert.notBefore = new pkijs.Time({ type: 0, value: new Date(Date.now() - 86400_000) });
  cert.notAfter = new pkijs.Time({ type: 0, value: new Date(Date.now() + 10 * YEAR) });
  cert.subjectPublicKeyInfo = info;
  cert.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.15',
      critical: true,
      extnValue: new asn1js.BitString({ valueHex: Uint8Array.from([0x80]), unusedBits: 7 }).toBER(false), // digitalSignature
    }),
  ];
  cert.signature = new pkijs.AlgorithmIdentifier({ algorithmId: GOST_OID.signature256 });
  cert.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: GOST_OID.signature256 });
  const tbs = cert.encodeTBS().toBER(false);
  cert.tbsView = new Uint8Array(tbs);
  cert.signatureValue = new asn1js.BitString({ valueHex: gostSign(key.curve, key.d, streebog256(new Uint8Array(tbs))) });
  return pem(cert.toSchema(true).toBER(false));
}

async function loadOrCreate(settings: SettingRepository, box: SecretBox, issuer: string): Promise<StoredGostKey> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const stored = await settings.get(SETTING);
    if (stored) return JSON.parse(box.decrypt(stored.value, SETTING)) as StoredGostKey;
    const curve = GOST_CURVES.get(CURVE_OID)!;
    const key: GostPrivateKey = { curve, curveOid: CURVE_OID, d: generatePrivateKey(curve) };
    const fresh: StoredGostKey = {
      curveOid: CURVE_OID,
      d: key.d.toString(16),
      certificatePem: selfSigned(key, `vkhod ${new URL(issuer).host} ESIA token signing`),
    };
    // two processes racing: the first write wins, the other reads it
    if (await settings.put(SETTING, box.encrypt(JSON.stringify(fresh), SETTING), 0)) return fresh;
  }
  throw new Error('the GOST token signing key could not be stored');
}

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

export interface GostTokenKey {
  signer: EsiaJwtSigner;
  certificatePem: string;
  /** checks a GOST-signed token's signature (not its claims) */
  verifySignature(token: string): boolean;
}

export async function gostTokenKey(settings: SettingRepository, box: SecretBox, issuer: string): Promise<GostTokenKey> {
  const stored = await loadOrCreate(settings, box, issuer);
  const curve = GOST_CURVES.get(stored.curveOid)!;
  const d = BigInt(`0x${stored.d}`);
  const { certificate, der } = parseCertificatePem(stored.certificatePem);
  const publicKey = gostPublicKey(certificate)!;
  const kid = createHash('sha1').update(der).digest('hex');
  return {
    certificatePem: stored.certificatePem,
    signer: {
      alg: GOST_ALG,
      async sign(header, payload) {
        const input = `${b64url(JSON.stringify({ ...header, alg: GOST_ALG, kid }))}.${b64url(JSON.stringify(payload))}`;
        return `${input}.${b64url(gostSign(curve, d, streebog256(Buffer.from(input, 'ascii'))))}`;
      },
    },
    verifySignature(token) {
      const [h, p, s] = token.split('.');
      if (!h || !p || !s) return false;
      return gostVerify(publicKey, streebog256(Buffer.from(`${h}.${p}`, 'ascii')), Buffer.from(s, 'base64url'));
    },
  };
}

/** One verifier for both algorithms: the header's `alg` picks the key; `exp` and `nbf` are checked. */
export function esiaTokenVerifier(rsa: (token: string) => Promise<Record<string, unknown>>, gost: GostTokenKey): EsiaTokenVerifier {
  return {
    async verify(token) {
      const { alg } = decodeProtectedHeader(token);
      if (alg === 'RS256') return rsa(token);
      if (alg !== GOST_ALG || !gost.verifySignature(token)) throw new Error('bad token signature');
      const claims = decodeJwt(token) as Record<string, unknown>;
      const now = Date.now() / 1000;
      if (typeof claims.exp !== 'number' || claims.exp < now) throw new Error('expired');
      if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw new Error('not yet valid');
      return claims;
    },
  };
}
