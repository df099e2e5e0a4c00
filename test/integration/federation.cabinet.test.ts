/**
 * Banks in the citizen's cabinet (/account/federation): link a bank after a fresh sign-in (an
 * accredited bank then confirms the account), unlink it, and the refusals — a bank profile that is
 * someone else's, a bank whose person has another name, unlinking the only way in.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { atBank, startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { auditOfType, createAccount, firstError, resetStore, sqlite } from './fixtures.ts';

const PHONE = '+79120000003';
const OLGA = { family: 'Смирнова', given: 'Ольга', middle: 'Николаевна' };

describe('federation: banks in the cabinet', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation();
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  /** Presses "Привязать" for a bank on the cabinet page and goes through the bank as `customer`. */
  async function linkBank(browser: Browser, page: Page, customer: string, bankId = 'demobank'): Promise<Page> {
    const started = await browser.submit(page, `/account/federation/banks/${bankId}/link`, {});
    expect(started.location, `a redirect to the bank, got ${started.status}: ${started.html.slice(0, 300)}`).to.be.a('string');
    return browser.get(await atBank(f.bank.url, started.location!, { customer }));
  }

  it('links a bank after a fresh sign-in; an accredited bank confirms the account with its data', async () => {
    const account = await createAccount(f.h, { phone: PHONE, name: OLGA });
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/federation', PHONE);
    expect(page.url).to.equal('/account/federation');
    expect(page.html).to.include('Демо-банк');
    expect(page.html).to.include('Привязать');

    const done = await linkBank(browser, page, 'cust-1002');
    expect(done.url).to.equal('/account/federation?notice=bank_linked');
    expect(done.html).to.include('Банк привязан.');
    expect(done.html).to.match(/action="\/account\/federation\/banks\/demobank\/unlink"/);
    const stored = (await f.h.services.accounts.findActive(account.id))!;
    expect(stored.federations?.map((l) => [l.provider, l.subject])).to.deep.equal([['demobank', 'cust-1002']]);
    expect(stored.level).to.equal('confirmed');
    expect(stored.snils).to.equal('15678901211');
    expect(stored.identity?.birthDate).to.equal('1990-07-21');
    expect(f.h.gateway.last(PHONE)?.text).to.include('привязан банк «Демо-банк»');

    // From now on the bank signs the citizen in to this account.
    const other = new Browser(f.h);
    const login = await other.get('/account');
    const back = await throughBank(other, f.bank, login, { customer: 'cust-1002' });
    expect(back.url).to.equal('/account');
    expect(back.html).to.include('Смирнова Ольга Николаевна');
  });

  it('a bank whose confirmation fails (its SNILS is verified on another account) is not linked either: one write, nothing half done', async () => {
    // Another account holds cust-1002's SNILS verified.
    await createAccount(f.h, { phone: '+79120000004', name: OLGA, snils: '15678901211', snilsVerified: true });
    const account = await createAccount(f.h, { phone: PHONE, name: OLGA });
    const browser = new Browser(f.h);
    const refused = await linkBank(browser, await openCabinet(browser, '/account/federation', PHONE), 'cust-1002');
    expect(refused.status).to.equal(409);
    const stored = (await f.h.services.accounts.findActive(account.id))!;
    expect(stored.federations ?? [], 'no link left behind (before: linked while the page said it failed)').to.deep.equal([]);
    expect(auditOfType(f.h, 'federation.linked')).to.deep.equal([]);
  });

  it('unlinks a bank, and tells the citizen', async () => {
    const account = await createAccount(f.h, { phone: PHONE, name: OLGA });
    const browser = new Browser(f.h);
    const linked = await linkBank(browser, await openCabinet(browser, '/account/federation', PHONE), 'cust-1002');
    const done = await browser.submit(linked, '/banks/demobank/unlink', {});
    expect(done.url).to.equal('/account/federation?notice=bank_unlinked');
    expect((await f.h.services.accounts.findActive(account.id))!.federations).to.deep.equal([]);
    expect(await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1002' })).to.equal(undefined);
    expect(auditOfType(f.h, 'federation.unlinked').map((e) => e.accountId)).to.deep.equal([account.id]);
    expect(f.h.gateway.last(PHONE)?.text).to.include('отвязан');
  });

  it('refuses to unlink the only way into an account made by a bank', async () => {
    const browser = new Browser(f.h);
    const page = await throughBank(browser, f.bank, await browser.get('/account/federation'), { customer: 'cust-1001' });
    expect(page.url).to.equal('/account/federation');
    const refused = await browser.submit(page, '/banks/demobank/unlink', {});
    expect(refused.status).to.equal(409);
    expect(firstError(refused.html)).to.equal(
      'Это единственный способ входа в учётную запись. Сначала задайте пароль (через «Восстановить доступ») или добавьте ключ доступа.',
    );
    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1001' }))!;
    expect(account.federations).to.have.length(1);
  });

  it('refuses a bank profile already linked to another account, and a bank whose person has another name', async () => {
    // Иван Петров's bank profile belongs to the account the bank made for him.
    const ivan = new Browser(f.h);
    await throughBank(ivan, f.bank, await ivan.get('/account'), { customer: 'cust-1001' });
    await createAccount(f.h, { phone: PHONE, name: OLGA });
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/federation', PHONE);

    const taken = await linkBank(browser, page, 'cust-1001');
    expect(taken.status).to.equal(409);
    expect(firstError(taken.html)).to.equal('Этот профиль банка «Демо-банк» уже привязан к другой учётной записи.');

    const otherName = await linkBank(browser, await browser.get('/account/federation'), 'cust-1003');
    expect(otherName.status).to.equal(409);
    expect(firstError(otherName.html)).to.include('ФИО в банке «Демо-банк» не совпадает с ФИО учётной записи');
    const olga = (await f.h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!;
    expect(olga.federations ?? []).to.deep.equal([]);
    expect(olga.level).to.equal('simplified');
  });

  it("links a bank only from a fresh sign-in and with the form's CSRF token", async () => {
    const account = await createAccount(f.h, { phone: PHONE, name: OLGA });
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/federation', PHONE);
    const forged = await browser.post('/account/federation/banks/demobank/link', {});
    expect(forged.status).to.equal(403);
    expect(forged.location).to.equal(undefined);

    // Six minutes later the same form is refused until the citizen signs in again.
    const adapter = f.h.services.store.oidcAdapter('Session');
    for (const { id } of sqlite(f.h).prepare("SELECT id FROM oidc WHERE model = 'Session' AND account_id = ?").all(account.id) as Array<{
      id: string;
    }>) {
      const session = (await adapter.find(id))!;
      await adapter.upsert(id, { ...session, loginTs: (session.loginTs as number) - 360 }, 3600);
    }
    const stale = await browser.post('/account/federation/banks/demobank/link', { _csrf: csrfOf(page.html) }, false);
    expect(stale.status).to.equal(403);
    expect(stale.location, 'not sent to the bank').to.equal(undefined);
    expect((await browser.get('/account/federation')).html).to.include('href="/account/reauth?return=/account/federation"');
  });
});
