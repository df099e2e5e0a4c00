/**
 * The `vkhod` CLI run as an operator runs it (Node with tsx on scripts/vkhod.ts) against a SQLite
 * file in its own temp folder, with nothing from the developer's environment leaking in.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  env: NodeJS.ProcessEnv;
  run(...args: string[]): Promise<CliRun>;
  close(): void;
}

export function cliSandbox(extra: Record<string, string> = {}): CliSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-cli-'));
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VKHOD_') && k !== 'MONGODB_URI' && k !== 'NODE_ENV' && k !== 'NODE_OPTIONS'),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
    VKHOD_DEV_SECRET_FILE: join(dir, 'dev-secret.key'),
    VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
    ...extra,
  };
  return {
    env,
    run: (...args) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--no-warnings=ExperimentalWarning', 'scripts/vkhod.ts', ...args],
          { cwd: ROOT, env, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      }),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
