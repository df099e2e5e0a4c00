/**
 * Every write to the embedded store goes through here (the transaction discipline of issue 17).
 *
 * - Group commit: writes requested in the same turn of the event loop run in one SQLite
 *   transaction, so a burst of writes pays for one WAL commit instead of one each. Each caller's
 *   promise settles after the commit that holds its write (a token is only handed out once it is
 *   durable).
 * - The write lock is taken first, with `BEGIN IMMEDIATE` run through `exec` (no prepared
 *   statement is left behind when it fails). Once the lock is held no statement can meet
 *   SQLITE_BUSY, so no statement is ever left half-stepped: a failed `.run()` under libsql stays
 *   "in progress" and makes every later COMMIT fail ("SQL statements in progress") — the poisoned
 *   connection this discipline exists to prevent.
 * - SQLITE_BUSY on `BEGIN IMMEDIATE` (another process, or a checkpoint, holds the lock) is retried
 *   with a growing pause on timers, never in SQLite's busy handler: the event loop keeps serving.
 *   A write still waiting at its deadline fails with StoreUnavailableError (503 + Retry-After).
 * - Each write runs inside a savepoint: a failing write (a duplicate key, a version conflict) is
 *   rolled back alone and fails only its caller; the others commit.
 * - A full disk or an I/O error fails the batch with StoreUnavailableError('full' | 'io'); the
 *   next batch tries again, so service resumes by itself once space returns.
 * - Durability per write (issue 14): the connection runs at `synchronous = NORMAL` (in WAL mode a
 *   commit survives a process crash; an OS crash or power loss may lose the last ones). A write
 *   asked `durable` (accounts, settings, audit, letters, clients, ESIA oids) is answered only once
 *   its commit survives power loss too: with `syncWal` (a file store, wal-sync.ts) after the WAL
 *   file is fsynced off the event loop, one sync shared by every commit before it (issue 15: at
 *   `synchronous = FULL` each such commit held the event loop for a disk sync); without it (a
 *   store in memory) its batch commits at FULL. Tokens and counters alone never wait for a sync.
 */
import { StoreUnavailableError } from '../../src/store.ts';

type Db = { exec(sql: string): unknown; readonly inTransaction: boolean };

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  deadline: number;
  durable: boolean;
}

export interface WriteOptions {
  /** Commit with `synchronous = FULL` (see the file comment). */
  durable?: boolean;
}

export interface WriterOptions {
  /** How long a write may wait for the lock before it fails with 503, in ms. */
  busyDeadlineMs?: number;
  /** Told about every commit and every failure for want of space or I/O (readiness, logs). */
  onOutcome?: (outcome: { ok: true } | { ok: false; error: StoreUnavailableError; cause: unknown }) => void;
  /**
   * Puts everything committed so far on disk, off the event loop (WalSync.sync); durable writes are
   * answered after it. Without it they commit at `synchronous = FULL`.
   */
  syncWal?: () => Promise<void>;
}

/** At most this many writes in one transaction (a bounded lock hold). */
const MAX_BATCH = 512;
const MAX_PAUSE_MS = 50;

const codeOf = (err: unknown): string =>
  err && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : '';
export const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(codeOf(err));
const isFull = (err: unknown): boolean =>
  /^SQLITE_FULL/.test(codeOf(err)) || /database or disk is full/i.test((err as Error)?.message ?? '');
const isIo = (err: unknown): boolean => /^SQLITE_(IOERR|CANTOPEN|READONLY)/.test(codeOf(err));

