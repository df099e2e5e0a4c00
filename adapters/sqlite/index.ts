/**
 * The embedded Store: one SQLite file in WAL mode through `libsql` (better-sqlite3's API over
 * N-API). Synchronous statements wrapped in promises so it satisfies the same port as Mongo.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import {
  DuplicateKeyError,
  VersionConflictError,
  type Account,
  type AccountKey,
  type AccountRepository,
  type AuditEvent,
  type AuditLog,
  type Challenge,
  type ChallengeRepository,
  type Letter,
  type LetterRepository,
  type OidcAdapter,
  type OidcPayload,
  type RateLimiterOptions,
  type SettingRepository,
  type Store,
} from '../../src/store.ts';
import { createRequire } from 'node:module';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { SCHEMA } from './schema.ts';

type Db = InstanceType<typeof Database>;

export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** How often expired rows are swept, in ms (0 = never). */
  sweepIntervalMs?: number;
  /** WAL checkpoints in a worker thread (default for files). */
  backgroundCheckpoints?: boolean;
}

const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Error && /UNIQUE constraint failed/i.test(err.message);

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const file = options.path !== ':memory:';
  if (file) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: durable across process crashes; an OS crash may lose the last commits, never
  // corrupt the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  let checkpointer: Checkpointer | undefined;
  if (file && options.backgroundCheckpoints !== false) {
    // Checkpoints happen in a worker; this connection's own is only a safety net (~400 MB).
    db.pragma('wal_autocheckpoint = 100000');
    checkpointer = new Checkpointer(options.path, createRequire(import.meta.url).resolve('libsql'));
  }
  return new SqliteStore(db, options.sweepIntervalMs ?? 60_000, checkpointer);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  readonly audit: AuditLog;
  readonly settings: SettingRepository;
  readonly letters: LetterRepository;
  private readonly adapters = new Map<string, OidcAdapter>();
  /** OIDC artefact writes (tokens, sessions, interactions) are group-committed. */
  private readonly oidcWrites: GroupCommit;
  private readonly sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly db: Db,
    sweepIntervalMs: number,
    private readonly checkpointer?: Checkpointer,
  ) {
    this.oidcWrites = new GroupCommit(db);
    const audit = new SqliteAuditLog(db);
    this.audit = audit;
    this.accounts = new SqliteAccounts(db, audit);
    this.challenges = new SqliteChallenges(db);
    this.settings = new SqliteSettings(db);
    this.letters = new SqliteLetters(db);
    if (sweepIntervalMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
      this.sweeper.unref();
    }
  }

  oidcAdapter(model: string): OidcAdapter {
    let adapter = this.adapters.get(model);
    if (!adapter) {
      adapter = new SqliteOidcAdapter(this.db, model, this.oidcWrites);
      this.adapters.set(model, adapter);
    }
    return adapter;
  }

  async revokeOidcByAccountId(accountId: string): Promise<number> {
    this.oidcWrites.flush();
    return this.db.prepare('DELETE FROM oidc WHERE account_id = ?').run(accountId).changes;
  }

  rateLimiter(options: RateLimiterOptions) {
    return new RateLimiterSQLite({
      storeClient: this.db,
      storeType: 'better-sqlite3',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
      clearExpiredByTimeout: false,
    });
  }

  sweep(now = Date.now()): void {
    if (this.closed) return;
    this.db.prepare('DELETE FROM oidc WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM challenges WHERE expires_at <= ?').run(new Date(now).toISOString());
    this.db.prepare('DELETE FROM rate_limits WHERE expire IS NOT NULL AND expire <= ?').run(now);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('store closed');
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.oidcWrites.flush();
    await this.checkpointer?.stop();
    this.db.close();
  }
}

