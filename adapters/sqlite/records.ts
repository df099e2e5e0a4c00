/** One-time codes, compare-and-set settings and the letters queue. */
import type Database from 'libsql';
import type { Challenge, ChallengeRepository, Letter, LetterRepository, SettingRepository } from '../../src/store.ts';

import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;

/** Settings (signing keys, operators) and letters are written with full durability (group-commit.ts). */
const DURABLE = { durable: true } as const;

export class SqliteChallenges implements ChallengeRepository {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
    this.s = {
      insert: db.prepare('INSERT INTO challenges (id, expires_at, doc, attempts, max_attempts, consumed_at) VALUES (?, ?, ?, ?, ?, NULL)'),
      find: db.prepare('SELECT doc, attempts, consumed_at FROM challenges WHERE id = ?'),
      take: db.prepare(
        'UPDATE challenges SET attempts = attempts + 1 WHERE id = ? AND consumed_at IS NULL AND expires_at > ? AND attempts < max_attempts',
      ),
      consume: db.prepare(
        'UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ? AND attempts <= max_attempts',
      ),
      sweep: db.prepare('DELETE FROM challenges WHERE expires_at <= ?'),
    };
  }

  async create(c: Challenge): Promise<void> {
    await this.writes.run(() => this.s.insert.run(c.id, c.expiresAt, JSON.stringify(c), c.attempts, c.maxAttempts));
  }

  async find(id: string): Promise<Challenge | undefined> {
    return this.findNow(id);
  }

  private findNow(id: string): Challenge | undefined {
    const row = this.s.find.get(id) as { doc: string; attempts: number; consumed_at: string | null } | undefined;
    if (!row) return undefined;
    const c = JSON.parse(row.doc) as Challenge;
    c.attempts = row.attempts;
    if (row.consumed_at) c.consumedAt = row.consumed_at;
    return c;
  }

  async takeAttempt(id: string, now: string): Promise<Challenge | undefined> {
    // The read runs in the same write as the increment: it sees this attempt, never a later one's.
    return this.writes.run(() => (this.s.take.run(id, now).changes === 1 ? this.findNow(id) : undefined));
  }

  async consume(id: string, now: string): Promise<boolean> {
    return (await this.writes.run(() => this.s.consume.run(now, id, now))).changes === 1;
  }

  async sweep(now: string): Promise<number> {
    return (await this.writes.run(() => this.s.sweep.run(now))).changes;
  }
}

export class SqliteSettings implements SettingRepository {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
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
    const res = await this.writes.run(
      () => (expectedVersion === 0 ? this.s.insert.run(name, value) : this.s.update.run(value, name, expectedVersion)),
      DURABLE,
    );
    return res.changes === 1;
  }
}

export class SqliteLetters implements LetterRepository {
  private readonly s;

  constructor(
    db: Db,
    private readonly writes: GroupCommit,
  ) {
    this.s = {
      insert: db.prepare('INSERT INTO letters (id, status, created_at, doc) VALUES (?, ?, ?, ?)'),
      find: db.prepare('SELECT doc FROM letters WHERE id = ?'),
      list: db.prepare('SELECT doc FROM letters WHERE status = ? ORDER BY created_at, id LIMIT ?'),
      close: db.prepare("UPDATE letters SET status = ?, doc = ? WHERE id = ? AND status = 'queued'"),
      ofAccount: db.prepare("SELECT doc FROM letters WHERE json_extract(doc, '$.accountId') = ?"),
      redact: db.prepare('UPDATE letters SET status = ?, doc = ? WHERE id = ? AND status = ?'),
    };
  }

  async create(letter: Letter): Promise<void> {
    await this.writes.run(() => this.s.insert.run(letter.id, letter.status, letter.createdAt, JSON.stringify(letter)), DURABLE);
  }

  async find(id: string): Promise<Letter | undefined> {
    const row = this.s.find.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Letter) : undefined;
  }

  async list(status: Letter['status'], limit = 100): Promise<Letter[]> {
    return (this.s.list.all(status, limit) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Letter);
  }

  async markSent(id: string, at: string, by: string): Promise<boolean> {
    return this.close(id, { status: 'sent', sentAt: at, sentBy: by });
  }

  async cancel(id: string, at: string, reason: string): Promise<boolean> {
    return this.close(id, { status: 'cancelled', cancelledAt: at, cancelReason: reason });
  }

  async eraseForAccount(accountId: string, at: string): Promise<number> {
    const letters = (this.s.ofAccount.all(accountId) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Letter);
    let changed = 0;
    for (const letter of letters) {
      if (letter.erasedAt) continue;
      const { sealedCode: _code, recipient: _recipient, ...rest } = letter;
      const next: Letter = {
        ...rest,
        erasedAt: at,
        ...(letter.status === 'queued' ? { status: 'cancelled', cancelledAt: at, cancelReason: 'erased' } : {}),
      };
      // guarded by the status read: a letter marked sent meanwhile is redacted on the next pass
      changed += (await this.writes.run(() => this.s.redact.run(next.status, JSON.stringify(next), letter.id, letter.status), DURABLE))
        .changes;
    }
    return changed;
  }

  /** queued → sent or cancelled, dropping the sealed code; the UPDATE's guard makes one caller win. */
  private async close(id: string, change: Partial<Letter> & { status: 'sent' | 'cancelled' }): Promise<boolean> {
    const letter = await this.find(id);
    if (!letter || letter.status !== 'queued') return false;
    const { sealedCode: _dropped, ...rest } = letter;
    return (
      (await this.writes.run(() => this.s.close.run(change.status, JSON.stringify({ ...rest, ...change }), id), DURABLE)).changes === 1
    );
  }
}
