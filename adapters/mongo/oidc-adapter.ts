/** node-oidc-provider's Adapter over the `oidc` collection: one collection, `model` as namespace. */
import type { mongo } from 'mongoose';
import { ENDED_FOR_GOOD, TOMBSTONE_SECONDS, type OidcAdapter, type OidcPayload } from '../../src/store.ts';
import { isDuplicateKey, isKey, plain, type OidcDoc } from './collections.ts';
import { retried } from './durability.ts';

/** Rows past `expiresAt` are absent even before the TTL monitor (every ~60 s) removes them. */
const live = () => ({ $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date() } }] });

const projection = { _id: 0, payload: 1, consumed: 1, ended: 1 } as const;

export class MongoOidcAdapter implements OidcAdapter {
  /** Destroy leaves a tombstone (`ended`) that upsert never overwrites (see OidcAdapter.destroy). */
  private readonly final: boolean;

  constructor(
    private readonly oidc: mongo.Collection<OidcDoc>,
    private readonly model: string,
  ) {
    this.final = ENDED_FOR_GOOD.has(model);
  }

  private static read(doc: Pick<OidcDoc, 'payload' | 'consumed' | 'ended'> | null): OidcPayload | undefined {
    if (!doc || doc.ended) return undefined;
    const payload: OidcPayload = { ...doc.payload };
    if (typeof doc.consumed === 'number') payload.consumed = doc.consumed;
    return payload;
  }

  async upsert(id: string, payload: OidcPayload, expiresIn: number): Promise<void> {
    const stored = plain(payload);
    const doc: OidcDoc = { model: this.model, id, payload: stored };
    if (isKey(stored.grantId)) doc.grantId = stored.grantId;
    if (isKey(stored.accountId)) doc.accountId = stored.accountId;
    if (isKey(stored.userCode)) doc.userCode = stored.userCode;
    if (isKey(stored.uid)) doc.uid = stored.uid;
    if (expiresIn) doc.expiresAt = new Date(Date.now() + expiresIn * 1000);
    // A replacement (not $set): fields of the previous version, `consumed` included, go away. Never
    // over a tombstone: the filter misses it, and the insert the upsert then tries meets the unique index.
    const filter = this.final ? { model: this.model, id, ended: { $exists: false } } : { model: this.model, id };
    const write = () => this.oidc.replaceOne(filter, doc, { upsert: true });
    try {
      await write();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // The entry was ended meanwhile: it stays ended.
      if (this.final && (await this.oidc.countDocuments({ model: this.model, id, ended: true }, { limit: 1 }))) return;
      // two first upserts of one id raced; the second now finds the row and replaces it
      await write();
    }
  }

  async find(id: string): Promise<OidcPayload | undefined> {
    if (!isKey(id)) return undefined;
    return MongoOidcAdapter.read(await this.oidc.findOne({ model: this.model, id, ...live() }, { projection }));
  }

  async findByUid(uid: string): Promise<OidcPayload | undefined> {
    if (!isKey(uid)) return undefined;
    return MongoOidcAdapter.read(await this.oidc.findOne({ model: this.model, uid, ...live() }, { projection }));
  }

  async findByUserCode(userCode: string): Promise<OidcPayload | undefined> {
    if (!isKey(userCode)) return undefined;
    return MongoOidcAdapter.read(await this.oidc.findOne({ model: this.model, userCode, ...live() }, { projection }));
  }

  /** Conditional: one document update matching only an unconsumed live entry; the winner sees modifiedCount 1. */
  async consume(id: string): Promise<boolean> {
    if (!isKey(id)) return false;
    const result = await this.oidc.updateOne(
      { model: this.model, id, consumed: { $exists: false }, ...live() },
      { $set: { consumed: Math.floor(Date.now() / 1000) } },
    );
    return result.modifiedCount === 1;
  }

  async destroy(id: string): Promise<void> {
    if (!isKey(id)) return;
    if (this.final) {
      // One document update: the tombstone keeps the entry's own expiry and nothing of its content.
      await retried(() =>
        this.oidc.updateOne(
          { model: this.model, id },
          {
            $set: { payload: {}, ended: true },
            $unset: { grantId: '', accountId: '', uid: '', userCode: '', consumed: '' },
            $setOnInsert: { expiresAt: new Date(Date.now() + TOMBSTONE_SECONDS * 1000) },
          },
          { upsert: true },
        ),
      );
      return;
    }
    await retried(() => this.oidc.deleteOne({ model: this.model, id }));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    if (!isKey(grantId)) return;
    // a revocation: retried through a failover (deleteMany is not a retryable write by itself)
    await retried(() => this.oidc.deleteMany({ grantId }));
  }
}

/** Every model's rows of one account (`payload.accountId`); returns how many were removed. */
export async function revokeOidcByAccountId(oidc: mongo.Collection<OidcDoc>, accountId: string): Promise<number> {
  if (!isKey(accountId)) return 0;
  return (await oidc.deleteMany({ accountId })).deletedCount;
}

/** The live entries of one model that belong to an account. */
export async function listOidcByAccountId(
  oidc: mongo.Collection<OidcDoc>,
  model: string,
  accountId: string,
): Promise<Array<{ id: string; payload: OidcPayload }>> {
  if (!isKey(accountId) || !isKey(model)) return [];
  const docs = await oidc
    .find({ model, accountId, ...live() }, { projection: { _id: 0, id: 1, payload: 1 } })
    .limit(500)
    .toArray();
  return docs.map((d) => ({ id: d.id, payload: { ...d.payload } }));
}
