/**
 * The account's lifecycle in a real browser (Chromium), without the pages' JavaScript:
 * deleting the account from the cabinet and cancelling it by signing in again; recovering access
 * with a qualified e-signature (no phone, no e-mail) and landing in the cabinet. Assertions are on
 * what the pages say; screenshots go to test-artifacts/screenshots.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailable, CHROMIUM, launchChromium, newRussianPage, Screenshots } from '../support/browser-helpers.ts';
import { signText, startPki, type TestPki } from '../support/federation.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IVAN_FORM, makeConfirmed } from '../support/identity.ts';
import { createAccount } from '../integration/fixtures.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };

describe('in a real browser (Chromium): the account lifecycle', function () {
  this.timeout(60000);
  let h: Harness;
  let pki: TestPki;
  let browser: Browser;
  let context: BrowserContext | undefined;

  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`    [browser tests skipped: no Chromium at ${CHROMIUM}]`);
      this.skip();
    }
    pki = await startPki();
    h = await startHarness({ hostname: 'localhost', env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.dir, VKHOD_ESIGN_CRL_FILE: pki.dir } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    pki?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  async function freshPage(): Promise<Page> {
    const opened = await newRussianPage(browser);
    context = opened.context;
    return opened.page;
  }

  async function signInHere(page: Page, phone: string): Promise<void> {
    expect(page.url()).to.match(/\/interaction\/[^/]+$/);
    await page.fill('#identifier', phone);
    await page.fill('#password', GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/login"] button[type=submit]')]);
  }

  it('deletes the account from the cabinet, then cancels the deletion by signing in', async () => {
    const shots = new Screenshots('delete-cancel');
    const phone = '+79161110077';
    await createAccount(h, { phone });
    const page = await freshPage();
    await page.goto(`${h.url}/account`);
    await signInHere(page, phone);
    expect(page.url()).to.equal(`${h.url}/account`);
    await Promise.all([page.waitForURL(`${h.url}/account/delete`), page.click('#delete-account')]);
    await shots.take(page, 'delete-form');
    expect(await page.locator('h1').textContent()).to.equal('Удалить учётную запись');
    await page.fill('#delete-form #password', GOOD_PASSWORD);
    await page.check('#understand');
    await Promise.all([page.waitForNavigation(), page.click('#delete-form button[type=submit]')]);
    await shots.take(page, 'deleted');
    expect(await page.locator('h1').textContent()).to.equal('Учётная запись отключена');
    expect(await page.locator('.alert-success').textContent()).to.include('Передумали — войдите в vkhod');

    // Signing in again: the right password offers to restore the account.
    await page.goto(`${h.url}/account`);
    await signInHere(page, phone);
    await shots.take(page, 'restore-offer');
    expect(await page.locator('#restore-lead').textContent()).to.include('Вы удалили эту учётную запись');
    await Promise.all([page.waitForURL(`${h.url}/account`), page.click('#restore')]);
    await shots.take(page, 'restored');
    expect(await page.locator('#account-name').textContent()).to.equal('Иванова Мария');
  });

  it('recovers access with an e-signature from the recovery page and lands in the cabinet', async () => {
    const shots = new Screenshots('recover-esign');
    const phone = '+79161110078';
    const account = await createAccount(h, { phone });
    // Confirmed: the SNILS is bound to the person (the registry alone on a standard account is not enough).
    await makeConfirmed(h, account.id, IVAN_FORM);
    const citizen = await pki.citizen(IVAN, { kind: 'ecdsa' });
    const page = await freshPage();
    await page.goto(`${h.url}/recover`);
    await shots.take(page, 'recover-ways');
    expect(await page.locator('#recover-ways-heading').textContent()).to.equal('Нет доступа к телефону и почте?');
    await Promise.all([page.waitForURL(`${h.url}/recover/esign`), page.click('#recover-esign')]);
    await shots.take(page, 'esign');
    const challenge = (await page.locator('#esign-challenge').textContent())!;
    await page.fill('#signature', (await signText(challenge, citizen)).toString('base64'));
    await Promise.all([
      page.waitForURL(/\/recover\/esign\/[A-Za-z0-9_-]{22}$/),
      page.click('form[enctype="multipart/form-data"] button[type=submit]'),
    ]);
    await shots.take(page, 'new-password');
    await page.fill('#password', 'Новый-Пароль-Лес-77');
    await page.fill('#password_confirm', 'Новый-Пароль-Лес-77');
    await Promise.all([page.waitForURL(`${h.url}/account`), page.click('form button[type=submit]')]);
    await shots.take(page, 'cabinet');
    expect(await page.locator('#account-name').textContent()).to.include('Петров');
  });
});
