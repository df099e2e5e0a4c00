/**
 * Recovery at a service centre: the operator, with the passport in front of them, sets a new
 * confirmed contact (admin API); every session ends; the citizen sets a password by a code to the
 * new contact on the ordinary recovery page and signs in with it.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, openCabinet } from '../support/flows.ts';
import { addOperator, api, auditBy, CITIZEN, citizenWithData, standardCitizen, type TestOperator } from './admin-fixtures.ts';
import { resetStore } from './fixtures.ts';

const NEW_PHONE = '+79161234567';
const NEW_PASSWORD = 'Новый-Пароль-Лес-77';

describe('service centre: a new confirmed contact against the passport', function () {
  let h: Harness;
  let desk: TestOperator;
  let postman: TestOperator;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    desk = await addOperator(h, 'desk', ['service_centre']);
    postman = await addOperator(h, 'postman', ['post']);
  });

  const body = (extra: Record<string, unknown> = {}) => ({
    passport_series: CITIZEN.series,
    passport_number: CITIZEN.number,
    contact: '8 916 123-45-67',
    ...extra,
  });

  it('sets the contact, ends every session; the citizen recovers the password by a code to it', async () => {
    const account = await standardCitizen(h);
    const old = new Browser(h);
    expect((await openCabinet(old, '/account', CITIZEN.phone)).url).to.equal('/account');
    const res = await api(h, desk)
      .post(`/admin/api/accounts/${account.id}/contact`)
      .send(body({ office: 'МФЦ Тверская' }));
    expect(res.status, res.text).to.equal(200);
    expect(res.body.contact).to.equal('phone');
    expect(auditBy(h, 'contact.set_by_operator', 'operator:desk')).to.have.length(1);
    expect(h.gateway.last(NEW_PHONE)?.text).to.include('центре обслуживания');
    // the session from before has ended
    expect((await old.get('/account')).html).to.include('name="identifier"');
    // recovery by a code to the new phone
    const browser = new Browser(h);
    const codePage = await browser.submit(await browser.get('/recover'), 'recover', { contact: NEW_PHONE });
    const form = await browser.submit(codePage, 'recover/', { code: h.gateway.code(NEW_PHONE) });
    const done = await browser.submit(form, 'recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(done.status, done.html.slice(0, 300)).to.equal(200);
    const signedIn = await browser.submit(await browser.get(authorizePath()), '/login', { identifier: NEW_PHONE, password: NEW_PASSWORD });
    expect(signedIn.location ?? signedIn.html, 'signed in: consent or the code').to.match(/\/consent|code=/);
  });

  it('leaves a taker-over no way back: the other contact is unconfirmed and every second factor is removed', async () => {
    const account = await standardCitizen(h);
    // As an attacker who took the account over would have left it: their e-mail confirmed, their app enrolled.
    await addTotp(h, account.id, { mfa: true });
    await h.services.accounts.modify(account.id, (a) => ({ ...a, email: 'taker@example.test', emailVerified: true }));
    const res = await api(h, desk).post(`/admin/api/accounts/${account.id}/contact`).send(body());
    expect(res.status, res.text).to.equal(200);
    const after = (await h.services.accounts.findActive(account.id))!;
    expect(after).to.deep.include({ phone: NEW_PHONE, phoneVerified: true, emailVerified: false });
    expect(after.totp).to.equal(undefined);
    expect(after.mfa?.enabled).to.equal(false);
    expect(await h.services.accounts.findByKey({ kind: 'email', value: 'taker@example.test' }), 'the e-mail signs in nobody').to.equal(
      undefined,
    );
    expect(auditBy(h, 'contact.set_by_operator', 'operator:desk')[0]!.details).to.deep.include({
      other_contact_unconfirmed: true,
      factors_removed: ['totp'],
    });
    // the taker's e-mail cannot start a recovery any more
    const browser = new Browser(h);
    await browser.submit(await browser.get('/recover'), 'recover', { contact: 'taker@example.test' });
    const told = h.gateway.last('taker@example.test')?.text ?? '';
    expect(told, 'no code to the unconfirmed e-mail, only the no-account notice').to.include('не привязан к учётной записи');
    expect(told).to.not.match(/\b\d{6}\b/);
  });

  it('refuses a passport that differs or is not verified, a bad contact, a taken contact, and the wrong role', async () => {
    const unchecked = await citizenWithData(h, { phone: '+79120000001', nine: '112233446', series: '4507', number: '654321' });
    const refusedUnchecked = await api(h, desk)
      .post(`/admin/api/accounts/${unchecked.id}/contact`)
      .send(body({ passport_series: '4507', passport_number: '654321' }));
    expect(refusedUnchecked.status).to.equal(409);
    expect(refusedUnchecked.body.error).to.equal('passport_not_verified');
    const account = await standardCitizen(h);
    const mismatch = await api(h, desk)
      .post(`/admin/api/accounts/${account.id}/contact`)
      .send(body({ passport_number: '000000' }));
    expect(mismatch.status).to.equal(409);
    expect(mismatch.body.error).to.equal('passport_mismatch');
    const bad = await api(h, desk)
      .post(`/admin/api/accounts/${account.id}/contact`)
      .send(body({ contact: 'не контакт' }));
    expect(bad.status).to.equal(400);
    expect(bad.body.error).to.equal('contact');
    const taken = await api(h, desk)
      .post(`/admin/api/accounts/${account.id}/contact`)
      .send(body({ contact: '+79120000001' }));
    expect(taken.status).to.equal(409);
    expect(taken.body.error).to.equal('contact_taken');
    expect((await api(h, postman).post(`/admin/api/accounts/${account.id}/contact`).send(body())).status).to.equal(403);
    expect((await api(h, desk).post('/admin/api/accounts/nobody/contact').send(body())).status).to.equal(404);
    expect((await h.services.store.accounts.findById(account.id))!.phone).to.equal(CITIZEN.phone);
  });
});
