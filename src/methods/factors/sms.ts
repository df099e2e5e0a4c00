/** A code by SMS to the account's confirmed mobile: the method is methods/sms.ts. */
import type { Account } from '../../accounts/account.ts';
import type { SmsMethod } from '../sms.ts';
import type { FactorDescriptor, SecondFactor } from './factor.ts';

export const SMS: FactorDescriptor = {
  kind: 'sms',
  amr: ['sms'],
  // Wrong codes count towards the account's lockout; sends and wrong codes are limited like every one-time code.
  limits: ['login-failures-account', 'code-sends-recipient', 'code-sends-ip', 'code-failures-ip'],
  answer: 'code',
  standalone: true,
  available: (account: Account) => Boolean(account.phone && account.phoneVerified),
};

export function smsFactor(sms: SmsMethod): SecondFactor {
  return {
    ...SMS,
    challenge: (account, ip, message) => sms.start(account, ip, message),
    // A code with no challenge sent in this sign-in answers nothing.
    verify: async (account, answer) =>
      answer.challengeId ? sms.verify(account, answer.challengeId, answer.code ?? '', answer) : { ok: false, reason: 'expired' },
  };
}
