/**
 * Recovery without the phone or e-mail through a bank (/recover → a bank → a new password): the
 * bank must know the person by the confirmation's rules — its subject linked to the account, or
 * an accredited bank's data matching the account's verified SNILS. Every session and token of the
 * account ends; a bank is one factor, so the cabinet's sign-in still asks the second factor.
 * Numbers only typed into an account recover nothing; a stray or replayed callback, and a POST
 * without the CSRF token, are refused.
 */
import { expect } from 'chai';
import { linkedIdentities } from '../../src/federation/linking.ts';
import { Browser, decodeEntities, type Page } from '../support/browser.ts';
import { atBank, startFederation, type FederationSetup } from '../support/federation.ts';
import { addTotp, authorizePath, GOOD_PASSWORD, totpCode } from '../support/flows.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79120000011';
const IVAN_SNILS = '11223344595'; // the development bank's cust-1001
const NEW_PASSWORD = 'Новый-Пароль-Лес-77';

/** The recovery page's button for `bankId`: posts it with its own CSRF token; returns the bank's authorization URL. */
async function pressRecoveryBank(browser: Browser, page: Page, bankId: string): Promise<string> {
  const form = page.html.match(
    new RegExp(`<form method="post" action="/recover/bank/${bankId}">\\s*<input type="hidden" name="_csrf" value="([^"]+)">`),
  );
  expect(form, `the recovery page offers ${bankId} as a button`).to.not.equal(null);
  const sent = await browser.post(`/recover/bank/${bankId}`, { _csrf: decodeEntities(form![1]!) }, false);
  expect(sent.status, sent.html.slice(0, 300)).to.equal(303);
  return sent.location!;
}

