/**
 * The one second-factor interface (DESIGN §4): what a factor is (`kind`, the `amr` it adds, the
 * rate-limit rules that guard it), whether an account has it, and how it is asked (`challenge`,
 * when something must be sent first), checked (`verify`) and set up (`enrol`). The sign-in step,
 * enrolment, the linking proofs and the cabinet's security page ask the registry, not the
 * methods one by one. A factor knows no HTTP.
 */
import type { LimitRule } from '../../security/limits.ts';
import type { Account } from '../../accounts/account.ts';
import type { CodeMessage } from '../one-time-code.ts';

export type FactorKind = 'totp' | 'sms' | 'webauthn' | 'recovery';

export type SecondFactorResult =
  | { ok: true; amr: string[]; method: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'exhausted' | 'limited' | 'unavailable'; detail?: string };

/** What the citizen answered: a typed code (with the challenge it answers), or a passkey's assertion. */
export interface FactorAnswer {
  ip: string;
  code?: string;
  /** the challenge a code answers (SMS) */
  challengeId?: string;
  /** WebAuthn: the challenge binding, its handle and the browser's assertion */
  binding?: string;
  handle?: string;
  response?: unknown;
}

/** What a factor is, without the services it needs (pure: usable wherever an account is). */
export interface FactorDescriptor {
  readonly kind: FactorKind;
  /** amr values (RFC 8176) a success adds; a passkey adds `hwk` or `swk` by the key it was */
  readonly amr: readonly string[];
  /** the `Limits` rules that guard this factor: wrong answers, and sends for a sent code */
  readonly limits: readonly LimitRule[];
  /** what the citizen gives: a typed code, or a key's signed assertion (script-driven) */
  readonly answer: 'code' | 'assertion';
  /** offered as a factor of its own; recovery codes only stand in for a lost one */
  readonly standalone: boolean;
  /** this account can use it now */
  available(account: Account): boolean;
}

export interface SecondFactor extends FactorDescriptor {
  /** Sends what must be answered (an SMS code); how long to wait when the limit is reached. */
  challenge?(account: Account, ip: string, message: CodeMessage): Promise<{ challengeId?: string; retryAfter?: number }>;
  verify(account: Account, answer: FactorAnswer): Promise<SecondFactorResult>;
  /** A passkey: starts setting one up for this account (the options the browser needs). */
  enrol?(account: Account, binding: string): Promise<unknown>;
  /** An authenticator app: set up from a secret shown once and proven by a typed code. */
  secretEnrolment?: SecretEnrolment;
}

/** What the enrolment page shows for a secret: the secret in groups of four, and its QR code (PNG data URL). */
export interface EnrolmentView {
  secret: string;
  qr: string;
}

/**
 * Setting up a factor from a shared secret. The secret is made once per enrolment and kept sealed
 * to `binding` (the interaction or cabinet session that began it: no other flow can finish it);
 * the flow keeps the sealed value between the page and the answer.
 */
export interface SecretEnrolment {
  /** A new secret for this account: sealed for the flow, and the page's view of it. */
  begin(account: Account, binding: string): Promise<{ sealed: string; view: EnrolmentView }>;
  /** The page's view again for a secret already begun. */
  view(account: Account, sealed: string, binding: string): Promise<EnrolmentView>;
  /** The typed code against the begun secret: the change that sets the factor up, or undefined for a wrong code. */
  confirm(sealed: string, binding: string, code: string): Promise<((account: Account) => Account) | undefined>;
}
