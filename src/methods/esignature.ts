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
import type { CertificateOrganisation, SignTools } from './esign/certificate.ts';
import type { CrlFetchOptions } from './esign/crl-fetch.ts';
import { EsignError, type EsignProblem } from './esign/errors.ts';
import { GOST_OIDS } from './esign/oids.ts';
import type { CmsVerifier } from './esign/verify.ts';

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

/** Where the trusted CA certificates and the CRLs are read from (esign/trust-store.ts). */
export interface EsignTrustPaths {
  trustedCas?: string;
  crls?: string;
}

/** What checking a signature needs: the verifier and the certificate readers (pkijs/asn1js behind them). */
interface Pki {
  verifier: CmsVerifier;
  certificate: typeof import('./esign/certificate.ts');
  /**
   * The EsignError class the verifier throws. Not necessarily the one imported above: under the
   * test runner (tsx loads the static graph as CommonJS and import() as ESM) the loaded modules
   * have their own copy of esign/errors.ts.
   */
  EsignError: typeof EsignError;
}

export class EsignatureMethod {
  private pki?: Promise<Pki>;

  constructor(
    private readonly challenges: ChallengeRepository,
    private readonly trust: EsignTrustPaths,
    private readonly options: { issuer: string; challengeSeconds: number; crlFetch?: CrlFetchOptions },
    private readonly logger?: Logger,
    private readonly suites?: SignatureSuite[],
  ) {}

  /**
   * The PKI side, loaded with the first signature to check: pkijs and asn1js cost megabytes and a
   * noticeable part of the start-up, and a deployment without a trust store never needs them.
   * One load shared by concurrent sign-ins; a failed load is tried again next time.
   */
  private loadPki(): Promise<Pki> {
    return (this.pki ??= (async () => {
      const [{ CmsVerifier }, { EsignError: LoadedEsignError }, { TrustStore }, certificate] = await Promise.all([
        import('./esign/verify.ts'),
        import('./esign/errors.ts'),
        import('./esign/trust-store.ts'),
        import('./esign/certificate.ts'),
      ]);
      const { crlFetch } = this.options;
      const fetcher = crlFetch ? new (await import('./esign/crl-fetch.ts')).CrlFetcher(crlFetch, this.logger) : undefined;
      const trust = new TrustStore(this.trust.trustedCas, this.trust.crls, this.logger);
      return { verifier: new CmsVerifier(trust, this.suites, fetcher), certificate, EsignError: LoadedEsignError };
    })().catch((err: unknown) => {
      this.pki = undefined;
      throw err;
    }));
  }

  /** E-signature sign-in is offered when a trust store is configured. */
  get enabled(): boolean {
    return Boolean(this.trust.trustedCas);
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
    const pki = await this.loadPki();
    try {
      const { certificatePerson, certificateOrganisation, keyAlgorithm, nameText, serialHex, signTools, validity } = pki.certificate;
      const { signer } = await pki.verifier.verify(signature, variants);
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
      if (err instanceof pki.EsignError) return { ok: false, reason: err.code, detail: err.detail };
      this.logger?.error({ err }, 'e-signature verification failed unexpectedly');
      return { ok: false, reason: 'malformed' };
    }
  }
}
