/**
 * A test certificate authority for development and tests: a CA, citizen certificates written like
 * Russian qualified ones (SNILS and INN as NumericString, surname + "Имя Отчество"), and CRLs.
 * RSA and ECDSA; never for production (GOST is what real qualified certificates use).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyKind = 'rsa' | 'ecdsa';

const GENERATE: Record<KeyKind, RsaHashedKeyGenParams | EcKeyGenParams> = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 },
  ecdsa: { name: 'ECDSA', namedCurve: 'P-256' },
};
const SIGN: Record<KeyKind, Algorithm | EcdsaParams> = {
  rsa: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
  ecdsa: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
};

export interface Issued {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  kind: KeyKind;
}

export interface Person {
  family: string;
  /** "Имя Отчество" */
  given: string;
  snils?: string;
  inn?: string;
  /** an employee's certificate: the organisation's name, OGRN and INN (1.2.643.100.4) */
  organization?: string;
  ogrn?: string;
  innLe?: string;
}

const DAY = 86400_000;

export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

export async function generateKeys(kind: KeyKind): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(GENERATE[kind], true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A subject as in a qualified certificate: C, CN, SN, G, SNILS, INN (the last two NumericString). */
export function personName(person: Person): x509.Name {
  const attr = (oid: string, value: asn1js.BaseBlock) =>
    new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value] })] });
  const rdns = [
    attr('2.5.4.6', new asn1js.PrintableString({ value: 'RU' })),
    attr('2.5.4.3', new asn1js.Utf8String({ value: `${person.family} ${person.given}` })),
    attr('2.5.4.4', new asn1js.Utf8String({ value: person.family })),
    attr('2.5.4.42', new asn1js.Utf8String({ value: person.given })),
    ...(person.snils ? [attr('1.2.643.100.3', new asn1js.NumericString({ value: person.snils }))] : []),
    ...(person.inn ? [attr('1.2.643.3.131.1.1', new asn1js.NumericString({ value: person.inn }))] : []),
    ...(person.organization ? [attr('2.5.4.10', new asn1js.Utf8String({ value: person.organization }))] : []),
    ...(person.ogrn ? [attr('1.2.643.100.1', new asn1js.NumericString({ value: person.ogrn }))] : []),
    ...(person.innLe ? [attr('1.2.643.100.4', new asn1js.NumericString({ value: person.innLe }))] : []),
  ];
  return new x509.Name(new asn1js.Sequence({ value: rdns }).toBER(false));
}

export async function createCa(options: { name?: string; kind?: KeyKind; notBefore?: Date; notAfter?: Date } = {}): Promise<Issued> {
  const kind = options.kind ?? 'ecdsa';
  const keys = await generateKeys(kind);
  const name = new x509.Name([
    { '2.5.4.6': ['RU'] },
    { '2.5.4.10': ['vkhod (тест)'] },
    { '2.5.4.3': [options.name ?? 'Тестовый УЦ vkhod'] },
  ]);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 10 * 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: SIGN[kind],
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, kind };
}

export interface CitizenOptions {
  kind?: KeyKind;
  notBefore?: Date;
  notAfter?: Date;
  /** default: digitalSignature | nonRepudiation */
  keyUsage?: x509.KeyUsageFlags;
  serialNumber?: string;
}

export async function issueCitizen(ca: Issued, person: Person, options: CitizenOptions = {}): Promise<Issued> {
  const kind = options.kind ?? 'rsa';
  const keys = await generateKeys(kind);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: personName(person),
    issuer: ca.certificate.subjectName,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN[ca.kind],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(options.keyUsage ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return { certificate, keys, kind };
}

/** A CRL of `ca` listing `revoked` (hex serial numbers). */
export async function createCrl(
  ca: Issued,
  revoked: string[] = [],
  options: { thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: ca.certificate.subjectName,
    thisUpdate: options.thisUpdate ?? new Date(Date.now() - 60_000),
    nextUpdate: options.nextUpdate ?? new Date(Date.now() + 30 * DAY),
    entries: revoked.map((serialNumber) => ({
      serialNumber,
      revocationDate: new Date(Date.now() - 60_000),
      reason: x509.X509CrlReason.keyCompromise,
    })),
    signingAlgorithm: SIGN[ca.kind],
    signingKey: ca.keys.privateKey,
  });
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

/** Key usage bits for `CitizenOptions.keyUsage` (import them from here: @peculiar/x509 needs reflect-metadata first). */
export const KeyUsage = x509.KeyUsageFlags;
