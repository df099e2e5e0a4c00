/**
 * Benchmark server: the real vkhod (buildApp, SQLite store in a temp folder, silent logs) on
 * 127.0.0.1 with the bench client and one registered account. Started by run.ts with an IPC
 * channel; removes its temp folder on exit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config/load.ts';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { buildApp } from '../../src/app.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { BENCH_CLIENT, mintRefreshTokens, serveCommands } from './shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'vkhod-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const server = createServer({ keepAliveTimeout: 65_000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// NODE_ENV=test for vkhod's config only (production demands an https issuer); the process
// itself runs with NODE_ENV=production, so koa and libraries take their production paths.
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  VKHOD_ISSUER: url,
  VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
  VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
  VKHOD_CLIENTS: JSON.stringify([BENCH_CLIENT]),
  VKHOD_DEMO_RP: 'false',
  VKHOD_DEV_OUTBOX: 'false',
});
if (config.store.kind !== 'sqlite') throw new Error('expected the SQLite store');
const store = openSqliteStore({ path: config.store.path });
const { app, services } = await buildApp(config, store, pino({ level: 'silent' }));
server.on('request', app.callback());

const account = await new Accounts(store).register({
  name: { family: 'Нагрузочный', given: 'Тест' },
  contact: { kind: 'phone', value: '+79990001122' },
  passwordHash: await hashPassword('bench-password-Aa1!'),
});

serveCommands(url, (n) => mintRefreshTokens(services.provider, account.id, n), dir);
