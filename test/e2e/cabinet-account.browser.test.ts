/**
 * The cabinet's account pages in a real browser (Chromium, no script needed): changing the
 * password, ending another session, withdrawing a consent and being asked again. Assertions are
 * on what the pages say.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { authorizationRequest, newRussianPage, useChromium, standInRelyingParty } from '../support/browser-helpers.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createAccount } from '../integration/fixtures.ts';

const PHONE = '+79123456789';
const NEW_PASSWORD = 'Синий-Слон-77?';

describe("the cabinet's account pages in a real browser (Chromium)", function () {
  this.timeout(60000);
  let h: Harness;
  const chromium = useChromium();
  beforeEach(async () => {
    h = await startHarness({ hostname: 'localhost' });
    await createAccount(h, { phone: PHONE });
  });
  afterEach(async () => {
    await h.close();
  });

  async function freshPage(): Promise<Page> {
    const opened = await newRussianPage(chromium.browser);
    chromium.track(opened.context);
    await standInRelyingParty(opened.page);
    return opened.page;
  }

  /** Opens a cabinet page, signing in on vkhod's page when asked. */
  async function cabinet(page: Page, path: string, password = GOOD_PASSWORD): Promise<void> {
    await page.goto(`${h.url}${path}`);
    if (await page.locator('#identifier').count()) {
      await page.fill('#identifier', PHONE);
      await page.fill('#password', password);
      await Promise.all([page.waitForURL((u) => u.pathname === path), page.click('form button[type=submit]')]);
    }
  }

  it('changes the password: the page says so, and the new password signs in', async () => {
    const page = await freshPage();
    await cabinet(page, '/account');
    await Promise.all([page.waitForURL(/\/account\/password$/), page.click('a[href="/account/password"]')]);
    expect(await page.locator('h1').textContent()).to.equal('Сменить пароль');
    await page.fill('#current', GOOD_PASSWORD);
    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#password_confirm', NEW_PASSWORD);
    await Promise.all([page.waitForURL(/notice=changed/), page.click('#password-submit')]);
    expect(await page.locator('#notice').textContent()).to.equal('Пароль изменён. Другие входы завершены.');
    const other = await freshPage();
    await cabinet(other, '/account', NEW_PASSWORD);
    expect(await other.locator('h1').textContent()).to.equal('Личный кабинет');
  });

  it('ends another session from the list: that browser is asked to sign in again', async () => {
    const phone = await freshPage();
    await cabinet(phone, '/account');
    const laptop = await freshPage();
    await cabinet(laptop, '/account/sessions');
    expect(await laptop.locator('#this-device').count()).to.equal(1);
    const others = laptop.locator('li.session:not(:has(#this-device)) button');
    expect(await others.count()).to.equal(1);
    await Promise.all([laptop.waitForURL(/notice=ended/), others.click()]);
    expect(await laptop.locator('#notice').textContent()).to.equal('Сеанс завершён.');
    expect(await laptop.locator('li.session').count()).to.equal(1);
    await phone.goto(`${h.url}/account`);
    expect(await phone.locator('#identifier').count(), 'the ended session signs in again').to.equal(1);
  });

  it('withdraws a consent; the next sign-in to the service asks again', async () => {
    const page = await freshPage();
    const first = authorizationRequest(h, { scope: 'openid profile' });
    await page.goto(first.url);
    await page.fill('#identifier', PHONE);
    await page.fill('#password', GOOD_PASSWORD);
    await Promise.all([page.waitForSelector('form[action$="/consent"]'), page.click('form button[type=submit]')]);
    const atService = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith('https://rp.example.test/')),
      page.click('button[value=allow]'),
    ]);
    expect(new URL(atService[0].url()).searchParams.get('code'), 'the service got a code').to.be.a('string');
    // The cabinet in another browser window (this one is at the service, which does not exist here).
    const cab = await freshPage();
    await cabinet(cab, '/account/services');
    expect(await cab.locator('#connected').textContent()).to.include('фамилию, имя, отчество, дату рождения и пол');
    await Promise.all([cab.waitForURL(/notice=withdrawn/), cab.click('#connected button')]);
    expect(await cab.locator('#notice').textContent()).to.include('Доступ отозван.');
    await cab.goto(authorizationRequest(h, { scope: 'openid profile' }).url);
    await cab.waitForSelector('form[action$="/consent"]');
    expect(await cab.locator('h1').textContent()).to.equal('Разрешить доступ к данным?');
  });
});
