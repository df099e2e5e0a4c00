/**
 * SMS code to the account's confirmed mobile as a second factor, with the limits of every
 * one-time code (DESIGN §6).
 */
import type { Context } from 'koa';
import type { Account } from '../accounts/account.ts';
import type { OneTimeCodes, CodeMessage } from './one-time-code.ts';
import type { SecondFactorResult } from './factors/factor.ts';

export const SMS_PURPOSE = 'mfa-sms';

export class SmsMethod {
  constructor(private readonly codes: OneTimeCodes) {}

  /** Sends a code; returns the challenge id, or how long to wait when the limit is reached. */
  async start(account: Account, ip: string, message: CodeMessage): Promise<{ challengeId?: string; retryAfter?: number }> {
    if (!account.phone || !account.phoneVerified) return {};
    const sent = await this.codes.send({
      purpose: SMS_PURPOSE,
      to: { kind: 'phone', value: account.phone },
      ip,
      message,
      accountId: account.id,
    });
    return sent.sent ? { challengeId: sent.challengeId } : { retryAfter: sent.retryAfter };
  }

  async verify(account: Account, challengeId: string, code: string, ctx: Pick<Context, 'ip'>): Promise<SecondFactorResult> {
    if (!account.phone) return { ok: false, reason: 'unavailable' };
    const outcome = await this.codes.verify({ challengeId, purpose: SMS_PURPOSE, recipient: account.phone, code, ip: ctx.ip });
    if (outcome === 'ok') return { ok: true, amr: ['sms'], method: 'sms' };
    if (outcome === 'wrong' || outcome === 'unknown') return { ok: false, reason: 'invalid' };
    return { ok: false, reason: outcome };
  }
}
