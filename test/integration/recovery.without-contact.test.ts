/**
 * Recovery without the phone or e-mail (/recover): the page explains the three ways; with a
 * qualified e-signature whose SNILS is the account's verified SNILS the citizen sets a new
 * password, every session and token ends, and — the signature being two factors — they land
 * signed in, in the cabinet, without a second factor asked. A certificate whose SNILS is on no
 * account (or only typed into one) recovers nothing.
 */
import { expect } from 'chai';
import { Browser, csrfOf } from '../support/browser.ts';
import { sendSignature, signAndSend } from '../support/esign-browser.ts';
import { challengeOn, signText, startPki, type TestPki } from '../support/federation.ts';
import { addTotp, authorizePath, GOOD_PASSWORD, totpCode } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IVAN_FORM, makeConfirmed } from '../support/identity.ts';
import { auditOfType, createAccount, firstError, resetStore } from './fixtures.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const PHONE = '+79120000010';
const NEW_PASSWORD = 'Новый-Пароль-Лес-77';

describe('recovery without the phone or e-mail', function () {
  let h: Harness;
  let pki: TestPki;
  before(async () => {
    pki = await startPki();
    h = await startHarness({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.dir, VKHOD_ESIGN_CRL_FILE: pki.dir } });
  });
  after(async () => {
    await h.close();
    pki.close();
  });
  beforeEach(() => resetStore(h));

  it('the recovery page explains the three ways, the e-signature first', async () => {
    const page = await new Browser(h).get('/recover');
    expect(page.html).to.include('Нет доступа к телефону и почте?');
    const esign = page.html.indexOf('id="recover-esign"');
    const centre = page.html.indexOf('id="recover-centre"');
    expect(esign).to.be.greaterThan(0);
    expect(centre).to.be.greaterThan(esign);
    expect(page.html).to.include('В центре обслуживания');
  });

  it('with an e-signature: new password, all sessions and tokens end, signed in to the cabinet without the second factor', async () => {
    const account = await createAccount(h, { phone: PHONE });
    await makeConfirmed(h, account.id, IVAN_FORM);
    const secret = await addTotp(h, account.id, { mfa: true });
    // a cabinet session from before (password + authenticator code)
    const before = new Browser(h);
    const mfa = await before.submit(await before.get('/account'), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(mfa.url).to.match(/\/mfa$/);
    const cabinet = await before.submit(mfa, '/mfa/verify', { code: await totpCode(secret) });
    expect(cabinet.url).to.equal('/account');

    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const browser = new Browser(h);
    const page = await browser.get('/recover/esign');
    expect(page.status).to.equal(200);
    const form = await signAndSend(browser, page, citizen);
    expect(form.url).to.match(/^\/recover\/esign\/[A-Za-z0-9_-]{22}$/);
    expect(form.html).to.include('name="password_confirm"');
    // the password form refuses a weak password and a POST without the CSRF token
    const weak = await browser.submit(form, '/recover/esign/', { password: 'short', password_confirm: 'short' });
    expect(weak.status).to.equal(400);
    const forged = await browser.post(form.url, { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(forged.status).to.equal(403);
    const done = await browser.submit(form, '/recover/esign/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(done.url, done.html.slice(0, 300)).to.equal('/account');
    expect(done.html).to.include('id="account-name"');
    expect(auditOfType(h, 'account.password_recovered').map((e) => e.details)).to.deep.include({ via: 'esignature' });
    // the form cannot be replayed
    const replay = await browser.post(form.url, { _csrf: csrfOf(form.html), password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(replay.status).to.equal(404);
    // the old password no longer works, the new one does (and asks the second factor as before)
    const other = new Browser(h);
    const old = await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(old.status).to.equal(401);
    const fresh = await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: NEW_PASSWORD });
    expect(fresh.url).to.match(/\/mfa$/);
    // the session from before has ended; the citizen was told on their phone
    expect((await before.get('/account')).html).to.include('name="identifier"');
    expect(
      h.gateway.sent
        .filter((m) => m.to === PHONE)
        .map((m) => m.text)
        .join('\n'),
    ).to.include('пароль вашей учётной записи изменён');
  });

  it('a certificate whose SNILS is not verified on any account recovers nothing', async () => {
    await createAccount(h, { phone: PHONE, snils: IVAN.snils });
    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const browser = new Browser(h);
    const refused = await signAndSend(browser, await browser.get('/recover/esign'), citizen);
    expect(refused.status).to.equal(404);
    expect(firstError(refused.html)).to.include('Учётной записи с проверенным СНИЛС');
    expect(auditOfType(h, 'account.password_recovered')).to.have.length(0);
  });

  it("a signature over one browser's challenge recovers nothing from another browser", async () => {
    const account = await createAccount(h, { phone: PHONE });
    await makeConfirmed(h, account.id, IVAN_FORM);
    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const victim = new Browser(h);
    const asked = await victim.get('/recover/esign');
    const signature = await signText(challengeOn(asked).text, citizen);
    const attacker = new Browser(h);
    const own = await attacker.get('/recover/esign');
    const taken = await sendSignature(attacker, own, signature, 'file', challengeOn(asked).handle);
    expect(taken.status).to.be.within(400, 499);
    expect(taken.html).to.not.include('name="password_confirm"');
    expect(auditOfType(h, 'account.password_recovered')).to.have.length(0);
  });

  it('a POST of the signature without the CSRF token is refused', async () => {
    const res = await new Browser(h).post('/recover/esign', { handle: 'x', signature: 'AAAA' });
    expect(res.status).to.equal(403);
  });
});