class SqliteOidcAdapter implements OidcAdapter {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly model: string,
    private readonly writes: GroupCommit,
  ) {
    this.stmts = {
      upsert: db.prepare(
        `INSERT INTO oidc (model, id, payload, grant_id, account_id, user_code, uid, expires_at, consumed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           account_id = excluded.account_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at, consumed = NULL`,
      ),
      find: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND id = ?'),
      findByUid: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND uid = ?'),
      findByUserCode: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND user_code = ?'),
      consume: db.prepare('UPDATE oidc SET consumed = ? WHERE model = ? AND id = ?'),
      destroy: db.prepare('DELETE FROM oidc WHERE model = ? AND id = ?'),
      revoke: db.prepare('DELETE FROM oidc WHERE grant_id = ?'),
    };
  }

  private static read(row: unknown): OidcPayload | undefined {
    if (!row) return undefined;
    const { payload, consumed, expires_at } = row as { payload: string; consumed: number | null; expires_at: number | null };
    if (expires_at !== null && expires_at <= Date.now()) return undefined;
    const parsed = JSON.parse(payload) as OidcPayload;
    if (consumed !== null) parsed.consumed = consumed;
    return parsed;
  }

  async upsert(id: string, payload: OidcPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
    const json = JSON.stringify(payload);
    await this.writes.run(() => this.stmts.upsert.run(
      this.model,
      id,
      json,
      payload.grantId ?? null,
      typeof payload.accountId === 'string' ? payload.accountId : null,
      payload.userCode ?? null,
      payload.uid ?? null,
      expiresAt,
    ));
  }

  async find(id: string) {
    return SqliteOidcAdapter.read(this.stmts.find.get(this.model, id));
  }

  async findByUid(uid: string) {
    return SqliteOidcAdapter.read(this.stmts.findByUid.get(this.model, uid));
  }

  async findByUserCode(userCode: string) {
    return SqliteOidcAdapter.read(this.stmts.findByUserCode.get(this.model, userCode));
  }

  async consume(id: string): Promise<void> {
    const at = Math.floor(Date.now() / 1000);
    await this.writes.run(() => this.stmts.consume.run(at, this.model, id));
  }

  async destroy(id: string): Promise<void> {
    await this.writes.run(() => this.stmts.destroy.run(this.model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.writes.run(() => this.stmts.revoke.run(grantId));
  }
}

class SqliteAuditLog implements AuditLog {
  private readonly insert;
  private readonly list;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO audit (id, at, type, account_id, event) VALUES (?, ?, ?, ?, ?)');
    this.list = db.prepare('SELECT event FROM audit WHERE account_id = ? ORDER BY at DESC, seq DESC LIMIT ?');
  }

  appendSync(event: AuditEvent): void {
    this.insert.run(event.id, event.at, event.type, event.accountId ?? null, JSON.stringify(event));
  }

  async append(event: AuditEvent): Promise<void> {
    this.appendSync(event);
  }

  async listForAccount(accountId: string, limit = 100): Promise<AuditEvent[]> {
    return (this.list.all(accountId, limit) as { event: string }[]).map((r) => JSON.parse(r.event) as AuditEvent);
  }
}

class SqliteAccounts implements AccountRepository {
  private readonly s;
  private readonly createTx;
  private readonly updateTx;

  constructor(private readonly db: Db, audit: SqliteAuditLog) {
    this.s = {
      insert: db.prepare('INSERT INTO accounts (id, version, status, doc) VALUES (?, ?, ?, ?)'),
      byId: db.prepare('SELECT doc FROM accounts WHERE id = ?'),
      byKey: db.prepare(
        'SELECT a.doc FROM account_keys k JOIN accounts a ON a.id = k.account_id WHERE k.kind = ? AND k.value = ?',
      ),
      keys: db.prepare('SELECT kind, value FROM account_keys WHERE account_id = ? ORDER BY kind, value'),
      insertKey: db.prepare('INSERT INTO account_keys (kind, value, account_id) VALUES (?, ?, ?)'),
      deleteKeys: db.prepare('DELETE FROM account_keys WHERE account_id = ?'),
      update: db.prepare('UPDATE accounts SET version = ?, status = ?, doc = ? WHERE id = ? AND version = ?'),
      erase: db.prepare('DELETE FROM accounts WHERE id = ?'),
    };
    const insertKeys = (id: string, keys: AccountKey[]) => {
      for (const key of keys) {
        try {
          this.s.insertKey.run(key.kind, key.value, id);
        } catch (err) {
          if (isUniqueViolation(err)) throw new DuplicateKeyError(key);
          throw err;
        }
      }
    };
    this.createTx = db.transaction((account: Account, keys: AccountKey[], events: AuditEvent[]) => {
      try {
        this.s.insert.run(account.id, account.version, account.status, JSON.stringify(account));
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateKeyError();
        throw err;
      }
      insertKeys(account.id, keys);
      for (const e of events) audit.appendSync(e);
    });
    this.updateTx = db.transaction(
      (account: Account, expectedVersion: number, keys: AccountKey[] | undefined, events: AuditEvent[]) => {
        const res = this.s.update.run(account.version, account.status, JSON.stringify(account), account.id, expectedVersion);
        if (res.changes !== 1) throw new VersionConflictError(account.id);
        if (keys) {
          this.s.deleteKeys.run(account.id);
          insertKeys(account.id, keys);
        }
        for (const e of events) audit.appendSync(e);
      },
    );
  }

