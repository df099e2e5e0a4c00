/**
 * The cabinet's contacts page (/account/contacts): the mobile and the e-mail with their status;
 * adding or changing one with a code sent to the NEW contact; removing one. Starting a change
 * needs a sign-in within 5 minutes and every POST a CSRF token; the change is audited, the
 * replaced contact is told, and the new contact is from then on the login and the SMS factor.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import { startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { auditOfType, createAccount, errorsOn, expireChallenge, firstError, resetStore, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';
const NEW_PHONE = '+79031234567';
const EMAIL = 'maria@example.ru';
const REAUTH = 'Для этого действия подтвердите вход: откройте настройки безопасности и нажмите «Подтвердить вход».';
const CSRF = 'Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите действие.';
const BAD_LOGIN = 'Неверный логин или пароль. Проверьте раскладку клавиатуры и Caps Lock.';

/** Moves the sign-in time of the account's sessions `seconds` into the past. */
async function ageSessions(h: Harness, accountId: string, seconds: number): Promise<void> {
  const adapter = h.services.store.oidcAdapter('Session');
  const rows = sqlite(h).prepare("SELECT id FROM oidc WHERE model = 'Session' AND account_id = ?").all(accountId) as Array<{ id: string }>;
  expect(rows, 'a session of the account').to.not.be.empty;
  for (const { id } of rows) {
    const session = (await adapter.find(id))!;
    await adapter.upsert(id, { ...session, loginTs: (session.loginTs as number) - seconds }, 3600);
  }
}

/** The change records of the cabinet still waiting for their code (any session; a done one is kept, spent). */
function pendingChanges(h: Harness): number {
  return (
    sqlite(h)
      .prepare("SELECT COUNT(*) AS n FROM oidc WHERE model = 'VkhodFlow' AND id LIKE 'contact-change.%' AND consumed IS NULL")
      .get() as { n: number }
  ).n;
}

/** Types a new contact into its section's form; returns the page after it. */
function startChange(browser: Browser, page: Page, kind: 'phone' | 'email', value: string): Promise<Page> {
  return browser.submit(page, `/account/contacts/${kind}`, { value });
}

const messagesTo = (h: Harness, to: string) => h.gateway.sent.filter((m) => m.to === to).map((m) => m.text);

