/**
 * The embedded Store: one SQLite file in WAL mode through `libsql` (better-sqlite3's API over
 * N-API). Statements run synchronously on the main thread; every write goes through one writer
 * (group-commit.ts) that takes the lock without waiting in SQLite's busy handler, so a lock held
 * elsewhere costs 503s with Retry-After, never a frozen event loop or a poisoned connection.
 */
import { closeSync, mkdirSync, openSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { createRequire } from 'node:module';
import {
  StoreUnavailableError,
  StoreVersionError,
  type AccountRepository,
  type ChallengeRepository,
  type ClientRepository,
  type LetterRepository,
  type OidcAdapter,
  type OidcPayload,
  type RateLimiterOptions,
  type SettingRepository,
  type Store,
  type StoreTransfer,
} from '../../src/store.ts';
import { SqliteAccounts, SqliteAuditLog } from './accounts.ts';
import { SqliteClients } from './clients.ts';
import { SqliteOidcAdapter } from './oidc-adapter.ts';
import { SqliteChallenges, SqliteLetters, SqliteSettings } from './records.ts';
import { SqliteEsia } from './esia.ts';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { WalSync } from './wal-sync.ts';
import { SafeRateLimiterSQLite } from './rate-limiter.ts';
import { migrate, SCHEMA_VERSION, schemaVersionOf } from './migrations.ts';
import { SqliteTransfer } from './transfer.ts';

type Db = InstanceType<typeof Database>;

export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** How often expired rows are swept, in ms (0 = never). */
  sweepIntervalMs?: number;
  /** WAL checkpoints in a worker thread (default for files). */
  backgroundCheckpoints?: boolean;
  /** The WAL is checkpointed and truncated before it passes this size (default 64 MB). */
  walMaxBytes?: number;
  /** How long a write waits for the lock before it is answered 503 (default 3000 ms). */
  busyDeadlineMs?: number;
  /** A warning is logged while the volume has less free space than this (default 512 MB). */
  lowSpaceBytes?: number;
  /** Audit events older than this are deleted by the sweep (default 365 days; 0 = keep forever). */
  auditRetentionDays?: number;
  /**
   * Consumed (rotated-out) refresh tokens and consumed codes are kept this long for reuse
   * detection, then deleted (default 1 day).
   */
  consumedRetentionSeconds?: number;
  /** Where warnings go (low disk space, writes failing for space). */
  warn?: (data: Record<string, unknown>, message: string) => void;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const file = options.path !== ':memory:';
  if (file) createPrivately(options.path);
  const db = new Database(options.path);
  try {
    // A newer file is refused before anything is written to it (not even the journal mode).
    migrateOrRefuse(db);
  } catch (err) {
    db.close();
    throw err;
  }
  // Opening is not on the request path: while this process sets the file up — the journal mode,
  // the migrations, and the tables each repository creates in its constructor (ESIA, clients) —
  // another process opening or migrating the same file at once (a cluster's workers, a CLI) is
  // waited for. With a 1 ms wait a worker starting beside others could fail with SQLITE_BUSY.
  db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: durable across process crashes; an OS crash may lose the last commits, never
  // corrupt the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  const walMaxBytes = options.walMaxBytes ?? 64 * 1024 * 1024;
  // After a checkpoint resets the WAL, the file is cut back to this size.
  db.pragma(`journal_size_limit = ${Math.floor(walMaxBytes / 2)}`);
  let checkpointer: Checkpointer | undefined;
  if (file) {
    // Checkpoints happen in a worker thread (this process's, or in a cluster another process's:
    // src/cluster.ts); this connection's own is only a safety net at the bound.
    const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    db.pragma(`wal_autocheckpoint = ${Math.max(1000, Math.floor(walMaxBytes / pageSize))}`);
  }
  if (file && options.backgroundCheckpoints !== false) {
    checkpointer = new Checkpointer(options.path, createRequire(import.meta.url).resolve('libsql'), walMaxBytes);
  }
  const walSync = file ? new WalSync(`${options.path}-wal`, options.path) : undefined;
  const store = new SqliteStore(db, options.sweepIntervalMs ?? 60_000, checkpointer, { ...options, walMaxBytes }, walSync);
  // From here a millisecond at most in SQLite's busy handler (it sleeps on the event loop); longer
  // waits are retried on timers by the writer.
  db.pragma('busy_timeout = 1');
  return store;
}

