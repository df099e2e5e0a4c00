/**
 * A store as vkhod wrote it before schema versions (issue 14): the tables of schema.ts at commit
 * 287d55a, frozen here (copied, not imported, so the fixture stays what the old code wrote), with
 * `user_version` 0, in WAL mode, holding one account, its keys, audit events, a setting and a letter.
 */
import Database from 'libsql';

export const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS oidc (
  model TEXT NOT NULL,
  id TEXT NOT NULL,
  payload TEXT NOT NULL,
  grant_id TEXT,
  account_id TEXT,
  user_code TEXT,
  uid TEXT,
  expires_at INTEGER,
  consumed INTEGER,
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_grant ON oidc (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_account ON oidc (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_uid ON oidc (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_user_code ON oidc (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_expiry ON oidc (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_deactivated ON accounts (status) WHERE status = 'deactivated';

CREATE TABLE IF NOT EXISTS account_keys (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS account_keys_account ON account_keys (account_id);

-- Identity numbers typed in but not verified: several accounts may hold the same one.
CREATE TABLE IF NOT EXISTS account_shared_keys (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value, account_id)
);
CREATE INDEX IF NOT EXISTS account_shared_keys_account ON account_shared_keys (account_id);

CREATE TABLE IF NOT EXISTS challenges (
  id TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL,
  doc TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  consumed_at TEXT
);
CREATE INDEX IF NOT EXISTS challenges_expiry ON challenges (expires_at);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  account_id TEXT,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_account ON audit (account_id, at);

CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS letters (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS letters_queue ON letters (status, created_at);
CREATE INDEX IF NOT EXISTS letters_account ON letters (json_extract(doc, '$.accountId'));

CREATE TABLE IF NOT EXISTS rate_limits (
  key TEXT PRIMARY KEY,
  points INTEGER NOT NULL DEFAULT 0,
  expire INTEGER
);
`;

export const V1_ACCOUNT_ID = 'acc-v1';

/** Writes the old store at `path`; returns what it wrote for the test to find again. */
export function writeV1Store(path: string): { eventIds: string[] } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_V1);
  const at = '2025-06-01T10:00:00.000Z';
  const account = {
    id: V1_ACCOUNT_ID,
    version: 1,
    status: 'active',
    level: 'simplified',
    name: { family: 'Старова', given: 'Вера' },
    phone: '+79990000001',
    phoneVerified: true,
    emailVerified: false,
    createdAt: at,
    updatedAt: at,
  };
  db.prepare('INSERT INTO accounts (id, version, status, doc) VALUES (?, ?, ?, ?)').run(account.id, 1, 'active', JSON.stringify(account));
  db.prepare('INSERT INTO account_keys (kind, value, account_id) VALUES (?, ?, ?)').run('phone', account.phone, account.id);
  const events = [
    { id: 'evt-v1-1', at, type: 'account.registered', accountId: account.id, actor: 'self', outcome: 'success' },
    {
      id: 'evt-v1-2',
      at: '2025-06-01T10:05:00.000Z',
      type: 'signin.password',
      accountId: account.id,
      outcome: 'failure',
      details: { reason: 'wrong_password' },
    },
  ];
  const insert = db.prepare('INSERT INTO audit (id, at, type, account_id, event) VALUES (?, ?, ?, ?, ?)');
  for (const e of events) insert.run(e.id, e.at, e.type, e.accountId, JSON.stringify(e));
  db.prepare('INSERT INTO settings (name, value, version) VALUES (?, ?, 1)').run('v1.setting', '{"kept":true}');
  db.close();
  return { eventIds: events.map((e) => e.id) };
}
