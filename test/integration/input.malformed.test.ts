/** Malformed contacts, SNILS and names, weak passwords: 400 with a message next to the field, nothing created. */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { countRows, createAccount, errorsOn, expectNoLeak, firstError, resetStore } from './fixtures.ts';
import { NEW_PASSWORD, NEW_PHONE, PHONE, RecordingBrowser } from './bad-input-fixtures.ts';

describe('malformed input on the hosted pages', function () {
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
        const res = await browser.submit(await browser.get(authorizePath()), '/login', {
          identifier: identifier!,
          password: GOOD_PASSWORD,
        });
        expect(res.status, identifier).to.equal(400);
        expect(firstError(res.html)).to.include(message!);
      }
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
      const res = await browser.submit(page, '/register/', {
        family: 'Petrov',
        given: 'Пётр2',
        middle: 'Ivanovich',
        password: NEW_PASSWORD,
        password_confirm: 'Синий-Слон-18#',
      });
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
      const res = await browser.submit(page, '/register/', {
        family: 'Петров',
        given: 'Пётр',
        password: 'петров',
        password_confirm: 'петров',
      });
      expect(res.status).to.equal(400);
      const message = errorsOn(res.html).join(' ');
      for (const rule of ['не короче 8 символов', 'заглавную букву', 'цифру', 'символ', 'не должен содержать ваш телефон, почту или имя']) {
        expect(message).to.include(rule);
      }
      expect(countRows(h, 'accounts')).to.equal(1);
    });
  });
});
