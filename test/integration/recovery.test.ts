import { expect } from 'chai';
import request from 'supertest';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, codeFrom, GOOD_PASSWORD, pkce, signIn } from '../support/flows.ts';
import { createAccount, errorsOn, firstError, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const NEW_PASSWORD = 'Синий-Слон-17#';
const INVALID = 'Неверный логин или пароль. Проверьте раскладку клавиатуры и Caps Lock.';

/** /recover → contact → the code page. */
async function requestCode(h: Harness, browser: Browser, contact: string, start = '/recover'): Promise<Page> {
  const page = await browser.get(start);
  expect(page.status).to.equal(200);
  return browser.submit(page, 'recover', { contact });
}

/** The whole recovery, standalone: returns the page after the new password is submitted. */
async function recover(h: Harness, browser: Browser, contact: string, normalized: string, password = NEW_PASSWORD): Promise<Page> {
  const codePage = await requestCode(h, browser, contact);
  expect(codePage.status, codePage.html).to.equal(200);
  const passwordPage = await browser.submit(codePage, 'recover/', { code: h.gateway.code(normalized) });
  expect(passwordPage.html).to.include('name="password_confirm"');
  return browser.submit(passwordPage, 'recover/', { password, password_confirm: password });
}

async function signInPage(h: Harness, identifier: string, password: string): Promise<Page> {
  const browser = new Browser(h);
  const login = await browser.get(authorizePath());
  return browser.submit(login, '/login', { identifier, password });
}

function tokenRequest(h: Harness, fields: Record<string, string>) {
  return request(h.url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send(fields);
}

/** A refresh token for the account, through sign-in, consent to offline access and the token endpoint. */
async function refreshTokenFor(h: Harness, browser: Browser): Promise<string> {
  const { verifier, challenge } = pkce();
  const rp = await signIn(browser, PHONE, GOOD_PASSWORD, authorizePath({ scope: 'openid offline_access', prompt: 'consent' }, challenge));
  const res = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code: codeFrom(rp.location),
    redirect_uri: TEST_REDIRECT,
    code_verifier: verifier,
  });
  expect(res.status, res.text).to.equal(200);
  expect(res.body.refresh_token, 'a refresh token').to.be.a('string');
  return res.body.refresh_token as string;
}

