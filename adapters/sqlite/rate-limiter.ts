/**
 * rate-limiter-flexible's SQLite limiter with its statements put under the store's transaction
 * discipline. The stock one prepares a fresh statement per call and runs it outside any lock
 * discipline: a SQLITE_BUSY left that statement half-stepped, and from then on every COMMIT on the
 * connection failed ("SQL statements in progress") until restart. Here writes go through the
 * store's writer (lock first, then the statement; busy → async retry → 503) and statements are
 * prepared once. The counting SQL is the library's own.
 */
import type Database from 'libsql';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;
type Row = { points: number; expire: number | null };
type Stmt = { all(...params: unknown[]): unknown[]; run(...params: unknown[]): { changes: number } };

export class SafeRateLimiterSQLite extends RateLimiterSQLite {
  private readonly safe: {
    writes: GroupCommit;
    add: Stmt;
    replace: Stmt;
    get: Stmt;
    remove: Stmt;
  };

  constructor(db: Db, writes: GroupCommit, options: ConstructorParameters<typeof RateLimiterSQLite>[0]) {
    super({
      ...options,
      storeClient: db,
      storeType: 'better-sqlite3',
      tableName: 'rate_limits',
      tableCreated: true,
      clearExpiredByTimeout: false,
    });
    this.safe = {
      writes,
      add: db.prepare(`INSERT INTO rate_limits (key, points, expire) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET
           points = CASE WHEN expire IS NULL OR expire > ? THEN points + excluded.points ELSE excluded.points END,
           expire = CASE WHEN expire IS NULL OR expire > ? THEN expire ELSE excluded.expire END
         RETURNING points, expire`),
      replace: db.prepare('INSERT OR REPLACE INTO rate_limits (key, points, expire) VALUES (?, ?, ?) RETURNING points, expire'),
      get: db.prepare('SELECT points, expire FROM rate_limits WHERE key = ? AND (expire > ? OR expire IS NULL)'),
      remove: db.prepare('DELETE FROM rate_limits WHERE key = ?'),
    };
  }

  async _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<Row> {
    return this.safe.writes.run(() => {
      const now = Date.now();
      const expire = msDuration > 0 ? now + msDuration : null;
      // `.all()` steps a RETURNING statement to its end: nothing is left in progress.
      const rows = (forceExpire ? this.safe.replace.all(key, points, expire) : this.safe.add.all(key, points, expire, now, now)) as Row[];
      return { points: rows[0]!.points, expire: rows[0]!.expire };
    });
  }

  async _get(key: string): Promise<Row | null> {
    const rows = this.safe.get.all(key, Date.now()) as Row[];
    return rows[0] ? { points: rows[0].points, expire: rows[0].expire } : null;
  }

  async _delete(key: string): Promise<boolean> {
    return (await this.safe.writes.run(() => this.safe.remove.run(key))).changes > 0;
  }
}
