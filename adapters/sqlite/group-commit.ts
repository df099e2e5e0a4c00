/**
 * Group commit: writes requested in the same turn of the event loop run in one SQLite
 * transaction, so a burst of token writes pays for one WAL commit instead of one each. Each
 * caller's promise settles after the commit that holds its write (so a token is only handed out
 * once it is durable); a failing statement fails only its own caller.
 */
type Db = { exec(sql: string): unknown };

interface Pending {
  write: () => unknown;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Db) {}

  /** Queues a write; the promise settles with what `write` returned once its commit is durable. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (result: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs everything queued now (also called before the database closes). */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (!batch.length) return;
    const failed = new Map<Pending, unknown>();
    const results = new Map<Pending, unknown>();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        try {
          results.set(item, item.write());
        } catch (err) {
          // SQLite rolls back the failing statement only; the transaction goes on.
          failed.set(item, err);
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // no transaction left to roll back
      }
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      if (failed.has(item)) item.reject(failed.get(item));
      else item.resolve(results.get(item));
    }
  }
}
