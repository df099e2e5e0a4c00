/** Runs the Store contract against SQLite always, and against MongoDB when MONGODB_URI is set. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { storeContract } from './store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'vkhod-store-'));
let opened = 0;

storeContract('sqlite', async () => openSqliteStore({ path: join(dir, `store-${++opened}.sqlite`), sweepIntervalMs: 0 }));

after(() => rmSync(dir, { recursive: true, force: true }));

const mongoUri = process.env.MONGODB_URI;
if (mongoUri) {
  const { openMongoStore } = await import('../../adapters/mongo/index.ts');
  const dbName = `vkhod_contract_${Date.now()}_${process.pid}`;
  storeContract('mongo', async () => openMongoStore({ uri: mongoUri, dbName }));
  const { default: mongoose } = await import('mongoose');
  const { StoreVersionError } = await import('../../src/store.ts');
  const { SCHEMA_VERSION } = await import('../../adapters/mongo/migrations.ts');
  describe('MongoDB store: schema version (issue 14)', () => {
    const scratch = `${dbName}_versions`;
    after(async () => {
      const conn = await mongoose.createConnection(mongoUri, { dbName: scratch }).asPromise();
      await conn.dropDatabase().finally(() => conn.close());
    });

    it('migrates a database written before versions (no meta document) and keeps its audit', async () => {
      const conn = await mongoose.createConnection(mongoUri, { dbName: scratch }).asPromise();
      try {
        await conn
          .db!.collection('audit')
          .insertOne({ id: 'evt-v1', at: '2025-01-01T00:00:00.000Z', type: 'signin.password', accountId: 'acc-v1' });
      } finally {
        await conn.close();
      }
      const store = await openMongoStore({ uri: mongoUri, dbName: scratch });
      try {
        if (store.schemaVersion !== SCHEMA_VERSION) throw new Error(`at version ${store.schemaVersion}`);
        const page = await store.audit.query({ type: 'signin.*', limit: 5 });
        if (page.events.length !== 1 || page.events[0]!.id !== 'evt-v1') throw new Error(JSON.stringify(page));
      } finally {
        await store.close();
      }
    });

    it('refuses a database written by a newer vkhod', async () => {
      const conn = await mongoose.createConnection(mongoUri, { dbName: scratch }).asPromise();
      try {
        await conn
          .db!.collection<{ _id: string; version: number }>('meta')
          .updateOne({ _id: 'schema' }, { $set: { version: 99 } }, { upsert: true });
      } finally {
        await conn.close();
      }
      const refused = await openMongoStore({ uri: mongoUri, dbName: scratch }).then(
        async (store) => {
          await store.close();
          return undefined;
        },
        (err: unknown) => err,
      );
      if (!(refused instanceof StoreVersionError)) throw new Error(`not refused: ${String(refused)}`);
    });
  });

  describe('MongoDB store: durability pinned on the live connection (issue 14)', () => {
    it('majority write concern (journaled) and majority read concern', async () => {
      const store = await openMongoStore({ uri: mongoUri, dbName });
      try {
        const options = store.connection.getClient().options as {
          writeConcern?: { w?: unknown; journal?: unknown };
          readConcern?: { level?: unknown };
        };
        if (!options.writeConcern || !options.readConcern) throw new Error('no concerns on the connection');
        if (options.writeConcern.w !== 'majority' || options.readConcern.level !== 'majority')
          throw new Error(JSON.stringify(options.writeConcern));
      } finally {
        await store.close();
      }
    });
  });
  after(async function () {
    this.timeout(30_000);
    const { default: mongoose } = await import('mongoose');
    const conn = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
    try {
      await conn.dropDatabase();
    } finally {
      await conn.close();
    }
  });
} else {
  console.log('Mongo store contract suite SKIPPED: set MONGODB_URI (a replica set) to run it');
  describe('Store contract: mongo', () => {
    it('runs against MongoDB (needs MONGODB_URI)', function () {
      this.skip();
    });
  });
}
