/** Page language (Accept-Language, ui_locales), CSP and other security headers, cookie attributes. */
import { expect } from 'chai';
import { csrfOf, formAction } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { createAccount, expectNoLeak, firstError, resetStore, setCookies } from './fixtures.ts';
import { NEW_PHONE, PHONE, RecordingBrowser } from './bad-input-fixtures.ts';

describe('language, security headers and cookies of the hosted pages', function () {
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

  describe('language', () => {
    it('shows English pages for Accept-Language: en', async () => {
      const browser = new RecordingBrowser(h, { 'accept-language': 'en-GB,en;q=0.9' });
      const page = await browser.get('/register');
      expect(page.html).to.include('<html lang="en">');
      expect(page.html).to.include('Create an account');
      const bad = await browser.submit(page, '/register', { contact: 'ivan@' });
      expect(bad.status).to.equal(400);
      expect(firstError(bad.html)).to.equal(
        "This doesn't look like a mobile number or an email address. The phone must be a Russian mobile number starting with +7 9; the email must look like ivanov@mail.ru.",
      );
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
      const paths = [
        '/',
        '/register',
        '/recover',
        `/interaction/${uid}`,
        '/interaction/nope',
        '/register/AAAAAAAAAAAAAAAAAAAAAA',
        '/no/such/page',
        '/auth?client_id=nope&response_type=code&scope=openid',
        '/session/end',
      ];
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
      res = await browser.agent
        .post(formAction(res.text, '/login'))
        .type('form')
        .send({ _csrf: csrfOf(res.text), identifier: PHONE, password: GOOD_PASSWORD });
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
