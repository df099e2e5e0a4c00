/**
 * Messages vkhod sends a citizen on its own initiative (a lockout, a change of level, a number
 * taken away, a new bank or certificate link), as opposed to codes they asked for. Sent in Russian
 * to the account's confirmed contacts: they happen outside the citizen's page (the person locked
 * out may not be the one typing; the registry answers later). Best effort: a failed notice never
 * undoes anything.
 */
import { confirmedContacts } from '../accounts/contacts.ts';
import type { Account } from '../accounts/account.ts';
import type { Notifier } from './notifier.ts';

/** Reads a message text (locale key → text with its parameters) in the notices' language. */
export type NoticeTexts = (key: string, params?: Record<string, unknown>) => string;

export class CitizenNotices {
  constructor(
    private readonly notifier: Notifier,
    private readonly t: NoticeTexts,
  ) {}

  /** A lockout by wrong passwords or codes: told on every confirmed contact (once per lockout). */
  async lockout(account: Account): Promise<void> {
    await this.send(confirmedContacts(account), 'messages.lockout.subject', 'messages.lockout.text');
  }

  /** The account's level changed (or a registry check it asked for was refused). */
  async levelChanged(account: Account, from: string): Promise<void> {
    const key = account.level !== from ? `messages.level.${account.level}` : 'messages.level.rejected';
    await this.send(confirmedContacts(account).slice(0, 1), 'messages.level.subject', key);
  }

  /** A typed SNILS or passport number was taken from this account by its verified owner. */
  async numberRemoved(account: Account, kind: string): Promise<void> {
    await this.send(confirmedContacts(account).slice(0, 1), 'messages.level.subject', `messages.level.number_removed.${kind}`);
  }

  /** A bank or certificate was linked to the account, or an account was made from one. */
  async linked(account: Account, key: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.send(confirmedContacts(account).slice(0, 1), 'federation.messages.subject', key, params);
  }

  private async send(to: ReturnType<typeof confirmedContacts>, subject: string, text: string, params: Record<string, unknown> = {}) {
    const message = { subject: this.t(subject, params), text: this.t(text, params) };
    await Promise.all(to.map((contact) => this.notifier.send(contact, message).catch(() => undefined)));
  }
}
