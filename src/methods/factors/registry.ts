/**
 * The second factors vkhod knows, in the order they are preferred, and the registry that binds
 * them to their methods. `availableFactors` (methods/second-factor.ts) and every page that lists
 * or checks factors go through here.
 */
import type { Account } from '../../accounts/account.ts';
import type { RecoveryCodesMethod } from '../recovery-codes.ts';
import type { SmsMethod } from '../sms.ts';
import type { TotpMethod } from '../totp.ts';
import type { WebAuthnMethod } from '../webauthn.ts';
import type { FactorDescriptor, FactorKind, SecondFactor, SecretEnrolment } from './factor.ts';
import { recoveryCodesFactor, RECOVERY } from './recovery-codes.ts';
import { smsFactor, SMS } from './sms.ts';
import { totpFactor, TOTP } from './totp.ts';
import { webauthnFactor, WEBAUTHN } from './webauthn.ts';

/** Every factor, preferred first (an app, then SMS, then a passkey; recovery codes last). */
export const FACTORS: readonly FactorDescriptor[] = [TOTP, SMS, WEBAUTHN, RECOVERY];

export function descriptorOf(kind: string): FactorDescriptor | undefined {
  return FACTORS.find((f) => f.kind === kind);
}

export class SecondFactors {
  private readonly byKind: ReadonlyMap<FactorKind, SecondFactor>;

  constructor(methods: { totp: TotpMethod; sms: SmsMethod; webauthn: WebAuthnMethod; recoveryCodes: RecoveryCodesMethod }) {
    const all = [
      totpFactor(methods.totp),
      smsFactor(methods.sms),
      webauthnFactor(methods.webauthn),
      recoveryCodesFactor(methods.recoveryCodes),
    ];
    this.byKind = new Map(all.map((f) => [f.kind, f]));
  }

  /** The factor of this kind; undefined for anything else (a value from a form is not trusted). */
  get(kind: unknown): SecondFactor | undefined {
    return typeof kind === 'string' ? this.byKind.get(kind as FactorKind) : undefined;
  }

  /** How the authenticator app is set up (the one factor enrolled from a shared secret). */
  get secretEnrolment(): SecretEnrolment {
    return this.byKind.get('totp')!.secretEnrolment!;
  }

  /** The factors this account can use now (recovery codes included when it has some left). */
  availableTo(account: Account): SecondFactor[] {
    return FACTORS.filter((f) => f.available(account)).map((f) => this.byKind.get(f.kind)!);
  }
}
