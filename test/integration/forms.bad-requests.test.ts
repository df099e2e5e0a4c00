/** Every hosted form: a missing or foreign CSRF token, an oversized body, a body that cannot be read as a form. */
import { expect } from 'chai';
import { Browser, csrfOf, formAction, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { countRows, createAccount, errorsOn, expectNoLeak, firstError, resetStore, sqlite } from './fixtures.ts';
import { CSRF_RU, NEW_PASSWORD, NEW_PHONE, PHONE, RecordingBrowser, signInOnly, TOO_LARGE_RU } from './bad-input-fixtures.ts';

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
      return {
        browser,
        page,
        action: formAction(page.html, '/register/'),
        fields: { family: 'Петров', given: 'Пётр', middle: '', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD, pd_consent: 'on' },
      };
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
      return {
        browser,
        page,
        action: formAction(page.html, '/recover/'),
        fields: { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
      };
    },
  },
];

describe('bad requests on every form of the hosted pages', function () {
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
      const res = await browser.agent
        .post('/register')
        .set('content-type', 'application/x-www-form-urlencoded')
        .set('content-encoding', 'gzip')
        .send(`_csrf=${token}&contact=%2B79123456780`);
      expect(res.status).to.equal(415);
      expect(firstError(res.text)).to.equal('Тело запроса должно быть без сжатия: отправьте его без заголовка Content-Encoding.');
      expectNoLeak(res.text);
      expect(h.gateway.sent).to.have.length(0);
    });

    it('repeated, nested and prototype-polluting fields get a 4xx with a message', async () => {
      const browser = new RecordingBrowser(h);
      const token = csrfOf((await browser.get('/register')).html);
      for (const body of [
        `_csrf=${token}&contact[]=%2B79123456780&contact[]=x`,
        `_csrf=${token}&contact[a][b]=1`,
        `_csrf=${token}&__proto__[contact]=1&contact=x`,
        `_csrf[]=${token}&contact=%2B79123456780`,
      ]) {
        const res = await browser.agent.post('/register').type('form').send(body);
        expect(res.status, body).to.be.within(400, 499);
        expect(errorsOn(res.text), body).to.not.be.empty;
        expectNoLeak(res.text);
      }
      const login = await browser.get(authorizePath());
      const res = await browser.agent
        .post(formAction(login.html, '/login'))
        .type('form')
        .send(`_csrf=${csrfOf(login.html)}&identifier[]=a&password[x]=b`);
      expect(res.status).to.equal(400);
      expect(firstError(res.text)).to.equal('Введите телефон, почту или СНИЛС.');
      expect(h.gateway.sent).to.have.length(0);
    });
  });
});
