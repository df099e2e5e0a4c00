/** A passkey or security key (WebAuthn): the method is methods/webauthn.ts. */
import type { Account } from '../../accounts/account.ts';
import type { WebAuthnMethod } from '../webauthn.ts';
import type { FactorDescriptor, SecondFactor } from './factor.ts';

export const WEBAUTHN: FactorDescriptor = {
  kind: 'webauthn',
  amr: ['hwk', 'swk'],
  limits: ['login-failures-account'],
  answer: 'assertion',
  standalone: true,
  available: (account: Account) => Boolean(account.passkeys?.length),
};

export function webauthnFactor(webauthn: WebAuthnMethod): SecondFactor {
  return {
    ...WEBAUTHN,
    verify: async (account, answer) => {
      const result = await webauthn.authenticate(answer.binding ?? '', answer.handle ?? '', answer.response as never, account.id);
      return result.ok ? { ok: true, amr: result.amr, method: 'webauthn' } : { ok: false, reason: 'invalid', detail: result.reason };
    },
    enrol: (account, binding) => webauthn.registrationOptions(account, binding),
  };
}