describe('recovery through a bank', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation();
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  /** From /recover through the bank and back: the callback URL the bank sends the browser to. */
  async function throughBankFromRecovery(browser: Browser, bankId = 'demobank', customer = 'cust-1001'): Promise<string> {
    const page = await browser.get('/recover');
    expect(page.status).to.equal(200);
    const url = await pressRecoveryBank(browser, page, bankId);
    return atBank(f.bank.url, url, { customer });
  }

  it('a verified SNILS the accredited bank returned: new password, all sessions end, and the second factor is still asked', async () => {
    const account = await createAccount(f.h, {
      phone: PHONE,
      snils: IVAN_SNILS,
      snilsVerified: true,
      name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
    });
    const secret = await addTotp(f.h, account.id, { mfa: true });
    // a cabinet session from before (password + authenticator code)
    const before = new Browser(f.h);
    const mfa = await before.submit(await before.get('/account'), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect((await before.submit(mfa, '/mfa/verify', { code: await totpCode(secret) })).url).to.equal('/account');

    const browser = new Browser(f.h);
    const recovery = await browser.get('/recover');
    expect(recovery.html).to.include('Восстановить через Демо-банк');
    const callback = await throughBankFromRecovery(browser);
    const form = await browser.get(callback);
    expect(form.url, form.html.slice(0, 300)).to.match(/^\/recover\/bank\/password\/[A-Za-z0-9_-]{22}$/);
    expect(form.html).to.include('name="password_confirm"');
    // the password form refuses a weak password and a POST without its CSRF token
    expect((await browser.submit(form, '/recover/bank/password/', { password: 'short', password_confirm: 'short' })).status).to.equal(400);
    expect((await browser.post(form.url, { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD })).status).to.equal(403);

    const done = await browser.submit(form, '/recover/bank/password/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    // a bank is one factor: the cabinet's sign-in asks the authenticator code, not the password
    expect(done.url, done.html.slice(0, 300)).to.match(/\/mfa$/);
    expect(done.html).to.not.include('name="password"');
    const cabinet = await browser.submit(done, '/mfa/verify', { code: await totpCode(secret, 1) });
    expect(cabinet.url).to.equal('/account');
    expect(cabinet.html).to.include('id="account-name"');
    expect(auditOfType(f.h, 'account.password_recovered').map((e) => e.details)).to.deep.include({ via: 'bank', bank: 'demobank' });

    // the form and the callback cannot be replayed
    expect(
      (await browser.submit(form, '/recover/bank/password/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD })).status,
    ).to.equal(404);
    const replayed = await browser.get(callback);
    expect(replayed.status).to.equal(400);
    // the old password no longer works, the new one does; the session from before has ended
    const other = new Browser(f.h);
    expect(
      (await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: GOOD_PASSWORD })).status,
    ).to.equal(401);
    expect((await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: NEW_PASSWORD })).url).to.match(
      /\/mfa$/,
    );
    expect((await before.get('/account')).html).to.include('name="identifier"');
    expect(
      f.h.gateway.sent
        .filter((m) => m.to === PHONE)
        .map((m) => m.text)
        .join('\n'),
    ).to.include('пароль вашей учётной записи изменён');
  });

  it('a bank subject linked to the account recovers it even through a bank that is not accredited; without a second factor the citizen lands in the cabinet', async () => {
    const account = await createAccount(f.h, { phone: PHONE });
    await linkedIdentities(f.h.services).link(account.id, { provider: 'otherbank', subject: 'cust-1001' });
    const browser = new Browser(f.h);
    const form = await browser.get(await throughBankFromRecovery(browser, 'otherbank'));
    expect(form.url, form.html.slice(0, 300)).to.match(/^\/recover\/bank\/password\//);
    const done = await browser.submit(form, '/recover/bank/password/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(done.url, done.html.slice(0, 300)).to.equal('/account');
    expect(done.html).to.include('id="account-name"');
  });

  it('a SNILS only typed into an account, or data from a bank that is not accredited, recovers nothing — and the page says only what the bank proved', async () => {
    // typed in, not verified: anyone could have typed someone else's
    await createAccount(f.h, { phone: PHONE, snils: IVAN_SNILS });
    const browser = new Browser(f.h);
    const refused = await browser.get(await throughBankFromRecovery(browser));
    expect(refused.status).to.equal(404);
    expect(refused.html).to.include('Демо-банк не подтвердил ни одну учётную запись');
    expect(refused.html).to.not.include(PHONE);
    // the same words when no account holds the SNILS at all
    await resetStore(f.h);
    const nobody = new Browser(f.h);
    const none = await nobody.get(await throughBankFromRecovery(nobody));
    expect(none.status).to.equal(404);
    expect(none.html).to.include('не подтвердил ни одну учётную запись');
    // a verified SNILS, but a bank that is not accredited vouches for no data
    await createAccount(f.h, { phone: PHONE, snils: IVAN_SNILS, snilsVerified: true });
    const unaccredited = new Browser(f.h);
    expect((await unaccredited.get(await throughBankFromRecovery(unaccredited, 'otherbank'))).status).to.equal(404);
    expect(auditOfType(f.h, 'account.password_recovered')).to.have.length(0);
    expect(auditOfType(f.h, 'account.password_recover').map((e) => e.details)).to.deep.include({
      via: 'bank',
      bank: 'otherbank',
      reason: 'no_account',
    });
  });

  it('a stray callback, one from another browser, and a return without a round trip are refused', async () => {
    await createAccount(f.h, { phone: PHONE, snils: IVAN_SNILS, snilsVerified: true });
    const stray = await new Browser(f.h).get('/recover/bank-return?state=abc&code=xyz');
    expect(stray.status).to.equal(400);
    const browser = new Browser(f.h);
    const callback = await throughBankFromRecovery(browser);
    // the response arrives in another browser (no cookie of this round trip)
    const elsewhere = await new Browser(f.h).get(callback);
    expect(elsewhere.status).to.equal(400);
    expect(elsewhere.url).to.not.match(/password/);
    expect(auditOfType(f.h, 'account.password_recovered')).to.have.length(0);
  });

  it('the bank button without the CSRF token is refused, and an unknown bank is a 404', async () => {
    const browser = new Browser(f.h);
    expect((await browser.post('/recover/bank/demobank', {}, false)).status).to.equal(403);
    const page = await browser.get('/recover');
    const token = decodeEntities(
      page.html.match(/action="\/recover\/bank\/demobank">\s*<input type="hidden" name="_csrf" value="([^"]+)">/)![1]!,
    );
    expect((await browser.post('/recover/bank/nosuchbank', { _csrf: token }, false)).status).to.equal(404);
  });
});
