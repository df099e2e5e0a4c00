/**
 * Deleting an account (152-FZ: data destroyed on request). Asked by the citizen in the cabinet or
 * by an operator (CLI, admin API) with a reason: the account is deactivated at once — every
 * sign-in refuses it (`findActive` / `findByKey` see only active accounts), its sessions, grants
 * and tokens are revoked, so relying parties' tokens are inactive — and erased after the grace
 * (VKHOD_DELETION_GRACE_DAYS) unless the citizen signs in and restores it. The account keeps its
 * login keys during the grace (nobody else can take its phone, and the citizen can sign in to
 * cancel); the erasure frees them (`softDelete`) and removes the record (`erase`). The audit
 * trail keeps only the events, which never hold documents; `account.erased` says when and why.
 */
import type { Store } from '../store.ts';
import type { Account } from './account.ts';
import type { AuditTrail } from '../security/audit.ts';
import type { Accounts } from './accounts.ts';

const DAY_MS = 86_400_000;
/** Accounts erased per run: short store work, the next run takes the rest. */
const ERASE_BATCH = 100;

export interface DeletionRequest {
  /** `self`, or the operator (`operator:<login>`, `cli`) */
  actor: string;
  reason?: string;
  ip?: string;
}

export class AccountDeletion {
  constructor(
    private readonly store: Store,
    private readonly accounts: Accounts,
    private readonly audit: Pick<AuditTrail, 'record'>,
    private readonly graceDays: number,
  ) {}

  /** Deactivates an active account now and schedules its erasure. Returns it, or undefined when there is no active account. */
  async request(accountId: string, input: DeletionRequest, now = new Date()): Promise<Account | undefined> {
    if (!(await this.accounts.findActive(accountId))) return undefined;
    const at = now.toISOString();
    const eraseAfter = new Date(now.getTime() + this.graceDays * DAY_MS).toISOString();
    const reason = input.reason?.slice(0, 500);
    const next = await this.accounts.modify(
      accountId,
      (a) => ({
        ...a,
        status: 'deactivated',
        deletion: { requestedAt: at, eraseAfter, actor: input.actor, ...(reason ? { reason } : {}) },
        sessionsValidAfter: at,
      }),
      {
        type: 'account.deletion_requested',
        actor: input.actor,
        ip: input.ip,
        outcome: 'success',
        details: { eraseAfter, ...(reason ? { reason } : {}) },
      },
    );
    await this.store.revokeOidcByAccountId(accountId);
    return next;
  }

  /** A deactivated account (in its grace or waiting for erasure), or undefined. */
  private async deactivated(accountId: string): Promise<Account | undefined> {
    const account = await this.store.accounts.findById(accountId);
    return account?.status === 'deactivated' && account.deletion ? account : undefined;
  }

  /** A deactivated account still in its grace, or undefined (past the grace it waits only for erasure). */
  async pending(accountId: string, now = new Date()): Promise<Account | undefined> {
    const account = await this.accounts.findActiveOrPendingDeletion(accountId, now);
    return account?.status === 'deactivated' ? account : undefined;
  }

  /**
   * Restores a deactivated account: the citizen by signing in within the grace; an operator (or
   * the CLI) until the erasure job has run. Undefined when there is nothing to restore.
   */
  async cancel(accountId: string, input: DeletionRequest): Promise<Account | undefined> {
    const current = input.actor === 'self' ? await this.pending(accountId) : await this.deactivated(accountId);
    if (!current) return undefined;
    const { deletion: _dropped, ...rest } = current;
    return this.accounts.modify(
      accountId,
      () => ({ ...rest, status: 'active' }),
      { type: 'account.deletion_cancelled', actor: input.actor, ip: input.ip, outcome: 'success' },
      { expect: current },
    );
  }

  /**
   * Erases every account whose grace has ended: frees its keys, removes the record, ends anything
   * the provider still holds for it, and records `account.erased` (no personal data). Safe to run
   * from several processes at once: each step is a no-op on an account already erased.
   */
  async eraseDue(now = new Date()): Promise<number> {
    // Bounded batches off the request path (issue 14): the event loop serves requests in between.
    let erased = 0;
    for (;;) {
      const batch = await this.eraseBatch(now);
      erased += batch.erased;
      if (batch.seen < ERASE_BATCH || batch.erased === 0) return erased;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async eraseBatch(now: Date): Promise<{ seen: number; erased: number }> {
    const at = now.toISOString();
    let erased = 0;
    const due = await this.store.accounts.dueForErasure(at, ERASE_BATCH);
    for (const id of due) {
      const account = await this.deactivated(id);
      if (!account || account.deletion!.eraseAfter > at) continue;
      await this.store.accounts.softDelete(id, at);
      // before the record goes (a crash in between leaves it due, and this is idempotent)
      await this.store.letters.eraseForAccount(id, at);
      await this.store.accounts.erase(id);
      await this.store.revokeOidcByAccountId(id);
      await this.audit.record({
        type: 'account.erased',
        accountId: id,
        actor: 'system',
        outcome: 'success',
        details: { requestedAt: account.deletion!.requestedAt, requestedBy: account.deletion!.actor },
      });
      erased += 1;
    }
    return { seen: due.length, erased };
  }
}