  async create(account: Account, keys: AccountKey[], events: AuditEvent[] = []): Promise<void> {
    this.createTx(account, keys, events);
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = this.s.byId.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Account) : undefined;
  }

  async findByKey(key: AccountKey): Promise<Account | undefined> {
    const row = this.s.byKey.get(key.kind, key.value) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Account) : undefined;
  }

  async keysOf(id: string): Promise<AccountKey[]> {
    return this.s.keys.all(id) as AccountKey[];
  }

  async update(account: Account, expectedVersion: number, keys?: AccountKey[], events: AuditEvent[] = []): Promise<Account> {
    const next: Account = { ...account, version: expectedVersion + 1 };
    this.updateTx(next, expectedVersion, keys, events);
    return next;
  }

  async softDelete(id: string, at: string): Promise<void> {
    const current = await this.findById(id);
    if (!current || current.status === 'deleted') return;
    await this.update({ ...current, status: 'deleted', deletedAt: at, updatedAt: at }, current.version, []);
  }

  async erase(id: string): Promise<void> {
    this.db.transaction(() => {
      this.s.deleteKeys.run(id);
      this.s.erase.run(id);
    })();
  }
}

class SqliteChallenges implements ChallengeRepository {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare('INSERT INTO challenges (id, expires_at, doc, attempts, max_attempts, consumed_at) VALUES (?, ?, ?, ?, ?, NULL)'),
      find: db.prepare('SELECT doc, attempts, consumed_at FROM challenges WHERE id = ?'),
      fail: db.prepare('UPDATE challenges SET attempts = attempts + 1 WHERE id = ?'),
      consume: db.prepare(
        'UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ? AND attempts < max_attempts',
      ),
      sweep: db.prepare('DELETE FROM challenges WHERE expires_at <= ?'),
    };
  }

  async create(c: Challenge): Promise<void> {
    this.s.insert.run(c.id, c.expiresAt, JSON.stringify(c), c.attempts, c.maxAttempts);
  }

  async find(id: string): Promise<Challenge | undefined> {
    const row = this.s.find.get(id) as { doc: string; attempts: number; consumed_at: string | null } | undefined;
    if (!row) return undefined;
    const c = JSON.parse(row.doc) as Challenge;
    c.attempts = row.attempts;
    if (row.consumed_at) c.consumedAt = row.consumed_at;
    return c;
  }

  async recordFailure(id: string): Promise<Challenge | undefined> {
    this.s.fail.run(id);
    return this.find(id);
  }

  async consume(id: string, now: string): Promise<boolean> {
    return this.s.consume.run(now, id, now).changes === 1;
  }

  async sweep(now: string): Promise<number> {
    return this.s.sweep.run(now).changes;
  }
}

class SqliteSettings implements SettingRepository {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      get: db.prepare('SELECT value, version FROM settings WHERE name = ?'),
      insert: db.prepare('INSERT INTO settings (name, value, version) VALUES (?, ?, 1) ON CONFLICT (name) DO NOTHING'),
      update: db.prepare('UPDATE settings SET value = ?, version = version + 1 WHERE name = ? AND version = ?'),
    };
  }

  async get(name: string) {
    // libsql's `.get()` adds an enumerable `_metadata` to rows: return only the port's shape.
    const row = this.s.get.get(name) as { value: string; version: number } | undefined;
    return row ? { value: row.value, version: row.version } : undefined;
  }

  async put(name: string, value: string, expectedVersion: number): Promise<boolean> {
    const res = expectedVersion === 0 ? this.s.insert.run(name, value) : this.s.update.run(value, name, expectedVersion);
    return res.changes === 1;
  }
}

class SqliteLetters implements LetterRepository {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare('INSERT INTO letters (id, status, created_at, doc) VALUES (?, ?, ?, ?)'),
      find: db.prepare('SELECT doc FROM letters WHERE id = ?'),
      list: db.prepare('SELECT doc FROM letters WHERE status = ? ORDER BY created_at, id LIMIT ?'),
      send: db.prepare("UPDATE letters SET status = 'sent', doc = ? WHERE id = ? AND status = 'queued'"),
    };
  }

  async create(letter: Letter): Promise<void> {
    this.s.insert.run(letter.id, letter.status, letter.createdAt, JSON.stringify(letter));
  }

  async find(id: string): Promise<Letter | undefined> {
    const row = this.s.find.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Letter) : undefined;
  }

  async list(status: Letter['status'], limit = 100): Promise<Letter[]> {
    return (this.s.list.all(status, limit) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Letter);
  }

  async markSent(id: string, at: string, by: string): Promise<boolean> {
    const letter = await this.find(id);
    if (!letter || letter.status !== 'queued') return false;
    const { sealedCode: _dropped, ...rest } = letter;
    const sent: Letter = { ...rest, status: 'sent', sentAt: at, sentBy: by };
    return this.s.send.run(JSON.stringify(sent), id).changes === 1;
  }
}
