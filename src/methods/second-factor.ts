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

/**
 * Why a way to confirm a sign-in may not go (`removed`: the account without it — a factor, or the
 * mobile SMS codes go to), as a message key; undefined when it may. The last factor while second
 * factors are required, or while sign-in with confirmation is on: removing it would turn
 * confirmation off unannounced (the page and the message would speak only of the factor or contact).
 * Checked against the account as it is when written, so parallel removals cannot both pass.
 */
export function factorRemovalRefusal(before: Account, removed: Account, requireSecondFactor: boolean): string | undefined {
  const after = afterFactorRemoval(removed);
  if (requireSecondFactor && hasEnrolledFactor(before) && !hasEnrolledFactor(after)) return 'security.last_factor_required';
  if (before.mfa?.enabled && !after.mfa?.enabled) return 'security.last_factor_mfa_on';
  return undefined;
}

/** Factors the citizen set up themselves (an SMS to the login phone is always there, so it is not counted). */
export function hasEnrolledFactor(account: Account): boolean {
  return Boolean(account.totp || account.passkeys?.length || (account.mfa?.enabled && account.phoneVerified));
}
