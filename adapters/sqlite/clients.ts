/** Relying parties (clients): one row per client, the document as JSON, a version for compare-and-set. */
import type Database from 'libsql';
import type { ClientRepository, StoredClient } from '../../src/store.ts';
import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;
/** A registration, a secret rotation or a tombstone survives power loss, like accounts and settings. */
const DURABLE = { durable: true } as const;

/** Idempotent: run at every open (kept beside the repository that owns the table). */
export const CLIENTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL
);
`;

export class SqliteClients implements ClientRepository {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
    db.exec(CLIENTS_SCHEMA);
    this.s = {
      find: db.prepare('SELECT doc, version FROM clients WHERE id = ?'),
      list: db.prepare('SELECT doc, version FROM clients ORDER BY id'),
      insert: db.prepare('INSERT INTO clients (id, version, status, doc) VALUES (?, 1, ?, ?) ON CONFLICT (id) DO NOTHING'),
      update: db.prepare('UPDATE clients SET version = version + 1, status = ?, doc = ? WHERE id = ? AND version = ?'),
    };
  }

  private static read(row: { doc: string; version: number }): StoredClient {
    return { ...(JSON.parse(row.doc) as StoredClient), version: row.version };
  }

  async find(clientId: string): Promise<StoredClient | undefined> {
    const row = this.s.find.get(clientId) as { doc: string; version: number } | undefined;
    return row ? SqliteClients.read(row) : undefined;
  }

  async list(): Promise<StoredClient[]> {
    return (this.s.list.all() as Array<{ doc: string; version: number }>).map((row) => SqliteClients.read(row));
  }

  async create(client: StoredClient): Promise<boolean> {
    const doc = JSON.stringify({ ...client, version: 1 });
    return (await this.writes.run(() => this.s.insert.run(client.clientId, client.status, doc), DURABLE)).changes === 1;
  }

  async update(client: StoredClient, expectedVersion: number): Promise<boolean> {
    const doc = JSON.stringify({ ...client, version: expectedVersion + 1 });
    return (await this.writes.run(() => this.s.update.run(client.status, doc, client.clientId, expectedVersion), DURABLE)).changes === 1;
  }
}
