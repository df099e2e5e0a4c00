/**
 * vkhod in a real browser (Debian's Chromium through playwright-core): the pages' JavaScript,
 * passkeys with Chromium's virtual authenticator, the cabinet's security settings, sign-in with
 * an authenticator app, and step-up of an existing session — each ending at the relying party
 * with the ID token checked. Every page visited is saved to test-artifacts/screenshots.
 */
import { expect } from 'chai';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  addVirtualAuthenticator,
  authorizationRequest,
  chromiumAvailable,
  codeAtRelyingParty,
  CHROMIUM,
  exchangeCode,
  launchChromium,
  newRussianPage,
  refresh,
  Screenshots,
  standInRelyingParty,
} from '../support/browser-helpers.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createAccount } from '../integration/fixtures.ts';

const SIMPLIFIED = 'urn:vkhod:loa:simplified';
const SIMPLIFIED_MFA = 'urn:vkhod:loa:simplified-mfa';

describe('in a real browser (Chromium)', function () {
  this.timeout(60000);

  let h: Harness;
  let browser: Browser;
  let context: BrowserContext | undefined;

  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`    [browser tests skipped: no Chromium at ${CHROMIUM}]`);
      this.skip();
    }
    // localhost, not 127.0.0.1: WebAuthn does not accept an IP address as the RP ID.
    h = await startHarness({ hostname: 'localhost' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await h?.close();
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  async function freshPage(): Promise<Page> {
    const opened = await newRussianPage(browser);
    context = opened.context;
    await standInRelyingParty(opened.page);
    return opened.page;
  }

  /** From a page with the contact form: phone → code from the captured SMS → name and password. */
  async function registerFromContactPage(page: Page, shots: Screenshots, phone: string): Promise<void> {
    expect(await page.locator('h1').textContent()).to.equal('Регистрация');
    await shots.take(page, 'register-contact');
    await page.fill('#contact', phone);
    await Promise.all([page.waitForURL(/\/register\/[A-Za-z0-9_-]{22}$/), page.click('form button[type=submit]')]);
    await shots.take(page, 'register-code');
    await page.fill('#code', h.gateway.code(phone));
    await Promise.all([page.waitForSelector('#family'), page.click('form:not(.secondary) button[type=submit]')]);
    await shots.take(page, 'register-profile');
    await page.fill('#family', 'Иванова');
    await page.fill('#given', 'Мария');
    await page.fill('#password', GOOD_PASSWORD);
    await page.fill('#password_confirm', GOOD_PASSWORD);
    await page.check('#pd_consent');
    await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
  }

  /** The cabinet page `path`, through vkhod's sign-in page and its "register" link. */
  async function registerIntoCabinet(page: Page, shots: Screenshots, phone: string, path: string): Promise<void> {
    await page.goto(`${h.url}${path}`);
    expect(page.url()).to.match(/\/interaction\/[^/]+$/);
    await shots.take(page, 'cabinet-login');
    await Promise.all([page.waitForURL(/\/interaction\/[^/]+\/register$/), page.click('.links-inline a[href$="/register"]')]);
    await registerFromContactPage(page, shots, phone);
    await page.waitForURL(`${h.url}${path}`);
  }

  /** /account/logout → the provider's confirmation → "Выйти" → home page. */
  async function signOut(page: Page, shots: Screenshots): Promise<void> {
    await page.goto(`${h.url}/account/logout`);
    expect(page.url()).to.include('/session/end');
    await shots.take(page, 'logout-confirm');
    await Promise.all([page.waitForURL(`${h.url}/`), page.click('button[name="logout"][value="yes"]')]);
    await shots.take(page, 'logged-out');
    await page.goto(`${h.url}/account`);
    expect(page.url(), 'signed out: the cabinet asks to sign in').to.match(/\/interaction\/[^/]+$/);
  }

  /**
   * After the last sign-in step: the consent page for rp-basic when it is shown ("Разрешить"),
   * then the relying party.
   */
  async function allowIfAsked(page: Page, shots: Screenshots): Promise<void> {
    const consent = page.locator('form[action$="/consent"]');
    await consent
      .or(page.locator('body', { hasText: 'rp ok' }))
      .first()
      .waitFor();
    if (page.url().startsWith(h.url)) {
      expect(await consent.count()).to.equal(1);
      await shots.take(page, 'consent');
      await page.click('button[name="decision"][value="allow"]');
    }
  }

  it('registers, adds a passkey in the cabinet, signs out, and signs in with the passkey alone (no login typed)', async () => {
    const shots = new Screenshots('passkey');
    const phone = '+79161110001';
    const page = await freshPage();
    const authenticator = await addVirtualAuthenticator(context!, page);

    // Registration through the cabinet's sign-in: a fresh sign-in, so passkeys can be added.
    await registerIntoCabinet(page, shots, phone, '/account/security');
    await shots.take(page, 'security');
    expect(await page.locator('#add-passkey').isVisible(), 'the button is shown once JavaScript runs').to.equal(true);
    await page.fill('#passkey-name', 'Ноутбук на работе');
    await Promise.all([page.waitForURL(/notice=passkey_added/), page.click('#add-passkey')]);
    await shots.take(page, 'passkey-added');
    expect(await page.locator('#notice').isVisible()).to.equal(true);
    expect(await page.locator('.passkey-name').allTextContents()).to.deep.equal(['Ноутбук на работе']);
    expect(await authenticator.credentials(), 'a resident credential in the virtual authenticator').to.have.length(1);
    expect(h.gateway.last(phone)?.text, 'the citizen is told about the new passkey').to.include('добавлен ключ доступа');
    // The same authenticator again: the browser refuses it (excludeCredentials); the page says so in
    // Russian, not the browser's "The authenticator was previously registered".
    await page.fill('#passkey-name', 'Ещё раз');
    await page.click('#add-passkey');
    await page.locator('#webauthn-status', { hasText: 'уже добавлен' }).waitFor();
    expect(await authenticator.credentials()).to.have.length(1);

    await signOut(page, shots);

    // The relying party asks; the citizen presses "Войти с ключом доступа" and types nothing.
    const request = authorizationRequest(h);
    await page.goto(request.url);
    const passkeyButton = page.getByRole('button', { name: 'Войти с ключом доступа' });
    expect(await passkeyButton.isVisible()).to.equal(true);
    expect(await page.inputValue('#identifier')).to.equal('');
    await shots.take(page, 'rp-login');
    await passkeyButton.click();
    await allowIfAsked(page, shots);
    const code = await codeAtRelyingParty(page, request);
    await shots.take(page, 'relying-party');

    const { claims } = await exchangeCode(h, code, request);
    expect(claims.amr).to.include('user');
    expect(claims.amr!.includes('hwk') || claims.amr!.includes('swk'), `amr ${claims.amr}`).to.equal(true);
    expect(claims.amr).to.not.include('pwd');
    expect(claims.acr).to.match(/-mfa$/);
    expect(claims.acr).to.equal(SIMPLIFIED_MFA);
  });

  it('enrols an authenticator app, turns on sign-in with confirmation, and signs in with password + TOTP', async () => {
    const shots = new Screenshots('totp');
    const phone = '+79161110002';
    const page = await freshPage();

    await registerIntoCabinet(page, shots, phone, '/account/security/totp');
    await shots.take(page, 'totp-enrol');
    const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s+/g, '');
    expect(secret).to.match(/^[A-Z2-7]{16,}$/);
    await page.fill('#code', await generate({ secret }));
    await Promise.all([
      page.waitForURL(/\/account\/security\?notice=totp_added$/),
      page.click('form[action="/account/security/totp"] button[type=submit]'),
    ]);
    await shots.take(page, 'totp-added');
    expect(h.gateway.last(phone)?.text).to.include('подключено приложение-аутентификатор');

    // Sign-in with confirmation, the authenticator app preferred.
    await page.check('#mfa-enabled');
    await page.selectOption('#preferred', 'totp');
    await Promise.all([page.waitForURL(/notice=mfa_enabled$/), page.click('form[action="/account/security/mfa"] button[type=submit]')]);
    await shots.take(page, 'mfa-enabled');
    expect(await page.isChecked('#mfa-enabled')).to.equal(true);
    await page.goto(`${h.url}/account`);
    expect(await page.locator('#account-mfa').textContent()).to.equal('включён');
    await shots.take(page, 'account');

    await signOut(page, shots);

    const request = authorizationRequest(h);
    await page.goto(request.url);
    await shots.take(page, 'rp-login');
    await page.fill('#identifier', phone);
    await page.fill('#password', GOOD_PASSWORD);
    await Promise.all([page.waitForURL(/\/interaction\/[^/]+\/mfa$/), page.click('form[action$="/login"] button[type=submit]')]);
    await shots.take(page, 'second-factor');
    // The step used at enrolment is refused again (replay protection); the next step is within
    // the server's ±1 step window, so its code works now.
    const nextStepCode = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    await page.fill('#code', nextStepCode);
    await page.click('form[action$="/mfa/verify"] button[type=submit]');
    await allowIfAsked(page, shots);
    const code = await codeAtRelyingParty(page, request);
    await shots.take(page, 'relying-party');

    const { claims } = await exchangeCode(h, code, request);
    expect(claims.amr).to.include.members(['pwd', 'otp', 'mfa']);
    expect(claims.acr).to.equal(SIMPLIFIED_MFA);
  });

  it('steps up a password session: a second request for simplified-mfa asks only for the SMS code; the refreshed ID token keeps the acr', async () => {
    const shots = new Screenshots('step-up');
    const phone = '+79161110003';
    const page = await freshPage();

    // A registered account with a confirmed phone (so SMS can be the second factor).
    await page.goto(`${h.url}/register`);
    await registerFromContactPage(page, shots, phone);
    // Registered outside a relying party: signed in, in the cabinet. This test starts signed out.
    expect(await page.locator('h1').textContent()).to.equal('Личный кабинет');
    await shots.take(page, 'registered');
    await context!.clearCookies();

    // First request: password only → simplified.
    const first = authorizationRequest(h);
    await page.goto(first.url);
    await shots.take(page, 'rp-login');
    await page.fill('#identifier', phone);
    await page.fill('#password', GOOD_PASSWORD);
    await page.click('form[action$="/login"] button[type=submit]');
    await allowIfAsked(page, shots);
    const firstTokens = await exchangeCode(h, await codeAtRelyingParty(page, first), first);
    await shots.take(page, 'relying-party-first');
    expect(firstTokens.claims.acr).to.equal(SIMPLIFIED);
    expect(firstTokens.claims.amr).to.deep.equal(['pwd']);

    // Second request in the same browser asks for more: only the second factor is asked.
    const second = authorizationRequest(h, { acr_values: SIMPLIFIED_MFA, scope: 'openid profile phone offline_access', prompt: 'consent' });
    await page.goto(second.url);
    await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
    await shots.take(page, 'step-up');
    expect(await page.locator('input[type=password]').count(), 'no password field').to.equal(0);
    expect(await page.locator('#identifier').count(), 'no login field').to.equal(0);
    await Promise.all([page.waitForURL(/\/mfa\?method=sms$/), page.click('form[action$="/mfa/sms/send"] button[type=submit]')]);
    await shots.take(page, 'sms-code');
    expect(await page.locator('input[type=password]').count()).to.equal(0);
    await page.fill('#code', h.gateway.code(phone));
    await page.click('form[action$="/mfa/verify"] button[type=submit]');
    await allowIfAsked(page, shots);
    const secondTokens = await exchangeCode(h, await codeAtRelyingParty(page, second), second);
    await shots.take(page, 'relying-party-second');
    expect(secondTokens.claims.sub).to.equal(firstTokens.claims.sub);
    expect(secondTokens.claims.acr).to.equal(SIMPLIFIED_MFA);
    expect(secondTokens.claims.amr).to.include.members(['pwd', 'sms', 'mfa']);
    expect(secondTokens.refresh_token, `offline_access with prompt=consent; scope ${secondTokens.scope}`).to.be.a('string');

    const refreshed = await refresh(h, secondTokens.refresh_token!);
    expect(refreshed.claims.sub).to.equal(secondTokens.claims.sub);
    expect(refreshed.claims.acr).to.equal(SIMPLIFIED_MFA);
    expect(refreshed.claims.amr).to.deep.equal(secondTokens.claims.amr);
  });

  it('response_mode=form_post: the code reaches the relying party by a POST the page sends itself, and without JavaScript by its button', async () => {
    const phone = '+79161110009';
    await createAccount(h, { phone });
    for (const javaScriptEnabled of [true, false]) {
      const shots = new Screenshots(javaScriptEnabled ? 'form-post' : 'form-post-no-js');
      context = await browser.newContext({ locale: 'ru-RU', javaScriptEnabled });
      const page = await context.newPage();
      const posted: URLSearchParams[] = [];
      await page.route('https://rp.example.test/**', (route) => {
        posted.push(new URLSearchParams(route.request().postData() ?? ''));
        return route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'rp ok' });
      });
      const request = authorizationRequest(h, { response_mode: 'form_post' });
      await page.goto(request.url);
      await page.fill('#identifier', phone);
      await page.fill('#password', GOOD_PASSWORD);
      await page.click('form[action$="/login"] button[type=submit]');
      const consent = page.locator('form[action$="/consent"]');
      await consent
        .or(page.locator('#auto-submit'))
        .or(page.locator('body', { hasText: 'rp ok' }))
        .first()
        .waitFor();
      if (await consent.count()) await page.click('button[name="decision"][value="allow"]');
      if (!javaScriptEnabled) {
        await page.waitForSelector('#auto-submit');
        await shots.take(page, 'continue');
        expect(await page.locator('h1').textContent()).to.equal('Продолжаем…');
        await page.getByRole('button', { name: 'Продолжить' }).click();
      }
      await page.locator('body', { hasText: 'rp ok' }).waitFor();
      expect(posted, 'one POST to the redirect URI').to.have.length(1);
      expect(posted[0]!.get('state')).to.equal(request.state);
      const { claims } = await exchangeCode(h, posted[0]!.get('code')!, request);
      expect(claims.nonce).to.equal(request.nonce);
      await context.close();
      context = undefined;
    }
  });

  it('keeps the passkey button hidden without JavaScript (it would do nothing) and shows it with JavaScript', async () => {
    const shots = new Screenshots('no-js');
    const request = authorizationRequest(h);
    context = await browser.newContext({ locale: 'ru-RU', javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(request.url);
    await shots.take(page, 'login');
    expect(await page.locator('#identifier').isVisible()).to.equal(true);
    expect(await page.locator('[data-webauthn]').isVisible(), 'hidden attribute respected by the CSS').to.equal(false);
    await context.close();

    const withJs = await freshPage();
    await withJs.goto(request.url);
    expect(await withJs.getByRole('button', { name: 'Войти с ключом доступа' }).isVisible()).to.equal(true);
  });
});