/** A store error the client can do nothing about but wait: 503, or undefined for anything else. */
export function unavailable(err: unknown): StoreUnavailableError | undefined {
  if (err instanceof StoreUnavailableError) return err;
  if (isBusy(err)) return new StoreUnavailableError('busy', 1);
  if (isFull(err)) return new StoreUnavailableError('full', 30);
  if (isIo(err)) return new StoreUnavailableError('io', 30);
  return undefined;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private timer?: NodeJS.Immediate | NodeJS.Timeout;
  private pause = 0;
  private readonly busyDeadlineMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: WriterOptions = {},
  ) {
    this.busyDeadlineMs = options.busyDeadlineMs ?? 3000;
  }

  /** Transactions committed so far (each one WAL commit, however many writes it held). */
  commits = 0;
  /** Batches committed so far that held a durable write (each waited for a sync, or ran at FULL). */
  durableCommits = 0;

  /** Queues a write; resolves with its result once committed (synced to disk when `durable`). */
  run<T>(write: () => T, options: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        write,
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: Date.now() + this.busyDeadlineMs,
        durable: options.durable === true,
      });
      this.schedule();
    });
  }

  private schedule(delayMs = 0): void {
    if (this.timer) return;
    this.timer = delayMs > 0 ? setTimeout(() => this.pump(), delayMs) : setImmediate(() => this.pump());
  }

  /** Runs what is queued now until the queue is empty or the lock is busy (also before close). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    while (this.queue.length && this.commitBatch()) {
      // next batch
    }
  }

  /** Fails everything still queued (the store is closing). */
  abandon(err: Error): void {
    const left = this.queue;
    this.queue = [];
    for (const item of left) item.reject(err);
  }

  private pump(): void {
    this.timer = undefined;
    while (this.queue.length) {
      if (!this.commitBatch()) {
        this.pause = Math.min(MAX_PAUSE_MS, this.pause ? this.pause * 2 : 2);
        this.schedule(this.pause);
        return;
      }
    }
  }

  /** One transaction; without `syncWal`, at FULL when a write in it asked to be durable. */
  private commitBatch(): boolean {
    const durable = !this.options.syncWal && this.queue.slice(0, MAX_BATCH).some((p) => p.durable);
    if (!durable) return this.commitOnce();
    this.setSynchronous('FULL');
    try {
      return this.commitOnce();
    } finally {
      this.setSynchronous('NORMAL');
    }
  }

  private setSynchronous(level: 'FULL' | 'NORMAL'): void {
    try {
      this.db.exec(`PRAGMA synchronous = ${level}`);
    } catch {
      // only refused inside a transaction someone left open: commitOnce ends it, the next batch sets it
    }
  }

  /** One transaction. False when the lock was busy (nothing ran; try again later). */
  private commitOnce(): boolean {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      if (isBusy(err)) {
        this.expire();
        return false;
      }
      // A transaction someone left open would fail every write from now on: end it.
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // nothing to roll back after all
        }
      }
      this.failAll(this.queue.splice(0), err);
      return true;
    }
    this.pause = 0;
    const batch = this.queue.splice(0, MAX_BATCH);
    const results = new Map<Pending, { ok: true; value: unknown } | { ok: false; err: unknown }>();
    let fatal: unknown;
    // A write alone in its transaction needs no savepoint: if it fails, the whole transaction is
    // rolled back (two statements fewer for the usual batch of one).
    if (batch.length === 1) return this.commitOne(batch[0]!);
    for (const item of batch) {
      try {
        this.db.exec('SAVEPOINT w');
        const value = item.write();
        this.db.exec('RELEASE w');
        results.set(item, { ok: true, value });
      } catch (err) {
        if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back (a full disk, an I/O error).
          fatal = err;
          break;
        }
        try {
          this.db.exec('ROLLBACK TO w');
          this.db.exec('RELEASE w');
        } catch (undo) {
          fatal = undo;
          break;
        }
        if (unavailable(err)) {
          fatal = err;
          break;
        }
        results.set(item, { ok: false, err });
      }
    }
    if (fatal === undefined) {
      try {
        this.db.exec('COMMIT');
      } catch (err) {
        fatal = err;
      }
    }
    if (fatal !== undefined) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // nothing left to roll back
        }
      }
      this.failAll(batch, fatal);
      return true;
    }
    this.commits += 1;
    if (batch.some((p) => p.durable)) this.durableCommits += 1;
    this.options.onOutcome?.({ ok: true });
    for (const item of batch) {
      const r = results.get(item)!;
      if (r.ok) this.settle(item, r.value);
      else item.reject(r.err);
    }
    return true;
  }

  /** Answers a committed write: a durable one once the commit is on disk. */
  private settle(item: Pending, value: unknown): void {
    if (!item.durable || !this.options.syncWal) {
      item.resolve(value);
      return;
    }
    this.options.syncWal().then(
      () => item.resolve(value),
      (err: unknown) => {
        // Committed, but not known to be on disk: the caller must not treat it as durable.
        const error = new StoreUnavailableError('io', 30);
        this.options.onOutcome?.({ ok: false, error, cause: err });
        item.reject(error);
      },
    );
  }

  /** The transaction (begun) with one write: commit it, or roll it all back when it fails. */
  private commitOne(item: Pending): true {
    let value: unknown;
    try {
      value = item.write();
    } catch (err) {
      const whole = !this.db.inTransaction || unavailable(err);
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // nothing left to roll back
        }
      }
      if (whole) this.failAll([item], err);
      else {
        // The write's own failure (a duplicate key, a version conflict): the store is fine.
        this.options.onOutcome?.({ ok: true });
        item.reject(err);
      }
      return true;
    }
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // nothing left to roll back
        }
      }
      this.failAll([item], err);
      return true;
    }
    this.commits += 1;
    if (item.durable) this.durableCommits += 1;
    this.options.onOutcome?.({ ok: true });
    this.settle(item, value);
    return true;
  }

  private failAll(items: Pending[], err: unknown): void {
    const mapped = unavailable(err);
    if (mapped && mapped.reason !== 'busy') this.options.onOutcome?.({ ok: false, error: mapped, cause: err });
    for (const item of items) item.reject(mapped ?? err);
  }

  /** Writes past their deadline give up: 503 with Retry-After. */
  private expire(): void {
    const now = Date.now();
    const late = this.queue.filter((p) => p.deadline <= now);
    if (!late.length) return;
    this.queue = this.queue.filter((p) => p.deadline > now);
    for (const item of late) item.reject(new StoreUnavailableError('busy', 1));
  }
}
