/**
 * The home page: the way in for a citizen who comes to vkhod directly — the personal account
 * (through vkhod's own sign-in), registration and recovery.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

describe('home page', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('links to the personal account, which opens after signing in', async () => {
    await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const home = await browser.get('/');
    expect(home.status).to.equal(200);
    expect(home.html).to.match(/<a href="\/account" id="home-account">Личный кабинет<\/a>/);
    expect(home.html).to.include('href="/register"');
    const cabinet = await openCabinet(browser, '/account', PHONE);
    expect(cabinet.url).to.equal('/account');
    expect(cabinet.html).to.include('id="account-mfa"');
  });

  it('"Cancel" on the cabinet’s sign-in page goes back home, not to an error page', async () => {
    const browser = new Browser(h);
    const login = await browser.get('/account');
    expect(login.html).to.include('name="identifier"');
    const cancelled = await browser.submit(login, '/abort', {});
    expect(cancelled.status).to.equal(200);
    expect(cancelled.url).to.equal('/');
    expect(cancelled.html).to.include('id="home-account"');
  });

  it('says it in English too', async () => {
    const home = await new Browser(h, { 'accept-language': 'en' }).get('/');
    expect(home.html).to.match(/<a href="\/account" id="home-account">Personal account<\/a>/);
  });
});

describe('language switch, favicon, scripts and wrong methods', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('remembers the chosen language and goes back to the local page it came from', async () => {
    const browser = new Browser(h);
    const res = await browser.agent.get('/lang/en?back=/register');
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/register');
    expect(String(res.headers['set-cookie'])).to.match(/vkhod\.lang=en;.*httponly/i);
    const page = await browser.get('/register');
    expect(page.html).to.include('<html lang="en">');
    await browser.agent.get('/lang/ru');
    expect((await browser.get('/register')).html).to.include('<html lang="ru">');
  });

  it('never sends the browser to another site, whatever `back` says', async () => {
    for (const back of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '']) {
      const res = await new Browser(h).agent.get(`/lang/en?back=${encodeURIComponent(back)}`);
      expect(res.status, back).to.equal(302);
      expect(res.headers.location, back).to.equal('/');
    }
    const unknown = await new Browser(h).agent.get('/lang/xx');
    expect(unknown.headers.location).to.equal('/');
    expect(String(unknown.headers['set-cookie'])).to.include('vkhod.lang=ru');
  });

  it('serves the favicon and the WebAuthn helper from the package, nothing from elsewhere', async () => {
    const browser = new Browser(h);
    const icon = await browser.agent.get('/favicon.ico');
    expect(icon.status).to.equal(301);
    expect(icon.headers.location).to.equal('/static/favicon.svg');
    const svg = await browser.agent.get('/static/favicon.svg');
    expect(svg.status).to.equal(200);
    expect(svg.headers['content-type']).to.include('image/svg+xml');
    const script = await browser.agent.get('/static/vendor/webauthn-browser.js');
    expect(script.status).to.equal(200);
    expect(script.headers['content-type']).to.include('javascript');
    expect(script.text).to.include('SimpleWebAuthnBrowser');
  });

  it('answers a wrong method on a page with a 405 page in Russian, not a bare text or a 500', async () => {
    const res = await new Browser(h).agent.put('/register').set('accept', 'text/html');
    expect(res.status).to.equal(405);
    expect(res.headers['content-type']).to.include('text/html');
    expect(res.text).to.include('Такой запрос здесь не обрабатывается');
    expect(res.text).to.not.match(/\bat .*\.ts:\d+/);
  });
});
