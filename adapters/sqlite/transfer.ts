/**
 * Export and import of what outlives a session (src/store.ts TransferRecord): accounts with their
 * keys, the audit, settings and letters. Reads page through each table by id (a bounded memory
 * footprint, the event loop yields between pages); an import is one durable transaction per call.
 */
import type Database from 'libsql';
import type { Account, AccountKey, AuditEvent, Letter, StoreTransfer, TransferRecord } from '../../src/store.ts';
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
                (SELECT count(*) FROM settings WHERE name NOT IN (${local})) AS setting, (SELECT count(*) FROM letters) AS letter`,
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
    }
  }

  async counts(): Promise<Record<TransferRecord['kind'], number>> {
    const row = this.s.counts.get() as Record<TransferRecord['kind'], number>;
    return { account: row.account, audit: row.audit, setting: row.setting, letter: row.letter };
  }
}
