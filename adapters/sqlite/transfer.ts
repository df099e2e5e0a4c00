/**
 * Export and import of what outlives a session (src/store.ts TransferRecord): accounts with their
 * keys, the audit, settings, letters, relying parties and ESIA oids (with the oid sequence). Reads page through each table by id (a bounded memory
 * footprint, the event loop yields between pages); an import is one durable transaction per call.
 */
import type Database from 'libsql';
import {
  ESIA_OID_BASE,
  type Account,
  type AccountKey,
  type AuditEvent,
  type Letter,
  type StoredClient,
  type StoreTransfer,
  type TransferRecord,
} from '../../src/store.ts';
import { ESIA_LAST_OID_SQL } from './esia.ts';
import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;

const PAGE = 500;
/** Settings that belong to this store instance, not to the data (the readiness probe). */
const LOCAL_SETTINGS = ['vkhod.probe'];

export class SqliteTransfer implements StoreTransfer {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
    const local = LOCAL_SETTINGS.map((n) => `'${n}'`).join(', ');
    this.s = {
      accounts: db.prepare('SELECT id, doc FROM accounts WHERE id > ? ORDER BY id LIMIT ?'),
      keys: db.prepare('SELECT kind, value FROM account_keys WHERE account_id = ? ORDER BY kind, value'),
      sharedKeys: db.prepare('SELECT kind, value FROM account_shared_keys WHERE account_id = ? ORDER BY kind, value'),
      audit: db.prepare('SELECT id, event FROM audit WHERE id > ? ORDER BY id LIMIT ?'),
      settings: db.prepare(`SELECT name, value, version FROM settings WHERE name > ? AND name NOT IN (${local}) ORDER BY name LIMIT ?`),
      letters: db.prepare('SELECT id, doc FROM letters WHERE id > ? ORDER BY id LIMIT ?'),
      counts: db.prepare(
        `SELECT (SELECT count(*) FROM accounts) AS account, (SELECT count(*) FROM audit) AS audit,
                (SELECT count(*) FROM settings WHERE name NOT IN (${local})) AS setting, (SELECT count(*) FROM letters) AS letter,
                (SELECT count(*) FROM clients) AS client, (SELECT count(*) FROM esia_oids) AS esiaOid`,
      ),
      // clients and ESIA oids (tables made by SqliteClients / SqliteEsia, built before this)
      clients: db.prepare('SELECT id, doc, version FROM clients WHERE id > ? ORDER BY id LIMIT ?'),
      oids: db.prepare('SELECT account_id, oid FROM esia_oids WHERE account_id > ? ORDER BY account_id LIMIT ?'),
      lastOid: db.prepare(ESIA_LAST_OID_SQL),
      putClient: db.prepare('INSERT OR REPLACE INTO clients (id, version, status, doc) VALUES (?, ?, ?, ?)'),
      // an oid held by another account is a conflict that fails the import (never moved to another account)
      putOid: db.prepare('INSERT INTO esia_oids (account_id, oid) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET oid = excluded.oid'),
      putLastOid: db.prepare(
        `INSERT INTO esia_oid_sequence (name, last) VALUES ('oid', ?) ON CONFLICT (name) DO UPDATE SET last = MAX(last, excluded.last)`,
      ),
      putAccount: db.prepare('INSERT OR REPLACE INTO accounts (id, version, status, doc) VALUES (?, ?, ?, ?)'),
      dropKeys: db.prepare('DELETE FROM account_keys WHERE account_id = ?'),
      dropSharedKeys: db.prepare('DELETE FROM account_shared_keys WHERE account_id = ?'),
      putKey: db.prepare('INSERT INTO account_keys (kind, value, account_id) VALUES (?, ?, ?)'),
      putSharedKey: db.prepare('INSERT OR IGNORE INTO account_shared_keys (kind, value, account_id) VALUES (?, ?, ?)'),
      putAudit: db.prepare('INSERT OR REPLACE INTO audit (id, at, type, account_id, event) VALUES (?, ?, ?, ?, ?)'),
      putSetting: db.prepare('INSERT OR REPLACE INTO settings (name, value, version) VALUES (?, ?, ?)'),
      putLetter: db.prepare('INSERT OR REPLACE INTO letters (id, status, created_at, doc) VALUES (?, ?, ?, ?)'),
    };
  }

  async *exportRecords(): AsyncIterable<TransferRecord> {
    yield* this.pages(this.s.accounts, (row: { id: string; doc: string }) => {
      const keys: AccountKey[] = [
        ...(this.s.keys.all(row.id) as AccountKey[]).map((k) => ({ kind: k.kind, value: k.value })),
        ...(this.s.sharedKeys.all(row.id) as AccountKey[]).map((k) => ({ kind: k.kind, value: k.value, shared: true })),
      ];
      return { kind: 'account', account: JSON.parse(row.doc) as Account, keys };
    });
    yield* this.pages(this.s.audit, (row: { id: string; event: string }) => ({
      kind: 'audit',
      event: JSON.parse(row.event) as AuditEvent,
    }));
    yield* this.pages(
      this.s.settings,
      (row: { name: string; value: string; version: number }) => ({
        kind: 'setting',
        name: row.name,
        value: row.value,
        version: row.version,
      }),
      (row) => row.name,
    );
    yield* this.pages(this.s.letters, (row: { id: string; doc: string }) => ({ kind: 'letter', letter: JSON.parse(row.doc) as Letter }));
    yield* this.pages(this.s.clients, (row: { id: string; doc: string; version: number }) => ({
      kind: 'client',
      client: { ...(JSON.parse(row.doc) as StoredClient), version: row.version },
    }));
    yield* this.pages(
      this.s.oids,
      (row: { account_id: string; oid: number }) => ({ kind: 'esia-oid', accountId: row.account_id, oid: Number(row.oid) }),
      (row) => row.account_id,
    );
    const last = this.lastOid();
    if (last > ESIA_OID_BASE) yield { kind: 'esia-oid-sequence', last };
  }

  private lastOid(): number {
    return Number((this.s.lastOid.get(ESIA_OID_BASE) as { last: number }).last);
  }

  /** Keyset pagination by the table's key: each page a fresh statement run, the loop yields in between. */
  private async *pages<Row extends object>(
    stmt: Database.Statement<[string, number]>,
    toRecord: (row: Row) => TransferRecord,
    keyOf: (row: Row) => string = (row) => (row as unknown as { id: string }).id,
  ): AsyncIterable<TransferRecord> {
    let after = '';
    for (;;) {
      const rows = stmt.all(after, PAGE) as Row[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < PAGE) return;
      after = keyOf(rows[rows.length - 1]!);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async importRecords(records: TransferRecord[]): Promise<void> {
    await this.writes.run(
      () => {
        for (const r of records) this.put(r);
      },
      { durable: true },
    );
  }

  private put(r: TransferRecord): void {
    const s = this.s;
    switch (r.kind) {
      case 'account':
        s.putAccount.run(r.account.id, r.account.version, r.account.status, JSON.stringify(r.account));
        s.dropKeys.run(r.account.id);
        s.dropSharedKeys.run(r.account.id);
        for (const k of r.keys) (k.shared ? s.putSharedKey : s.putKey).run(k.kind, k.value, r.account.id);
        return;
      case 'audit':
        s.putAudit.run(r.event.id, r.event.at, r.event.type, r.event.accountId ?? null, JSON.stringify(r.event));
        return;
      case 'setting':
        s.putSetting.run(r.name, r.value, r.version);
        return;
      case 'letter':
        s.putLetter.run(r.letter.id, r.letter.status, r.letter.createdAt, JSON.stringify(r.letter));
        return;
      case 'client':
        s.putClient.run(r.client.clientId, r.client.version, r.client.status, JSON.stringify(r.client));
        return;
      case 'esia-oid':
        s.putOid.run(r.accountId, r.oid);
        return;
      case 'esia-oid-sequence':
        s.putLastOid.run(r.last);
        return;
    }
  }

  async counts(): Promise<Record<TransferRecord['kind'], number>> {
    const row = this.s.counts.get() as Record<'account' | 'audit' | 'setting' | 'letter' | 'client' | 'esiaOid', number>;
    return {
      account: row.account,
      audit: row.audit,
      setting: row.setting,
      letter: row.letter,
      client: row.client,
      'esia-oid': row.esiaOid,
      'esia-oid-sequence': this.lastOid() > ESIA_OID_BASE ? 1 : 0,
    };
  }
}
