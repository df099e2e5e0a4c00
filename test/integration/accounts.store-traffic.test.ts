/**
 * What an account costs the store (issue 15): a change writes its lookup keys only when it changes
 * them (a sign-in from a new device rewrote every key of the account before), and
 * node-oidc-provider's checks of the signed-in account read it once per request.
 */
import { expect } from 'chai';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import type { AccountKey } from '../../src/store.ts';
import { Browser } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD, passConsent, pkce, redeem, signIn } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createAccount } from './fixtures.ts';

describe('account writes and reads', () => {
  let store: SqliteStore;
  let accounts: Accounts;
  /** the keys argument of every account update */
  let written: Array<AccountKey[] | undefined>;
  let reads: number;

  beforeEach(() => {
    store = openSqliteStore({ path: ':memory:', sweepIntervalMs: 0, backgroundCheckpoints: false });
    accounts = new Accounts(store);
    written = [];
    reads = 0;
    const update = store.accounts.update.bind(store.accounts);
    store.accounts.update = (account, version, keys, events) => {
      written.push(keys);
      return update(account, version, keys, events);
    };
    const findById = store.accounts.findById.bind(store.accounts);
    store.accounts.findById = (id) => {
      reads += 1;
      return findById(id);
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

describe('a sign-in reads the account once per request', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('one read for the provider while the sign-in resumes (acr check, account, grant), one for the device record, one at /token', async () => {
    const phone = '+79990003344';
    await createAccount(h, { phone });
    const { verifier, challenge } = pkce();
    const browser = new Browser(h);
    const store = h.services.store;
    const findById = store.accounts.findById.bind(store.accounts);
    let reads = 0;
    store.accounts.findById = (id) => {
      reads += 1;
      return findById(id);
    };
    try {
      // the consent once, then a second sign-in from a fresh browser that resumes without asking
      await passConsent(browser, await signIn(browser, phone, GOOD_PASSWORD, authorizePath({}, challenge)));
      const again = new Browser(h);
      const before = reads;
      const done = await signIn(again, phone, GOOD_PASSWORD, authorizePath({}, challenge));
      const { claims } = await redeem(h, done.location, verifier);
      expect(claims.sub).to.be.a('string');
      expect(reads - before).to.equal(3);
    } finally {
      store.accounts.findById = findById;
    }
  });
});
