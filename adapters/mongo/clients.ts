/** Relying parties (clients): one document per client, `_id` = client id, a version for compare-and-set. */
import type { mongo } from 'mongoose';
import type { ClientRepository, StoredClient } from '../../src/store.ts';
import { COLLECTIONS, isDuplicateKey, isKey, plain, type ClientDoc } from './collections.ts';

export const CLIENTS_COLLECTION = COLLECTIONS.clients;
export type { ClientDoc };

export class MongoClients implements ClientRepository {
  private readonly clients: mongo.Collection<ClientDoc>;

  constructor(db: mongo.Db) {
    this.clients = db.collection<ClientDoc>(CLIENTS_COLLECTION);
  }

  async find(clientId: string): Promise<StoredClient | undefined> {
    if (!isKey(clientId)) return undefined;
    return (await this.clients.findOne({ _id: clientId }, { projection: { _id: 0 } })) ?? undefined;
  }

  async list(): Promise<StoredClient[]> {
    return this.clients
      .find({}, { projection: { _id: 0 } })
      .sort({ _id: 1 })
      .toArray();
  }

  async create(client: StoredClient): Promise<boolean> {
    try {
      await this.clients.insertOne({ ...plain(client), version: 1, _id: client.clientId });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** One conditional replace: the version in the filter makes exactly one of two racing writers win. */
  async update(client: StoredClient, expectedVersion: number): Promise<boolean> {
    if (!isKey(client.clientId)) return false;
    const res = await this.clients.replaceOne(
      { _id: client.clientId, version: expectedVersion },
      { ...plain(client), version: expectedVersion + 1 },
    );
    return res.matchedCount === 1;
  }
}
