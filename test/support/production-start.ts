/**
 * The settings of a vkhod start as in production (NODE_ENV=production, console SMS and mail, one
 * relying party) with the embedded store in `dir`, listening on 127.0.0.1:`port`: the start-up
 * test and the start-up bench (scripts/bench/startup.ts) start the real process with them.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export function productionStartEnv(dir: string, port: number, clientId: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    VKHOD_ISSUER: 'https://id.example.test',
    VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
    VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
    VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
    VKHOD_CLIENTS: JSON.stringify([
      { client_id: clientId, client_secret: randomBytes(30).toString('base64url'), redirect_uris: ['https://rp.example.test/cb'] },
    ]),
    VKHOD_SMS_GATEWAY: 'console',
    VKHOD_MAIL_TRANSPORT: 'console',
  };
}
