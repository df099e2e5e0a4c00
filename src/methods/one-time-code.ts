/**
 * One-time codes to a phone or e-mail (DESIGN §6): 6 random digits, stored only as a keyed
 * hash, 5 minutes of life, 3 wrong tries per code, 3 sends per 10 minutes per purpose and
 * recipient and a per-IP send limit. Used by registration, recovery and (later) the SMS second factor.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Contact } from '../accounts/contacts.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Limits } from '../security/limits.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { Challenge, ChallengeRepository } from '../store.ts';

export const CODE_TTL_SECONDS = 300;
export const CODE_MAX_ATTEMPTS = 3;

export type SendOutcome = { sent: true; challengeId: string } | { sent: false; reason: 'limited'; retryAfter: number };

export type VerifyOutcome = 'ok' | 'wrong' | 'expired' | 'used' | 'exhausted' | 'unknown' | 'limited';

export interface CodeMessage {
  subject: string;
  /** The message text for this code; the code must appear in it. */
  text: (code: string) => string;
}

export class OneTimeCodes {
  constructor(
    private readonly challenges: ChallengeRepository,
    private readonly notifier: Notifier,
    private readonly limits: Limits,
    private readonly box: SecretBox,
    /** Told of every code sent (issue 14: metrics by channel and purpose). */
    private readonly onSent?: (purpose: string, channel: string) => void,
  ) {}

  private hash(challengeId: string, code: string): string {
    return this.box.mac('codes', `${challengeId}:${code}`);
  }

  /**
   * Issues a challenge and sends the message. `answerable: false` issues a challenge no code
   * can answer (the message then carries a notice instead of the code) while the page looks
   * exactly the same: used where telling would reveal whether an account exists.
   */
  async send(params: {
    purpose: string;
    to: Contact;
    ip: string;
    message: CodeMessage;
    accountId?: string;
    answerable?: boolean;
  }): Promise<SendOutcome> {
    // Budgets are per purpose and recipient: anonymous sends (register, recover) to a number
    // never spend that account's second-factor or contact-change budget.
    for (const [rule, key] of [
      ['code-sends-recipient', `${params.purpose}:${params.to.value}`],
      ['code-sends-ip', params.ip],
    ] as const) {
      const state = await this.limits.hit(rule, key);
      if (state.blocked) return { sent: false, reason: 'limited', retryAfter: state.retryAfter };
    }
    const { challengeId, code } = await this.issue({
      purpose: params.purpose,
      recipient: params.to.value,
      ttlSeconds: CODE_TTL_SECONDS,
      accountId: params.accountId,
      unanswerable: params.answerable === false,
    });
    await this.notifier.send(params.to, { subject: params.message.subject, text: params.message.text(code) });
    this.onSent?.(params.purpose, params.to.kind);
    return { sent: true, challengeId };
  }

  /**
   * Issues a code and returns it in clear once, storing only its hash: `send` delivers it by SMS
   * or e-mail, the post confirmation prints it in a letter (`ttlSeconds` 30 days).
   */
  async issue(params: {
    purpose: string;
    recipient: string;
    ttlSeconds: number;
    maxAttempts?: number;
    accountId?: string;
    unanswerable?: boolean;
  }): Promise<{ challengeId: string; code: string }> {
    const id = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = Date.now();
    await this.challenges.create({
      id,
      purpose: params.purpose,
      recipient: params.recipient,
      // An unanswerable challenge stores the hash of something no typed code can be.
      codeHash: this.hash(id, params.unanswerable ? `!${code}` : code),
      attempts: 0,
      maxAttempts: params.maxAttempts ?? CODE_MAX_ATTEMPTS,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + params.ttlSeconds * 1000).toISOString(),
      accountId: params.accountId,
    });
    return { challengeId: id, code };
  }

  /**
   * Checks a typed code against the challenge; consumes it on success (exactly once). Race-free
   * (DESIGN §6): the try is taken from the code's attempts and from the client IP's budget before
   * the code is compared, so parallel guesses get no more comparisons than sequential ones; a right
   * code gives the IP's point back.
   */
  async verify(params: { challengeId: string; purpose: string; recipient: string; code: string; ip: string }): Promise<VerifyOutcome> {
    if ((await this.limits.peek('code-failures-ip', params.ip)).blocked) return 'limited';
    const challenge = await this.challenges.find(params.challengeId);
    if (!challenge || challenge.purpose !== params.purpose || challenge.recipient !== params.recipient) return 'unknown';
    const now = new Date().toISOString();
    const closed = (c: Challenge): VerifyOutcome | undefined =>
      c.consumedAt ? 'used' : c.expiresAt <= now ? 'expired' : c.attempts >= c.maxAttempts ? 'exhausted' : undefined;
    const early = closed(challenge);
    if (early) return early;
    if (!(await this.limits.reserve('code-failures-ip', params.ip)).allowed) return 'limited';
    const taken = await this.challenges.takeAttempt(challenge.id, now);
    if (!taken) {
      // Another request used the last attempt or the code in the meantime: say which.
      await this.limits.release('code-failures-ip', params.ip);
      const after = await this.challenges.find(challenge.id);
      return (after && closed(after)) ?? 'exhausted';
    }
    const code = params.code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code) || !this.box.macEquals('codes', `${challenge.id}:${code}`, challenge.codeHash))
      return taken.attempts >= taken.maxAttempts ? 'exhausted' : 'wrong';
    await this.limits.release('code-failures-ip', params.ip);
    return (await this.challenges.consume(challenge.id, now)) ? 'ok' : 'used';
  }
}