describe('cabinet: contacts', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;
  let page: Page;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
    browser = new Browser(h);
    page = await openCabinet(browser, '/account/contacts', PHONE);
    expect(page.url).to.equal('/account/contacts');
  });

  const account = async () => (await h.services.accounts.findActive(accountId))!;

  it('shows the mobile and the e-mail with their status; the cabinet links to it', async () => {
    expect((await browser.get('/account')).html).to.include('href="/account/contacts"');
    expect(page.html).to.include('Телефон и почта');
    expect(page.html).to.match(/id="phone-value">\+7 912 345-67-89</);
    expect(page.html).to.match(/id="phone-status">подтверждён</);
    expect(page.html).to.match(/id="email-status">Адрес не указан\.</);
    expect(page.html).to.include('Изменить номер');
    expect(page.html).to.include('Добавить адрес');
    expect(page.html, 'the only contact has no remove button').to.not.include('action="/account/contacts/phone/remove"');
    expect(page.html).to.include('Это единственный подтверждённый контакт');
    expect(page.html, 'the page is fresh: no reauth prompt').to.not.include('Чтобы изменить контакты');
  });

  it('adds an e-mail with a code sent to it: audited, the mobile is told, and the address then signs in', async () => {
    const sent = await startChange(browser, page, 'email', '  Maria@Example.RU ');
    expect(sent.url).to.equal('/account/contacts');
    expect(sent.html).to.include('Мы отправили письмо с кодом на адрес m***@example.ru.');
    expect(h.gateway.last(EMAIL)?.subject).to.equal('Код для подтверждения контакта vkhod');
    expect(h.gateway.last(EMAIL)?.text).to.match(/^vkhod: код \d{6} для привязки этого контакта к учётной записи\./);
    expect((await account()).email, 'nothing changes before the code').to.equal(undefined);

    const done = await browser.submit(sent, '/account/contacts/email/confirm', { code: h.gateway.code(EMAIL) });
    expect(done.url).to.equal('/account/contacts?notice=email_added');
    expect(done.html).to.include('Адрес почты подтверждён и добавлен.');
    expect(done.html).to.match(/id="email-value">maria@example\.ru</);
    expect(done.html).to.match(/id="email-status">подтверждена</);
    expect(done.html, 'two confirmed contacts: each can go').to.include('action="/account/contacts/phone/remove"');
    const stored = await account();
    expect([stored.email, stored.emailVerified, stored.phone]).to.deep.equal([EMAIL, true, PHONE]);
    expect(pendingChanges(h)).to.equal(0);

    const events = auditOfType(h, 'contact.changed');
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ accountId, outcome: 'success' });
    expect(events[0]!.details).to.deep.equal({ kind: 'email', action: 'added', to: 'm***@example.ru' });
    expect(messagesTo(h, PHONE).at(-1)).to.equal(
      'vkhod: к учётной записи добавлен адрес почты m***@example.ru. Если это были не вы, срочно восстановите доступ.',
    );

    const rpBrowser = new Browser(h);
    const rp = await passConsent(rpBrowser, await submitPassword(rpBrowser, EMAIL));
    expect(rp.location, 'the new address is a login').to.match(/[?&]code=/);
  });

  it('the code form sent twice (a double click): the contact is added once, and each answer says it is confirmed — not "code already used"', async () => {
    const sent = await startChange(browser, page, 'email', EMAIL);
    const code = h.gateway.code(EMAIL);
    const answers = await Promise.all([1, 2, 3].map(() => browser.submit(sent, '/account/contacts/email/confirm', { code })));
    for (const answer of answers) {
      expect(answer.url, errorsOn(answer.html).join(' ')).to.match(/^\/account\/contacts\?notice=email_(added|confirmed)$/);
      expect(errorsOn(answer.html)).to.deep.equal([]);
    }
    expect(answers.filter((a) => a.url.endsWith('email_added'))).to.have.length(1);
    expect(answers.find((a) => a.url.endsWith('email_confirmed'))!.html).to.include('Адрес почты подтверждён.');
    expect(auditOfType(h, 'contact.changed')).to.have.length(1);
    // Sent again later (the back button): the same answer, not "no change is waiting".
    const later = await browser.submit(sent, '/account/contacts/email/confirm', { code });
    expect(later.url).to.equal('/account/contacts?notice=email_confirmed');
    expect(pendingChanges(h), 'no change waits any more').to.equal(0);
  });

  it('a new change started while the previous one is being confirmed is not marked done by it: its own code still works', async () => {
    const OTHER = 'maria.other@example.ru';
    const first = await startChange(browser, page, 'email', EMAIL);
    const accounts = h.services.accounts;
    const modify = accounts.modify.bind(accounts);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    accounts.modify = (async (...args: Parameters<typeof modify>) => {
      entered();
      await held;
      return modify(...args);
    }) as typeof accounts.modify;
    let confirming: Promise<Page>;
    try {
      confirming = browser.submit(first, '/account/contacts/email/confirm', { code: h.gateway.code(EMAIL) });
      await inside;
      accounts.modify = modify;
      // meanwhile, the same session starts another change of the address
      const second = await browser.post('/account/contacts/email', { _csrf: csrfOf(page.html), value: OTHER });
      expect(second.html, errorsOn(second.html).join(' ')).to.include('action="/account/contacts/email/confirm"');
      release();
      expect((await confirming).url).to.equal('/account/contacts?notice=email_added');
      const done = await browser.submit(second, '/account/contacts/email/confirm', { code: h.gateway.code(OTHER) });
      expect(done.url, errorsOn(done.html).join(' ')).to.equal('/account/contacts?notice=email_changed');
      expect((await account()).email).to.equal(OTHER);
    } finally {
      accounts.modify = modify;
      release();
    }
  });

  it('changes the mobile: the new number signs in and gets the SMS second factor; the old one is told and no longer signs in', async () => {
    const sent = await startChange(browser, page, 'phone', '8 (903) 123-45-67');
    expect(sent.html).to.include('Мы отправили SMS с кодом на номер +7 903 ***-**-67.');
    expect(
      messagesTo(h, PHONE).filter((t) => t.includes('код')),
      'no code to the old number',
    ).to.deep.equal([]);
    const done = await browser.submit(sent, '/account/contacts/phone/confirm', { code: h.gateway.code(NEW_PHONE) });
    expect(done.url).to.equal('/account/contacts?notice=phone_changed');
    expect(done.html).to.include('Номер телефона изменён. Входите по новому номеру.');
    expect(done.html).to.match(/id="phone-value">\+7 903 123-45-67</);

    expect(messagesTo(h, PHONE).at(-1)).to.equal(
      'vkhod: номер телефона вашей учётной записи заменён на +7 903 ***-**-67, этот номер больше не используется для входа. Если это были не вы, срочно восстановите доступ.',
    );
    expect(auditOfType(h, 'contact.changed')[0]!.details).to.deep.equal({
      kind: 'phone',
      action: 'changed',
      from: '+7 912 ***-**-89',
      to: '+7 903 ***-**-67',
    });
    expect(await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }), 'the old number finds nothing').to.equal(undefined);
    expect((await h.services.accounts.findByKey({ kind: 'phone', value: NEW_PHONE }))?.id).to.equal(accountId);

    const old = await submitPassword(new Browser(h), PHONE);
    expect(old.status).to.equal(401);
    expect(firstError(old.html)).to.equal(BAD_LOGIN);

    // Sign-in with confirmation by SMS: the code goes to the new number.
    await h.services.accounts.modify(accountId, (a) => ({ ...a, mfa: { enabled: true, preferred: 'sms' } }));
    const rp = new Browser(h);
    const { verifier, challenge } = pkce();
    const mfa = await submitPassword(rp, NEW_PHONE, authorizePath({}, challenge));
    expect(mfa.url).to.match(/\/mfa$/);
    expect(mfa.html).to.include('+7 903 ***-**-67');
    const codePage = await rp.submit(mfa, '/mfa/sms/send', {});
    expect(h.gateway.last(NEW_PHONE)?.text).to.match(/^vkhod: код подтверждения входа \d{6}/);
    const back = await passConsent(rp, await rp.submit(codePage, '/mfa/verify', { code: h.gateway.code(NEW_PHONE) }));
    const { body, claims } = await redeem(h, back.location, verifier);
    expect(claims.sub).to.equal(accountId);
    expect(claims.amr).to.have.members(['pwd', 'sms', 'mfa']);
    const userinfo = await request(h.url).get('/me').set('authorization', `Bearer ${body.access_token}`);
    expect(userinfo.body).to.deep.include({ phone_number: NEW_PHONE, phone_number_verified: true });
  });

  describe('refuses, with a message the citizen can act on', () => {
    it('a malformed or missing number or address (400), sending nothing', async () => {
      const cases: Array<['phone' | 'email', string, string]> = [
        ['phone', '', 'Введите номер мобильного телефона.'],
        ['phone', '12345', 'Не похоже на российский мобильный номер. Он начинается с +7 9, например +7 912 345-67-89.'],
        ['phone', '+7 495 123-45-67', 'Не похоже на российский мобильный номер. Он начинается с +7 9, например +7 912 345-67-89.'],
        ['phone', 'maria@example.ru', 'Не похоже на российский мобильный номер. Он начинается с +7 9, например +7 912 345-67-89.'],
        ['email', '   ', 'Введите адрес электронной почты.'],
        ['email', 'maria@', 'Не похоже на адрес электронной почты. Пример: ivanov@mail.ru.'],
        ['email', `${'a'.repeat(250)}@example.ru`, 'Не похоже на адрес электронной почты. Пример: ivanov@mail.ru.'],
      ];
      for (const [kind, value, message] of cases) {
        const res = await startChange(browser, page, kind, value);
        expect(res.status, `${kind} ${value}`).to.equal(400);
        expect(errorsOn(res.html), `${kind} ${value}`).to.deep.equal([message]);
        expect(res.html, 'what was typed is shown again').to.include(`id="${kind}-input"`);
      }
      const same = await startChange(browser, page, 'phone', '+7 912 345-67-89');
      expect(same.status).to.equal(400);
      expect(firstError(same.html)).to.equal('Этот номер уже подтверждён в вашей учётной записи.');
      expect(h.gateway.sent.filter((m) => m.text.includes('привязки'))).to.deep.equal([]);
      expect(pendingChanges(h)).to.equal(0);
    });

    it('a wrong code (400); after 3 the code is dead (410) even when right; a new code works', async () => {
      const sent = await startChange(browser, page, 'phone', NEW_PHONE);
      const good = h.gateway.code(NEW_PHONE);
      const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
      const first = await browser.submit(sent, '/account/contacts/phone/confirm', { code: wrong });
      expect(first.status).to.equal(400);
      expect(firstError(first.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      expect(first.html, 'the code form stays').to.include('action="/account/contacts/phone/confirm"');
      await browser.submit(sent, '/account/contacts/phone/confirm', { code: 'abc' });
      const third = await browser.submit(sent, '/account/contacts/phone/confirm', { code: wrong });
      expect(third.status).to.equal(410);
      expect(firstError(third.html)).to.equal('Код введён неверно слишком много раз. Запросите новый код.');
      const late = await browser.submit(sent, '/account/contacts/phone/confirm', { code: good });
      expect(late.status).to.equal(410);
      expect((await account()).phone).to.equal(PHONE);

      const resent = await browser.submit(late, '/account/contacts/phone/resend', {});
      expect(resent.url).to.equal('/account/contacts?notice=code_resent');
      expect(resent.html).to.include('Новый код отправлен.');
      const done = await browser.submit(resent, '/account/contacts/phone/confirm', { code: h.gateway.code(NEW_PHONE) });
      expect(done.url).to.equal('/account/contacts?notice=phone_changed');
      expect((await account()).phone).to.equal(NEW_PHONE);
    });

    it('an expired code (410)', async () => {
      const sent = await startChange(browser, page, 'email', EMAIL);
      const row = sqlite(h).prepare("SELECT id FROM oidc WHERE model = 'VkhodFlow' AND id LIKE 'contact-change.%'").get() as { id: string };
      const pending = (await h.services.store.oidcAdapter('VkhodFlow').find(row.id))!;
      expireChallenge(h, pending.challengeId as string);
      const res = await browser.submit(sent, '/account/contacts/email/confirm', { code: h.gateway.code(EMAIL) });
      expect(res.status).to.equal(410);
      expect(firstError(res.html)).to.equal('Срок действия кода истёк. Запросите новый код.');
      expect((await account()).email).to.equal(undefined);
    });

    it('too many codes to one contact (429), and a gateway that is down (503)', async () => {
      let current = await startChange(browser, page, 'email', EMAIL);
      current = await browser.submit(current, '/account/contacts/email/resend', {});
      current = await browser.submit(current, '/account/contacts/email/resend', {});
      expect(current.url).to.equal('/account/contacts?notice=code_resent');
      const limited = await browser.submit(current, '/account/contacts/email/resend', {});
      expect(limited.status).to.equal(429);
      expect(firstError(limited.html)).to.match(/^Коды отправлялись слишком часто\. Следующий можно запросить через \d+ мин\.$/);
      // Starting again does not get round the limit.
      const cancelled = await browser.submit(limited, '/account/contacts/email/cancel', {});
      const restarted = await startChange(browser, cancelled, 'email', EMAIL);
      expect(restarted.status).to.equal(429);
      expect(h.gateway.sent.filter((m) => m.to === EMAIL)).to.have.length(3);

      h.gateway.failing = true;
      const down = await startChange(browser, restarted, 'email', 'other@example.ru');
      expect(down.status).to.equal(503);
      expect(firstError(down.html)).to.equal('Не удалось отправить сообщение. Попробуйте ещё раз через несколько минут.');
      expect(pendingChanges(h)).to.equal(0);
    });

    it('a code with no change waiting (410), a cancelled change, an unknown kind of contact (404)', async () => {
      const none = await browser.post('/account/contacts/phone/confirm', { _csrf: csrfOf(page.html), code: '123456' });
      expect(none.status).to.equal(410);
      expect(firstError(none.html)).to.equal('Изменение не найдено или время на него истекло. Укажите контакт ещё раз.');

      const sent = await startChange(browser, page, 'phone', NEW_PHONE);
      const cancelled = await browser.submit(sent, '/account/contacts/phone/cancel', {});
      expect(cancelled.url).to.equal('/account/contacts');
      expect(cancelled.html).to.not.include('action="/account/contacts/phone/confirm"');
      const late = await browser.post('/account/contacts/phone/confirm', { _csrf: csrfOf(page.html), code: h.gateway.code(NEW_PHONE) });
      expect(late.status).to.equal(410);
      expect((await account()).phone).to.equal(PHONE);

      const unknown = await browser.post('/account/contacts/fax', { _csrf: csrfOf(page.html), value: '123' });
      expect(unknown.status).to.equal(404);
    });

    it('a contact used by another account, the code form sent twice: both answers say it is taken (409), not "code already used"', async () => {
      await createAccount(h, { phone: NEW_PHONE, name: { family: 'Петров', given: 'Пётр' } });
      const sent = await startChange(browser, page, 'phone', NEW_PHONE);
      const code = h.gateway.code(NEW_PHONE);
      const answers = await Promise.all([1, 2].map(() => browser.submit(sent, '/account/contacts/phone/confirm', { code })));
      for (const answer of answers) {
        expect(answer.status).to.equal(409);
        expect(errorsOn(answer.html)).to.deep.equal(['Этот номер уже используется. Укажите другой номер.']);
      }
      expect((await account()).phone).to.equal(PHONE);
    });

    it('a contact used by another account: said only after the code proves it, as "already used" (409), nothing changes', async () => {
      const other = await createAccount(h, { phone: NEW_PHONE, name: { family: 'Петров', given: 'Пётр' } });
      const sent = await startChange(browser, page, 'phone', NEW_PHONE);
      expect(sent.status, 'the start looks the same as for a free number').to.equal(200);
      expect(sent.html).to.include('Мы отправили SMS с кодом на номер +7 903 ***-**-67.');
      const taken = await browser.submit(sent, '/account/contacts/phone/confirm', { code: h.gateway.code(NEW_PHONE) });
      expect(taken.status).to.equal(409);
      expect(errorsOn(taken.html)).to.deep.equal(['Этот номер уже используется. Укажите другой номер.']);
      expect(taken.html).to.not.include('Петров');
      expect((await account()).phone).to.equal(PHONE);
      expect((await h.services.accounts.findByKey({ kind: 'phone', value: NEW_PHONE }))?.id).to.equal(other.id);
      expect(auditOfType(h, 'contact.changed').map((e) => [e.outcome, e.details])).to.deep.equal([
        ['failure', { kind: 'phone', reason: 'taken' }],
      ]);
      expect(messagesTo(h, PHONE), 'nothing is told: nothing changed').to.deep.equal([]);
      expect(pendingChanges(h)).to.equal(0);
    });
  });

  describe('removing a contact', () => {
    it('refuses the only confirmed contact of an account with a password (409)', async () => {
      const res = await browser.post('/account/contacts/phone/remove', { _csrf: csrfOf(page.html) }, false);
      expect(res.status).to.equal(409);
      expect(firstError(res.html)).to.equal(
        'Нельзя удалить единственный подтверждённый контакт: по нему вы входите и восстанавливаете доступ. Сначала добавьте другой.',
      );
      expect((await account()).phone).to.equal(PHONE);
      const missing = await browser.post('/account/contacts/email/remove', { _csrf: csrfOf(page.html) }, false);
      expect(missing.status).to.equal(404);
    });

    it('removes one of two: the key goes, the removed contact is told, sign-in with confirmation follows the factors left', async () => {
      await h.services.accounts.modify(accountId, (a) => ({
        ...a,
        email: EMAIL,
        emailVerified: true,
        mfa: { enabled: true, preferred: 'sms' },
      }));
      await addTotp(h, accountId);
      const fresh = await browser.get('/account/contacts');
      const done = await browser.submit(fresh, '/account/contacts/phone/remove', {});
      expect(done.url).to.equal('/account/contacts?notice=phone_removed');
      expect(done.html).to.include('Номер телефона удалён.');
      expect(done.html).to.match(/id="phone-status">Номер не указан\.</);
      const stored = await account();
      expect([stored.phone, stored.phoneVerified]).to.deep.equal([undefined, false]);
      expect(stored.mfa, 'SMS is gone: the app is the main factor now').to.deep.equal({ enabled: true, preferred: 'totp' });
      expect(await h.services.accounts.findByKey({ kind: 'phone', value: PHONE })).to.equal(undefined);
      expect(messagesTo(h, PHONE).at(-1)).to.equal(
        'vkhod: этот номер телефона удалён из учётной записи и больше не используется для входа. Если это были не вы, срочно восстановите доступ.',
      );
      expect(auditOfType(h, 'contact.removed').map((e) => e.details)).to.deep.equal([{ kind: 'phone', value: '+7 912 ***-**-89' }]);
      expect(done.html, 'the e-mail is now the only contact').to.not.include('action="/account/contacts/email/remove"');
    });
  });

  describe('removing the mobile that SMS codes go to', () => {
    it('refused (409) while it is the last way to confirm a sign-in and confirmation is on: confirmation never goes off unannounced', async () => {
      await h.services.accounts.modify(accountId, (a) => ({
        ...a,
        email: EMAIL,
        emailVerified: true,
        mfa: { enabled: true, preferred: 'sms' },
      }));
      const fresh = await browser.get('/account/contacts');
      expect(fresh.html, 'no remove button for it').to.not.include('action="/account/contacts/phone/remove"');
      const res = await browser.post('/account/contacts/phone/remove', { _csrf: csrfOf(fresh.html) }, false);
      expect(res.status).to.equal(409);
      expect(firstError(res.html)).to.include('Сначала выключите вход с подтверждением');
      const stored = await account();
      expect([stored.phone, stored.mfa]).to.deep.equal([PHONE, { enabled: true, preferred: 'sms' }]);
    });
  });

  describe('a sign-in within the last 5 minutes', () => {
    it('is needed to start a change, resend a code or remove a contact (403), not to see the page', async () => {
      await h.services.accounts.modify(accountId, (a) => ({ ...a, email: EMAIL, emailVerified: true }));
      const sent = await startChange(browser, await browser.get('/account/contacts'), 'phone', NEW_PHONE);
      const code = h.gateway.code(NEW_PHONE);
      const _csrf = csrfOf(sent.html);
      const before = await account();
      const count = h.gateway.sent.length;
      await ageSessions(h, accountId, 301);

      const stale = await browser.get('/account/contacts');
      expect(stale.status).to.equal(200);
      expect(stale.html).to.include('Чтобы изменить контакты, подтвердите вход (не ранее 5 минут назад).');
      expect(stale.html).to.include('href="/account/reauth?return=/account/contacts"');
      const posts: Array<[string, Record<string, string>]> = [
        ['/account/contacts/email', { value: 'new@example.ru' }],
        ['/account/contacts/phone/resend', {}],
        ['/account/contacts/email/remove', {}],
      ];
      for (const [path, fields] of posts) {
        const res = await browser.post(path, { _csrf, ...fields }, false);
        expect(res.status, path).to.equal(403);
        expect(firstError(res.html), path).to.equal(REAUTH);
      }
      expect(h.gateway.sent.length, 'no code sent').to.equal(count);
      expect((await account()).version).to.equal(before.version);

      // A change started from the fresh sign-in is finished by its code (bound to this session).
      const done = await browser.submit(stale, '/account/contacts/phone/confirm', { code });
      expect(done.url).to.equal('/account/contacts?notice=phone_changed');
      expect((await account()).phone).to.equal(NEW_PHONE);
    });

    it('a page-level reauth comes back to the contacts, and changes work again', async () => {
      await ageSessions(h, accountId, 301);
      const login = await browser.get('/account/reauth?return=/account/contacts');
      expect(login.html).to.include('name="password"');
      const back = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(back.url).to.equal('/account/contacts');
      expect(back.html).to.not.include('Чтобы изменить контакты');
      const sent = await startChange(browser, back, 'email', EMAIL);
      expect(sent.html).to.include('m***@example.ru');
    });
  });

  it('refuses every POST without this browser’s CSRF token for this session (403)', async () => {
    const sent = await startChange(browser, page, 'email', EMAIL);
    const before = await account();
    const count = h.gateway.sent.length;
    const other = new Browser(h);
    await createAccount(h, { phone: NEW_PHONE });
    const otherToken = csrfOf((await openCabinet(other, '/account/contacts', NEW_PHONE)).html);
    const posts: Array<[string, Record<string, string>]> = [
      ['/account/contacts/phone', { value: '+79161112233' }],
      ['/account/contacts/email/confirm', { code: h.gateway.code(EMAIL) }],
      ['/account/contacts/email/resend', {}],
      ['/account/contacts/email/cancel', {}],
      ['/account/contacts/phone/remove', {}],
    ];
    for (const [path, fields] of posts) {
      for (const token of [undefined, '', 'forged', otherToken]) {
        const res = await browser.post(path, token === undefined ? fields : { ...fields, _csrf: token }, false);
        expect(res.status, `${path} with ${token}`).to.equal(403);
        expect(firstError(res.html)).to.equal(CSRF);
      }
    }
    expect(h.gateway.sent.length).to.equal(count);
    expect((await account()).version).to.equal(before.version);
    expect(pendingChanges(h), 'the change still waits').to.equal(1);
    // The genuine token works: the refusals were about the token.
    const done = await browser.submit(sent, '/account/contacts/email/confirm', { code: h.gateway.code(EMAIL) });
    expect(done.url).to.equal('/account/contacts?notice=email_added');
  });

  it('answers a signed-out POST with 401 and a signed-out page with the sign-in', async () => {
    const stranger = new Browser(h);
    const res = await stranger.post('/account/contacts/phone', { _csrf: 'x', value: NEW_PHONE }, false);
    expect(res.status).to.equal(401);
    expect(firstError(res.html)).to.equal('Вы не вошли. Откройте личный кабинет и войдите.');
    expect((await stranger.get('/account/contacts')).html).to.include('name="identifier"');
  });

  it('speaks English when asked', async () => {
    const english = new Browser(h, { 'accept-language': 'en' });
    const en = await openCabinet(english, '/account/contacts', PHONE);
    expect(en.html).to.include('Phone and email');
    expect(en.html).to.match(/id="phone-status">confirmed</);
    const bad = await english.submit(en, '/account/contacts/email', { value: 'nope' });
    expect(bad.status).to.equal(400);
    expect(firstError(bad.html)).to.equal('This does not look like an email address. Example: ivanov@mail.ru.');
    await english.submit(en, '/account/contacts/email', { value: EMAIL });
    expect(h.gateway.last(EMAIL)?.subject).to.equal('Your vkhod contact confirmation code');
  });
});

