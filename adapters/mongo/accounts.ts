/**
 * Accounts, their keys and the audit log. Multi-document writes run in one transaction
 * (MongoDB needs a replica set for that — the documented production setup).
 */
import type { Connection, mongo } from 'mongoose';
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
import { isDuplicateKey, isKey, plain, type AccountDoc, type AccountKeyDoc, type AuditDoc, type Collections } from './collections.ts';

/** A fresh copy with `atDate` for the retention index. */
const auditDoc = (event: AuditEvent): AuditDoc => ({ ...plain(event), atDate: new Date(event.at) });

export class MongoAuditLog implements AuditLog {
  constructor(private readonly audit: mongo.Collection<AuditDoc>) {}

  /** Inside a transaction when `session` is given. */
  async appendAll(events: AuditEvent[], session?: mongo.ClientSession): Promise<void> {
    if (events.length === 0) return;
    // plain(): fresh copies, so the driver's generated `_id` never lands on the caller's objects
    await this.audit.insertMany(events.map(auditDoc), { session, ordered: true });
  }

  async append(event: AuditEvent): Promise<void> {
    await this.audit.insertOne(auditDoc(event));
  }

  async query(q: AuditQuery): Promise<AuditPage> {
    const limit = pageSize(q);
    const cursor = decodeCursor(q.cursor);
    const type = typeFilter(q.type);
    const filter: mongo.Filter<AuditDoc> = {};
    if (q.accountId !== undefined) filter.accountId = isKey(q.accountId) ? q.accountId : '\u0000';
    if (type) filter.type = 'exact' in type ? type.exact : { $gte: type.from, $lt: type.to };
    if (q.since !== undefined || q.until !== undefined)
      filter.at = { ...(q.since !== undefined ? { $gte: q.since } : {}), ...(q.until !== undefined ? { $lt: q.until } : {}) };
    if (cursor) filter.$or = [{ at: { $lt: cursor.at } }, { at: cursor.at, id: { $lt: cursor.id } }];
    const docs = await this.audit
      .find(filter, { projection: { _id: 0, atDate: 0 } })
      .sort({ at: -1, id: -1 })
      .limit(limit + 1)
      .toArray();
    const events = docs.slice(0, limit) as AuditEvent[];
    const last = events[events.length - 1];
    return docs.length > limit && last ? { events, next: encodeCursor({ at: last.at, id: last.id }) } : { events };
  }

  async deleteBefore(before: string, limit: number): Promise<number> {
    const oldest = await this.audit
      .find({ at: { $lt: before } }, { projection: { _id: 1 } })
      .sort({ at: 1, id: 1 })
      .limit(limit)
      .toArray();
    if (!oldest.length) return 0;
    return (await this.audit.deleteMany({ _id: { $in: oldest.map((d) => d._id) } })).deletedCount;
  }

  async listForAccount(accountId: string, limit = 100): Promise<AuditEvent[]> {
    if (!isKey(accountId) || limit <= 0) return [];
    // `_id` (an ObjectId, increasing within a process) breaks ties between equal `at`, as SQLite's seq does
    return this.audit
      .find({ accountId }, { projection: { _id: 0, atDate: 0 } })
      .sort({ at: -1, _id: -1 })
      .limit(limit)
      .toArray();
  }
}

export class MongoAccounts implements AccountRepository {
  private readonly accounts: mongo.Collection<AccountDoc>;
  private readonly keys: mongo.Collection<AccountKeyDoc>;
  private readonly sharedKeys: mongo.Collection<AccountKeyDoc>;

  constructor(
    private readonly connection: Connection,
    c: Collections,
    private readonly audit: MongoAuditLog,
  ) {
    this.accounts = c.accounts;
    this.keys = c.accountKeys;
    this.sharedKeys = c.sharedKeys;
  }

  /** Runs `fn` in a transaction; the driver retries it on transient errors (write conflicts). */
  private transaction<T>(fn: (session: mongo.ClientSession) => Promise<T>): Promise<T> {
    return this.connection.transaction(fn);
  }

