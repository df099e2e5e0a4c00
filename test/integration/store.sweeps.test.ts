/**
 * Long sweeps run in bounded batches and finish (issue 14): the erasure of accounts past their
 * grace goes on batch after batch until none is due (it used to stop after the first hundred and
 * wait ten minutes), and the audit retention sweep removes every event past retention, a slice
 * per transaction, keeping the younger ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { AccountDeletion } from '../../src/accounts/account-deletion.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { AuditTrail } from '../../src/security/audit.ts';
import { fakeAccount, fakeEvent } from '../contract/fixtures.ts';

describe('store sweeps in bounded batches (issue 14)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-sweeps-'));
    store = openSqliteStore({ path: join(dir, 'vkhod.sqlite'), sweepIntervalMs: 0, backgroundCheckpoints: false, auditRetentionDays: 30 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('erases every account past its grace in one run, however many batches that takes', async () => {
    const past = '2026-01-01T00:00:00.000Z';
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      const account = fakeAccount({
        status: 'deactivated',
        deletion: { requestedAt: past, eraseAfter: past, actor: 'self' },
        phone: undefined,
        email: undefined,
        snils: undefined,
      });
      ids.push(account.id);
      await store.accounts.create(account, []);
    }
    const audit = new AuditTrail(store.audit, pino({ level: 'silent' }));
    const deletion = new AccountDeletion(store, new Accounts(store), audit, 30);
    expect(await deletion.eraseDue(new Date('2026-02-01T00:00:00.000Z'))).to.equal(250);
    expect(await store.accounts.dueForErasure('2026-02-01T00:00:00.000Z', 10)).to.deep.equal([]);
    for (const id of [ids[0]!, ids[120]!, ids[249]!]) expect(await store.accounts.findById(id)).to.equal(undefined);
    expect((await store.audit.query({ type: 'account.erased', limit: 500 })).events).to.have.length(250);
  });

  it('the retention sweep deletes every event past retention, batch by batch, and keeps the younger', async () => {
    const now = Date.parse('2026-06-01T00:00:00.000Z');
    const old = Array.from({ length: 1234 }, (_, i) =>
      fakeEvent('acc-old', { at: new Date(now - 31 * 86400_000 - i * 1000).toISOString() }),
    );
    const young = fakeEvent('acc-young', { at: new Date(now - 29 * 86400_000).toISOString() });
    await store.transfer.importRecords([...old, young].map((event) => ({ kind: 'audit' as const, event })));
    const deleted: number[] = [];
    const audit = store.audit;
    const sizes: number[] = [];
    const deleteBeforeSync = audit.deleteBeforeSync.bind(audit);
    audit.deleteBeforeSync = (before, limit) => {
      sizes.push(limit);
      const result = deleteBeforeSync(before, limit);
      deleted.push(result.changes);
      return result;
    };
    await store.sweep(now);
    expect((await store.transfer.counts()).audit).to.equal(1);
    expect((await store.audit.query({ limit: 10 })).events).to.deep.equal([young]);
    // in short slices (issue 15: each sized to about a millisecond), not one long transaction
    expect(deleted.reduce((a, b) => a + b, 0)).to.equal(1234);
    expect(deleted.length).to.be.above(2);
    // each kind of row starts with a small slice, and none is larger than the bound
    expect(sizes[0]).to.equal(10);
    expect(Math.max(...sizes)).to.be.at.most(1000);
  });
});
