/**
 * The notify port: SMS and e-mail to citizens. Gateways are adapters chosen by configuration;
 * the dev outbox keeps a copy of every message for the development page /dev/outbox.
 */
import type { Logger } from 'pino';
import type { Contact } from '../accounts/contacts.ts';
import type { SettingRepository } from '../store.ts';

export interface SmsGateway {
  send(to: string, text: string): Promise<void>;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}

export interface OutboxEntry {
  at: string;
  channel: 'sms' | 'email';
  to: string;
  subject?: string;
  text: string;
}

/** How long the dev outbox keeps a message (it survives a restart for this long). */
export const OUTBOX_KEEP_MS = 3_600_000;
const OUTBOX_SETTING = 'dev-outbox';

/**
 * The last messages sent, newest first. Development only: never enabled in production. Kept in
 * the store too (when given one) for an hour, so the page survives a restart of the server.
 */
export class DevOutbox {
  private entries: OutboxEntry[] = [];
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly capacity = 100,
    private readonly settings?: SettingRepository,
  ) {}

  /** Loads what an earlier run kept (the last hour's messages). */
  async restore(): Promise<void> {
    if (!this.settings) return;
    const saved = await this.settings.get(OUTBOX_SETTING).catch(() => undefined);
    if (!saved) return;
    try {
      const stored = JSON.parse(saved.value) as OutboxEntry[];
      this.entries = [...this.entries, ...this.fresh(stored)].slice(0, this.capacity);
    } catch {
      // an unreadable copy is simply not restored
    }
  }

  add(entry: OutboxEntry): void {
    this.entries.unshift(entry);
    this.entries.length = Math.min(this.entries.length, this.capacity);
    if (this.settings) this.saving = this.saving.then(() => this.save()).catch(() => undefined);
  }

  /** Resolves when every message added so far is in the store. */
  flushed(): Promise<void> {
    return this.saving;
  }

  list(): readonly OutboxEntry[] {
    return this.fresh(this.entries);
  }

  /** The newest message to a recipient (tests and the outbox page use it). */
  latestTo(to: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.to === to);
  }

  private fresh(entries: OutboxEntry[]): OutboxEntry[] {
    const since = Date.now() - OUTBOX_KEEP_MS;
    return entries.filter((e) => Date.parse(e.at) >= since);
  }

  private async save(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.settings!.get(OUTBOX_SETTING);
      if (await this.settings!.put(OUTBOX_SETTING, JSON.stringify(this.fresh(this.entries)), current?.version ?? 0)) return;
    }
  }
}

export class DeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

export class Notifier {
  constructor(
    private readonly sms: SmsGateway,
    private readonly mail: MailTransport,
    private readonly logger: Logger,
    private readonly outbox?: DevOutbox,
  ) {}

  /** Sends to a phone by SMS or to an address by e-mail. Throws DeliveryError when the gateway fails. */
  async send(to: Contact, message: { subject: string; text: string }): Promise<void> {
    const channel = to.kind === 'phone' ? 'sms' : 'email';
    try {
      if (channel === 'sms') await this.sms.send(to.value, message.text);
      else await this.mail.send({ to: to.value, subject: message.subject, text: message.text });
    } catch (err) {
      this.logger.error({ err: { message: (err as Error).message }, channel }, 'message delivery failed');
      throw new DeliveryError(`${channel} delivery failed`, { cause: err });
    }
    this.outbox?.add({
      at: new Date().toISOString(),
      channel,
      to: to.value,
      subject: channel === 'email' ? message.subject : undefined,
      text: message.text,
    });
  }
}