describe('password recovery', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
  });

  it('sets a new password by phone: the old one stops working, the new one works, the citizen is told', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const done = await recover(h, new Browser(h), '8 (912) 345-67-89', PHONE);
    expect(done.status).to.equal(200);
    expect(done.html).to.include('Пароль изменён. Все прежние входы завершены');

    const old = await signInPage(h, PHONE, GOOD_PASSWORD);
    expect(old.status).to.equal(401);
    expect(firstError(old.html)).to.equal(INVALID);
    codeFrom((await signIn(new Browser(h), PHONE, NEW_PASSWORD)).location);

    const notice = h.gateway.last(PHONE);
    expect(notice?.text).to.include('Иванова Мария, пароль вашей учётной записи изменён');
    expect(notice?.text).to.not.match(/\b\d{6}\b/);
    const events = await h.services.store.audit.listForAccount(account.id);
    expect(events.find((e) => e.type === 'account.password_recovered')).to.deep.include({ outcome: 'success', actor: 'self' });
  });

  it('works by e-mail too', async () => {
    await createAccount(h, { email: 'maria@example.ru' });
    const done = await recover(h, new Browser(h), ' Maria@Example.RU ', 'maria@example.ru');
    expect(done.status).to.equal(200);
    expect(h.gateway.last('maria@example.ru')?.subject).to.equal('Пароль vkhod изменён');
    codeFrom((await signIn(new Browser(h), 'maria@example.ru', NEW_PASSWORD)).location);
  });

  it('revokes existing refresh tokens and sessions', async () => {
    await createAccount(h, { phone: PHONE });
    const signedIn = new Browser(h);
    const first = await refreshTokenFor(h, signedIn);
    // Before recovery the refresh token works and the session signs in silently.
    const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: first });
    expect(refreshed.status, refreshed.text).to.equal(200);
    const refreshToken = (refreshed.body.refresh_token as string | undefined) ?? first;
    codeFrom((await signedIn.get(authorizePath({ scope: 'openid' }))).location);

    await recover(h, new Browser(h), PHONE, PHONE);

    const after = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(after.status).to.equal(400);
    expect(after.body.error).to.equal('invalid_grant');
    const again = await signedIn.get(authorizePath({ scope: 'openid' }));
    expect(again.location, 'no silent sign-in after recovery').to.equal(undefined);
    expect(again.html).to.include('name="identifier"');
  });

  it('runs inside a sign-in and comes back to it with a notice', async () => {
    await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const login = await browser.get(authorizePath());
    const recoverLink = login.html.match(/href="(\/interaction\/[^"]+\/recover)"/)![1]!;
    const codePage = await requestCode(h, browser, PHONE, recoverLink);
    const passwordPage = await browser.submit(codePage, 'recover/', { code: h.gateway.code(PHONE) });
    const back = await browser.submit(passwordPage, 'recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(back.url).to.match(/^\/interaction\/[^/?]+\?notice=password_changed$/);
    expect(back.html).to.include('Пароль изменён. Войдите с новым паролем.');
    let page = await browser.submit(back, '/login', { identifier: PHONE, password: NEW_PASSWORD });
    if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
    codeFrom(page.location);
  });

  it('looks the same for an unknown contact, but the message holds no code', async () => {
    await createAccount(h, { phone: PHONE });
    const known = await requestCode(h, new Browser(h), PHONE);
    const unknown = await requestCode(h, new Browser(h), '+79990001122');
    expect(unknown.status).to.equal(known.status);
    const shape = (p: Page) =>
      p.html
        .replace(/name="_csrf" value="[^"]+"/g, '')
        .replace(/\/recover\/[\w-]{22}/g, '/recover/FLOW')
        .replace(/\+7 9\d\d \*\*\*-\*\*-\d\d/g, 'MASKED');
    expect(shape(unknown)).to.equal(shape(known));

    const message = h.gateway.last('+79990001122');
    expect(message, 'a message is still sent').to.be.an('object');
    expect(message!.text).to.not.match(/\d{6}/);
    expect(message!.text).to.include('не привязан к учётной записи');
    expect(h.gateway.last(PHONE)!.text).to.match(/\b\d{6}\b/);

    // Any code typed for the unknown contact gets the same answer as a wrong code for a known one.
    const knownBrowser = new Browser(h);
    const knownPage = await requestCode(h, knownBrowser, '8 912 345 67 89');
    const wrongCode = h.gateway.code(PHONE) === '123456' ? '654321' : '123456';
    const knownWrong = await knownBrowser.submit(knownPage, 'recover/', { code: wrongCode });
    const unknownBrowser = new Browser(h);
    const unknownPage = await requestCode(h, unknownBrowser, '+79990001122');
    const unknownWrong = await unknownBrowser.submit(unknownPage, 'recover/', { code: wrongCode });
    expect(knownWrong.status).to.equal(400);
    expect(unknownWrong.status).to.equal(knownWrong.status);
    expect(firstError(unknownWrong.html)).to.equal(firstError(knownWrong.html));
    expect(unknownWrong.html, 'no way to set a password').to.not.include('name="password"');
  });

  it('one new password per proven contact: parallel submissions change it once, the others are told it was already changed (409)', async () => {
    const { id } = await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const codePage = await requestCode(h, browser, PHONE);
    const passwordPage = await browser.submit(codePage, 'recover/', { code: h.gateway.code(PHONE) });
    const passwords = [`${NEW_PASSWORD}-1`, `${NEW_PASSWORD}-2`, `${NEW_PASSWORD}-3`];
    const answers = await Promise.all(passwords.map((p) => browser.submit(passwordPage, 'recover/', { password: p, password_confirm: p })));
    expect(answers.filter((a) => a.status === 200 && a.html.includes('Пароль изменён'))).to.have.length(1);
    for (const refused of answers.filter((a) => !a.html.includes('Пароль изменён')))
      expect([refused.status, refused.html.includes('уже изменён')], refused.html.slice(0, 200)).to.deep.equal([409, true]);
    const events = h.services.store.audit.listForAccount(id, 50);
    expect((await events).filter((e) => e.type === 'account.password_recovered')).to.have.length(1);
  });

  it('refuses a weak new password with the rules it breaks, and keeps the old password', async () => {
    await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const codePage = await requestCode(h, browser, PHONE);
    const passwordPage = await browser.submit(codePage, 'recover/', { code: h.gateway.code(PHONE) });

    const weak = await browser.submit(passwordPage, 'recover/', { password: 'qwerty', password_confirm: 'qwerty' });
    expect(weak.status).to.equal(400);
    expect(errorsOn(weak.html)).to.include.members([
      'Пароль должен быть не короче 8 символов.',
      'Добавьте заглавную букву.',
      'Добавьте цифру.',
      'Добавьте символ, например ! или #.',
      'Этот пароль слишком простой или часто встречается — придумайте другой.',
    ]);
    const personal = await browser.submit(weak, 'recover/', { password: 'Кит-9123456789!', password_confirm: 'Кит-9123456789!' });
    expect(personal.status).to.equal(400);
    expect(errorsOn(personal.html)).to.deep.equal(['Пароль не должен содержать ваш телефон, почту или имя.']);
    const mismatch = await browser.submit(personal, 'recover/', { password: NEW_PASSWORD, password_confirm: `${NEW_PASSWORD}x` });
    expect(mismatch.status).to.equal(400);
    expect(errorsOn(mismatch.html)).to.deep.equal(['Пароли не совпадают.']);

    // Nothing changed yet: the old password still signs in, and no "changed" notice was sent.
    codeFrom((await signIn(new Browser(h), PHONE, GOOD_PASSWORD)).location);
    expect(h.gateway.sent.some((m) => m.text.includes('изменён'))).to.equal(false);

    // The same flow can still finish with a good password.
    const done = await browser.submit(mismatch, 'recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(done.html).to.include('Пароль изменён.');
  });
});

describe('password recovery after a lockout', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3' } });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
  });

  it('lifts the lockout of the recovered login', async () => {
    await createAccount(h, { phone: PHONE });
    for (let i = 1; i <= 3; i += 1) await signInPage(h, PHONE, `Не-тот-пароль-${i}!`);
    expect((await signInPage(h, PHONE, GOOD_PASSWORD)).status, 'locked').to.equal(429);
    await recover(h, new Browser(h), PHONE, PHONE);
    codeFrom((await signIn(new Browser(h), PHONE, NEW_PASSWORD)).location);
  });

  it('keeps the count when a second factor is still to be guessed: a recovery by one factor does not reset the budget of guesses', async () => {
    const account = await createAccount(h, { phone: PHONE });
    await addTotp(h, account.id, { mfa: true });
    for (let i = 1; i <= 3; i += 1) await signInPage(h, PHONE, `Не-тот-пароль-${i}!`);
    await recover(h, new Browser(h), PHONE, PHONE);
    expect((await signInPage(h, PHONE, NEW_PASSWORD)).status, 'still locked after a recovery by the SMS code alone').to.equal(429);
  });
});
