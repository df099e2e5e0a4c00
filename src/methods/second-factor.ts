/**
 * Second factors: which ones an account has, and the shared shape of their verification.
 * A second factor is asked after the password (or to step up an existing session).
 */
import type { Account, SecondFactorKind } from '../accounts/account.ts';
import { FACTORS } from './factors/registry.ts';

export type { SecondFactorResult } from './factors/factor.ts';

/** The factors this account can use now (recovery codes not counted: they stand in), the preferred one first. */
export function availableFactors(account: Account): SecondFactorKind[] {
  const out = FACTORS.filter((f) => f.standalone && f.available(account)).map((f) => f.kind as SecondFactorKind);
  const preferred = account.mfa?.preferred;
  return preferred && out.includes(preferred) ? [preferred, ...out.filter((f) => f !== preferred)] : out;
}

/**
 * Keeps "sign-in with confirmation" consistent after a factor (an app, a passkey, the confirmed
 * mobile) went away: the preferred factor moves to one still there, or confirmation turns off.
 */
export function afterFactorRemoval(account: Account): Account {
  if (!account.mfa?.enabled) return account;
  const left = availableFactors(account);
  return {
    ...account,
    mfa: left.length
      ? { enabled: true, preferred: left.includes(account.mfa.preferred!) ? account.mfa.preferred : left[0] }
      : { enabled: false },
  };
}

/** Factors the citizen set up themselves (an SMS to the login phone is always there, so it is not counted). */
export function hasEnrolledFactor(account: Account): boolean {
  return Boolean(account.totp || account.passkeys?.length || (account.mfa?.enabled && account.phoneVerified));
}