describe('cabinet: contacts of an account made by a bank, without any', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation();
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  it('adds a first contact; it can be removed again (the bank, not a password, is the way in)', async () => {
    const browser = new Browser(f.h);
    const login = await browser.get('/account');
    // cust-1003's bank gives only an unconfirmed number: the new account has no contact.
    const cabinet = await throughBank(browser, f.bank, login, { customer: 'cust-1003' });
    expect(cabinet.url).to.equal('/account');
    expect(cabinet.html).to.include('id="no-contact"');
    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1003' }))!;
    expect([account.phone, account.email, account.passwordHash]).to.deep.equal([undefined, undefined, undefined]);

    const page = await browser.get('/account/contacts');
    expect(page.html).to.match(/id="phone-status">Номер не указан\.</);
    expect(page.html).to.include('Добавить номер');
    const sent = await startChange(browser, page, 'phone', NEW_PHONE);
    const done = await browser.submit(sent, '/account/contacts/phone/confirm', { code: f.h.gateway.code(NEW_PHONE) });
    expect(done.url).to.equal('/account/contacts?notice=phone_added');
    expect(auditOfType(f.h, 'contact.changed').map((e) => e.details)).to.deep.equal([
      { kind: 'phone', action: 'added', to: '+7 903 ***-**-67' },
    ]);
    const stored = (await f.h.services.accounts.findActive(account.id))!;
    expect([stored.phone, stored.phoneVerified]).to.deep.equal([NEW_PHONE, true]);
    expect((await f.h.services.accounts.findByKey({ kind: 'phone', value: NEW_PHONE }))?.id).to.equal(account.id);
    expect((await browser.get('/account')).html).to.not.include('id="no-contact"');
    expect(
      f.h.gateway.sent.filter((m) => m.to !== NEW_PHONE),
      'no other contact to tell',
    ).to.deep.equal([]);

    expect(done.html).to.include('action="/account/contacts/phone/remove"');
    const removed = await browser.submit(done, '/account/contacts/phone/remove', {});
    expect(removed.url).to.equal('/account/contacts?notice=phone_removed');
    expect((await f.h.services.accounts.findActive(account.id))!.phone).to.equal(undefined);
  });
});

