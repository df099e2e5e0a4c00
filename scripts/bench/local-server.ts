/**
 * What every bench script needs to run vkhod locally: a free port on 127.0.0.1, a fresh SQLite
 * store with the citizens who sign in, and the server's environment (bench client, no demo, a
 * throw-away master key).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { BENCH_CLIENT } from './shared.ts';

/** A command line to spawn, `node` meaning this Node (BENCH_VKHOD_COMMAND, BENCH_BASELINE_COMMAND…). */
export function commandOf(text: string): string[] {
  const argv = text.split(/\s+/).filter(Boolean);
  if (argv[0] === 'node') argv[0] = process.execPath;
  return argv;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Registers one citizen per phone, each with `password`, in the SQLite file at `path`. */
export async function seedCitizens(path: string, phones: string[], password: string): Promise<void> {
  const seed = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
  const passwordHash = await hashPassword(password);
  const accounts = new Accounts(seed);
  for (const phone of phones) {
    await accounts.register({ name: { family: 'Нагрузочный', given: 'Тест' }, contact: { kind: 'phone', value: phone }, passwordHash });
  }
  await seed.close();
}

/** The environment of a benched vkhod on `port` with its store at `path` (NODE_ENV=test: production demands https). */
export function benchServerEnv(port: number, path: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    VKHOD_ISSUER: `http://127.0.0.1:${port}`,
    VKHOD_SQLITE_PATH: path,
    VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
    VKHOD_CLIENTS: JSON.stringify([BENCH_CLIENT]),
    VKHOD_DEMO_RP: 'false',
    VKHOD_DEV_OUTBOX: 'false',
  };
}