/** How long opening the file waits for another process's lock (see openSqliteStore). */
const OPEN_BUSY_TIMEOUT_MS = 10_000;

/**
 * The data file is created 0600 in a directory created 0700 (issue 14): it holds personal data and
 * the sealed keys. SQLite creates the -wal and -shm files with the database file's mode.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}

/** Only the version check, before WAL mode is set: a file newer than this code is left as it is. */
function migrateOrRefuse(db: Db): void {
  const found = schemaVersionOf(db);
  if (found > SCHEMA_VERSION) throw new StoreVersionError(found, SCHEMA_VERSION);
}

/**
 * The sweep deletes in slices, each its own short transaction with the event loop free in between
 * (requests interleave). Every kind of row has its own slice size: it starts at SWEEP_BATCH rows
 * and is halved while a slice — its statement and its commit — takes longer than SWEEP_SLICE_MS,
 * doubled (up to SWEEP_BATCH_MAX) while one takes less than half of it, so a sweep never holds the
 * event loop for long whatever the machine and the rows (issue 15: 500 rows at once took 30 ms on
 * a busy 2-core machine; a size learnt on small counter rows took 15 ms on tokens). Each kind is
 * found through an index (migration 3). Between slices the sweep also leaves the WAL to the
 * checkpointer: past the checkpointer's trigger it asks for a checkpoint and waits for it, so a
 * large backlog cannot push the WAL to the serving connection's own checkpoint, which runs inside
 * a COMMIT on the event loop (half a second for a 64 MB WAL).
 */
