/**
 * Reading an X.509 certificate the way a Russian qualified certificate is written (order of the
 * FSB No. 795): SNILS (1.2.643.100.3) and the personal INN (1.2.643.3.131.1.1) as NumericString,
 * the surname in 2.5.4.4 and "Имя Отчество" in givenName 2.5.4.42; plus key usage, basic
 * constraints, validity and a printable issuer.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { normalizeInn } from '../../accounts/inn.ts';
import { checkName } from '../../accounts/names.ts';
import { normalizeSnils } from '../../accounts/snils.ts';
import type { PersonName } from '../../accounts/account.ts';
import { OID } from './oids.ts';

export const SUBJECT_OID = {
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  givenName: '2.5.4.42',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  snils: '1.2.643.100.3',
  inn: '1.2.643.3.131.1.1',
  /** the INN of a legal entity: not a person's INN */
  innLe: '1.2.643.100.4',
  ogrn: '1.2.643.100.1',
  /** the OGRNIP of an individual entrepreneur */
  ogrnip: '1.2.643.100.5',
} as const;

/** Extensions of a Russian qualified certificate (order of the FSB No. 795). */
export const QUALIFIED_EXTENSION = {
  /** subjectSignTool: the signing tool of the holder (UTF8String) */
  subjectSignTool: '1.2.643.100.111',
  /** issuerSignTool: the CA's tools and their conformity certificates (SEQUENCE of 4 UTF8String) */
  issuerSignTool: '1.2.643.100.112',
} as const;

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.42': 'G',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.643.100.1': 'OGRN',
  '1.2.643.100.3': 'SNILS',
  '1.2.643.3.131.1.1': 'INN',
  '1.2.643.100.4': 'INNLE',
  '1.2.643.100.5': 'OGRNIP',
};

