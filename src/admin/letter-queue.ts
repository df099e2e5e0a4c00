/**
 * The post room's queue (DESIGN §2, confirmation by post): letters waiting to be printed, with
 * the code in clear for queued ones only, and "marked sent" — after which the code is gone from
 * the letter for good. Letters whose request was voided (or whose code was used) are cancelled
 * (no code, not to be sent) and shown to the post room as voided.
 * Shared by the admin API and the /operator pages; every action is audited.
 */
import type { PostalConfirmation } from '../methods/postal-confirmation.ts';
import type { AuditTrail } from '../security/audit.ts';
import type { Letter, LetterRepository } from '../store.ts';
import { UserError } from '../web/errors.ts';
import { operatorActor, type Operator } from './operators.ts';

export const LETTERS_PAGE = 200;
/** Voided letters shown to the post room (of at most VOIDED_SCANNED read). */
const VOIDED_SHOWN = 50;
const VOIDED_SCANNED = 1000;
/** Why a letter was voided, as the post room reads it (views/locales: operator.letters.reasons). */
export const VOID_REASONS = new Set(['exhausted', 'expired', 'data_changed', 'replaced', 'used', 'locked']);

export interface LetterView {
  id: string;
  account_id: string;
  status: Letter['status'];
  created_at: string;
  /** absent once the account is erased */
  recipient?: { name: string; address: string; postal_code?: string };
  /** the code to print: queued letters only */
  code?: string;
  sent_at?: string;
  sent_by?: string;
  cancelled_at?: string;
  cancel_reason?: string;
  erased_at?: string;
}

export class LetterQueue {
  constructor(
    private readonly letters: LetterRepository,
    private readonly postal: PostalConfirmation,
    private readonly audit: AuditTrail,
  ) {}

  private view(letter: Letter): LetterView {
    const printable = letter.status === 'queued' ? this.postal.printable(letter) : undefined;
    return {
      id: letter.id,
      account_id: letter.accountId,
      status: letter.status,
      created_at: letter.createdAt,
      // an erased account's letters keep no recipient
      ...(letter.recipient
        ? {
            recipient: {
              name: letter.recipient.name,
              address: letter.recipient.address.formatted,
              ...(letter.recipient.address.postalCode ? { postal_code: letter.recipient.address.postalCode } : {}),
            },
          }
        : {}),
      ...(letter.erasedAt ? { erased_at: letter.erasedAt } : {}),
      ...(printable?.code ? { code: printable.code } : {}),
      ...(letter.sentAt ? { sent_at: letter.sentAt } : {}),
      ...(letter.sentBy ? { sent_by: letter.sentBy } : {}),
      ...(letter.cancelledAt ? { cancelled_at: letter.cancelledAt } : {}),
      ...(letter.cancelReason ? { cancel_reason: letter.cancelReason } : {}),
    };
  }

  /** Oldest first (the print order), at most LETTERS_PAGE. */
  async list(status: Letter['status'], operator: Operator, ip: string): Promise<LetterView[]> {
    const letters = (await this.letters.list(status, LETTERS_PAGE)).map((l) => this.view(l));
    await this.audit.record({
      type: 'admin.letters_listed',
      actor: operatorActor(operator),
      ip,
      outcome: 'success',
      details: { status, count: letters.length },
    });
    return letters;
  }

  /**
   * The post room's page: the queue (oldest first) and the letters voided in the last 30 days
   * (newest first, at most VOIDED_SHOWN): a letter printed before its request was voided must
   * not be posted, so it stays visible as voided instead of silently leaving the list.
   */
  async postRoom(operator: Operator, ip: string): Promise<{ queued: LetterView[]; voided: LetterView[] }> {
    const [queued, cancelled] = await Promise.all([
      this.letters.list('queued', LETTERS_PAGE),
      this.letters.list('cancelled', VOIDED_SCANNED),
    ]);
    const since = new Date(Date.now() - 30 * 86400_000).toISOString();
    const voided = cancelled
      .filter((l) => (l.cancelledAt ?? '') >= since)
      .sort((a, b) => (b.cancelledAt ?? '').localeCompare(a.cancelledAt ?? ''))
      .slice(0, VOIDED_SHOWN);
    await this.audit.record({
      type: 'admin.letters_listed',
      actor: operatorActor(operator),
      ip,
      outcome: 'success',
      details: { status: 'queued', count: queued.length, voided: voided.length },
    });
    return { queued: queued.map((l) => this.view(l)), voided: voided.map((l) => this.view(l)) };
  }

  /** queued → sent; 404 for an unknown letter, 409 when it was already marked or was cancelled. */
  async markSent(letterId: string, operator: Operator, ip: string): Promise<LetterView> {
    const actor = operatorActor(operator);
    const letter = letterId.length <= 64 ? await this.letters.find(letterId) : undefined;
    if (!letter) throw new UserError(404, 'admin.errors.letter_not_found');
    if (!(await this.letters.markSent(letter.id, new Date().toISOString(), actor))) {
      // Read again: it may have been cancelled (its request voided) since it was listed.
      const reason = (await this.letters.find(letter.id))?.status === 'cancelled' ? 'cancelled' : 'already_sent';
      await this.audit.record({
        type: 'admin.letter_sent',
        accountId: letter.accountId,
        actor,
        ip,
        outcome: 'failure',
        details: { letterId: letter.id, reason },
      });
      throw new UserError(409, reason === 'cancelled' ? 'admin.errors.letter_cancelled' : 'admin.errors.already_sent');
    }
    await this.audit.record({
      type: 'admin.letter_sent',
      accountId: letter.accountId,
      actor,
      ip,
      outcome: 'success',
      details: { letterId: letter.id },
    });
    return this.view((await this.letters.find(letter.id))!);
  }
}
