/**
 * Authenticator app (TOTP, RFC 6238, via otplib): 6 digits, 30-second steps, ±1 step accepted.
 * A code once accepted is refused again (the last accepted step is stored and must grow). The
 * seed is stored sealed with the at-rest key.
 */
import type { Accounts } from '../accounts/accounts.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Account } from '../accounts/account.ts';
import type { EnrolmentView, SecondFactorResult, SecretEnrolment } from './factors/factor.ts';
import { qrDataUrl } from './qr-code.ts';

const SEAL_CONTEXT = 'totp-seed';

export interface TotpEnrolment {
  secret: string;
  uri: string;
  /** PNG data URL of the otpauth URI, rendered on the server */
  qr: string;
}

/** otplib (with its hash and base32 packages) is loaded on the first authenticator-app operation, not at start (issue 15). */
let library: Promise<typeof import('otplib')> | undefined;
const otplib = () => (library ??= import('otplib'));

export class TotpMethod {
  constructor(
    private readonly box: SecretBox,
    private readonly accounts: Accounts,
    private readonly issuerName: string,
  ) {}

  async start(label: string): Promise<TotpEnrolment> {
    const { generateSecret } = await otplib();
    const secret = generateSecret({ length: 20 });
    return this.describe(secret, label);
  }

  async describe(secret: string, label: string): Promise<TotpEnrolment> {
    const { generateURI } = await otplib();
    const uri = generateURI({ issuer: this.issuerName, label, secret });
    return { secret, uri, qr: await qrDataUrl(uri, 220) };
  }

  /** Enrolment behind the factor interface: the secret sealed to the flow that began it, then to the account. */
  enrolment(): SecretEnrolment {
    const label = (account: Account) => account.phone ?? account.email ?? account.id;
    const view = (e: TotpEnrolment): EnrolmentView => ({ qr: e.qr, secret: e.secret.replace(/(.{4})/g, '$1 ').trim() });
    return {
      begin: async (account, binding) => {
        const enrolment = await this.start(label(account));
        return { sealed: this.box.encrypt(enrolment.secret, binding), view: view(enrolment) };
      },
      view: async (account, sealed, binding) => view(await this.describe(this.box.decrypt(sealed, binding), label(account))),
      confirm: async (sealed, binding, code) => {
        const secret = this.box.decrypt(sealed, binding);
        const step = await this.check(secret, code);
        if (step === undefined) return undefined;
        const createdAt = new Date().toISOString();
        return (a) => ({ ...a, totp: { sealedSecret: this.seal(secret, a.id), createdAt, lastTimeStep: step } });
      },
    };
  }

  seal(secret: string, accountId: string): string {
    return this.box.encrypt(secret, `${SEAL_CONTEXT}:${accountId}`);
  }

  /** The time step a code belongs to, or undefined when it is not valid now (or not after `after`). */
  async check(secret: string, code: string, after?: number): Promise<number | undefined> {
    const token = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(token)) return undefined;
    try {
      const { verify } = await otplib();
      const result = await verify({ secret, token, epochTolerance: 30, ...(after !== undefined ? { afterTimeStep: after } : {}) });
      return result.valid ? (result as { timeStep: number }).timeStep : undefined;
    } catch {
      return undefined;
    }
  }

  /** Verifies a sign-in code and records its step so it can never be used again. */
  async verify(account: Account, code: string): Promise<SecondFactorResult> {
    if (!account.totp) return { ok: false, reason: 'unavailable' };
    const secret = this.box.decrypt(account.totp.sealedSecret, `${SEAL_CONTEXT}:${account.id}`);
    const step = await this.check(secret, code, account.totp.lastTimeStep);
    // A right code already accepted once (pasted again, or a second tab): "already used", not a wrong guess.
    if (step === undefined) return { ok: false, reason: (await this.check(secret, code)) === undefined ? 'invalid' : 'used' };
    try {
      // Only against the version we read: of two requests with the same code, one loses.
      await this.accounts.modify(account.id, (a) => ({ ...a, totp: { ...a.totp!, lastTimeStep: step } }), undefined, { expect: account });
    } catch {
      return { ok: false, reason: 'used' };
    }
    return { ok: true, amr: ['otp'], method: 'totp' };
  }
}
