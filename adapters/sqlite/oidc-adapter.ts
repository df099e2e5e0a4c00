/** node-oidc-provider's models in one table; writes are group-committed. */
import type Database from 'libsql';
import { ENDED_FOR_GOOD, TOMBSTONE_SECONDS, type OidcAdapter, type OidcPayload } from '../../src/store.ts';
import type { GroupCommit } from './group-commit.ts';

type Db = InstanceType<typeof Database>;

export class SqliteOidcAdapter implements OidcAdapter {
  private readonly stmts;
  /** Destroy leaves a tombstone (`consumed` set, nothing else kept) that upsert never overwrites. */
  private readonly final: boolean;

  constructor(
    db: Db,
    private readonly model: string,
    private readonly writes: GroupCommit,
  ) {
    this.final = ENDED_FOR_GOOD.has(model);
    this.stmts = {
      upsert: db.prepare(
        `INSERT INTO oidc (model, id, payload, grant_id, account_id, user_code, uid, expires_at, consumed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           account_id = excluded.account_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at, consumed = NULL
         ${this.final ? 'WHERE oidc.consumed IS NULL' : ''}`,
      ),
      // A tombstone keeps the entry's own expiry (a request cannot outlive it), nothing of its content.
      end: db.prepare(
        `INSERT INTO oidc (model, id, payload, expires_at, consumed) VALUES (?, ?, '{}', ?, ?)
         ON CONFLICT (model, id) DO UPDATE SET payload = '{}', grant_id = NULL, account_id = NULL, user_code = NULL,
           uid = NULL, expires_at = COALESCE(oidc.expires_at, excluded.expires_at), consumed = excluded.consumed`,
      ),
      find: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND id = ?'),
      findByUid: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND uid = ?'),
      findByUserCode: db.prepare('SELECT payload, consumed, expires_at FROM oidc WHERE model = ? AND user_code = ?'),
      // Conditional: only a live entry nobody consumed yet; `changes` tells the caller it won.
      consume: db.prepare(
        'UPDATE oidc SET consumed = ? WHERE model = ? AND id = ? AND consumed IS NULL AND (expires_at IS NULL OR expires_at > ?)',
      ),
      destroy: db.prepare('DELETE FROM oidc WHERE model = ? AND id = ?'),
      revoke: db.prepare('DELETE FROM oidc WHERE grant_id = ?'),
    };
  }

  private read(row: unknown): OidcPayload | undefined {
    if (!row) return undefined;
    const { payload, consumed, expires_at } = row as { payload: string; consumed: number | null; expires_at: number | null };
    if (expires_at !== null && expires_at <= Date.now()) return undefined;
    if (this.final && consumed !== null) return undefined;
    const parsed = JSON.parse(payload) as OidcPayload;
    if (consumed !== null) parsed.consumed = consumed;
    return parsed;
  }

  async upsert(id: string, payload: OidcPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
    const json = JSON.stringify(payload);
    await this.writes.run(() =>
      this.stmts.upsert.run(
        this.model,
        id,
        json,
        payload.grantId ?? null,
        typeof payload.accountId === 'string' ? payload.accountId : null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresAt,
      ),
    );
  }

  async find(id: string) {
    return this.read(this.stmts.find.get(this.model, id));
  }

  async findByUid(uid: string) {
    return this.read(this.stmts.findByUid.get(this.model, uid));
  }

  async findByUserCode(userCode: string) {
    return this.read(this.stmts.findByUserCode.get(this.model, userCode));
  }

  /**
   * Goes through the group commit like every token write, so it runs after any upsert of the
   * same id queued before it and sees it; two consumes of one id in one batch: the first wins.
   */
  async consume(id: string): Promise<boolean> {
    const at = Math.floor(Date.now() / 1000);
    const result = await this.writes.run(() => this.stmts.consume.run(at, this.model, id, Date.now()));
    return Number(result.changes) === 1;
  }

  async destroy(id: string): Promise<void> {
    if (this.final) {
      const now = Date.now();
      await this.writes.run(() => this.stmts.end.run(this.model, id, now + TOMBSTONE_SECONDS * 1000, Math.floor(now / 1000)));
      return;
    }
    await this.writes.run(() => this.stmts.destroy.run(this.model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.writes.run(() => this.stmts.revoke.run(grantId));
  }
}
