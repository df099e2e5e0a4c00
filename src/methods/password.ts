/**
 * Password sign-in: identifier (phone, e-mail or SNILS) + password. The same answer and the same
 * cost for "no such account" and "wrong password"; failures count per account (whichever
 * identifier was typed) and per IP, reserved before the password is checked.
 */
import { parseLoginIdentifier } from '../accounts/login-identifier.ts';
import { decoyHash, verifyPassword } from '../accounts/password-hash.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { AuditTrail } from '../security/audit.ts';
import type { Limits } from '../security/limits.ts';
import type { Account } from '../accounts/account.ts';

export interface PasswordInput {
  identifier: string;
  password: string;
  ip: string;
  clientId?: string;
}

export type VerifyFailure =
  /** the input cannot be one (wrong format): safe to say so, it reveals nothing */
  | { ok: false; reason: 'malformed'; problem: string }
  /** wrong secret or no such account: the same answer for both */
  | { ok: false; reason: 'invalid' }
  /** too many failures for this login or from this address */
  | { ok: false; reason: 'locked'; retryAfter: number }
  /** the right secret for an account deleted but still in its grace: it may be restored, not signed in */
  | { ok: false; reason: 'deactivated'; account: Account };

export type VerifyResult = { ok: true; account: Account; amr: string[] } | VerifyFailure;

export class PasswordMethod {
  constructor(
    private readonly accounts: Accounts,
    private readonly limits: Limits,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * The attempt is reserved against the account's lockout (whichever identifier was typed) and
   * the client IP before the hash is checked; a typed login that matches no account is limited
   * by that login, with the same answers and the same argon2 work as a known one.
   */
  async verify(input: PasswordInput): Promise<VerifyResult> {
    const parsed = parseLoginIdentifier(input.identifier);
    if (!parsed.key) return { ok: false, reason: 'malformed', problem: parsed.problem! };
    if (!input.password) return { ok: false, reason: 'malformed', problem: 'password_required' };
    const account = await this.accounts.findByKeyOrPendingDeletion(parsed.key);
    const subject = account ? { accountId: account.id } : { login: `${parsed.key.kind}:${parsed.key.value}` };
    const decoy = account?.passwordHash ? undefined : await decoyHash();
    const attempt = await this.limits.attempt(
      subject,
      input.ip,
      async () => (await verifyPassword(account?.passwordHash ?? decoy!, input.password.slice(0, 256))) && Boolean(account?.passwordHash),
      (matches) => matches,
      // A right password does not clear wrong second factors: the sign-in clears the count once
      // it is complete (src/flows/sign-in/login.ts, src/flows/sign-in/second-factor.ts).
      { reset: false },
    );
    if (!attempt.checked) {
      await this.audit.record({
        type: 'signin.password',
        accountId: account?.id,
        outcome: 'failure',
        ip: input.ip,
        clientId: input.clientId,
        details: { reason: 'locked' },
      });
      return { ok: false, reason: 'locked', retryAfter: attempt.retryAfter };
    }
    if (!attempt.result || !account) {
      await this.audit.record({
        type: 'signin.password',
        accountId: account?.id,
        outcome: 'failure',
        ip: input.ip,
        clientId: input.clientId,
        details: { reason: account ? 'wrong_password' : 'unknown_login', login: parsed.key.kind },
      });
      if (attempt.locked) return { ok: false, reason: 'locked', retryAfter: attempt.retryAfter };
      return { ok: false, reason: 'invalid' };
    }
    if (account.status === 'deactivated') return { ok: false, reason: 'deactivated', account };
    return { ok: true, account, amr: ['pwd'] };
  }
}

/**
 * The account's own password asked again (re-authentication before a change): checked against
 * the account's lockout and the address like a sign-in (Limits.accountAttempt); an empty password
 * is a wrong one.
 */
export function recheckPassword(
  limits: Pick<Limits, 'accountAttempt'>,
  account: Pick<Account, 'id' | 'passwordHash'>,
  password: string,
  ip: string,
): ReturnType<Limits['accountAttempt']> {
  const hash = account.passwordHash;
  return limits.accountAttempt(account.id, ip, async () => Boolean(password && hash) && verifyPassword(hash!, password));
}
