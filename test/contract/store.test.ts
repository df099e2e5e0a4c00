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
