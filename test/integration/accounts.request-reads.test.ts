/**
 * Repeated account reads (issue 15): node-oidc-provider checks the signed-in account three times
 * while it resumes a sign-in; one read per request serves them.
 */
import { expect } from 'chai';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';

describe('account reads once per request', () => {
  let store: SqliteStore;
  let accounts: Accounts;
  let reads: number;

  beforeEach(() => {
    store = openSqliteStore({ path: ':memory:', sweepIntervalMs: 0, backgroundCheckpoints: false });
    accounts = new Accounts(store);
    reads = 0;
    const findById = store.accounts.findById.bind(store.accounts);
    store.accounts.findById = (id) => {
      reads += 1;
      return findById(id);
    };
  });
  afterEach(() => store.close());

  it('reads an account once for one request, again for the next request', async () => {
    const account = await accounts.register({
      name: { family: 'Разова', given: 'Ольга' },
      contact: { kind: 'phone', value: '+79990002233' },
      passwordHash: 'x',
    });
    const first = {};
    const [a, b] = await Promise.all([accounts.findActiveOnce(first, account.id), accounts.findActiveOnce(first, account.id)]);
    expect((await accounts.findActiveOnce(first, account.id))?.id).to.equal(account.id);
    expect(a).to.equal(b);
    expect(reads).to.equal(1);
    await accounts.findActiveOnce({}, account.id);
    expect(reads, 'another request reads afresh').to.equal(2);
    expect(await accounts.findActiveOnce(first, 'no-such-account')).to.equal(undefined);
    expect(reads).to.equal(3);
  });

  it('does not keep a failed read', async () => {
    const request = {};
    store.accounts.findById = async () => {
      reads += 1;
      throw new Error('store unavailable');
    };
    const failed = await accounts.findActiveOnce(request, 'a1').then(
      () => 'read',
      () => 'failed',
    );
    expect(failed).to.equal('failed');
    await accounts.findActiveOnce(request, 'a1').catch(() => undefined);
    expect(reads).to.equal(2);
  });
});
