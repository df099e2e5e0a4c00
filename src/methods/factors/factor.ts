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
  /** Starts setting the factor up for this account (what the page shows or the browser needs). */
  enrol?(account: Account, binding: string): Promise<unknown>;
}
