/**
 * The embedded store's schema version (`PRAGMA user_version`) and the migrations that move an
 * older file forward at open (issue 14). Version 0 is a file from before versions were stored: its
 * tables are those of version 1. `schema.ts` holds the version-1 tables and stays idempotent; a
 * change to an existing table, or an index a query needs, is a migration here with its number.
 * A file whose version is past SCHEMA_VERSION is refused (StoreVersionError): this vkhod does not
 * know what the newer one wrote. (SCHEMA runs at every open, so a new table may be added there;
 * an index or a column on an existing one needs a migration.)
 */
import type Database from 'libsql';
import { StoreVersionError } from '../../src/store.ts';
import { SCHEMA } from './schema.ts';

type Db = InstanceType<typeof Database>;

interface Migration {
  version: number;
  /** why: what the version adds */
  why: string;
  up(db: Db): void;
}

const MIGRATIONS: Migration[] = [
  {
    version: 2,
    why: 'the audit trail is read by type and by time, newest first, and paged by (at, id)',
    up(db) {
      db.exec(`
        CREATE INDEX IF NOT EXISTS audit_time ON audit (at, id);
        CREATE INDEX IF NOT EXISTS audit_type ON audit (type, at, id);
      `);
    },
  },
  {
    version: 3,
    why: 'the sweep finds what is due by an index (consumed tokens, used codes, expired counters) instead of reading whole tables on the event loop',
    up(db) {
      db.exec(`
        CREATE INDEX IF NOT EXISTS oidc_consumed ON oidc (consumed) WHERE consumed IS NOT NULL;
        CREATE INDEX IF NOT EXISTS challenges_consumed ON challenges (consumed_at) WHERE consumed_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS rate_limits_expire ON rate_limits (expire) WHERE expire IS NOT NULL;
      `);
    },
  },
];

/** The version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 1);

export function schemaVersionOf(db: Db): number {
  // (libsql's pragma() returns rows, `{ simple: true }` or not)
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
}

/**
 * Refuses a newer file, creates the version-1 tables (a new file) and runs each migration past the
 * file's version in its own transaction, bumping `user_version` with it. Safe when several
 * processes open one file at once: the version is read again under the write lock.
 */
export function migrate(db: Db): { from: number; to: number } {
  const from = schemaVersionOf(db);
  if (from > SCHEMA_VERSION) throw new StoreVersionError(from, SCHEMA_VERSION);
  const waited = (db.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout;
  // Opening is not on the request path: another process creating or migrating the same file is waited for.
  db.pragma('busy_timeout = 10000');
  try {
    db.exec(SCHEMA);
    for (const migration of MIGRATIONS) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const current = schemaVersionOf(db);
        if (current > SCHEMA_VERSION) throw new StoreVersionError(current, SCHEMA_VERSION);
        if (Math.max(current, 1) < migration.version) {
          migration.up(db);
          db.pragma(`user_version = ${migration.version}`);
        }
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    }
    if (schemaVersionOf(db) < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } finally {
    db.pragma(`busy_timeout = ${waited}`);
  }
  return { from, to: schemaVersionOf(db) };
}