const SWEEP_BATCH = 10;
const SWEEP_BATCH_MIN = 5;
const SWEEP_BATCH_MAX = 1000;
const SWEEP_SLICE_MS = 1;
/** How long the sweep waits at most for the checkpointer before going on (its own checkpoint then bounds the WAL). */
const SWEEP_WAL_WAIT_MS = 5000;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  /** The SQLite class itself (the sweep deletes through it inside its slices). */
  readonly audit: SqliteAuditLog;
  readonly settings: SettingRepository;
  readonly letters: LetterRepository;
  readonly transfer: StoreTransfer;
  /** ESIA profile: oids and used states (adapters/sqlite/esia.ts) */
  readonly esia: SqliteEsia;
  readonly clients: ClientRepository;
  private readonly adapters = new Map<string, OidcAdapter>();
  /** Every write (tokens, sessions, accounts, codes, counters, sweeps) is group-committed. */
  readonly writes: GroupCommit;
  private readonly sweeper?: NodeJS.Timeout;
  private closed = false;
  private sweeping?: Promise<void>;
  /** Set when a write failed for space or I/O; cleared by the next commit. */
  private writeFailure?: { at: number; error: StoreUnavailableError };
  private lastSpaceWarning = 0;
  private probe?: { at: number; done: Promise<void> };
  private readonly sweepStmts;
  private readonly probeStmt;

  constructor(
    readonly db: Db,
    sweepIntervalMs: number,
    private readonly checkpointer?: Checkpointer,
    private readonly options: Partial<SqliteStoreOptions> = {},
    /** The WAL's fsync off the event loop for durable writes (a file store). */
    readonly walSync?: WalSync,
  ) {
    this.writes = new GroupCommit(db, {
      busyDeadlineMs: options.busyDeadlineMs,
      syncWal: walSync && (() => walSync.sync()),
      onOutcome: (outcome) => {
        if (outcome.ok) {
          this.writeFailure = undefined;
          return;
        }
        if (!this.writeFailure) {
          options.warn?.(
            { reason: outcome.error.reason, error: (outcome.cause as Error)?.message, ...this.space() },
            'the store cannot write',
          );
        }
        this.writeFailure = { at: Date.now(), error: outcome.error };
      },
    });
    const audit = new SqliteAuditLog(db, this.writes);
    this.audit = audit;
    this.accounts = new SqliteAccounts(db, audit, this.writes);
    this.challenges = new SqliteChallenges(db, this.writes);
    this.settings = new SqliteSettings(db, this.writes);
    this.letters = new SqliteLetters(db, this.writes);
    this.esia = new SqliteEsia(db, this.writes);
    this.clients = new SqliteClients(db, this.writes);
    // after the repositories that create the clients and ESIA tables it reads
    this.transfer = new SqliteTransfer(db, this.writes);
    this.sweepStmts = {
      expired: db.prepare(
        'DELETE FROM oidc WHERE rowid IN (SELECT rowid FROM oidc WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)',
      ),
      consumed: db.prepare('DELETE FROM oidc WHERE rowid IN (SELECT rowid FROM oidc WHERE consumed IS NOT NULL AND consumed <= ? LIMIT ?)'),
      // Two statements, each found by its own index (an OR of the two read the whole table).
      expiredChallenges: db.prepare('DELETE FROM challenges WHERE id IN (SELECT id FROM challenges WHERE expires_at <= ? LIMIT ?)'),
      usedChallenges: db.prepare(
        'DELETE FROM challenges WHERE id IN (SELECT id FROM challenges WHERE consumed_at IS NOT NULL AND consumed_at <= ? LIMIT ?)',
      ),
      limits: db.prepare(
        'DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE expire IS NOT NULL AND expire <= ? LIMIT ?)',
      ),
    };
    this.probeStmt = db.prepare(
      "INSERT INTO settings (name, value, version) VALUES ('vkhod.probe', ?, 1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    );
    if (sweepIntervalMs > 0) {
      this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), sweepIntervalMs);
      this.sweeper.unref();
    }
  }

  get schemaVersion(): number {
    return schemaVersionOf(this.db);
  }

  oidcAdapter(model: string): OidcAdapter {
    let adapter = this.adapters.get(model);
    if (!adapter) {
      adapter = new SqliteOidcAdapter(this.db, model, this.writes);
      this.adapters.set(model, adapter);
    }
    return adapter;
  }

  async revokeOidcByAccountId(accountId: string): Promise<number> {
    // Queued behind every write already requested: nothing issued before this survives it.
    const stmt = this.db.prepare('DELETE FROM oidc WHERE account_id = ?');
    // Durable: a revocation lost to a power cut would bring the account's sessions back.
    return (await this.writes.run(() => stmt.run(accountId), { durable: true })).changes;
  }

  async listOidcByAccountId(model: string, accountId: string): Promise<Array<{ id: string; payload: OidcPayload }>> {
    const rows = this.db
      .prepare('SELECT id, payload, expires_at FROM oidc WHERE model = ? AND account_id = ? LIMIT 500')
      .all(model, accountId) as Array<{ id: string; payload: string; expires_at: number | null }>;
    const now = Date.now();
    return rows
      .filter((r) => r.expires_at === null || r.expires_at > now)
      .map((r) => ({ id: r.id, payload: JSON.parse(r.payload) as OidcPayload }));
  }

  rateLimiter(options: RateLimiterOptions) {
    return new SafeRateLimiterSQLite(this.db, this.writes, {
      storeClient: this.db,
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
    });
  }

  /**
   * Deletes what no one needs any more, in small batches (each its own short transaction, so
   * requests interleave): expired OIDC artefacts, consumed codes and rotated-out refresh tokens
   * past their reuse-detection window, expired or used one-time codes, expired counters and audit
   * events past retention. Also warns when the volume runs low on space.
   */
  sweep(now = Date.now()): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.sweeping ??= this.sweepBatches(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepBatches(now: number): Promise<void> {
    this.warnOnLowSpace();
    const consumedBefore = Math.floor((now - (this.options.consumedRetentionSeconds ?? 86400) * 1000) / 1000);
    const nowIso = new Date(now).toISOString();
    const usedCodesBefore = new Date(now - 3600_000).toISOString();
    const retentionDays = this.options.auditRetentionDays ?? 365;
    const auditBefore = new Date(now - retentionDays * 86400_000).toISOString();
    const batches: Array<(limit: number) => { changes: number }> = [
      (limit) => this.sweepStmts.expired.run(now, limit),
      (limit) => this.sweepStmts.consumed.run(consumedBefore, limit),
      (limit) => this.sweepStmts.expiredChallenges.run(nowIso, limit),
      (limit) => this.sweepStmts.usedChallenges.run(usedCodesBefore, limit),
      (limit) => this.sweepStmts.limits.run(now, limit),
      // used ESIA states past their window, in one statement (a small table); never repeated
      () => {
        this.esia.sweep(nowIso);
        return { changes: 0 };
      },
      // audit events past retention, oldest first (the audit_time index)
      (limit) => (retentionDays > 0 ? this.audit.deleteBeforeSync(auditBefore, limit) : { changes: 0 }),
    ];
    for (const batch of batches) {
      let limit = SWEEP_BATCH;
      for (;;) {
        if (this.closed) return;
        let started = 0;
        const size = limit;
        const { changes } = await this.writes.run(() => {
          started = performance.now();
          return batch(size);
        });
        // the statement, its commit and whatever shared the transaction: what the event loop was held for
        const tookMs = performance.now() - started;
        if (tookMs > SWEEP_SLICE_MS) limit = Math.max(SWEEP_BATCH_MIN, Math.floor(limit / 2));
        else if (tookMs < SWEEP_SLICE_MS / 2) limit = Math.min(SWEEP_BATCH_MAX, limit * 2);
        if (changes < size) break;
        await this.afterSlice();
      }
    }
  }

  /** Between two slices: the event loop's turn, and the checkpointer's when the WAL is past its trigger. */
  private async afterSlice(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const trigger = (this.options.walMaxBytes ?? 0) / 2;
    if (!this.checkpointer || !trigger || this.walBytes() <= trigger) return;
    this.checkpointer.now();
    for (let waited = 0; waited < SWEEP_WAL_WAIT_MS && this.walBytes() > trigger && !this.closed; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Free bytes on the store's volume and the room left under `max_page_count`. */
  private space(): { freeBytes?: number; roomBytes?: number } {
    const path = this.options.path;
    if (!path || path === ':memory:') return {};
    const out: { freeBytes?: number; roomBytes?: number } = {};
    try {
      const fs = statfsSync(dirname(path));
      out.freeBytes = fs.bavail * fs.bsize;
    } catch {
      // not every platform can tell
    }
    const pages = this.db
      .prepare('SELECT page_count, max_page_count, page_size FROM pragma_page_count, pragma_max_page_count, pragma_page_size')
      .get() as {
      page_count: number;
      max_page_count: number;
      page_size: number;
    };
    out.roomBytes = (pages.max_page_count - pages.page_count) * pages.page_size;
    return out;
  }

  private warnOnLowSpace(): void {
    const { freeBytes } = this.space();
    const threshold = this.options.lowSpaceBytes ?? 512 * 1024 * 1024;
    if (freeBytes === undefined || freeBytes >= threshold) return;
    if (Date.now() - this.lastSpaceWarning < 60_000) return;
    this.lastSpaceWarning = Date.now();
    this.options.warn?.({ freeBytes, thresholdBytes: threshold, path: this.options.path }, 'the store volume is low on free space');
  }

  /** The WAL file's size in bytes (0 when absent). */
  walBytes(): number {
    try {
      return statSync(`${this.options.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  /**
   * Ready means "can write": a one-row write through the writer (bounded by its deadline; its
   * outcome cached for a second). While
   * writes are failing for space, also that there is room again (free bytes on the volume and
   * under max_page_count), so readiness comes back by itself when space returns, with no client
   * traffic needed.
   */
  async ping(): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('closed');
    this.db.prepare('SELECT 1').get();
    if (this.writeFailure) {
      const { freeBytes, roomBytes } = this.space();
      const needed = 1024 * 1024;
      if ((freeBytes !== undefined && freeBytes < needed) || (roomBytes !== undefined && roomBytes < needed)) throw this.writeFailure.error;
    }
    // The write probe's outcome is remembered for a second: many balancers probing cost one write.
    if (!this.probe || Date.now() - this.probe.at >= 1000) {
      this.probe = { at: Date.now(), done: this.writes.run(() => this.probeStmt.run(new Date().toISOString())).then(() => undefined) };
    }
    await this.probe.done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping?.catch(() => undefined);
    this.writes.flush();
    this.writes.abandon(new StoreUnavailableError('closed'));
    // the durable writes committed last are answered once their sync ends
    await this.walSync?.close();
    await this.checkpointer?.stop();
    // A clean shutdown leaves no WAL behind.
    try {
      this.db.pragma('busy_timeout = 2000');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // another process holds the lock: the next open recovers the WAL
    }
    this.db.close();
  }
}
