/**
 * Every change to how an account signs in (factors, passkeys, recovery codes, sign-in with
 * confirmation) goes through here: stored with its audit event in one transaction, then the
 * citizen is told on their contact (best effort: a failed notice never undoes the change).
 */
import type { Accounts } from '../accounts/accounts.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Account } from '../accounts/account.ts';

export type FactorChange =
  | 'totp_added'
  | 'totp_removed'
  | 'sms_enabled'
  | 'mfa_enabled'
  | 'mfa_disabled'
  | 'passkey_added'
  | 'passkey_renamed'
  | 'passkey_removed'
  | 'recovery_codes_generated';

export class FactorChanges {
  constructor(
    private readonly accounts: Accounts,
    private readonly notifier: Notifier,
  ) {}

  async apply(params: {
    accountId: string;
    change: FactorChange;
    mutate: (current: Account) => Account;
    ip?: string;
    details?: Record<string, unknown>;
    message: { subject: string; text: string };
  }): Promise<Account> {
    const next = await this.accounts.modify(params.accountId, params.mutate, {
      type: `factor.${params.change}`,
      actor: 'self',
      ip: params.ip,
      outcome: 'success',
      details: params.details,
    });
    const to =
      next.phone && next.phoneVerified
        ? { kind: 'phone' as const, value: next.phone }
        : next.email && next.emailVerified
          ? { kind: 'email' as const, value: next.email }
          : undefined;
    if (to) await this.notifier.send(to, params.message).catch(() => undefined);
    return next;
  }
}
