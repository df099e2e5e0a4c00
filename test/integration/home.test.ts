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

  it('says it in English too', async () => {
    const home = await new Browser(h, { 'accept-language': 'en' }).get('/');
    expect(home.html).to.match(/<a href="\/account" id="home-account">Personal account<\/a>/);
  });
});
