/** The embedded store's tables. Idempotent: run at every open. */
export const SCHEMA = `
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
