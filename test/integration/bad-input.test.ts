import { expect } from 'chai';
import request from 'supertest';
import { Browser, csrfOf, formAction, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { countRows, createAccount, errorsOn, expectNoLeak, expireChallenge, firstError, flowOf, resetStore, setCookies, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';
const NEW_PHONE = '+79123456780';
const NEW_PASSWORD = 'Синий-Слон-17#';
const CSRF_RU = 'Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите действие.';
const TOO_LARGE_RU = 'Отправлено слишком много данных. Сократите введённый текст и попробуйте снова.';

/** A Browser that keeps every page it saw, so each test can check that none leaked internals. */
class RecordingBrowser extends Browser {
  static pages: Page[] = [];
  override async get(url: string, maxRedirects?: number): Promise<Page> {
    const page = await super.get(url, maxRedirects);
    RecordingBrowser.pages.push(page);
    return page;
  }
  override async post(url: string, fields: Record<string, string>, follow?: boolean): Promise<Page> {
    const page = await super.post(url, fields, follow);
    RecordingBrowser.pages.push(page);
    return page;
  }
}

/** Everything a failed POST must leave untouched: the store's rows and the messages sent. */
function snapshot(h: Harness) {
  const db = sqlite(h);
  return {
    oidc: db.prepare('SELECT model, id, payload, consumed FROM oidc ORDER BY model, id').all(),
    accounts: db.prepare('SELECT id, version, doc FROM accounts ORDER BY id').all(),
    keys: db.prepare('SELECT kind, value, account_id FROM account_keys ORDER BY kind, value').all(),
    challenges: db.prepare('SELECT id, attempts, consumed_at FROM challenges ORDER BY id').all(),
    audit: countRows(h, 'audit'),
    limits: db.prepare('SELECT key, points FROM rate_limits ORDER BY key').all(),
    sent: h.gateway.sent.length,
  };
}

async function signInOnly(browser: Browser): Promise<Page> {
  const login = await browser.get(authorizePath());
  return browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
}

interface OpenForm {
  browser: Browser;
  page: Page;
  action: string;
  fields: Record<string, string>;
}

/** Every form POST of the hosted pages, each opened the way a citizen reaches it. */
const FORMS: Array<{ name: string; open(h: Harness): Promise<OpenForm> }> = [
  {
    name: 'sign-in',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.get(authorizePath());
      return { browser, page, action: formAction(page.html, '/login'), fields: { identifier: PHONE, password: GOOD_PASSWORD } };
    },
  },
  {
    name: 'consent',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await signInOnly(browser);
      return { browser, page, action: formAction(page.html, '/consent'), fields: { decision: 'allow' } };
    },
  },
  {
    name: 'cancel (abort)',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.get(authorizePath());
      return { browser, page, action: formAction(page.html, '/abort'), fields: {} };
    },
  },
  {
    name: 'registration contact',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.get('/register');
      return { browser, page, action: formAction(page.html, '/register'), fields: { contact: NEW_PHONE } };
    },
  },
  {
    name: 'registration code',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      return { browser, page, action: formAction(page.html, '/register/'), fields: { code: h.gateway.code(NEW_PHONE) } };
    },
  },
  {
    name: 'registration code resend',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      return { browser, page, action: formAction(page.html, '/resend'), fields: {} };
    },
  },
  {
    name: 'registration profile',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const codePage = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      const page = await browser.submit(codePage, '/register/', { code: h.gateway.code(NEW_PHONE) });
      expect(page.html).to.include('name="family"');
      return { browser, page, action: formAction(page.html, '/register/'), fields: { family: 'Петров', given: 'Пётр', middle: '', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD, pd_consent: 'on' } };
    },
  },
  {
    name: 'recovery contact',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.get('/recover');
      return { browser, page, action: formAction(page.html, '/recover'), fields: { contact: PHONE } };
    },
  },
  {
    name: 'recovery code',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/recover'), '/recover', { contact: PHONE });
      return { browser, page, action: formAction(page.html, '/recover/'), fields: { code: h.gateway.code(PHONE) } };
    },
  },
  {
    name: 'recovery code resend',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/recover'), '/recover', { contact: PHONE });
      return { browser, page, action: formAction(page.html, '/resend'), fields: {} };
    },
  },
  {
    name: 'recovery new password',
    async open(h) {
      const browser = new RecordingBrowser(h);
      const codePage = await browser.submit(await browser.get('/recover'), '/recover', { contact: PHONE });
      const page = await browser.submit(codePage, '/recover/', { code: h.gateway.code(PHONE) });
      expect(page.html).to.include('name="password_confirm"');
      return { browser, page, action: formAction(page.html, '/recover/'), fields: { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD } };
    },
  },
];

