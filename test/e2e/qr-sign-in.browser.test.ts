/**
 * "Войти по QR-коду" in a real browser (Chromium): two contexts, the computer and the phone. The
 * computer's page moves on by itself (its script polls), the phone approves or refuses with its
 * cabinet session; expiry and a QR relayed to another machine are seen on both screens.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import {
  authorizationRequest,
  codeAtRelyingParty,
  exchangeCode,
  Screenshots,
  standInRelyingParty,
  useChromium,
} from '../support/browser-helpers.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createAccount, sqlite } from '../integration/fixtures.ts';

const PHONE = '+79123456782';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36';
const LINUX_FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('QR sign-in in a real browser (Chromium: computer and phone)', function () {
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

  async function device(userAgent: string, mobile = false): Promise<Page> {
    const context = await chromium.browser.newContext({
      locale: 'ru-RU',
      userAgent,
      viewport: mobile ? { width: 390, height: 844 } : { width: 1024, height: 800 },
    });
    chromium.track(context);
    const page = await context.newPage();
    await standInRelyingParty(page);
    return page;
  }

  /** The phone, signed in to the cabinet. */
  async function signedInPhone(): Promise<Page> {
    const phone = await device(ANDROID, true);
    await phone.goto(`${h.url}/account`);
    await phone.fill('#identifier', PHONE);
    await phone.fill('#password', GOOD_PASSWORD);
    await Promise.all([phone.waitForURL((u) => u.pathname === '/account'), phone.click('form button[type=submit]')]);
    return phone;
  }

  /** The computer opens the service's sign-in and chooses the QR code; returns the phone's address and the code. */
  async function showQr(computer: Page, url: string): Promise<{ address: string; code: string }> {
    await computer.goto(url);
    await Promise.all([computer.waitForURL(/\/qr$/), computer.click('#qr-link')]);
    expect(await computer.locator('.qr-code svg').count()).to.equal(1);
    const address = (await computer.locator('.qr-code').getAttribute('data-qr-url'))!;
    expect(address.startsWith(`${h.url}/account/qr/`)).to.equal(true);
    return { address, code: (await computer.locator('#qr-code').textContent())!.trim() };
  }

  it('approved on the phone: the computer moves on by itself and signs in (amr pwd + mca)', async () => {
    const shots = new Screenshots('qr-approve');
    const phone = await signedInPhone();
    const computer = await device(WINDOWS);
    const request = authorizationRequest(h);
    const { address, code } = await showQr(computer, request.url);
    await shots.take(computer, 'computer-qr');
    await phone.goto(address);
    expect((await phone.locator('#qr-code').textContent())!.trim()).to.equal(code);
    expect(await phone.locator('#qr-device').textContent()).to.equal('Chrome 121, Windows');
    await shots.take(phone, 'phone-approve');
    await phone.click('#qr-approve');
    await phone.getByText('Вход в сервис «Тестовый сервис» подтверждён').waitFor();
    // The computer's script notices the approval and the sign-in goes on to consent.
    await computer.waitForURL(/\/interaction\/[^/]+$/);
    await shots.take(computer, 'computer-consent');
    await computer.click('button[value=allow]');
    const tokens = await exchangeCode(h, await codeAtRelyingParty(computer, request), request);
    expect(tokens.claims.acr).to.equal('urn:vkhod:loa:simplified');
    expect(tokens.claims.amr).to.have.members(['pwd', 'mca']);
  });

  it('refused on the phone: both screens say so', async () => {
    const phone = await signedInPhone();
    const computer = await device(WINDOWS);
    const { address } = await showQr(computer, authorizationRequest(h).url);
    await phone.goto(address);
    await phone.click('#qr-deny');
    await phone.getByText('Вход в сервис «Тестовый сервис» отклонён').waitFor();
    await computer.getByText('Вход отклонён на телефоне.').waitFor();
    expect(await computer.locator('.qr-code').count()).to.equal(0);
  });

  it('expired: the computer shows a new code by itself, the phone with the old one is told it expired', async () => {
    const phone = await signedInPhone();
    const computer = await device(WINDOWS);
    const { address } = await showQr(computer, authorizationRequest(h).url);
    const uid = new URL(computer.url()).pathname.split('/')[2]!;
    sqlite(h)
      .prepare(`UPDATE oidc SET payload = json_set(payload, '$.expiresAt', ?) WHERE model = 'VkhodFlow' AND id = ?`)
      .run(Date.now() - 1, `qr.${uid}`);
    await computer.getByText('Срок прежнего QR-кода истёк. Показан новый код.').waitFor();
    const renewed = (await computer.locator('.qr-code').getAttribute('data-qr-url'))!;
    expect(renewed).to.not.equal(address);
    await phone.goto(address);
    await phone.getByText('Срок запроса истёк').waitFor();
    expect(await phone.locator('#qr-approve').count()).to.equal(0);
  });

  it('a QR code relayed from another machine: the phone shows that machine, not the citizen’s; refusing stops it there', async () => {
    const phone = await signedInPhone();
    // The phishing relay opens the real sign-in on its own machine and shows its QR code to the citizen.
    const relay = await device(LINUX_FIREFOX);
    const { address } = await showQr(relay, authorizationRequest(h).url);
    await phone.goto(address);
    expect(await phone.locator('#qr-device').textContent()).to.equal('Firefox 128, Linux');
    await phone.click('#qr-deny');
    await relay.getByText('Вход отклонён на телефоне.').waitFor();
  });
});
