/**
 * Deleting an account that has no password (made through a bank): a fresh sign-in, then a
 * one-time code sent to its confirmed contact (its own purpose, so its own send budget) instead of
 * the password; a wrong code deletes nothing. An account with no confirmed contact either has the
 * fresh sign-in and the explicit confirmation only.
 */
import { expect } from 'chai';
import { DELETION_CODE_PURPOSE } from '../../src/cabinet/deletion.ts';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { auditOfType, firstError, resetStore, sqlite } from './fixtures.ts';

const IVAN_PHONE = '+79161234567'; // the development bank's cust-1001, verified at the bank

describe('cabinet: deleting an account without a password', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation();
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  /** Signs in to the cabinet through the bank (a new account, no password); the deletion page. */
  async function deletionPage(browser: Browser, customer: string): Promise<Page> {
    const cabinet = await throughBank(browser, f.bank, await browser.get('/account'), { customer });
    expect(cabinet.url, cabinet.html.slice(0, 300)).to.equal('/account');
    return browser.get('/account/delete');
  }

  const status = async (customer: string) =>
    (await f.h.services.store.accounts.findByKey({ kind: 'fed:demobank', value: customer }))?.status;

  it('asks for a code to the confirmed phone instead of the password; a wrong code deletes nothing, the right one deletes', async () => {
    const browser = new Browser(f.h);
    const page = await deletionPage(browser, 'cust-1001');
    expect(page.html).to.not.include('name="password"');
    expect(page.html).to.not.include('id="delete-form"');
    expect(page.html).to.include('У учётной записи нет пароля');
    expect(page.html).to.include('id="delete-code-form"');
    // deleting before a code was asked for is refused
    const early = await browser.post('/account/delete', { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)![1]!, understand: 'on' });
    expect(early.status).to.equal(400);
    expect(firstError(early.html)).to.equal('Сначала получите код подтверждения.');

    const sent = await browser.submit(page, '/account/delete/code', {});
    expect(sent.url).to.equal('/account/delete');
    expect(sent.html).to.include('id="delete-form"');
    expect(sent.html).to.include('name="code"');
    const code = f.h.gateway.code(IVAN_PHONE);
    expect(f.h.gateway.last(IVAN_PHONE)!.text).to.include('для удаления вашей учётной записи');
    const purposes = (sqlite(f.h).prepare('SELECT doc FROM challenges').all() as Array<{ doc: string }>).map(
      (r) => (JSON.parse(r.doc) as { purpose: string }).purpose,
    );
    expect(purposes).to.include(DELETION_CODE_PURPOSE);

    const wrongCode = code === '000000' ? '111111' : '000000';
    const deleteWith = (fields: Record<string, string>) => browser.post('/account/delete', { _csrf: csrfOf(sent.html), ...fields });
    const wrong = await deleteWith({ code: wrongCode, understand: 'on' });
    expect(wrong.status).to.equal(400);
    expect(firstError(wrong.html)).to.include('Неверный код');
    expect(await status('cust-1001')).to.equal('active');
    expect(auditOfType(f.h, 'account.deletion_requested').map((e) => e.details)).to.deep.include({ reason: 'code_wrong' });

    const done = await deleteWith({ code: ` ${code.slice(0, 3)} ${code.slice(3)} `, understand: 'on' });
    expect(done.status, done.html.slice(0, 300)).to.equal(200);
    expect(done.html).to.include('Учётная запись отключена');
    expect(await status('cust-1001')).to.equal('deactivated');
  });

  it('an account with no confirmed contact: the fresh sign-in and the explicit confirmation', async () => {
    const browser = new Browser(f.h);
    // cust-1003's phone is not verified at the bank: the account has no confirmed contact
    const page = await deletionPage(browser, 'cust-1003');
    expect(page.html).to.not.include('id="delete-code-form"');
    expect(page.html).to.not.include('name="code"');
    expect(page.html).to.not.include('name="password"');
    expect((await browser.post('/account/delete/code', { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)![1]! })).status).to.equal(
      400,
    );
    const unticked = await browser.submit(page, '/account/delete', {});
    expect(unticked.status).to.equal(400);
    expect(await status('cust-1003')).to.equal('active');
    const done = await browser.submit(page, '/account/delete', { understand: 'on' });
    expect(done.html).to.include('Учётная запись отключена');
    expect(await status('cust-1003')).to.equal('deactivated');

    // The bank is its only way in: signing in through it again within the grace offers the restore
    // (before: "this bank profile is linked to another account", and the account was lost).
    const again = new Browser(f.h);
    const offer = await throughBank(again, f.bank, await again.get('/account'), { customer: 'cust-1003' });
    expect(offer.status).to.equal(403);
    expect(offer.html).to.include('id="restore"');
    const restored = await again.submit(offer, '/restore', {});
    expect(restored.url, restored.html.slice(0, 300)).to.equal('/account');
    expect(await status('cust-1003')).to.equal('active');
  });
});
