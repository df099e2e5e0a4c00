/**
 * Recovery codes: 10 single-use codes shown once, stored as keyed hashes; using one removes it.
 * They stand in for a lost second factor.
 */
import { randomInt } from 'node:crypto';
import type { Accounts } from '../accounts/accounts.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Account } from '../accounts/account.ts';
import type { SecondFactorResult } from './factors/factor.ts';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

function normalize(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export class RecoveryCodesMethod {
  constructor(
    private readonly box: SecretBox,
    private readonly accounts: Accounts,
  ) {}

  private hash(accountId: string, code: string): string {
    return this.box.mac('codes', `recovery:${accountId}:${normalize(code)}`);
  }

  /** New codes (xxxxx-xxxxx); the previous ones stop working. Returns the plain codes to show once. */
  generate(accountId: string): { codes: string[]; hashes: string[] } {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const raw = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    return { codes, hashes: codes.map((c) => this.hash(accountId, c)) };
  }

  async verify(account: Account, code: string): Promise<SecondFactorResult> {
    const hashes = account.recoveryCodes?.hashes ?? [];
    if (normalize(code).length !== 10) return { ok: false, reason: 'invalid' };
    const hash = this.hash(account.id, code);
    if (!hashes.includes(hash)) return { ok: false, reason: 'invalid' };
    try {
      await this.accounts.modify(
        account.id,
        (a) => ({ ...a, recoveryCodes: { ...a.recoveryCodes!, hashes: a.recoveryCodes!.hashes.filter((h) => h !== hash) } }),
        { type: 'factor.recovery_code_used', actor: 'self', outcome: 'success', details: { remaining: hashes.length - 1 } },
        { expect: account },
      );
    } catch {
      return { ok: false, reason: 'used' };
    }
    return { ok: true, amr: ['otp'], method: 'recovery-code' };
  }
}
