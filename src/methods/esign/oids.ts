/**
 * Algorithm identifiers of the e-signature feature, apart from the suites that check signatures
 * (algorithms.ts): the sign-in names a certificate's key algorithm with them without loading
 * pkijs/asn1js, which load only when a signature is checked.
 */
export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  rsa: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  ec: '1.2.840.10045.2.1',
} as const;

/** GOST algorithm identifiers: keys, digests and signature algorithms (RFC 4491, RFC 9215). */
export const GOST_OIDS: Readonly<Record<string, string>> = {
  '1.2.643.2.2.19': 'GOST R 34.10-2001 key',
  '1.2.643.2.2.20': 'GOST R 34.10-94 key',
  '1.2.643.7.1.1.1.1': 'GOST R 34.10-2012 256-bit key',
  '1.2.643.7.1.1.1.2': 'GOST R 34.10-2012 512-bit key',
  '1.2.643.2.2.9': 'GOST R 34.11-94 digest',
  '1.2.643.7.1.1.2.2': 'GOST R 34.11-2012 (Streebog) 256-bit digest',
  '1.2.643.7.1.1.2.3': 'GOST R 34.11-2012 (Streebog) 512-bit digest',
  '1.2.643.2.2.3': 'GOST R 34.11-94 with GOST R 34.10-2001 signature',
  '1.2.643.2.2.4': 'GOST R 34.11-94 with GOST R 34.10-94 signature',
  '1.2.643.7.1.1.3.2': 'GOST R 34.10-2012 256-bit signature',
  '1.2.643.7.1.1.3.3': 'GOST R 34.10-2012 512-bit signature',
};

/** GOST R 34.10-2001 / 34.10-94 keys and GOST R 34.11-94 digests (CryptoPro's 1.2.643.2.2 arc): not accepted. */
export function isLegacyGost(oid: string | undefined): boolean {
  return Boolean(oid?.startsWith('1.2.643.2.2.'));
}
