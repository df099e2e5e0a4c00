import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, register, REGISTRATION_PROFILE, signIn } from '../support/flows.ts';
import { errorsOn } from './fixtures.ts';
import { StoreUnavailableError } from '../../src/store.ts';

describe('registration of a simplified account', function () {
  let h: Harness;
  /** Registration without a relying party up to its final form (the contact proven). */
  const profilePage = async (browser: Browser, phone: string, start = '/register') => {
    const codePage = await browser.submit(await browser.get(start), 'register', { contact: phone });
    return browser.submit(codePage, 'register/', { code: h.gateway.code(phone) });
  };
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('registers by phone from an authorization request and returns to the relying party signed in', async () => {
    const browser = new Browser(h);
    const login = await browser.get(authorizePath());
    const registerLink = login.html.match(/href="(\/interaction\/[^"]+\/register)"/)![1]!;
    const afterProfile = await register(browser, h, { start: registerLink, contact: '8 (912) 345-67-89', normalized: '+79123456789' });
    // Registration signs the citizen in; consent comes next, then the relying party.
    expect(afterProfile.html).to.include('/consent');
    const done = await browser.submit(afterProfile, '/consent', { decision: 'allow' });
    codeFrom(done.location);
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456789' });
    expect(account).to.include({ level: 'simplified', phoneVerified: true });
    expect(account!.name).to.deep.equal({ family: 'Иванова', given: 'Мария' });
    expect(account!.passwordHash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const events = await h.services.store.audit.listForAccount(account!.id);
    expect(events.map((e) => e.type)).to.include.members(['account.registered', 'signin', 'consent']);
  });

  it('registers by e-mail without a relying party: ends signed in, in the cabinet; can then sign in elsewhere', async () => {
    const browser = new Browser(h);
    const done = await register(browser, h, {
      start: '/register',
      contact: ' Maria.Ivanova@Example.RU ',
      normalized: 'maria.ivanova@example.ru',
    });
    expect(done.url).to.equal('/account');
    expect(done.html).to.include('id="account-name"');
    expect(done.html).to.include('Иванова Мария');
    const rp = await signIn(new Browser(h), 'maria.ivanova@example.ru', GOOD_PASSWORD);
    codeFrom(rp.location);
  });

  it('shows the consent to the processing of personal data and records its version and time; refuses without it', async () => {
    const browser = new Browser(h);
    const contactPage = await browser.get('/register');
    const codePage = await browser.submit(contactPage, 'register', { contact: '+79123456780' });
    const profile = await browser.submit(codePage, 'register/', { code: h.gateway.code('+79123456780') });
    expect(profile.html).to.include('Согласие на обработку персональных данных');
    expect(profile.html).to.include('152-ФЗ');
    expect(profile.html).to.include('name="pd_consent"');
    const fields = { family: 'Иванова', given: 'Мария', middle: '', password: GOOD_PASSWORD, password_confirm: GOOD_PASSWORD };
    const refused = await browser.submit(profile, 'register/', fields);
    expect(refused.status).to.equal(400);
    expect(refused.html).to.include('Без согласия на обработку персональных данных зарегистрироваться нельзя');
    expect(await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456780' })).to.equal(undefined);
    const before = new Date().toISOString();
    const done = await browser.submit(refused, 'register/', { ...fields, pd_consent: 'on' });
    expect(done.url).to.equal('/account');
    const account = (await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456780' }))!;
    expect(account.pdConsent!.version).to.equal('1');
    expect(account.pdConsent!.at >= before).to.equal(true);
    const [registered] = (await h.services.store.audit.listForAccount(account.id)).filter((e) => e.type === 'account.registered');
    expect(registered!.details).to.include({ pdConsent: '1' });
  });

  it('the code form sent again (a double click, a reload): it lands on the next step as it is, with no errors drawn', async () => {
    const browser = new Browser(h);
    const codePage = await browser.submit(await browser.get('/register'), 'register', { contact: '+79123456782' });
    const code = h.gateway.code('+79123456782');
    const first = await browser.submit(codePage, 'register/', { code });
    const second = await browser.submit(codePage, 'register/', { code });
    for (const page of [first, second]) {
      expect(page.status).to.equal(200);
      expect(page.html).to.include('name="pd_consent"');
      expect(errorsOn(page.html), 'no errors before anything was typed').to.deep.equal([]);
      expect(page.html).to.not.include('field-error');
    }
  });

  it('the final form sent twice (a double click): one account; the other answer says it was created, not that the contact is taken (409)', async () => {
    const browser = new Browser(h);
    const profile = await profilePage(browser, '+79123456783');
    const answers = await Promise.all([1, 2, 3].map(() => browser.submit(profile, 'register/', REGISTRATION_PROFILE)));
    const created = answers.filter((a) => a.url === '/account');
    expect(created, answers.map((a) => `${a.status} ${a.url}`).join(', ')).to.have.length(1);
    for (const again of answers.filter((a) => a !== created[0])) {
      expect(again.status).to.equal(409);
      expect(again.html).to.include('Учётная запись по этой регистрации уже создана');
      expect(again.html, 'not the message for a contact someone else holds').to.not.include('уже привязан');
      expect(again.html, 'a way on: sign in').to.match(/href="\/account"/);
    }
    // Sent again later (the back button): the same answer, not "the page is out of date".
    const later = await browser.submit(profile, 'register/', REGISTRATION_PROFILE);
    expect([later.status, later.html.includes('уже создана')]).to.deep.equal([409, true]);
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456783' });
    const registered = (await h.services.store.audit.listForAccount(account!.id)).filter((e) => e.type === 'account.registered');
    expect(registered).to.have.length(1);
  });

  it('a final step that failed for the store (503) gives the flow back: sent again, it registers — not "already created" with no account', async () => {
    const browser = new Browser(h);
    const profile = await profilePage(browser, '+79123456786');
    const accounts = h.services.accounts;
    const register = accounts.register.bind(accounts);
    let failures = 1;
    accounts.register = async (...args: Parameters<typeof register>) => {
      if (failures-- > 0) throw new StoreUnavailableError('busy', 1);
      return register(...args);
    };
    try {
      const failed = await browser.submit(profile, 'register/', REGISTRATION_PROFILE);
      expect(failed.status).to.equal(503);
      const again = await browser.submit(profile, 'register/', REGISTRATION_PROFILE);
      expect(again.url, again.html.slice(0, 300)).to.equal('/account');
    } finally {
      accounts.register = register;
    }
    expect(await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456786' })).to.not.equal(undefined);
  });

  it('sent twice and the first sending fails for the store: the second is asked to send the form again (409), and that registers', async () => {
    const browser = new Browser(h);
    const profile = await profilePage(browser, '+79123456787');
    const accounts = h.services.accounts;
    const register = accounts.register.bind(accounts);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let failures = 1;
    accounts.register = async (...args: Parameters<typeof register>) => {
      if (failures-- > 0) {
        await held;
        throw new StoreUnavailableError('busy', 1);
      }
      return register(...args);
    };
    // the first fails only once the second has tried to take the flow (and waits for the first)
    const flows = h.services.store.oidcAdapter('VkhodFlow');
    const consume = flows.consume.bind(flows);
    let takes = 0;
    flows.consume = async (id: string) => {
      const taken = await consume(id);
      if (++takes === 2) release();
      return taken;
    };
    try {
      const first = browser.submit(profile, 'register/', REGISTRATION_PROFILE);
      const second = browser.submit(profile, 'register/', REGISTRATION_PROFILE);
      const answers = await Promise.all([first, second]);
      expect(answers.map((a) => a.status).sort()).to.deep.equal([409, 503]);
      const again = answers.find((a) => a.status === 409)!;
      expect(again.html).to.include('Форма была отправлена дважды, и первая отправка не завершилась');
      expect((await browser.submit(profile, 'register/', REGISTRATION_PROFILE)).url).to.equal('/account');
    } finally {
      accounts.register = register;
      flows.consume = consume;
      release();
    }
  });

  it('a contact registered by someone else since its code was typed: 409, the contact is taken, and no form that would claim it again', async () => {
    const [first, second] = [new Browser(h), new Browser(h)];
    const profiles = [];
    for (const browser of [first, second]) profiles.push(await profilePage(browser, '+79123456785'));
    expect((await first.submit(profiles[0]!, 'register/', REGISTRATION_PROFILE)).url).to.equal('/account');
    const taken = await second.submit(profiles[1]!, 'register/', { ...REGISTRATION_PROFILE, family: 'Петрова' });
    expect(taken.status).to.equal(409);
    expect(taken.html).to.include('Этот контакт уже привязан к учётной записи');
    expect(taken.html).to.not.include('name="password"');
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456785' });
    expect(account!.name.family).to.equal('Иванова');
  });

  it("a double-clicked final form inside an authorization request: the repeated answer leads back to that request's sign-in", async () => {
    const browser = new Browser(h);
    const login = await browser.get(authorizePath());
    const start = login.html.match(/href="(\/interaction\/[^"]+)\/register"/)![1]!;
    const profile = await profilePage(browser, '+79123456784', `${start}/register`);
    const answers = await Promise.all([1, 2].map(() => browser.submit(profile, 'register/', REGISTRATION_PROFILE)));
    const again = answers.find((a) => a.status === 409);
    expect(again, answers.map((a) => `${a.status} ${a.url}`).join(', ')).to.not.equal(undefined);
    expect(again!.html).to.include(`href="${start}"`);
  });

  it('a deployment shows its own consent text and version', async () => {
    await h.close();
    h = await startHarness({
      env: { VKHOD_PD_CONSENT_TEXT: 'ООО «Оператор», г. Тверь: согласие по форме 7.', VKHOD_PD_CONSENT_VERSION: '2026-12' },
    });
    const browser = new Browser(h);
    const profile = await profilePage(browser, '+79123456781');
    expect(profile.html).to.include('ООО «Оператор», г. Тверь: согласие по форме 7.');
    expect(profile.html).to.not.include('152-ФЗ');
    await browser.submit(profile, 'register/', REGISTRATION_PROFILE);
    expect((await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456781' }))!.pdConsent!.version).to.equal('2026-12');
  });

  it('the welcome sign-in is bound to the browser that registered', async () => {
    const browser = new Browser(h);
    await register(browser, h, { start: '/register', contact: '+79123456782', normalized: '+79123456782' });
    // another browser going to the cabinet is asked to sign in
    const other = await new Browser(h).get('/account');
    expect(other.html).to.include('name="identifier"');
  });
});
