/**
 * An account change writes its lookup keys only when it changes them (issue 15): a sign-in from a
 * new device (a known-device hash added) rewrote every key of the account before.
 */
import { expect } from 'chai';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import type { AccountKey } from '../../src/store.ts';

describe('account changes and their lookup keys', () => {
  let store: SqliteStore;
  let accounts: Accounts;
  let written: Array<AccountKey[] | undefined>;

  beforeEach(() => {
    store = openSqliteStore({ path: ':memory:', sweepIntervalMs: 0, backgroundCheckpoints: false });
    accounts = new Accounts(store);
    written = [];
    const update = store.accounts.update.bind(store.accounts);
    store.accounts.update = (account, version, keys, events) => {
      written.push(keys);
      return update(account, version, keys, events);
    };
  });
  afterEach(() => store.close());

  it('leaves the keys alone when the change does not touch them, and writes them when it does', async () => {
    const account = await accounts.register({
      name: { family: 'Ключева', given: 'Анна' },
      contact: { kind: 'phone', value: '+79990001122' },
      passwordHash: 'x',
    });
    await accounts.modify(account.id, (a) => ({ ...a, extra: { ...a.extra, knownDevices: ['d1'] } }));
    expect(written).to.deep.equal([undefined]);
    await accounts.modify(account.id, (a) => ({ ...a, email: 'anna@example.test', emailVerified: true }));
    expect(written[1]).to.deep.include.members([
      { kind: 'phone', value: '+79990001122' },
      { kind: 'email', value: 'anna@example.test' },
    ]);
    // the new key works, the old one still does
    expect((await accounts.findByKey({ kind: 'email', value: 'anna@example.test' }))?.id).to.equal(account.id);
    expect((await accounts.findByKey({ kind: 'phone', value: '+79990001122' }))?.id).to.equal(account.id);
    expect((await store.accounts.findById(account.id))?.extra?.knownDevices).to.deep.equal(['d1']);
  });

  it('rewrites them when asked (healing keys written by older code)', async () => {
    const account = await accounts.register({
      name: { family: 'Ключева', given: 'Анна' },
      contact: { kind: 'phone', value: '+79990001123' },
      passwordHash: 'x',
    });
    await accounts.modify(account.id, (a) => a, undefined, { rewriteKeys: true });
    expect(written).to.deep.equal([[{ kind: 'phone', value: '+79990001123' }]]);
  });
});
