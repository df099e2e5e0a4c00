/** Single-use recovery codes, standing in for a lost factor: the method is methods/recovery-codes.ts. */
import type { Account } from '../../accounts/account.ts';
import type { RecoveryCodesMethod } from '../recovery-codes.ts';
import type { FactorDescriptor, SecondFactor } from './factor.ts';

export const RECOVERY: FactorDescriptor = {
  kind: 'recovery',
  amr: ['otp'],
  limits: ['login-failures-account'],
  answer: 'code',
  standalone: false,
  available: (account: Account) => Boolean(account.recoveryCodes?.hashes.length),
};

export function recoveryCodesFactor(codes: RecoveryCodesMethod): SecondFactor {
  return { ...RECOVERY, verify: (account, answer) => codes.verify(account, answer.code ?? '') };
}
