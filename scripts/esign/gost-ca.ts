/**
 * A GOST test certificate authority (GOST R 34.10-2012 with Streebog) for development and tests:
 * a CA, citizens' certificates written like Russian qualified ones (SNILS, INN, SN/G, the issuer's
 * accreditation extensions 1.2.643.100.111/112) and CRLs, signed by vkhod's own GOST code
 * (pkijs cannot sign with GOST keys). OpenSSL's GOST engine reads them (test/unit/esign-gost.test.ts).
 * Never for production.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  curveOid as curveOidOf,
  encodePublicKey,
  generatePrivateKey,
  GOST_CURVES,
  GOST_OID,
  gostSign,
  publicKeyOf,
  streebog,
} from '../../src/methods/esign/gost/index.ts';
import { encodeGostPrivateKey, gostKeyAlgorithm, type GostPrivateKey } from '../../src/methods/esign/gost/keys.ts';
import { personName, randomSerial, type Person } from './test-ca.ts';

const DAY = 86400_000;

export interface GostIssued {
  certificate: pkijs.Certificate;
  key: GostPrivateKey;
  /** upper-case hex */
  serialNumber: string;
  pem: string;
  keyPem: string;
  notAfter: Date;
}

export function pem(label: string, der: Uint8Array | ArrayBuffer): string {
  const body = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function newKey(paramSet: string): GostPrivateKey {
  const oid = GOST_CURVES.has(paramSet) ? paramSet : curveOidOf(paramSet);
  const curve = oid ? GOST_CURVES.get(oid) : undefined;
  if (!curve || !oid) throw new Error(`unknown GOST parameter set ${paramSet}`);
  return { curve, curveOid: oid, d: generatePrivateKey(curve) };
}

function publicKeyInfo(key: GostPrivateKey): pkijs.PublicKeyInfo {
  const algorithm = gostKeyAlgorithm(key.curve, key.curveOid);
  const raw = encodePublicKey(publicKeyOf(key.curve, key.d));
  return new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({ schema: algorithm }),
    subjectPublicKey: new asn1js.BitString({ valueHex: new asn1js.OctetString({ valueHex: raw }).toBER(false) }),
  });
}

function keyIdentifier(info: pkijs.PublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(info.subjectPublicKey.valueBlock.valueHexView).digest());
}

function keyUsage(bits: number): pkijs.Extension {
  let unused = 0;
  while (unused < 7 && !(bits & (1 << unused))) unused += 1;
  return new pkijs.Extension({
    extnID: '2.5.29.15',
    critical: true,
    extnValue: new asn1js.BitString({ valueHex: Uint8Array.from([bits]), unusedBits: unused }).toBER(false),
  });
}

const utf8 = (value: string) => new asn1js.Utf8String({ value });

/** The extensions an accredited CA writes (order of the FSB No. 795): the signing tools used. */
function accreditation(): pkijs.Extension[] {
  return [
    new pkijs.Extension({ extnID: '1.2.643.100.111', extnValue: utf8('vkhod test signing tool (not certified)').toBER(false) }),
    new pkijs.Extension({
      extnID: '1.2.643.100.112',
      extnValue: new asn1js.Sequence({
        value: [
          utf8('vkhod test CA tool'),
          utf8('vkhod test CA (not accredited)'),
          utf8('no certificate of conformity'),
          utf8('no certificate of conformity'),
        ],
      }).toBER(false),
    }),
  ];
}

function signGost(issuerKey: GostPrivateKey, tbs: ArrayBuffer): Uint8Array {
  return gostSign(issuerKey.curve, issuerKey.d, streebog(new Uint8Array(tbs), issuerKey.curve.bits));
}

function signatureAlgorithm(issuerKey: GostPrivateKey): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({ algorithmId: issuerKey.curve.bits === 256 ? GOST_OID.signature256 : GOST_OID.signature512 });
}

interface CertificateSpec {
  subject: pkijs.RelativeDistinguishedNames;
  key: GostPrivateKey;
  issuer?: GostIssued;
  notBefore?: Date;
  notAfter?: Date;
  serialNumber?: string;
  extensions: pkijs.Extension[];
}

