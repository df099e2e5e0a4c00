/**
 * An operator deletes a citizen's account (admin API, role `admin`, with a reason) and can undo
 * it within the grace; the CLI does the same against the store. The account is refused at once
 * and erased after the grace, like a deletion from the cabinet.
 */
import { expect } from 'chai';
import { cliSandbox, type CliSandbox } from '../support/cli.ts';
import { loadConfig } from '../../config/load.ts';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { Browser, csrfOf } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { addOperator, api, auditBy, type TestOperator } from './admin-fixtures.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';

describe('admin API: deleting an account', function () {
  let h: Harness;
  let boss: TestOperator;
  let desk: TestOperator;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    boss = await addOperator(h, 'boss', ['admin']);
    desk = await addOperator(h, 'desk', ['service_centre']);
  });

  it('deactivates with a reason: the citizen cannot sign in; cancel restores it', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const res = await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: 'Заявление гражданина № 17' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.account).to.include({ id: account.id, status: 'deactivated' });
    expect(Date.parse(res.body.account.erase_after)).to.be.greaterThan(Date.now() + 29 * 86_400_000);
    const event = auditBy(h, 'account.deletion_requested', 'operator:boss');
    expect(event).to.have.length(1);
    expect(event[0]!.details).to.include({ reason: 'Заявление гражданина № 17' });
    const browser = new Browser(h);
    const offer = await browser.submit(await browser.get(authorizePath()), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(offer.status).to.equal(403);
    // An operator's deletion is not the citizen's to undo: no restore, the page says whom to ask…
    expect(offer.html).to.include('Восстановить её может только оператор');
    expect(offer.html).to.not.include('id="restore"');
    expect((await browser.post(offer.url.replace(/\/login$/, '/restore'), { _csrf: csrfOf(offer.html) })).status).to.be.within(400, 410);
    // … nor can whoever holds the phone bring it back through recovery (or registration).
    const other = new Browser(h);
    const recovery = await other.submit(await other.get('/recover'), 'recover', { contact: PHONE });
    expect(recovery.status).to.be.below(500);
    expect(h.gateway.last(PHONE)!.text).to.include('Восстановить её может только оператор');
    expect(h.gateway.last(PHONE)!.text).to.not.match(/\d{6}/);
    await other.submit(await other.get('/register'), 'register', { contact: PHONE });
    expect(h.gateway.last(PHONE)!.text).to.include('Восстановить её может только оператор');
    expect((await h.services.store.accounts.findById(account.id))!.status).to.equal('deactivated');
    expect((await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: 'ещё раз' })).status).to.equal(404);
    const cancelled = await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion/cancel`).send({});
    expect(cancelled.status, cancelled.text).to.equal(200);
    expect(cancelled.body.account).to.deep.equal({ id: account.id, status: 'active' });
    expect((await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion/cancel`).send({})).status).to.equal(404);
  });

  it('refuses without a reason, with unknown fields, for an unknown account, and for a role other than admin', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const none = await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion`).send({});
    expect(none.status).to.equal(400);
    expect(none.body.error).to.equal('deletion_reason');
    expect((await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: '   ' })).status).to.equal(400);
    expect(
      (
        await api(h, boss)
          .post(`/admin/api/accounts/${account.id}/deletion`)
          .send({ reason: 'x'.repeat(501) })
      ).status,
    ).to.equal(400);
    expect((await api(h, boss).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: 'ok', extra: 1 })).status).to.equal(400);
    const unknown = await api(h, boss).post('/admin/api/accounts/no-such-id/deletion').send({ reason: 'ok' });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error).to.equal('account_not_found');
    expect((await api(h, desk).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: 'ok' })).status).to.equal(403);
    expect((await api(h).post(`/admin/api/accounts/${account.id}/deletion`).send({ reason: 'ok' })).status).to.equal(401);
    expect((await h.services.store.accounts.findById(account.id))!.status).to.equal('active');
  });
});

describe('CLI: vkhod accounts delete / restore / erase-due', function () {
  this.timeout(180_000);
  let cli: CliSandbox;
  let env: NodeJS.ProcessEnv;
  before(() => {
    cli = cliSandbox({ VKHOD_DELETION_GRACE_DAYS: '0' });
    env = cli.env;
  });
  after(() => cli.close());

  const vkhod = (...args: string[]) => cli.run(...args);

  async function withStore<T>(fn: (store: ReturnType<typeof openSqliteStore>) => Promise<T>): Promise<T> {
    const store = openSqliteStore({ path: (loadConfig(env).store as { path: string }).path, sweepIntervalMs: 0 });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  it('deletes with a reason, restores, and erases once the grace (0 days here) has ended', async () => {
    const id = await withStore(
      async (store) =>
        (
          await new Accounts(store).register({
            name: { family: 'Иванова', given: 'Мария' },
            contact: { kind: 'phone', value: PHONE },
            passwordHash: await hashPassword(GOOD_PASSWORD),
          })
        ).id,
    );
    const noReason = await vkhod('accounts', 'delete', id);
    expect(noReason.code).to.equal(2);
    expect(noReason.stderr).to.include('--reason');
    const deleted = await vkhod('accounts', 'delete', id, '--reason', 'Решение суда');
    expect(deleted.code, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.include('deactivated');
    expect((await withStore((s) => s.accounts.findById(id)))!.status).to.equal('deactivated');
    const restored = await vkhod('accounts', 'restore', id);
    expect(restored.code, restored.stderr).to.equal(0);
    expect((await withStore((s) => s.accounts.findById(id)))!.status).to.equal('active');
    expect((await vkhod('accounts', 'delete', id, '--reason', 'Решение суда')).code).to.equal(0);
    const erased = await vkhod('accounts', 'erase-due');
    expect(erased.stdout).to.include('erased 1');
    expect(await withStore((s) => s.accounts.findById(id))).to.equal(undefined);
    const events = await withStore((s) => s.audit.listForAccount(id));
    expect(events.map((e) => e.type)).to.include.members(['account.deletion_requested', 'account.deletion_cancelled', 'account.erased']);
    expect((await vkhod('accounts', 'restore', id)).code).to.equal(1);
  });
});
