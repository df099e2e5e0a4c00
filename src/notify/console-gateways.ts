/**
 * Development delivery: messages are written to the log instead of being sent. Outside
 * development only the fact of a message is logged, never its text (it may hold a code).
 */
import type { Logger } from 'pino';
import type { MailMessage, MailTransport, SmsGateway } from './notifier.ts';

export class ConsoleSmsGateway implements SmsGateway {
  constructor(
    private readonly logger: Logger,
    private readonly showText: boolean,
  ) {}

  async send(to: string, text: string): Promise<void> {
    this.logger.info({ sms: { to, text: this.showText ? text : '[hidden]' } }, 'SMS (console gateway)');
  }
}

export class ConsoleMailTransport implements MailTransport {
  constructor(
    private readonly logger: Logger,
    private readonly showText: boolean,
  ) {}

  async send(message: MailMessage): Promise<void> {
    this.logger.info(
      { mail: { to: message.to, subject: message.subject, text: this.showText ? message.text : '[hidden]' } },
      'e-mail (console transport)',
    );
  }
}
