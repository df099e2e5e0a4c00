/**
 * Sign-in with a qualified e-signature (DESIGN §2, §3): vkhod issues a single-use challenge, the
 * citizen signs it with their certificate's key and returns a CMS (PKCS#7) signature, vkhod checks
 * it (esign/verify.ts) and reads who signed from the certificate. amr `sc` + `mfa`: a qualified
 * signature is two factors in itself (the key, and the PIN that unlocks it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChallengeRepository } from '../store.ts';
import type { PersonName } from '../accounts/account.ts';
import type { SignatureSuite } from './esign/algorithms.ts';
import {
  certificateOrganisation,
  certificatePerson,
  keyAlgorithm,
  nameText,
  serialHex,
  signTools,
  validity,
  type CertificateOrganisation,
  type SignTools,
} from './esign/certificate.ts';
import { GOST_OIDS } from './esign/algorithms.ts';
import { CrlFetcher, type CrlFetchOptions } from './esign/crl-fetch.ts';
import { TrustStore } from './esign/trust-store.ts';
import { CmsVerifier, EsignError, type EsignProblem } from './esign/verify.ts';

export { EsignError, type EsignProblem } from './esign/verify.ts';

const PURPOSE = 'esign';
/** The largest signature accepted (a CMS with a certificate chain is a few kilobytes). */
export const MAX_SIGNATURE_BYTES = 64 * 1024;

/** Who signed, as far as vkhod needs it. */
export interface CertificateIdentity {
  snils: string;
  inn?: string;
  name?: PersonName;
  issuer: string;
  serialNumber: string;
  /** ISO time */
  notAfter: string;
  subject: string;
  /** "GOST R 34.10-2012 256-bit key", "1.2.840.10045.2.1" … */
  keyAlgorithm: string;
  /** an employee's certificate: the person signs in as a person; this is kept for organisation accounts */
  organization?: CertificateOrganisation;
  /** the signing tools the qualified certificate names (1.2.643.100.111/112), for operators */
  signTools?: SignTools;
}

export type EsignResult =
  | { ok: true; identity: CertificateIdentity; amr: string[] }
  | { ok: false; reason: EsignProblem | 'challenge' | 'no_snils' | 'not_configured' | 'empty'; detail?: string };

export interface EsignChallenge {
  handle: string;
  text: string;
  expiresAt: string;
}

/**
 * The signature as the citizen gave it: a file (DER, or Base64/PEM text) or pasted Base64 (with or
 * without "-----BEGIN …-----" lines). Undefined when it is neither.
 */
export function decodeSignature(input: { text?: string; file?: Uint8Array }): Uint8Array | undefined {
  const file = input.file?.length ? Buffer.from(input.file) : undefined;
  if (file?.[0] === 0x30) return new Uint8Array(file);
  const text = file ? file.toString('latin1') : (input.text ?? '');
  const body = text.replace(/-----(BEGIN|END)[^-]*-----/g, '').replace(/\s+/g, '');
  if (!body || body.length > (MAX_SIGNATURE_BYTES * 4) / 3 + 4 || !/^[A-Za-z0-9+/_-]+=*$/.test(body)) return undefined;
  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes[0] === 0x30 ? new Uint8Array(bytes) : undefined;
}

export class EsignatureMethod {
  private readonly verifier: CmsVerifier;

  constructor(
    private readonly challenges: ChallengeRepository,
    private readonly trust: TrustStore,
    private readonly options: { issuer: string; challengeSeconds: number; crlFetch?: CrlFetchOptions },
    private readonly logger?: Logger,
    suites?: SignatureSuite[],
  ) {
    this.verifier = new CmsVerifier(trust, suites, options.crlFetch ? new CrlFetcher(options.crlFetch, logger) : undefined);
  }

  get enabled(): boolean {
    return this.trust.configured;
  }

  /** A new challenge for `binding` (an interaction or a cabinet session). */
  async challenge(binding: string): Promise<EsignChallenge> {
    const handle = randomUUID();
    const text = `vkhod:${new URL(this.options.issuer).host}:${randomBytes(24).toString('base64url')}`;
    const now = Date.now();
    const expiresAt = new Date(now + this.options.challengeSeconds * 1000).toISOString();
    await this.challenges.create({
      id: handle,
      purpose: PURPOSE,
      recipient: binding,
      codeHash: text,
      attempts: 0,
      maxAttempts: 1,
      createdAt: new Date(now).toISOString(),
      expiresAt,
    });
    return { handle, text, expiresAt };
  }

  /** The text of a live challenge of this binding (for the download link). */
  async challengeText(handle: string, binding: string): Promise<string | undefined> {
    if (typeof handle !== 'string' || handle.length > 64) return undefined;
    const record = await this.challenges.find(handle);
    if (
      !record ||
      record.purpose !== PURPOSE ||
      record.recipient !== binding ||
      record.consumedAt ||
      record.expiresAt < new Date().toISOString()
    )
      return undefined;
    return record.codeHash;
  }

  /** Consumes the challenge (once, whatever the outcome), then verifies the signature of it. */
  async verify(binding: string, handle: string, signature: Uint8Array | undefined): Promise<EsignResult> {
    if (!this.enabled) return { ok: false, reason: 'not_configured' };
    const text = await this.challengeText(handle, binding);
    if (!text || !(await this.challenges.consume(handle, new Date().toISOString()))) return { ok: false, reason: 'challenge' };
    if (!signature) return { ok: false, reason: 'empty' };
    const content = Buffer.from(text, 'utf8');
    const variants = [content, Buffer.concat([content, Buffer.from('\n')]), Buffer.concat([content, Buffer.from('\r\n')])].map(
      (b) => new Uint8Array(b),
    );
    try {
      const { signer } = await this.verifier.verify(signature, variants);
      const person = certificatePerson(signer);
      const issuer = nameText(signer.issuer);
      if (!person.snils) return { ok: false, reason: 'no_snils' };
      const organization = certificateOrganisation(signer);
      const tools = signTools(signer);
      return {
        ok: true,
        amr: ['sc', 'mfa'],
        identity: {
          snils: person.snils,
          ...(person.inn ? { inn: person.inn } : {}),
          ...(person.name ? { name: person.name } : {}),
          issuer,
          serialNumber: serialHex(signer),
          notAfter: validity(signer).notAfter.toISOString(),
          subject: nameText(signer.subject),
          keyAlgorithm: GOST_OIDS[keyAlgorithm(signer)] ?? keyAlgorithm(signer),
          ...(organization ? { organization } : {}),
          ...(tools ? { signTools: tools } : {}),
        },
      };
    } catch (err) {
      if (err instanceof EsignError) return { ok: false, reason: err.code, detail: err.detail };
      this.logger?.error({ err }, 'e-signature verification failed unexpectedly');
      return { ok: false, reason: 'malformed' };
    }
  }
}
