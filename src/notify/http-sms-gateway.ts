/**
 * SMS through an HTTP gateway: POST {to, text, sender} as JSON with a bearer token. Most
 * Russian SMS aggregators accept this shape directly or through a small proxy.
 */
import type { SmsGateway } from './notifier.ts';

export interface HttpSmsOptions {
  url: string;
  token?: string;
  sender: string;
  timeoutMs?: number;
}

export class HttpSmsGateway implements SmsGateway {
  constructor(private readonly options: HttpSmsOptions) {}

  async send(to: string, text: string): Promise<void> {
    const res = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: JSON.stringify({ to, text, sender: this.options.sender }),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
    if (!res.ok) throw new Error(`SMS gateway answered ${res.status}`);
  }
}
