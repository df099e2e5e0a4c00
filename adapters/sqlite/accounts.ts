/** Accounts with their unique keys, and the append-only audit log written in the same transactions. */
import type Database from 'libsql';
import type { GroupCommit } from './group-commit.ts';
import {
  DuplicateKeyError,
  VersionConflictError,
  type Account,
  type AccountKey,
  type AccountRepository,
  type AuditEvent,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
} from '../../src/store.ts';
import { decodeCursor, encodeCursor, pageSize, typeFilter } from '../audit-query.ts';

type Db = InstanceType<typeof Database>;

/** Accounts and the audit are written with full durability (group-commit.ts). */
const DURABLE = { durable: true } as const;

/** The trail's order: `at` then `id`, both descending (as `ORDER BY at DESC, id DESC`; both are ASCII). */
const newestFirst = (a: { at: string; id: string }, b: { at: string; id: string }): number =>
  a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

const isUniqueViolation = (err: unknown): boolean => err instanceof Error && /UNIQUE constraint failed/i.test(err.message);

export class SqliteAuditLog implements AuditLog {
  private readonly insert;
  private readonly list;
  private readonly oldest;
  private readonly firstType;
  private readonly nextType;
  private readonly queries = new Map<string, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: Db,
    private readonly writes: GroupCommit,
  ) {
    this.insert = db.prepare('INSERT INTO audit (id, at, type, account_id, event) VALUES (?, ?, ?, ?, ?)');
    this.list = db.prepare('SELECT event FROM audit WHERE account_id = ? ORDER BY at DESC, seq DESC LIMIT ?');
    // The oldest by time (the audit_time index), at most `limit` of them.
    this.oldest = db.prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < ? ORDER BY at, id LIMIT ?)');
    this.firstType = db.prepare('SELECT type FROM audit WHERE type >= ? AND type < ? ORDER BY type LIMIT 1');
    this.nextType = db.prepare('SELECT type FROM audit WHERE type > ? AND type < ? ORDER BY type LIMIT 1');
  }

  async query(q: AuditQuery): Promise<AuditPage> {
    const limit = pageSize(q);
    const cursor = decodeCursor(q.cursor);
    const type = typeFilter(q.type);
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (q.accountId !== undefined) add('account_id = ?', q.accountId);
    if (q.since !== undefined) add('at >= ?', q.since);
    if (q.until !== undefined) add('at < ?', q.until);
    if (cursor) add('(at < ? OR (at = ? AND id < ?))', cursor.at, cursor.at, cursor.id);
    // A family (`signin.*`) read as one range of the type index comes out in type order: SQLite
    // then reads every event of the family and sorts them, on the event loop (seconds on a large
    // trail). Each type of the family is read instead through (type, at, id), newest first and at
    // most a page each, and the pages are merged: the work is bounded by the page, not the trail.
    const pages =
      type === undefined
        ? [this.newest(where, args, limit + 1)]
        : ('exact' in type ? [type.exact] : this.typesIn(type.from, type.to)).map((exact) =>
            this.newest(['type = ?', ...where], [exact, ...args], limit + 1),
          );
    const rows =
      pages.length === 1
        ? pages[0]!
        : pages
            .flat()
            .sort(newestFirst)
            .slice(0, limit + 1);
    const events = rows.slice(0, limit).map((r) => JSON.parse(r.event) as AuditEvent);
    const last = events[events.length - 1];
    return rows.length > limit && last ? { events, next: encodeCursor({ at: last.at, id: last.id }) } : { events };
  }

  /** At most `limit` events matching every clause, newest first (a statement per shape, kept). */
  private newest(where: string[], args: unknown[], limit: number): Array<{ at: string; id: string; event: string }> {
    const sql = `SELECT at, id, event FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return stmt.all(...args, limit) as Array<{ at: string; id: string; event: string }>;
  }

  /** The distinct types from ≤ type < to, one index seek each (the audit_type index). */
  private typesIn(from: string, to: string): string[] {
    const types: string[] = [];
    let next = this.firstType.get(from, to) as { type: string } | undefined;
    while (next) {
      types.push(next.type);
      next = this.nextType.get(next.type, to) as { type: string } | undefined;
    }
    return types;
  }

  async deleteBefore(before: string, limit: number): Promise<number> {
    return (await this.writes.run(() => this.deleteBeforeSync(before, limit))).changes;
  }

  /** The statement alone, inside a write of the caller's (the sweep's slices). */
  deleteBeforeSync(before: string, limit: number): { changes: number } {
    return this.oldest.run(before, limit);
  }

  appendSync(event: AuditEvent): void {
    this.insert.run(event.id, event.at, event.type, event.accountId ?? null, JSON.stringify(event));
  }

  async append(event: AuditEvent): Promise<void> {
    await this.writes.run(() => this.appendSync(event), DURABLE);
  }

  async listForAccount(accountId: string, limit = 100): Promise<AuditEvent[]> {
    return (this.list.all(accountId, limit) as { event: string }[]).map((r) => JSON.parse(r.event) as AuditEvent);
  }
}

export class SqliteAccounts implements AccountRepository {
  private readonly s;
  private readonly createTx;
  private readonly updateTx;

  constructor(
    db: Db,
    audit: SqliteAuditLog,
    private readonly writes: GroupCommit,
  ) {
    this.s = {
      insert: db.prepare('INSERT INTO accounts (id, version, status, doc) VALUES (?, ?, ?, ?)'),
      byId: db.prepare('SELECT doc FROM accounts WHERE id = ?'),
      byKey: db.prepare('SELECT a.doc FROM account_keys k JOIN accounts a ON a.id = k.account_id WHERE k.kind = ? AND k.value = ?'),
      holders: db.prepare(
        `SELECT a.doc FROM accounts a WHERE a.id IN (
           SELECT account_id FROM account_keys WHERE kind = ? AND value = ?
           UNION SELECT account_id FROM account_shared_keys WHERE kind = ? AND value = ?)
         ORDER BY a.id`,
      ),
      keys: db.prepare('SELECT kind, value FROM account_keys WHERE account_id = ? ORDER BY kind, value'),
      sharedKeys: db.prepare('SELECT kind, value FROM account_shared_keys WHERE account_id = ? ORDER BY kind, value'),
      insertKey: db.prepare('INSERT INTO account_keys (kind, value, account_id) VALUES (?, ?, ?)'),
      insertSharedKey: db.prepare('INSERT OR IGNORE INTO account_shared_keys (kind, value, account_id) VALUES (?, ?, ?)'),
      deleteKeys: db.prepare('DELETE FROM account_keys WHERE account_id = ?'),
      deleteSharedKeys: db.prepare('DELETE FROM account_shared_keys WHERE account_id = ?'),
      update: db.prepare('UPDATE accounts SET version = ?, status = ?, doc = ? WHERE id = ? AND version = ?'),
      erase: db.prepare('DELETE FROM accounts WHERE id = ?'),
      due: db.prepare(
        "SELECT id FROM accounts WHERE status = 'deactivated' AND json_extract(doc, '$.deletion.eraseAfter') <= ? ORDER BY id LIMIT ?",
      ),
    };
    const insertKeys = (id: string, keys: AccountKey[]) => {
      for (const key of keys) {
        if (key.shared) {
          this.s.insertSharedKey.run(key.kind, key.value, id);
          continue;
        }
        try {
          this.s.insertKey.run(key.kind, key.value, id);
        } catch (err) {
          if (isUniqueViolation(err)) throw new DuplicateKeyError(key);
          throw err;
        }
      }
    };
    // Plain functions: the writer runs each inside its own savepoint of a group transaction.
    this.createTx = (account: Account, keys: AccountKey[], events: AuditEvent[]) => {
      try {
        this.s.insert.run(account.id, account.version, account.status, JSON.stringify(account));
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError();
        throw err;
      }
      insertKeys(account.id, keys);
      for (const e of events) audit.appendSync(e);
    };
    this.updateTx = (account: Account, expectedVersion: number, keys: AccountKey[] | undefined, events: AuditEvent[]) => {
      const res = this.s.update.run(account.version, account.status, JSON.stringify(account), account.id, expectedVersion);
      if (res.changes !== 1) throw new VersionConflictError(account.id);
      if (keys) {
        this.s.deleteKeys.run(account.id);
        this.s.deleteSharedKeys.run(account.id);
        insertKeys(account.id, keys);
      }
      for (const e of events) audit.appendSync(e);
    };
  }

  async create(account: Account, keys: AccountKey[], events: AuditEvent[] = []): Promise<void> {
    await this.writes.run(() => this.createTx(account, keys, events), DURABLE);
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = this.s.byId.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Account) : undefined;
  }

  async findByKey(key: AccountKey): Promise<Account | undefined> {
    const row = this.s.byKey.get(key.kind, key.value) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Account) : undefined;
  }

  async holdersOf(key: Pick<AccountKey, 'kind' | 'value'>): Promise<Account[]> {
    return (this.s.holders.all(key.kind, key.value, key.kind, key.value) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Account);
  }

  async keysOf(id: string): Promise<AccountKey[]> {
    const shared = (this.s.sharedKeys.all(id) as AccountKey[]).map((k) => ({ ...k, shared: true }));
    return [...(this.s.keys.all(id) as AccountKey[]), ...shared];
  }

  async update(account: Account, expectedVersion: number, keys?: AccountKey[], events: AuditEvent[] = []): Promise<Account> {
    const next: Account = { ...account, version: expectedVersion + 1 };
    await this.writes.run(() => this.updateTx(next, expectedVersion, keys, events), DURABLE);
    return next;
  }

  async softDelete(id: string, at: string): Promise<void> {
    const current = await this.findById(id);
    if (!current || current.status === 'deleted') return;
    await this.update({ ...current, status: 'deleted', deletedAt: at, updatedAt: at }, current.version, []);
  }

  async erase(id: string): Promise<void> {
    await this.writes.run(() => {
      this.s.deleteKeys.run(id);
      this.s.deleteSharedKeys.run(id);
      this.s.erase.run(id);
    }, DURABLE);
  }

  async dueForErasure(at: string, limit: number): Promise<string[]> {
    return (this.s.due.all(at, limit) as { id: string }[]).map((r) => r.id);
  }
}
