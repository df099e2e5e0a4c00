/**
 * The notify port: SMS and e-mail to citizens. Gateways are adapters chosen by configuration;
 * the dev outbox keeps a copy of every message for the development page /dev/outbox.
 */
import type { Logger } from 'pino';
import type { Contact } from '../accounts/contacts.ts';

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

/** The last messages sent, newest first. Development only: never enabled in production. */
export class DevOutbox {
  private readonly entries: OutboxEntry[] = [];

  constructor(private readonly capacity = 100) {}

  add(entry: OutboxEntry): void {
    this.entries.unshift(entry);
    this.entries.length = Math.min(this.entries.length, this.capacity);
  }

  list(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** The newest message to a recipient (tests and the outbox page use it). */
  latestTo(to: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.to === to);
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
    this.outbox?.add({ at: new Date().toISOString(), channel, to: to.value, subject: channel === 'email' ? message.subject : undefined, text: message.text });
  }
}
