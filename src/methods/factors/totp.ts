/** An authenticator app (TOTP): the method is methods/totp.ts. */
import type { Account } from '../../accounts/account.ts';
import type { TotpMethod } from '../totp.ts';
import type { FactorDescriptor, SecondFactor } from './factor.ts';

export const TOTP: FactorDescriptor = {
  kind: 'totp',
  amr: ['otp'],
  limits: ['login-failures-account'],
  answer: 'code',
  standalone: true,
  available: (account: Account) => Boolean(account.totp),
};

export function totpFactor(totp: TotpMethod): SecondFactor {
  return {
    ...TOTP,
    verify: (account, answer) => totp.verify(account, answer.code ?? ''),
    secretEnrolment: totp.enrolment(),
  };
}
