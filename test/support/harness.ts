/**
 * A real vkhod for tests: the app built exactly as main.ts builds it, on a fresh SQLite file in
 * a temp folder, listening on 127.0.0.1 (a random port), with SMS and e-mail captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadConfig, type Config } from '../../config/load.ts';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { buildApp, type VkhodApp } from '../../src/app.ts';
import type { MailMessage, MailTransport, SmsGateway } from '../../src/notify/notifier.ts';

export interface SentMessage {
  to: string;
  text: string;
  subject?: string;
}

/** Both gateways in one: records every message; `failing` makes sends throw (gateway down). */
export class CapturingGateway implements SmsGateway, MailTransport {
  readonly sent: SentMessage[] = [];
  failing = false;

  async send(toOrMessage: string | MailMessage, text?: string): Promise<void> {
    if (this.failing) throw new Error('gateway down');
    if (typeof toOrMessage === 'string') this.sent.push({ to: toOrMessage, text: text! });
    else this.sent.push({ to: toOrMessage.to, text: toOrMessage.text, subject: toOrMessage.subject });
  }

  last(to: string): SentMessage | undefined {
    return [...this.sent].reverse().find((m) => m.to === to);
  }

  /** The 6-digit code in the newest message to `to`. */
  code(to: string): string {
    const match = this.last(to)?.text.match(/\b(\d{6})\b/);
    if (!match) throw new Error(`no code sent to ${to}`);
    return match[1]!;
  }
}

export const TEST_REDIRECT = 'https://rp.example.test/cb';
export const TEST_SECRET = 'test-client-secret-0123456789-abcdefghijklmnop';

export interface Harness extends VkhodApp {
  url: string;
  server: Server;
  config: Config;
  gateway: CapturingGateway;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  clients?: object[];
  /**
   * The host name in `url` and the issuer (the server always listens on 127.0.0.1). Real-browser
   * tests use `localhost`: WebAuthn refuses an IP address as the RP ID.
   */
  hostname?: string;
}

export const defaultClients = (): object[] => [
  {
    client_id: 'rp-basic',
    client_name: 'Тестовый сервис',
    client_secret: TEST_SECRET,
    redirect_uris: [TEST_REDIRECT],
    post_logout_redirect_uris: ['https://rp.example.test/bye'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'rp-public',
    redirect_uris: [TEST_REDIRECT],
    token_endpoint_auth_method: 'none',
  },
  {
    client_id: 'svc-backend',
    client_secret: TEST_SECRET,
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
  },
];

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-test-'));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://${options.hostname ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    VKHOD_ISSUER: url,
    VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
    VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
    VKHOD_CLIENTS: JSON.stringify(options.clients ?? defaultClients()),
    VKHOD_DEMO_RP: 'false',
    VKHOD_DEV_REGISTRY_DELAY_SECONDS: '0',
    VKHOD_DEV_OUTBOX: 'false',
    ...options.env,
  });
  const store = openSqliteStore({ ...(config.store.kind === 'sqlite' ? config.store : { path: '' }), sweepIntervalMs: 0 });
  const gateway = new CapturingGateway();
  const built = await buildApp(config, store, pino({ level: 'silent' }), { sms: gateway, mail: gateway });
  server.on('request', built.app.callback());
  return {
    ...built,
    url,
    server,
    config,
    gateway,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