describe('bad input on the hosted pages', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    RecordingBrowser.pages = [];
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });
  afterEach(() => {
    // No page of any test here showed a stack trace or a raw exception.
    for (const page of RecordingBrowser.pages) expectNoLeak(page.html);
  });

  describe('CSRF and oversized bodies on every form', () => {
    for (const form of FORMS) {
      it(`${form.name}: a missing or wrong CSRF token gets 403 with the Russian message and writes nothing`, async () => {
        const { browser, page, action, fields } = await form.open(h);
        // A token this browser holds for another form, and one another browser holds for this form.
        const otherForm = csrfOf((await browser.get(action.includes('/recover') ? '/register' : '/recover')).html);
        const otherBrowserPage = await new RecordingBrowser(h).get(action.includes('/recover') ? '/recover' : '/register');
        const before = snapshot(h);
        for (const token of [undefined, '', 'forged', 'A'.repeat(43), otherForm, csrfOf(otherBrowserPage.html)]) {
          const res = await browser.post(action, token === undefined ? fields : { ...fields, _csrf: token }, false);
          expect(res.status, `token ${token}`).to.equal(403);
          expect(firstError(res.html)).to.equal(CSRF_RU);
        }
        expect(snapshot(h), 'nothing written').to.deep.equal(before);
        // The genuine token is accepted: the refusals above were about the token only.
        const ok = await browser.post(action, { ...fields, _csrf: csrfOf(page.html) }, false);
        expect(ok.status, ok.html).to.be.within(200, 399);
      });

      it(`${form.name}: a body over 16 kB gets 413 with a clear message, not a 500`, async () => {
        const { browser, page, action, fields } = await form.open(h);
        const before = snapshot(h);
        const res = await browser.post(action, { ...fields, _csrf: csrfOf(page.html), filler: 'ж'.repeat(9 * 1024) }, false);
        expect(res.status).to.equal(413);
        expect(firstError(res.html)).to.equal(TOO_LARGE_RU);
        expect(snapshot(h)).to.deep.equal(before);
      });
    }
  });

  describe('requests that cannot be read as a form', () => {
    it('a compressed body (here one that claims gzip but is not) gets 415, not 500', async () => {
      const browser = new RecordingBrowser(h);
      const token = csrfOf((await browser.get('/register')).html);
      const res = await browser.agent.post('/register').set('content-type', 'application/x-www-form-urlencoded').set('content-encoding', 'gzip').send(`_csrf=${token}&contact=%2B79123456780`);
      expect(res.status).to.equal(415);
      expect(firstError(res.text)).to.equal('Запрос не удалось обработать. Вернитесь назад и попробуйте ещё раз.');
      expectNoLeak(res.text);
      expect(h.gateway.sent).to.have.length(0);
    });

    it('repeated, nested and prototype-polluting fields get a 4xx with a message', async () => {
      const browser = new RecordingBrowser(h);
      const token = csrfOf((await browser.get('/register')).html);
      for (const body of [`_csrf=${token}&contact[]=%2B79123456780&contact[]=x`, `_csrf=${token}&contact[a][b]=1`, `_csrf=${token}&__proto__[contact]=1&contact=x`, `_csrf[]=${token}&contact=%2B79123456780`]) {
        const res = await browser.agent.post('/register').type('form').send(body);
        expect(res.status, body).to.be.within(400, 499);
        expect(errorsOn(res.text), body).to.not.be.empty;
        expectNoLeak(res.text);
      }
      const login = await browser.get(authorizePath());
      const res = await browser.agent.post(formAction(login.html, '/login')).type('form').send(`_csrf=${csrfOf(login.html)}&identifier[]=a&password[x]=b`);
      expect(res.status).to.equal(400);
      expect(firstError(res.text)).to.equal('Введите телефон, почту или СНИЛС.');
      expect(h.gateway.sent).to.have.length(0);
    });
  });

  describe('malformed contacts', () => {
    for (const start of ['/register', '/recover']) {
      it(`${start}: 400 with a message for a landline, a broken address, a SNILS or nothing`, async () => {
        const browser = new RecordingBrowser(h);
        const page = await browser.get(start);
        const cases: Array<[string, string]> = [
          ['8 495 123-45-67', 'Не похоже на мобильный номер или адрес почты.'],
          ['ivan@', 'Не похоже на мобильный номер или адрес почты.'],
          ['ivan@mail', 'Не похоже на мобильный номер или адрес почты.'],
          ['112-233-445 95', 'Не похоже на мобильный номер или адрес почты.'],
          ['+1 212 555 0100', 'Не похоже на мобильный номер или адрес почты.'],
          ['', 'Введите номер мобильного телефона или адрес электронной почты.'],
        ];
        for (const [contact, message] of cases) {
          const res = await browser.submit(page, start, { contact });
          expect(res.status, contact).to.equal(400);
          expect(firstError(res.html), contact).to.include(message);
          // What was typed stays in the field to be corrected.
          if (contact) expect(res.html).to.include(`value="${contact}"`);
        }
        expect(h.gateway.sent, 'no message sent').to.have.length(0);
        expect(countRows(h, 'challenges')).to.equal(0);
      });
    }

    it('sign-in: 400 for a SNILS with wrong check digits, an address without a domain, a landline', async () => {
      const browser = new RecordingBrowser(h);
      for (const [identifier, message] of [
        ['112-233-445 96', 'СНИЛС указан неверно'],
        ['ivan@', 'Адрес почты указан неверно'],
        ['8 495 123-45-67', 'Не удалось распознать логин'],
      ]) {
        const res = await browser.submit(await browser.get(authorizePath()), '/login', { identifier: identifier!, password: GOOD_PASSWORD });
        expect(res.status, identifier).to.equal(400);
        expect(firstError(res.html)).to.include(message!);
      }
    });
  });

  describe('one-time codes', () => {
    async function codePage(browser: Browser, contact = NEW_PHONE): Promise<Page> {
      const page = await browser.submit(await browser.get('/register'), '/register', { contact });
      expect(page.status).to.equal(200);
      return page;
    }
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

    it('a wrong code gets 400 and the page to try again', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const res = await browser.submit(page, '/register/', { code: wrongFor(h.gateway.code(NEW_PHONE)) });
      expect(res.status).to.equal(400);
      expect(firstError(res.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      expect(res.html).to.include('name="code"');
      const notDigits = await browser.submit(page, '/register/', { code: 'abcdef' });
      expect(notDigits.status).to.equal(400);
    });

    it('after 3 wrong codes the code is dead, even the right one; a new code works', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const right = h.gateway.code(NEW_PHONE);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await browser.submit(page, '/register/', { code: wrongFor(right) })).status);
      expect(statuses).to.deep.equal([400, 400, 410]);
      const dead = await browser.submit(page, '/register/', { code: right });
      expect(dead.status).to.equal(410);
      expect(firstError(dead.html)).to.equal('Код введён неверно слишком много раз. Запросите новый код.');
      expect((await flowOf(h, page)).verified).to.equal(false);

      const resent = await browser.submit(page, '/resend', {});
      expect(resent.html).to.include('Новый код отправлен');
      const fresh = h.gateway.code(NEW_PHONE);
      const profile = await browser.submit(resent, '/register/', { code: fresh });
      expect(profile.html).to.include('name="family"');
    });

    it('after a resend the previous code no longer works, as the page says', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const first = h.gateway.code(NEW_PHONE);
      const resent = await browser.submit(page, '/resend', {});
      expect(resent.html).to.include('Новый код отправлен. Прежний код больше не действует.');
      const second = h.gateway.code(NEW_PHONE);
      if (first !== second) {
        const old = await browser.submit(resent, '/register/', { code: first });
        expect(old.status).to.equal(400);
        expect(firstError(old.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      }
      expect((await browser.submit(resent, '/register/', { code: second })).html).to.include('name="family"');
    });

    it('an expired code gets 410 with a message to request a new one', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      expireChallenge(h, (await flowOf(h, page)).challengeId);
      const res = await browser.submit(page, '/register/', { code: h.gateway.code(NEW_PHONE) });
      expect(res.status).to.equal(410);
      expect(firstError(res.html)).to.equal('Срок действия кода истёк. Запросите новый код.');
      expect((await flowOf(h, page)).verified).to.equal(false);
    });

    it('a code cannot be used twice, and a finished flow cannot be replayed', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const code = h.gateway.code(NEW_PHONE);
      const { challengeId } = await flowOf(h, page);
      const profile = await browser.submit(page, '/register/', { code });
      const done = await browser.submit(profile, '/register/', { family: 'Петров', given: 'Пётр', middle: '', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD, pd_consent: 'on' });
      expect(done.html, 'signed in, in the cabinet').to.include('id="account-name"');
      expect(countRows(h, 'accounts')).to.equal(2);

      // The challenge itself answers "used" to the same code.
      expect(await h.services.codes.verify({ challengeId, purpose: 'register', recipient: NEW_PHONE, code, ip: '127.0.0.1' })).to.equal('used');
      // Replaying the code step and the final step of the finished flow is refused.
      const replayCode = await browser.post(formAction(page.html, '/register/'), { _csrf: csrfOf(page.html), code }, false);
      expect(replayCode.status).to.equal(404);
      expect(firstError(replayCode.html)).to.include('Страница регистрации устарела');
      const replayFinal = await browser.post(formAction(profile.html, '/register/'), { _csrf: csrfOf(profile.html), family: 'Сидоров', given: 'Иван', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD, pd_consent: 'on' }, false);
      expect(replayFinal.status).to.equal(404);
      expect(countRows(h, 'accounts'), 'no second account').to.equal(2);
    });

    it('a finished recovery cannot be replayed to set another password', async () => {
      const browser = new RecordingBrowser(h);
      const codePageR = await browser.submit(await browser.get('/recover'), '/recover', { contact: PHONE });
      const passwordPage = await browser.submit(codePageR, '/recover/', { code: h.gateway.code(PHONE) });
      const done = await browser.submit(passwordPage, '/recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
      expect(done.html).to.include('Пароль изменён');
      const hash = (await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!.passwordHash;
      const replay = await browser.post(formAction(passwordPage.html, '/recover/'), { _csrf: csrfOf(passwordPage.html), password: 'Другой-Пароль-99!', password_confirm: 'Другой-Пароль-99!' }, false);
      expect(replay.status).to.equal(404);
      expect(firstError(replay.html)).to.include('Страница восстановления устарела');
      expect((await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!.passwordHash).to.equal(hash);
    });

    it('a 4th code to the same recipient within 10 minutes gets 429 and is not sent', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      await browser.submit(page, '/resend', {});
      // A third send through another flow (recovery counts too: the limit is per recipient).
      await codePage(new RecordingBrowser(h));
      expect(h.gateway.sent.filter((m) => m.to === NEW_PHONE)).to.have.length(3);

      const fourth = await browser.submit(page, '/resend', {});
      expect(fourth.status).to.equal(429);
      expect(firstError(fourth.html)).to.equal('Коды отправлялись слишком часто. Следующий можно запросить через 10 мин.');
      const fresh = new RecordingBrowser(h);
      const viaContact = await fresh.submit(await fresh.get('/register'), '/register', { contact: '8 912 345 67 80' });
      expect(viaContact.status).to.equal(429);
      expect(firstError(viaContact.html)).to.include('Коды отправлялись слишком часто');
      expect(h.gateway.sent.filter((m) => m.to === NEW_PHONE)).to.have.length(3);
      // Another recipient is not affected.
      const other = new RecordingBrowser(h);
      expect((await other.submit(await other.get('/register'), '/register', { contact: '+79123456781' })).status).to.equal(200);
    });
  });

  describe('unknown flows and interactions', () => {
    it('an unknown or malformed flow id gets 404 with a way to start again', async () => {
      const browser = new RecordingBrowser(h);
      for (const path of ['/register/AAAAAAAAAAAAAAAAAAAAAA', '/register/not-a-flow', '/register/..%2F..%2Fetc']) {
        const res = await browser.get(path);
        expect(res.status, path).to.equal(404);
        expect(firstError(res.html)).to.equal('Страница регистрации устарела. Начните заново: /register');
      }
      const recover = await browser.get('/recover/AAAAAAAAAAAAAAAAAAAAAA');
      expect(recover.status).to.equal(404);
      expect(firstError(recover.html)).to.include('Страница восстановления устарела');
      const post = await browser.post('/register/AAAAAAAAAAAAAAAAAAAAAA', { code: '123456' });
      expect(post.status).to.equal(404);
    });

    it('a registration flow cannot be driven through the recovery pages', async () => {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      const { id } = await flowOf(h, page);
      const res = await browser.get(`/recover/${id}`);
      expect(res.status).to.equal(404);
    });

    it('an unknown interaction gets a 400 page that says to start again', async () => {
      const expired = 'Время на вход истекло или вход начат в другом окне. Вернитесь в сервис и начните вход заново.';
      const stranger = new RecordingBrowser(h);
      const res = await stranger.get('/interaction/unknown-uid');
      expect(res.status).to.equal(400);
      expect(firstError(res.html)).to.equal(expired);
      // A browser inside a real interaction, pointing at another uid.
      const browser = new RecordingBrowser(h);
      await browser.get(authorizePath());
      for (const path of ['/interaction/another-uid', '/interaction/another-uid/register']) {
        const other = await browser.get(path);
        expect(other.status, path).to.equal(400);
        expect(firstError(other.html)).to.equal(expired);
      }
      const post = await browser.post('/interaction/another-uid/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(post.status).to.equal(400);
    });

    it('an unknown page gets a 404 page', async () => {
      const res = await new RecordingBrowser(h).get('/no/such/page');
      expect(res.status).to.equal(404);
      expect(firstError(res.html)).to.equal('Страница не найдена. Проверьте адрес.');
    });
  });

  describe('registration profile', () => {
    async function profilePage(browser: Browser): Promise<Page> {
      const codePage = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      return browser.submit(codePage, '/register/', { code: h.gateway.code(NEW_PHONE) });
    }

    it('refuses Latin and digits in names and a mismatched password, field by field, and creates nothing', async () => {
      const browser = new RecordingBrowser(h);
      const page = await profilePage(browser);
      const res = await browser.submit(page, '/register/', { family: 'Petrov', given: 'Пётр2', middle: 'Ivanovich', password: NEW_PASSWORD, password_confirm: 'Синий-Слон-18#' });
      expect(res.status).to.equal(400);
      const notCyrillic = 'Используйте буквы русского алфавита; между частями допустимы пробел, дефис и апостроф.';
      expect(res.html).to.match(new RegExp(`id="family-error">${notCyrillic}<`));
      expect(res.html).to.match(new RegExp(`id="given-error">${notCyrillic}<`));
      expect(res.html).to.match(new RegExp(`id="middle-error">${notCyrillic}<`));
      expect(res.html).to.include('id="password-error">Пароли не совпадают.<');
      // What was typed stays, except the passwords.
      expect(res.html).to.include('value="Petrov"').and.include('value="Пётр2"');
      expect(res.html).to.not.include(NEW_PASSWORD);
      expect(countRows(h, 'accounts')).to.equal(1);
      expect(await h.services.accounts.findByKey({ kind: 'phone', value: NEW_PHONE })).to.equal(undefined);
    });

    it('asks for missing names and a password, and creates nothing', async () => {
      const browser = new RecordingBrowser(h);
      const page = await profilePage(browser);
      const res = await browser.submit(page, '/register/', {});
      expect(res.status).to.equal(400);
      expect(res.html).to.include('id="family-error">Заполните это поле.<');
      expect(res.html).to.include('id="given-error">Заполните это поле.<');
      expect(res.html).to.not.include('id="middle-error"');
      expect(res.html).to.include('id="password-error">Введите пароль.<');
      expect(countRows(h, 'accounts')).to.equal(1);
    });

    it('refuses a weak password with every rule it breaks', async () => {
      const browser = new RecordingBrowser(h);
      const page = await profilePage(browser);
      const res = await browser.submit(page, '/register/', { family: 'Петров', given: 'Пётр', password: 'петров', password_confirm: 'петров' });
      expect(res.status).to.equal(400);
      const message = errorsOn(res.html).join(' ');
      for (const rule of ['не короче 8 символов', 'заглавную букву', 'цифру', 'символ', 'не должен содержать ваш телефон, почту или имя']) {
        expect(message).to.include(rule);
      }
      expect(countRows(h, 'accounts')).to.equal(1);
    });
  });

  describe('language', () => {
    it('shows English pages for Accept-Language: en', async () => {
      const browser = new RecordingBrowser(h, { 'accept-language': 'en-GB,en;q=0.9' });
      const page = await browser.get('/register');
      expect(page.html).to.include('<html lang="en">');
      expect(page.html).to.include('Create an account');
      const bad = await browser.submit(page, '/register', { contact: 'ivan@' });
      expect(bad.status).to.equal(400);
      expect(firstError(bad.html)).to.equal("This doesn't look like a mobile number or an email address. The phone must be a Russian mobile number starting with +7 9; the email must look like ivanov@mail.ru.");
      const csrf = await browser.post('/register', { contact: NEW_PHONE, _csrf: 'forged' });
      expect(csrf.status).to.equal(403);
      expect(firstError(csrf.html)).to.equal('The page has expired or the form was not sent from our site. Reload the page and try again.');
    });

    it('shows English for ?ui_locales=en even when the browser prefers Russian', async () => {
      const browser = new RecordingBrowser(h);
      const page = await browser.get('/register?ui_locales=en');
      expect(page.html).to.include('<html lang="en">');
      expect(page.html).to.include('Create an account');
      expect((await browser.get('/register')).html, 'without it: Russian').to.include('<html lang="ru">');
    });

    it('shows the sign-in in English when the relying party asks with ui_locales=en', async () => {
      const browser = new RecordingBrowser(h);
      const login = await browser.get(authorizePath({ ui_locales: 'en' }));
      expect(login.html).to.include('<html lang="en">');
      const bad = await browser.submit(login, '/login', { identifier: PHONE, password: 'Не-тот-пароль-1!' });
      expect(bad.status).to.equal(401);
      expect(bad.html).to.include('<html lang="en">');
    });
  });

  describe('headers and cookies', () => {
    it('every HTML page has a strict CSP with a nonce, no framing and no referrer', async () => {
      const browser = new RecordingBrowser(h);
      const login = await browser.get(authorizePath());
      const uid = login.url.split('/')[2];
      const paths = ['/', '/register', '/recover', `/interaction/${uid}`, '/interaction/nope', '/register/AAAAAAAAAAAAAAAAAAAAAA', '/no/such/page', '/auth?client_id=nope&response_type=code&scope=openid', '/session/end'];
      const nonces = new Set<string>();
      for (const path of paths) {
        const res = await browser.agent.get(path).set('accept-language', 'ru');
        expect(res.headers['content-type'], path).to.match(/text\/html/);
        const csp = String(res.headers['content-security-policy']);
        expect(csp, path).to.include("frame-ancestors 'none'");
        expect(csp, path).to.include("default-src 'self'");
        expect(csp, path).to.include("object-src 'none'");
        const nonce = csp.match(/script-src [^;]*'nonce-([A-Za-z0-9+/=]+)'/);
        expect(nonce, `${path}: a script nonce`).to.not.equal(null);
        expect(csp, path).to.not.include("'unsafe-inline'");
        nonces.add(nonce![1]!);
        expect(res.headers['x-frame-options'], path).to.equal('DENY');
        expect(res.headers['referrer-policy'], path).to.equal('no-referrer');
        expect(res.headers['x-content-type-options'], path).to.equal('nosniff');
        expect(res.headers['strict-transport-security'], `${path}: no HSTS outside production`).to.equal(undefined);
        expectNoLeak(res.text);
      }
      expect(nonces.size, 'a fresh nonce per response').to.equal(paths.length);
    });

    it('vkhod.csrf and the session cookies are HttpOnly and SameSite=Lax', async () => {
      const browser = new RecordingBrowser(h);
      const cookies: string[] = [];
      let res = await browser.agent.get(authorizePath());
      for (let i = 0; i < 10; i += 1) {
        cookies.push(...setCookies(res));
        if (!(res.status >= 300 && res.status < 400)) break;
        const next = new URL(res.headers.location!, h.url);
        if (next.origin !== h.url) break;
        res = await browser.agent.get(next.pathname + next.search);
      }
      res = await browser.agent.post(formAction(res.text, '/login')).type('form').send({ _csrf: csrfOf(res.text), identifier: PHONE, password: GOOD_PASSWORD });
      for (let i = 0; i < 10; i += 1) {
        cookies.push(...setCookies(res));
        if (!(res.status >= 300 && res.status < 400)) break;
        const next = new URL(res.headers.location!, h.url);
        if (next.origin !== h.url) break;
        res = await browser.agent.get(next.pathname + next.search);
      }
      const named = (name: string) => cookies.filter((c) => c.startsWith(`${name}=`));
      for (const name of ['vkhod.csrf', 'vkhod.session', 'vkhod.interaction']) {
        expect(named(name), name).to.not.be.empty;
        for (const cookie of named(name)) {
          expect(cookie, name).to.match(/;\s*httponly/i);
          expect(cookie, name).to.match(/;\s*samesite=lax/i);
        }
      }
    });
  });
});

describe('health endpoints', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('/healthz is 200 and /readyz is 200 with the store kind, then 503 once the store is gone', async () => {
    const health = await request(h.url).get('/healthz');
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.equal({ status: 'ok' });
    const ready = await request(h.url).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ status: 'ready', store: 'sqlite' });

    await h.services.store.close();
    const down = await request(h.url).get('/readyz');
    expect(down.status).to.equal(503);
    expect(down.body).to.deep.equal({ status: 'unavailable', store: 'sqlite' });
    expect((await request(h.url).get('/healthz')).status, 'the process itself is alive').to.equal(200);

    // An unexpected failure is a 500 page without details.
    const broken = await new RecordingBrowser(h).get('/register/AAAAAAAAAAAAAAAAAAAAAA');
    expect(broken.status).to.equal(500);
    expect(firstError(broken.html)).to.equal('Внутренняя ошибка сервиса. Попробуйте позже — мы уже знаем о проблеме.');
  });
});
