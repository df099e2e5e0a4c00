/**
 * The MongoDB store's schema version (issue 14): one document in the `meta` collection,
 * `{ _id: 'schema', version }`. A database from before versions were stored is version 1. At open
 * a newer database is refused (StoreVersionError), then the indexes are made (idempotent) and each
 * migration past the stored version runs; the version only ever moves forward ($max), so processes
 * opening one database at once agree.
 */
import type { mongo } from 'mongoose';
import { StoreVersionError } from '../../src/store.ts';
import { clientsAndEsiaSteps, COLLECTIONS } from './collections.ts';

interface Migration {
  version: number;
  why: string;
  up(db: mongo.Db): Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    version: 2,
    why: 'the audit trail is read by type and by time, newest first, and paged by (at, id)',
    async up(db) {
      const audit = db.collection(COLLECTIONS.audit);
      await audit.createIndex({ at: -1, id: -1 }, { name: 'audit_time' });
      await audit.createIndex({ type: 1, at: -1, id: -1 }, { name: 'audit_type' });
      await audit.createIndex({ accountId: 1, at: -1, id: -1 }, { name: 'audit_account_time' });
    },
  },
  {
    version: 3,
    why: 'relying parties and ESIA oids live in the store: their collections exist before a transaction (store import) writes them, oids unique',
    async up(db) {
      for (const step of clientsAndEsiaSteps(db)) await step();
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 1);
export const META = 'meta';

interface MetaDoc {
  _id: string;
  version: number;
}

export async function schemaVersionOf(db: mongo.Db): Promise<number> {
  const doc = await db.collection<MetaDoc>(META).findOne({ _id: 'schema' });
  return doc?.version ?? 1;
}

/** Refuses a newer database; otherwise runs what `prepare` does (indexes) and the migrations. */
export async function migrate(db: mongo.Db, prepare: () => Promise<void>): Promise<{ from: number; to: number }> {
  const from = await schemaVersionOf(db);
  if (from > SCHEMA_VERSION) throw new StoreVersionError(from, SCHEMA_VERSION);
  await prepare();
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    await migration.up(db);
    await db.collection<MetaDoc>(META).updateOne({ _id: 'schema' }, { $max: { version: migration.version } }, { upsert: true });
  }
  const to = await schemaVersionOf(db);
  if (to > SCHEMA_VERSION) throw new StoreVersionError(to, SCHEMA_VERSION);
  return { from, to };
}
