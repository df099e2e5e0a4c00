/** E-mail over SMTP through nodemailer. */
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailMessage, MailTransport } from './notifier.ts';

export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transporter = nodemailer.createTransport(url);
  }

  async send(message: MailMessage): Promise<void> {
    await this.transporter.sendMail({ from: this.from, to: message.to, subject: message.subject, text: message.text });
  }
}