  private async insertKeys(accountId: string, keys: AccountKey[], session: mongo.ClientSession): Promise<void> {
    // one by one, so a duplicate names the key that clashed
    for (const key of keys) {
      if (key.shared) {
        try {
          await this.sharedKeys.insertOne({ kind: key.kind, value: key.value, accountId }, { session });
        } catch (err) {
          // the same shared key twice for one account: once is enough
          if (!isDuplicateKey(err)) throw err;
        }
        continue;
      }
      try {
        await this.keys.insertOne({ kind: key.kind, value: key.value, accountId }, { session });
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateKeyError({ kind: key.kind, value: key.value });
        throw err;
      }
    }
  }

  async create(account: Account, keys: AccountKey[], events: AuditEvent[] = []): Promise<void> {
    await this.transaction(async (session) => {
      try {
        await this.accounts.insertOne({ ...plain(account), _id: account.id }, { session });
      } catch (err) {
        if (isDuplicateKey(err)) throw new DuplicateKeyError();
        throw err;
      }
      await this.insertKeys(account.id, keys, session);
      await this.audit.appendAll(events, session);
    });
  }

  async findById(id: string): Promise<Account | undefined> {
    if (!isKey(id)) return undefined;
    return (await this.accounts.findOne({ _id: id }, { projection: { _id: 0 } })) ?? undefined;
  }

  async findByKey(key: AccountKey): Promise<Account | undefined> {
    if (!isKey(key.kind) || !isKey(key.value)) return undefined;
    const row = await this.keys.findOne({ kind: key.kind, value: key.value }, { projection: { _id: 0, accountId: 1 } });
    return row ? this.findById(row.accountId) : undefined;
  }

  async holdersOf(key: Pick<AccountKey, 'kind' | 'value'>): Promise<Account[]> {
    if (!isKey(key.kind) || !isKey(key.value)) return [];
    const filter = { kind: key.kind, value: key.value };
    const projection = { projection: { _id: 0, accountId: 1 } };
    const ids = [
      ...new Set(
        [...(await this.keys.find(filter, projection).toArray()), ...(await this.sharedKeys.find(filter, projection).toArray())].map(
          (r) => r.accountId,
        ),
      ),
    ].sort();
    const found = await Promise.all(ids.map((id) => this.findById(id)));
    return found.filter((a): a is Account => Boolean(a));
  }

  async keysOf(id: string): Promise<AccountKey[]> {
    if (!isKey(id)) return [];
    const projection = { projection: { _id: 0, kind: 1, value: 1 } };
    const unique = await this.keys.find({ accountId: id }, projection).sort({ kind: 1, value: 1 }).toArray();
    const shared = await this.sharedKeys.find({ accountId: id }, projection).sort({ kind: 1, value: 1 }).toArray();
    return [...unique, ...shared.map((k) => ({ ...k, shared: true }))];
  }

  async update(account: Account, expectedVersion: number, keys?: AccountKey[], events: AuditEvent[] = []): Promise<Account> {
    const next: Account = { ...account, version: expectedVersion + 1 };
    await this.transaction(async (session) => {
      const res = await this.accounts.replaceOne({ _id: account.id, version: expectedVersion }, plain(next), { session });
      if (res.matchedCount !== 1) throw new VersionConflictError(account.id);
      if (keys) {
        await this.keys.deleteMany({ accountId: account.id }, { session });
        await this.sharedKeys.deleteMany({ accountId: account.id }, { session });
        await this.insertKeys(account.id, keys, session);
      }
      await this.audit.appendAll(events, session);
    });
    return next;
  }

  async softDelete(id: string, at: string): Promise<void> {
    const current = await this.findById(id);
    if (!current || current.status === 'deleted') return;
    await this.update({ ...current, status: 'deleted', deletedAt: at, updatedAt: at }, current.version, []);
  }

  async erase(id: string): Promise<void> {
    if (!isKey(id)) return;
    await this.transaction(async (session) => {
      await this.keys.deleteMany({ accountId: id }, { session });
      await this.sharedKeys.deleteMany({ accountId: id }, { session });
      await this.accounts.deleteOne({ _id: id }, { session });
    });
  }

  async dueForErasure(at: string, limit: number): Promise<string[]> {
    if (typeof at !== 'string' || limit <= 0) return [];
    const rows = await this.accounts
      .find({ status: 'deactivated', 'deletion.eraseAfter': { $lte: at } }, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return rows.map((r) => String(r._id));
  }
}
