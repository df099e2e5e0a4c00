/** The ESIA profile's records (src/esia): account oids and single-use request states. Tables created here. */
import type Database from 'libsql';
import { ESIA_OID_BASE, type EsiaRepository } from '../../src/store.ts';
import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;

export const ESIA_SCHEMA = `
CREATE TABLE IF NOT EXISTS esia_oids (
  account_id TEXT PRIMARY KEY,
  oid INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS esia_used_states (
  key TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS esia_used_states_expiry ON esia_used_states (expires_at);
-- the highest oid handed out, when it is past every row's (brought by \`store import\` from a store
-- whose sequence ran ahead, e.g. MongoDB's counter after a race): allocation continues above it
CREATE TABLE IF NOT EXISTS esia_oid_sequence (
  name TEXT PRIMARY KEY,
  last INTEGER NOT NULL
);
`;

/** The highest oid handed out so far (rows and the imported sequence), or ESIA_OID_BASE when none was. */
export const ESIA_LAST_OID_SQL = `SELECT MAX(COALESCE((SELECT MAX(oid) FROM esia_oids), ?),
  COALESCE((SELECT last FROM esia_oid_sequence WHERE name = 'oid'), 0)) AS last`;

export class SqliteEsia implements EsiaRepository {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
    db.exec(ESIA_SCHEMA);
    this.s = {
      oid: db.prepare('SELECT oid FROM esia_oids WHERE account_id = ?'),
      account: db.prepare('SELECT account_id FROM esia_oids WHERE oid = ?'),
      // One statement: the next number and the row together (SQLite has one writer at a time).
      allocate: db.prepare(`INSERT OR IGNORE INTO esia_oids (account_id, oid) SELECT ?, last + 1 FROM (${ESIA_LAST_OID_SQL})`),
      sweep: db.prepare('DELETE FROM esia_used_states WHERE expires_at <= ?'),
      use: db.prepare('INSERT OR IGNORE INTO esia_used_states (key, expires_at) VALUES (?, ?)'),
      revive: db.prepare('UPDATE esia_used_states SET expires_at = ? WHERE key = ? AND expires_at <= ?'),
    };
  }

  async oidOf(accountId: string): Promise<number> {
    const found = this.s.oid.get(accountId) as { oid: number } | undefined;
    if (found) return Number(found.oid);
    // durable: an oid handed to a relying party must survive power loss (it is never handed out again)
    await this.writes.run(() => this.s.allocate.run(accountId, ESIA_OID_BASE), { durable: true });
    return Number((this.s.oid.get(accountId) as { oid: number }).oid);
  }

  async accountOfOid(oid: number): Promise<string | undefined> {
    if (!Number.isSafeInteger(oid)) return undefined;
    return (this.s.account.get(oid) as { account_id: string } | undefined)?.account_id;
  }

  async useOnce(key: string, expiresAt: string): Promise<boolean> {
    const now = new Date().toISOString();
    return this.writes.run(() => {
      if (this.s.use.run(key, expiresAt).changes === 1) return true;
      // a key whose memory has expired (not swept yet) is fresh again
      return this.s.revive.run(expiresAt, key, now).changes === 1;
    });
  }

  /** Forgets states past their expiry; returns how many. */
  sweep(now: string): number {
    return this.s.sweep.run(now).changes;
  }
}
