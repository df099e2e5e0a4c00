/**
 * The ESIA profile's records (src/esia) in MongoDB: `esia_oids` (account → oid, both unique),
 * a counter document in `esia_counters`, and `esia_used_states` (TTL). Indexes built on first use.
 */
import type { mongo } from 'mongoose';
import { ESIA_OID_BASE, type EsiaRepository } from '../../src/store.ts';
import { COLLECTIONS, isDuplicateKey, isKey, type EsiaCounterDoc as CounterDoc, type EsiaOidDoc as OidDoc } from './collections.ts';

interface UsedStateDoc {
  _id: string;
  expiresAt: Date;
}

export class MongoEsia implements EsiaRepository {
  private readonly oids: mongo.Collection<OidDoc>;
  private readonly counters: mongo.Collection<CounterDoc>;
  private readonly used: mongo.Collection<UsedStateDoc>;
  private indexes?: Promise<unknown>;

  constructor(db: mongo.Db) {
    this.oids = db.collection<OidDoc>(COLLECTIONS.esiaOids);
    this.counters = db.collection<CounterDoc>(COLLECTIONS.esiaCounters);
    this.used = db.collection<UsedStateDoc>(COLLECTIONS.esiaUsedStates);
  }

  private ready(): Promise<unknown> {
    this.indexes ??= Promise.all([
      this.oids.createIndex({ oid: 1 }, { unique: true }),
      this.used.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
    ]).catch((err) => {
      this.indexes = undefined;
      throw err;
    });
    return this.indexes;
  }

  async oidOf(accountId: string): Promise<number> {
    if (!isKey(accountId)) throw new Error('bad account id');
    await this.ready();
    const found = await this.oids.findOne({ _id: accountId });
    if (found) return found.oid;
    // The counter only grows (an increment lost to a racing first call leaves a gap, never a duplicate).
    const next = await this.counters.findOneAndUpdate(
      { _id: 'oid' },
      { $inc: { value: 1 } },
      { upsert: true, returnDocument: 'after', writeConcern: { w: 'majority' } },
    );
    const oid = ESIA_OID_BASE + (next?.value ?? 1);
    try {
      await this.oids.insertOne({ _id: accountId, oid }, { writeConcern: { w: 'majority' } });
      return oid;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const winner = await this.oids.findOne({ _id: accountId });
      if (!winner) throw err;
      return winner.oid;
    }
  }

  async accountOfOid(oid: number): Promise<string | undefined> {
    if (!Number.isSafeInteger(oid)) return undefined;
    await this.ready();
    return (await this.oids.findOne({ oid }))?._id;
  }

  async useOnce(key: string, expiresAt: string): Promise<boolean> {
    if (!isKey(key)) return false;
    await this.ready();
    const now = new Date();
    // A key whose memory expired (the TTL monitor has not removed it yet) is fresh again.
    await this.used.deleteOne({ _id: key, expiresAt: { $lte: now } });
    try {
      await this.used.insertOne({ _id: key, expiresAt: new Date(expiresAt) }, { writeConcern: { w: 'majority' } });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}