/** Any ASN.1 string type (UTF8, Printable, Numeric, BMP, IA5 …) as text. */
function attributeText(value: unknown): string | undefined {
  const block = (value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock;
  return typeof block?.value === 'string' ? block.value : undefined;
}

export function nameFields(name: pkijs.RelativeDistinguishedNames): Array<{ type: string; value: string }> {
  return name.typesAndValues.flatMap((tv) => {
    const value = attributeText(tv.value);
    return value === undefined ? [] : [{ type: tv.type, value }];
  });
}

function field(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  return nameFields(name)
    .find((f) => f.type === oid)
    ?.value.trim();
}

/** "CN=…, O=…" for logs, evidence and the cabinet. */
export function nameText(name: pkijs.RelativeDistinguishedNames): string {
  return nameFields(name)
    .map((f) => `${SHORT[f.type] ?? f.type}=${f.value}`)
    .join(', ');
}

export function serialHex(certificate: pkijs.Certificate): string {
  return Buffer.from(certificate.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase();
}

export interface CertificatePerson {
  snils?: string;
  inn?: string;
  name?: PersonName;
}

/** The person the certificate was issued to; fields that are absent or malformed are left out. */
export function certificatePerson(certificate: pkijs.Certificate): CertificatePerson {
  const subject = certificate.subject;
  const person: CertificatePerson = {};
  const snils = normalizeSnils(field(subject, SUBJECT_OID.snils) ?? '');
  if (snils) person.snils = snils;
  const inn = normalizeInn(field(subject, SUBJECT_OID.inn) ?? '');
  if (inn) person.inn = inn;
  let family = field(subject, SUBJECT_OID.surname);
  let rest = field(subject, SUBJECT_OID.givenName);
  if (!family || !rest) {
    // Older certificates: only "Фамилия Имя Отчество" in the common name.
    const parts = (field(subject, SUBJECT_OID.commonName) ?? '').split(/\s+/).filter(Boolean);
    if (parts.length >= 2) [family, rest] = [parts[0], parts.slice(1).join(' ')];
  }
  const [given, ...middleParts] = (rest ?? '').split(/\s+/).filter(Boolean);
  const f = checkName(family, true);
  const g = checkName(given, true);
  const m = checkName(middleParts.join(' '), false);
  if (f.value && g.value && !m.problem) person.name = { family: f.value, given: g.value, ...(m.value ? { middle: m.value } : {}) };
  return person;
}

/** The organisation an employee's certificate names (OGRN, its INN, its name); OGRNIP of an entrepreneur. */
export interface CertificateOrganisation {
  name?: string;
  ogrn?: string;
  ogrnip?: string;
  inn?: string;
}

/** OGRN: 13 digits, the last = (first 12 mod 11) mod 10; OGRNIP: 15 digits, the last = (first 14 mod 13) mod 10. */
export function validOgrn(value: string | undefined, length: 13 | 15): string | undefined {
  const digits = value?.trim();
  if (!digits || !new RegExp(`^\\d{${length}}$`).test(digits)) return undefined;
  const check = Number((BigInt(digits.slice(0, -1)) % BigInt(length === 13 ? 11 : 13)) % 10n);
  return check === Number(digits.at(-1)) ? digits : undefined;
}

/** The 10-digit INN of a legal entity with a valid check digit (also when written as "00" + 10 digits). */
export function validLegalInn(value: string | undefined): string | undefined {
  let digits = value?.trim();
  if (digits?.length === 12 && digits.startsWith('00')) digits = digits.slice(2);
  if (!digits || !/^\d{10}$/.test(digits)) return undefined;
  const weights = [2, 4, 10, 3, 5, 9, 4, 6, 8];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(digits![i]), 0);
  return (sum % 11) % 10 === Number(digits[9]) ? digits : undefined;
}

/** The organisation of an employee's (or an entrepreneur's) certificate; undefined for a private person's. */
export function certificateOrganisation(certificate: pkijs.Certificate): CertificateOrganisation | undefined {
  const subject = certificate.subject;
  const ogrn = validOgrn(field(subject, SUBJECT_OID.ogrn), 13);
  const ogrnip = validOgrn(field(subject, SUBJECT_OID.ogrnip), 15);
  const inn = validLegalInn(field(subject, SUBJECT_OID.innLe));
  if (!ogrn && !ogrnip && !inn) return undefined;
  const name = field(subject, SUBJECT_OID.organization);
  return { ...(name ? { name } : {}), ...(ogrn ? { ogrn } : {}), ...(ogrnip ? { ogrnip } : {}), ...(inn ? { inn } : {}) };
}

/** The signing tools a qualified certificate names (1.2.643.100.111 / 112), for operators. */
export interface SignTools {
  subject?: string;
  /** the CA's signing tool, its CA tool, and the two conformity certificates */
  issuer?: string[];
}

export function signTools(certificate: pkijs.Certificate): SignTools | undefined {
  const tools: SignTools = {};
  const text = (bytes: Uint8Array | undefined) => {
    if (!bytes) return undefined;
    const asn = asn1js.fromBER(bytes.slice().buffer);
    return asn.offset === -1 ? undefined : asn.result;
  };
  const subject = text(extension(certificate, QUALIFIED_EXTENSION.subjectSignTool)?.extnValue.valueBlock.valueHexView);
  const subjectText = attributeText(subject);
  if (subjectText) tools.subject = subjectText.slice(0, 200);
  const issuer = text(extension(certificate, QUALIFIED_EXTENSION.issuerSignTool)?.extnValue.valueBlock.valueHexView);
  if (issuer instanceof asn1js.Sequence) {
    const parts = issuer.valueBlock.value
      .map((v) => attributeText(v))
      .filter((v): v is string => Boolean(v))
      .map((v) => v.slice(0, 200));
    if (parts.length) tools.issuer = parts.slice(0, 4);
  }
  return tools.subject || tools.issuer ? tools : undefined;
}

function extension(certificate: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return certificate.extensions?.find((e) => e.extnID === oid);
}

/** The first byte of the key usage bits (digitalSignature is 0x80), or undefined without the extension. */
function keyUsageBits(certificate: pkijs.Certificate): number | undefined {
  const parsed = extension(certificate, OID.keyUsage)?.parsedValue as asn1js.BitString | undefined;
  const bytes = parsed?.valueBlock?.valueHexView;
  return bytes?.length ? bytes[0] : undefined;
}

/** The key may sign documents: digitalSignature or nonRepudiation (contentCommitment) is set. */
export function allowsSigning(certificate: pkijs.Certificate): boolean {
  const bits = keyUsageBits(certificate);
  return bits !== undefined && (bits & 0b1100_0000) !== 0;
}

/** A certificate authority: basicConstraints cA = true (and keyCertSign when key usage is given). */
export function isCa(certificate: pkijs.Certificate): boolean {
  const bc = extension(certificate, OID.basicConstraints)?.parsedValue;
  if (!(bc instanceof pkijs.BasicConstraints) || !bc.cA) return false;
  const bits = keyUsageBits(certificate);
  return bits === undefined || (bits & 0b0000_0100) !== 0;
}

/** basicConstraints says cA = true, whatever its key usage: a CA's certificate, never a person's. */
export function claimsCa(certificate: pkijs.Certificate): boolean {
  const bc = extension(certificate, OID.basicConstraints)?.parsedValue;
  return bc instanceof pkijs.BasicConstraints && Boolean(bc.cA);
}

/** The CA's basicConstraints pathLenConstraint: how many CAs may stand below it on a path (undefined: no limit). */
export function pathLength(certificate: pkijs.Certificate): number | undefined {
  const bc = extension(certificate, OID.basicConstraints)?.parsedValue;
  if (!(bc instanceof pkijs.BasicConstraints) || !bc.cA) return undefined;
  const limit = bc.pathLenConstraint as unknown;
  if (typeof limit === 'number') return limit;
  if (limit instanceof asn1js.Integer) return limit.valueBlock.valueDec;
  return undefined;
}

/**
 * Extensions this code knows what to do with, or that a qualified certificate carries and nothing
 * here depends on; a certificate marking any other one critical is refused (RFC 5280 §4.2: one
 * that is not recognised MUST be refused — name constraints and policy constraints included,
 * since this path validation does not apply them).
 */
const UNDERSTOOD_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.16', // privateKeyUsagePeriod
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.37', // extKeyUsage
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.3', // qcStatements
  '1.2.643.100.111', // subjectSignTool
  '1.2.643.100.112', // issuerSignTool
  '1.2.643.100.113', // subjectSignToolClass
  '1.2.643.100.114', // issuerSignToolClass
]);

/** The first extension the certificate marks critical that this code does not understand, if any. */
export function unknownCriticalExtension(certificate: pkijs.Certificate): string | undefined {
  return certificate.extensions?.find((e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.extnID))?.extnID;
}

export function keyAlgorithm(certificate: pkijs.Certificate): string {
  return certificate.subjectPublicKeyInfo.algorithm.algorithmId;
}

export function validity(certificate: pkijs.Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: certificate.notBefore.value, notAfter: certificate.notAfter.value };
}
