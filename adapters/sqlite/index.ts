/**
 * The embedded Store: one SQLite file in WAL mode through `libsql` (better-sqlite3's API over
 * N-API). Synchronous statements wrapped in promises so it satisfies the same port as Mongo.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import { createRequire } from 'node:module';
import type { AccountRepository, AuditLog, ChallengeRepository, LetterRepository, OidcAdapter, RateLimiterOptions, SettingRepository, Store } from '../../src/store.ts';
import { SqliteAccounts, SqliteAuditLog } from './accounts.ts';
import { SqliteOidcAdapter } from './oidc-adapter.ts';
import { SqliteChallenges, SqliteLetters, SqliteSettings } from './records.ts';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { SCHEMA } from './schema.ts';

type Db = InstanceType<typeof Database>;

export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** How often expired rows are swept, in ms (0 = never). */
  sweepIntervalMs?: number;
  /** WAL checkpoints in a worker thread (default for files). */
  backgroundCheckpoints?: boolean;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const file = options.path !== ':memory:';
  if (file) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: durable across process crashes; an OS crash may lose the last commits, never
  // corrupt the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  let checkpointer: Checkpointer | undefined;
  if (file && options.backgroundCheckpoints !== false) {
    // Checkpoints happen in a worker; this connection's own is only a safety net (~400 MB).
    db.pragma('wal_autocheckpoint = 100000');
    checkpointer = new Checkpointer(options.path, createRequire(import.meta.url).resolve('libsql'));
  }
  return new SqliteStore(db, options.sweepIntervalMs ?? 60_000, checkpointer);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  readonly audit: AuditLog;
  readonly settings: SettingRepository;
  readonly letters: LetterRepository;
  private readonly adapters = new Map<string, OidcAdapter>();
  /** OIDC artefact writes (tokens, sessions, interactions) are group-committed. */
  private readonly oidcWrites: GroupCommit;
  private readonly sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly db: Db,
    sweepIntervalMs: number,
    private readonly checkpointer?: Checkpointer,
  ) {
    this.oidcWrites = new GroupCommit(db);
    const audit = new SqliteAuditLog(db);
    this.audit = audit;
    this.accounts = new SqliteAccounts(db, audit);
    this.challenges = new SqliteChallenges(db);
    this.settings = new SqliteSettings(db);
    this.letters = new SqliteLetters(db);
    if (sweepIntervalMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
      this.sweeper.unref();
    }
  }

  oidcAdapter(model: string): OidcAdapter {
    let adapter = this.adapters.get(model);
    if (!adapter) {
      adapter = new SqliteOidcAdapter(this.db, model, this.oidcWrites);
      this.adapters.set(model, adapter);
    }
    return adapter;
  }

  async revokeOidcByAccountId(accountId: string): Promise<number> {
    this.oidcWrites.flush();
    return this.db.prepare('DELETE FROM oidc WHERE account_id = ?').run(accountId).changes;
  }

  rateLimiter(options: RateLimiterOptions) {
    return new RateLimiterSQLite({
      storeClient: this.db,
      storeType: 'better-sqlite3',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
      clearExpiredByTimeout: false,
    });
  }

  sweep(now = Date.now()): void {
    if (this.closed) return;
    this.db.prepare('DELETE FROM oidc WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM challenges WHERE expires_at <= ?').run(new Date(now).toISOString());
    this.db.prepare('DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire <= ?').run(now);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('store closed');
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.oidcWrites.flush();
    await this.checkpointer?.stop();
    this.db.close();
  }
}