describe('cabinet: contacts when the deployment requires a second factor', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_REQUIRE_SECOND_FACTOR: 'true' } });
  });
  after(() => h.close());

  it('does not let the mobile go when it is the only second factor (409)', async () => {
    const account = await createAccount(h, { phone: PHONE });
    await h.services.accounts.modify(account.id, (a) => ({
      ...a,
      email: EMAIL,
      emailVerified: true,
      mfa: { enabled: true, preferred: 'sms' },
    }));
    const browser = new Browser(h);
    const mfa = await openCabinet(browser, '/account/contacts', EMAIL);
    const sent = await browser.submit(mfa, '/mfa/sms/send', {});
    const page = await browser.submit(sent, '/mfa/verify', { code: h.gateway.code(PHONE) });
    expect(page.url).to.equal('/account/contacts');
    expect(page.html).to.not.include('action="/account/contacts/phone/remove"');
    const res = await browser.post('/account/contacts/phone/remove', { _csrf: csrfOf(page.html) }, false);
    expect(res.status).to.equal(409);
    expect(firstError(res.html)).to.equal('Это последний способ подтверждения, а он обязателен. Сначала добавьте другой.');
    expect((await h.services.accounts.findActive(account.id))!.phone).to.equal(PHONE);
    // With the app added, the mobile may go.
    await addTotp(h, account.id);
    const ok = await browser.post('/account/contacts/phone/remove', { _csrf: csrfOf(page.html) });
    expect(ok.url).to.equal('/account/contacts?notice=phone_removed');
    expect((await h.services.accounts.findActive(account.id))!.mfa).to.deep.equal({ enabled: true, preferred: 'totp' });
  });
});
