/**
 * Export and import of what outlives a session (src/store.ts TransferRecord) in the MongoDB store:
 * the same records, in the same order, as the SQLite store's, so a copy between them can be
 * checked by counts and a checksum (relying parties and ESIA oids with the oid sequence included). An import is one transaction per call.
 */
import type { Connection, mongo } from 'mongoose';
import {
  ESIA_OID_BASE,
  type Account,
  type AccountKey,
  type AuditEvent,
  type Letter,
  type StoreTransfer,
  type TransferRecord,
} from '../../src/store.ts';
import { plain, type Collections } from './collections.ts';

const PAGE = 500;
/** Settings that belong to this store instance, not to the data (the readiness probe). */
const LOCAL_SETTINGS = ['vkhod.probe'];

export class MongoTransfer implements StoreTransfer {
  constructor(
    private readonly connection: Connection,
    private readonly c: Collections,
  ) {}

  async *exportRecords(): AsyncIterable<TransferRecord> {
    for await (const page of this.pages(this.c.accounts, {}, '_id')) {
      const ids = page.map((a) => a._id);
      const [unique, shared] = await Promise.all([
        this.c.accountKeys.find({ accountId: { $in: ids } }).toArray(),
        this.c.sharedKeys.find({ accountId: { $in: ids } }).toArray(),
      ]);
      for (const doc of page) {
        const { _id, ...account } = doc;
        const keys: AccountKey[] = [
          ...sortKeys(unique.filter((k) => k.accountId === _id)).map((k) => ({ kind: k.kind, value: k.value })),
          ...sortKeys(shared.filter((k) => k.accountId === _id)).map((k) => ({ kind: k.kind, value: k.value, shared: true })),
        ];
        yield { kind: 'account', account: account as Account, keys };
      }
    }
    for await (const page of this.pages(this.c.audit, {}, 'id')) {
      for (const { _id: _oid, atDate: _at, ...event } of page) yield { kind: 'audit', event: event as AuditEvent };
    }
    for await (const page of this.pages(this.c.settings, { _id: { $nin: LOCAL_SETTINGS } }, '_id')) {
      for (const s of page) yield { kind: 'setting', name: s._id, value: s.value, version: s.version };
    }
    for await (const page of this.pages(this.c.letters, {}, '_id')) {
      for (const { _id: _id, ...letter } of page) yield { kind: 'letter', letter: letter as Letter };
    }
    for await (const page of this.pages(this.c.clients, {}, '_id')) {
      for (const { _id: _id, ...client } of page) yield { kind: 'client', client };
    }
    for await (const page of this.pages(this.c.esiaOids, {}, '_id')) {
      for (const o of page) yield { kind: 'esia-oid', accountId: o._id, oid: o.oid };
    }
    const last = await this.lastOid();
    if (last > ESIA_OID_BASE) yield { kind: 'esia-oid-sequence', last };
  }

  /** The highest oid handed out: the counter's, or a row's above it (rows imported from SQLite). */
  private async lastOid(): Promise<number> {
    const [counter, top] = await Promise.all([
      this.c.esiaCounters.findOne({ _id: 'oid' }),
      this.c.esiaOids.find().sort({ oid: -1 }).limit(1).next(),
    ]);
    return Math.max(ESIA_OID_BASE + (counter?.value ?? 0), top?.oid ?? 0);
  }

  /** Keyset pagination by `field` ascending (binary string order, as SQLite's). */
  private async *pages<D extends mongo.Document>(
    collection: mongo.Collection<D>,
    filter: mongo.Filter<D>,
    field: string,
  ): AsyncIterable<mongo.WithId<D>[]> {
    let after: string | undefined;
    for (;;) {
      const page = await collection
        .find({ ...filter, ...(after !== undefined ? { [field]: { $gt: after } } : {}) } as mongo.Filter<D>)
        .sort({ [field]: 1 })
        .limit(PAGE)
        .toArray();
      if (page.length) yield page;
      if (page.length < PAGE) return;
      after = (page[page.length - 1] as Record<string, unknown>)[field] as string;
    }
  }

  async importRecords(records: TransferRecord[]): Promise<void> {
    await this.connection.transaction(async (session) => {
      for (const r of records) await this.put(r, session);
    });
  }

  private async put(r: TransferRecord, session: mongo.ClientSession): Promise<void> {
    const c = this.c;
    switch (r.kind) {
      case 'account': {
        const id = r.account.id;
        await c.accounts.replaceOne({ _id: id }, plain(r.account), { upsert: true, session });
        await c.accountKeys.deleteMany({ accountId: id }, { session });
        await c.sharedKeys.deleteMany({ accountId: id }, { session });
        const unique = r.keys.filter((k) => !k.shared).map((k) => ({ kind: k.kind, value: k.value, accountId: id }));
        const shared = r.keys.filter((k) => k.shared).map((k) => ({ kind: k.kind, value: k.value, accountId: id }));
        if (unique.length) await c.accountKeys.insertMany(unique, { session });
        if (shared.length) await c.sharedKeys.insertMany(shared, { session });
        return;
      }
      case 'audit':
        await c.audit.replaceOne({ id: r.event.id }, { ...plain(r.event), atDate: new Date(r.event.at) }, { upsert: true, session });
        return;
      case 'setting':
        await c.settings.replaceOne({ _id: r.name }, { value: r.value, version: r.version }, { upsert: true, session });
        return;
      case 'letter':
        await c.letters.replaceOne({ _id: r.letter.id }, plain(r.letter), { upsert: true, session });
        return;
      case 'client':
        await c.clients.replaceOne({ _id: r.client.clientId }, plain(r.client), { upsert: true, session });
        return;
      case 'esia-oid':
        // an oid held by another account fails the import (the unique index): never moved to another account
        await c.esiaOids.replaceOne({ _id: r.accountId }, { oid: r.oid }, { upsert: true, session });
        // the counter never falls behind an oid in the store: the next allocation is above it
        await c.esiaCounters.updateOne({ _id: 'oid' }, { $max: { value: r.oid - ESIA_OID_BASE } }, { upsert: true, session });
        return;
      case 'esia-oid-sequence':
        await c.esiaCounters.updateOne({ _id: 'oid' }, { $max: { value: r.last - ESIA_OID_BASE } }, { upsert: true, session });
        return;
    }
  }

  async counts(): Promise<Record<TransferRecord['kind'], number>> {
    const [account, audit, setting, letter, client, esiaOid, last] = await Promise.all([
      this.c.accounts.countDocuments(),
      this.c.audit.countDocuments(),
      this.c.settings.countDocuments({ _id: { $nin: LOCAL_SETTINGS } }),
      this.c.letters.countDocuments(),
      this.c.clients.countDocuments(),
      this.c.esiaOids.countDocuments(),
      this.lastOid(),
    ]);
    return { account, audit, setting, letter, client, 'esia-oid': esiaOid, 'esia-oid-sequence': last > ESIA_OID_BASE ? 1 : 0 };
  }
}

/** Keys in (kind, value) order, as the SQLite store lists them. */
function sortKeys<K extends { kind: string; value: string }>(keys: K[]): K[] {
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...keys].sort((a, b) => order(a.kind, b.kind) || order(a.value, b.value));
}
