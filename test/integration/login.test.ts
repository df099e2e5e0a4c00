import { expect } from 'chai';
import { Browser, csrfOf, formAction, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, signIn } from '../support/flows.ts';
import { auditOfType, createAccount, firstError, resetStore, setCookies } from './fixtures.ts';

const PHONE = '+79123456789';
const EMAIL = 'maria.ivanova@example.ru';
const SNILS = '11223344595';
const INVALID = 'Неверный логин или пароль. Проверьте раскладку клавиатуры и Caps Lock.';

/** Opens the sign-in page of a fresh authorization request and submits it. */
async function attempt(h: Harness, browser: Browser, fields: Record<string, string>): Promise<Page> {
  const login = await browser.get(authorizePath());
  expect(login.html).to.include('name="identifier"');
  return browser.submit(login, '/login', fields);
}

describe('sign-in with a password', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
  });

  describe('by what the citizen types', () => {
    it('signs in with the phone in any notation', async () => {
      await createAccount(h, { phone: PHONE });
      for (const notation of ['+7 (912) 345-67-89', '8 912 345-67-89', '89123456789', '9123456789', '7 912 345 67 89']) {
        const rp = await signIn(new Browser(h), notation, GOOD_PASSWORD);
        codeFrom(rp.location);
      }
    });

    it('signs in with the e-mail address, whatever its case and spaces', async () => {
      await createAccount(h, { email: EMAIL });
      codeFrom((await signIn(new Browser(h), EMAIL, GOOD_PASSWORD)).location);
      codeFrom((await signIn(new Browser(h), ' Maria.Ivanova@EXAMPLE.ru ', GOOD_PASSWORD)).location);
    });

    it('signs in with the SNILS, with or without separators', async () => {
      await createAccount(h, { phone: PHONE, snils: SNILS, snilsVerified: true });
      codeFrom((await signIn(new Browser(h), '112-233-445 95', GOOD_PASSWORD)).location);
      codeFrom((await signIn(new Browser(h), '11223344595', GOOD_PASSWORD)).location);
    });

    it("does not find an account by a SNILS only typed in (anyone can type someone else's)", async () => {
      await createAccount(h, { phone: PHONE, snils: SNILS });
      const page = await attempt(h, new Browser(h), { identifier: SNILS, password: GOOD_PASSWORD });
      expect(page.status).to.equal(401);
      expect(firstError(page.html)).to.equal(INVALID);
    });

    it('does not find an account by an unconfirmed contact', async () => {
      // The account's only confirmed contact is the phone; the e-mail is someone else's.
      const account = await createAccount(h, { phone: PHONE });
      await h.services.store.accounts.update({ ...account, email: EMAIL, emailVerified: false }, account.version);
      const page = await attempt(h, new Browser(h), { identifier: EMAIL, password: GOOD_PASSWORD });
      expect(page.status).to.equal(401);
      expect(firstError(page.html)).to.equal(INVALID);
    });
  });

  describe('refusals', () => {
    it('gives the same status and message for a wrong password and an unknown login', async () => {
      await createAccount(h, { phone: PHONE });
      const wrong = await attempt(h, new Browser(h), { identifier: PHONE, password: 'Не-тот-пароль-1!' });
      const unknown = await attempt(h, new Browser(h), { identifier: '+79990001122', password: 'Не-тот-пароль-1!' });
      const unknownEmail = await attempt(h, new Browser(h), { identifier: 'nobody@example.ru', password: GOOD_PASSWORD });
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(wrong.status);
      expect(unknownEmail.status).to.equal(wrong.status);
      expect(firstError(wrong.html)).to.equal(INVALID);
      expect(firstError(unknown.html)).to.equal(firstError(wrong.html));
      expect(firstError(unknownEmail.html)).to.equal(firstError(wrong.html));
      // The page keeps what was typed as the login but never echoes the password.
      expect(wrong.html).to.include(`value="${PHONE}"`);
      expect(wrong.html).to.not.include('Не-тот-пароль-1!');
      // Still the sign-in form, ready for another try.
      expect(wrong.html).to.include('name="password"');
    });

    it('says clearly when the login cannot be a phone, e-mail or SNILS (400, nothing counted)', async () => {
      const browser = new Browser(h);
      const cases: Array<[string, RegExp]> = [
        ['ivanov', /мобильный телефон/],
        ['8 495 123-45-67', /мобильный телефон/],
        ['ivan@', /Адрес почты указан неверно/],
        ['112-233-445 96', /СНИЛС указан неверно/],
        ['12345678901', /СНИЛС указан неверно/],
      ];
      for (const [identifier, message] of cases) {
        const page = await attempt(h, browser, { identifier, password: GOOD_PASSWORD });
        expect(page.status, identifier).to.equal(400);
        expect(firstError(page.html), identifier).to.match(message);
      }
      expect(auditOfType(h, 'signin.password'), 'malformed input is not a sign-in attempt').to.have.length(0);
    });

    it('asks for missing fields', async () => {
      const browser = new Browser(h);
      const noLogin = await attempt(h, browser, { identifier: '', password: GOOD_PASSWORD });
      expect(noLogin.status).to.equal(400);
      expect(firstError(noLogin.html)).to.equal('Введите телефон, почту или СНИЛС.');
      const noPassword = await attempt(h, browser, { identifier: PHONE, password: '' });
      expect(noPassword.status).to.equal(400);
      expect(firstError(noPassword.html)).to.equal('Введите пароль.');
      const nothing = await attempt(h, browser, {});
      expect(nothing.status).to.equal(400);
      expect(firstError(nothing.html)).to.equal('Введите телефон, почту или СНИЛС.');
    });
  });

  describe('audit', () => {
    it('records a successful sign-in and a failed one for the account, and a failure for an unknown login', async () => {
      const account = await createAccount(h, { phone: PHONE });
      await attempt(h, new Browser(h), { identifier: PHONE, password: 'Не-тот-пароль-1!' });
      await attempt(h, new Browser(h), { identifier: '+79990001122', password: 'Не-тот-пароль-1!' });
      codeFrom((await signIn(new Browser(h), PHONE, GOOD_PASSWORD)).location);

      const events = await h.services.store.audit.listForAccount(account.id);
      const success = events.find((e) => e.type === 'signin' && e.outcome === 'success');
      expect(success, 'a signin success event').to.be.an('object');
      expect(success).to.include({ clientId: 'rp-basic' });
      expect(success!.details).to.deep.include({ method: 'password', amr: ['pwd'], acr: 'urn:vkhod:loa:simplified' });
      const failure = events.find((e) => e.type === 'signin.password' && e.outcome === 'failure');
      expect(failure?.details).to.deep.include({ reason: 'wrong_password', login: 'phone' });

      const failures = auditOfType(h, 'signin.password');
      const unknown = failures.find((e) => e.details?.reason === 'unknown_login');
      expect(unknown, 'an unknown-login failure').to.be.an('object');
      expect(unknown!.accountId).to.equal(undefined);
      // No event carries what was typed as the password.
      expect(JSON.stringify(failures)).to.not.include('Не-тот-пароль');
    });
  });

  describe('"someone else’s computer"', () => {
    /** Signs in without following the provider's redirects; returns every Set-Cookie on the way. */
    async function signInCookies(browser: Browser, extra: Record<string, string>): Promise<string[]> {
      const login = await browser.get(authorizePath());
      const cookies: string[] = [];
      let res = await browser.agent
        .post(formAction(login.html, '/login'))
        .type('form')
        .send({ _csrf: csrfOf(login.html), identifier: PHONE, password: GOOD_PASSWORD, ...extra });
      for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i += 1) {
        cookies.push(...setCookies(res));
        const next = new URL(res.headers.location!, h.url);
        if (next.origin !== h.url) break;
        res = await browser.agent.get(next.pathname + next.search);
      }
      cookies.push(...setCookies(res));
      return cookies.filter((c) => c.startsWith('vkhod.session='));
    }

    it('makes the session end with the browser when ticked, and remembers it otherwise', async () => {
      await createAccount(h, { phone: PHONE });
      const foreign = await signInCookies(new Browser(h), { foreign: 'on' });
      expect(foreign, 'a session cookie is set').to.not.be.empty;
      for (const c of foreign) {
        expect(c).to.not.match(/;\s*expires=/i);
        expect(c).to.not.match(/;\s*max-age=/i);
      }
      const remembered = await signInCookies(new Browser(h), {});
      expect(remembered).to.not.be.empty;
      expect(remembered.at(-1)).to.match(/;\s*(expires|max-age)=/i);
    });
  });

  it('goes back to the relying party with access_denied when the citizen cancels', async () => {
    const browser = new Browser(h);
    const state = 'cancel-state-1';
    const login = await browser.get(authorizePath({ state }));
    const back = await browser.submit(login, '/abort', {});
    expect(back.location).to.be.a('string');
    const url = new URL(back.location!);
    expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
    expect(url.searchParams.get('error')).to.equal('access_denied');
    expect(url.searchParams.get('state')).to.equal(state);
    expect(url.searchParams.get('code')).to.equal(null);
  });
});