function build(spec: CertificateSpec): GostIssued {
  const signer = spec.issuer?.key ?? spec.key;
  const info = publicKeyInfo(spec.key);
  const serial = spec.serialNumber ?? randomSerial();
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: Buffer.from(serial, 'hex') });
  certificate.issuer = spec.issuer?.certificate.subject ?? spec.subject;
  certificate.subject = spec.subject;
  const notAfter = spec.notAfter ?? new Date(Date.now() + 365 * DAY);
  certificate.notBefore = new pkijs.Time({ type: 0, value: spec.notBefore ?? new Date(Date.now() - DAY) });
  certificate.notAfter = new pkijs.Time({ type: 0, value: notAfter });
  certificate.subjectPublicKeyInfo = info;
  const ski = keyIdentifier(info);
  const aki = spec.issuer ? keyIdentifier(spec.issuer.certificate.subjectPublicKeyInfo) : ski;
  certificate.extensions = [
    ...spec.extensions,
    new pkijs.Extension({ extnID: '2.5.29.14', extnValue: new asn1js.OctetString({ valueHex: ski }).toBER(false) }),
    new pkijs.Extension({
      extnID: '2.5.29.35',
      extnValue: new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: aki }) }).toSchema().toBER(false),
    }),
  ];
  certificate.signature = signatureAlgorithm(signer);
  certificate.signatureAlgorithm = signatureAlgorithm(signer);
  const tbs = certificate.encodeTBS().toBER(false);
  certificate.tbsView = new Uint8Array(tbs);
  certificate.signatureValue = new asn1js.BitString({ valueHex: signGost(signer, tbs) });
  const der = certificate.toSchema(true).toBER(false);
  const parsed = pkijs.Certificate.fromBER(der);
  return {
    certificate: parsed,
    key: spec.key,
    serialNumber: serial.toUpperCase(),
    pem: pem('CERTIFICATE', der),
    keyPem: pem('PRIVATE KEY', encodeGostPrivateKey(spec.key)),
    notAfter,
  };
}

function caName(name: string): pkijs.RelativeDistinguishedNames {
  const attr = (type: string, value: asn1js.PrintableString | asn1js.Utf8String) => new pkijs.AttributeTypeAndValue({ type, value });
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      attr('2.5.4.6', new asn1js.PrintableString({ value: 'RU' })),
      attr('2.5.4.10', utf8('vkhod (тест)')),
      attr('2.5.4.3', utf8(name)),
    ],
  });
}

/** A GOST CA (self-signed, or issued by `issuer` as an intermediate). Parameter set: OID or "tc26-512-A", "CryptoPro-A" … */
export function createGostCa(
  options: { name?: string; paramSet?: string; issuer?: GostIssued; notBefore?: Date; notAfter?: Date } = {},
): GostIssued {
  return build({
    subject: caName(options.name ?? 'Тестовый УЦ vkhod (ГОСТ)'),
    key: newKey(options.paramSet ?? 'tc26-256-A'),
    issuer: options.issuer,
    notBefore: options.notBefore,
    notAfter: options.notAfter ?? new Date(Date.now() + 10 * 365 * DAY),
    extensions: [
      new pkijs.Extension({
        extnID: '2.5.29.19',
        critical: true,
        extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false),
      }),
      keyUsage(0x06), // keyCertSign | cRLSign
    ],
  });
}

export interface GostCitizenOptions {
  paramSet?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** the first key usage byte; default digitalSignature | nonRepudiation */
  keyUsage?: number;
  serialNumber?: string;
  /** a CRL distribution point (http URL) written into the certificate */
  crlUrl?: string;
}

export function issueGostCitizen(ca: GostIssued, person: Person, options: GostCitizenOptions = {}): GostIssued {
  const subject = pkijs.RelativeDistinguishedNames.fromBER(personName(person).toArrayBuffer());
  return build({
    subject,
    key: newKey(options.paramSet ?? 'tc26-256-A'),
    issuer: ca,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    serialNumber: options.serialNumber,
    extensions: [
      keyUsage(options.keyUsage ?? 0xc0),
      ...accreditation(),
      ...(options.crlUrl
        ? [
            new pkijs.Extension({
              extnID: '2.5.29.31',
              extnValue: new pkijs.CRLDistributionPoints({
                distributionPoints: [
                  new pkijs.DistributionPoint({ distributionPoint: [new pkijs.GeneralName({ type: 6, value: options.crlUrl })] }),
                ],
              })
                .toSchema()
                .toBER(false),
            }),
          ]
        : []),
    ],
  });
}

/** A CRL of `ca` listing `revoked` (hex serial numbers), PEM. */
export function createGostCrl(ca: GostIssued, revoked: string[] = [], options: { thisUpdate?: Date; nextUpdate?: Date } = {}): string {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.signature = signatureAlgorithm(ca.key);
  crl.signatureAlgorithm = signatureAlgorithm(ca.key);
  crl.issuer = ca.certificate.subject;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: options.thisUpdate ?? new Date(Date.now() - 60_000) });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: options.nextUpdate ?? new Date(Date.now() + 30 * DAY) });
  if (revoked.length) {
    crl.revokedCertificates = revoked.map(
      (serial) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({ valueHex: Buffer.from(serial, 'hex') }),
          revocationDate: new pkijs.Time({ type: 0, value: new Date(Date.now() - 60_000) }),
        }),
    );
  }
  const tbs = (crl as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS().toBER(false);
  crl.tbsView = new Uint8Array(tbs);
  crl.signatureValue = new asn1js.BitString({ valueHex: signGost(ca.key, tbs) });
  return pem('X509 CRL', crl.toSchema(true).toBER(false));
}
