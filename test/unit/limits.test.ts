import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Limits } from '../../src/security/limits.ts';
import type { Store } from '../../src/store.ts';

const LIMITS = {
  loginMaxFailures: 5,
  loginLockoutSeconds: 900,
  loginMaxPerIp: 100,
  codeSendsPerRecipient: 3,
  codeSendsPerIp: 20,
  authorizeMaxPerIp: 600,
};

describe('limits: an attempt at a known account (accountAttempt)', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-limits-'));
    store = openSqliteStore({ path: join(dir, 'db.sqlite'), sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a right password forgets no wrong second factors typed before it (the bank-link page asks both)', async () => {
    const limits = new Limits(store, LIMITS);
    const wrong = () => limits.accountAttempt('acc-1', '10.0.0.1', async () => false);
    for (let i = 0; i < LIMITS.loginMaxFailures - 1; i++) expect(await wrong()).to.deep.include({ ok: false, locked: false });
    expect(await limits.accountAttempt('acc-1', '10.0.0.1', async () => true)).to.deep.equal({ ok: true });
    // the fifth wrong one still locks: the right password did not reset the count
    expect(await wrong()).to.deep.include({ ok: false, locked: true });
    expect((await limits.accountLocked('acc-1')).blocked).to.equal(true);
  });
});