describe('sign-in lockout', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3', VKHOD_LOGIN_LOCKOUT_SECONDS: '600' } });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
  });

  it('locks a login after 3 failures, refusing even the right password, and says for how long', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    for (let i = 1; i <= 2; i += 1) {
      const page = await attempt(h, browser, { identifier: PHONE, password: `Не-тот-пароль-${i}!` });
      expect(page.status, `failure ${i}`).to.equal(401);
    }
    const third = await attempt(h, browser, { identifier: PHONE, password: 'Не-тот-пароль-3!' });
    expect(third.status).to.equal(429);
    const locked = firstError(third.html);
    expect(locked).to.match(/Вход временно заблокирован — попробуйте через 10 мин\./);

    const right = await attempt(h, new Browser(h), { identifier: '8 912 345 67 89', password: GOOD_PASSWORD });
    expect(right.status, 'the right password while locked').to.equal(429);
    expect(firstError(right.html)).to.equal(locked);
    const events = await h.services.store.audit.listForAccount(account.id);
    expect(events.filter((e) => e.type === 'signin' && e.outcome === 'success')).to.have.length(0);
  });

  it('locks unknown logins the same way, so lockout does not reveal which accounts exist', async () => {
    await createAccount(h, { phone: PHONE });
    const known: Page[] = [];
    const unknown: Page[] = [];
    for (let i = 1; i <= 4; i += 1) {
      known.push(await attempt(h, new Browser(h), { identifier: PHONE, password: `Не-тот-пароль-${i}!` }));
      unknown.push(await attempt(h, new Browser(h), { identifier: 'nobody@example.ru', password: `Не-тот-пароль-${i}!` }));
    }
    expect(unknown.map((p) => p.status)).to.deep.equal(known.map((p) => p.status));
    expect(unknown.map((p) => firstError(p.html))).to.deep.equal(known.map((p) => firstError(p.html)));
    expect(unknown.at(-1)!.status).to.equal(429);
  });

  it('does not lock another login', async () => {
    await createAccount(h, { phone: PHONE });
    await createAccount(h, { email: EMAIL });
    for (let i = 1; i <= 3; i += 1) await attempt(h, new Browser(h), { identifier: PHONE, password: `Не-тот-пароль-${i}!` });
    codeFrom((await signIn(new Browser(h), EMAIL, GOOD_PASSWORD)).location);
  });

  it('a successful sign-in clears the count of earlier failures', async () => {
    await createAccount(h, { phone: PHONE });
    for (let i = 1; i <= 2; i += 1) await attempt(h, new Browser(h), { identifier: PHONE, password: `Не-тот-пароль-${i}!` });
    codeFrom((await signIn(new Browser(h), PHONE, GOOD_PASSWORD)).location);
    const again = await attempt(h, new Browser(h), { identifier: PHONE, password: 'Не-тот-пароль-9!' });
    expect(again.status, 'one failure after a success is not a lockout').to.equal(401);
  });
});
