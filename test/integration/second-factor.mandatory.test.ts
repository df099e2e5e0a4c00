/**
 * VKHOD_REQUIRE_SECOND_FACTOR=true (DESIGN §3, as ESIA since October 2023): every account needs a
 * second factor; a citizen without one is walked through enrolment at the next sign-in — a code
 * to the confirmed mobile first (the second factor of that sign-in), then the factor chosen for
 * the sign-ins that follow — and a citizen who registers inside a sign-in, too.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, type Harness } from '../support/harness.ts';
import {
  addTotp,
  authorizePath,
  passConsent,
  pkce,
  proveContact,
  redeem,
  register,
  submitPassword,
  totpCode,
  totpSecretOf,
} from '../support/flows.ts';
import { auditOfType, createAccount } from './fixtures.ts';

const PHONE = '+79123456789';
const MFA = 'urn:vkhod:loa:simplified-mfa';

function redirectParams(page: Page): URLSearchParams {
  expect(page.location, `a redirect to the relying party, got ${page.status} at ${page.url}`).to.be.a('string');
  const url = new URL(page.location!);
  expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
  return url.searchParams;
}

describe('second factor required by the deployment', function () {
  let h: Harness;
  let accountId: string;
  beforeEach(async () => {
    h = await startHarness({ env: { VKHOD_REQUIRE_SECOND_FACTOR: 'true' } });
    accountId = (await createAccount(h, { phone: PHONE })).id;
  });
  afterEach(() => h.close());

  it('walks a citizen without a factor through enrolment (code to the mobile, then an authenticator app) and completes the sign-in', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const enrol = await submitPassword(browser, PHONE, authorizePath({}, challenge));
    expect(enrol.url).to.match(/\/mfa\/enrol$/);
    expect(enrol.html).to.include('Вход с подтверждением обязателен для всех учётных записей.');
    expect(enrol.html).to.include('Сначала подтвердите, что это вы');
    expect(enrol.html).to.include('+7 912 ***-**-89');
    expect(enrol.location, 'no code before enrolment').to.equal(undefined);
    const factors = await proveContact(browser, h, enrol, PHONE);
    expect(h.gateway.last(PHONE)?.text).to.include('для подключения подтверждения входа');
    const secret = totpSecretOf(factors.html);
    const rp = await passConsent(browser, await browser.submit(factors, '/mfa/enrol/totp', { code: await totpCode(secret) }));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.sub).to.equal(accountId);
    expect(claims.acr).to.equal(MFA);
    // This sign-in's second factor is the code to the mobile; the app counts from the next one.
    expect(claims.amr).to.have.members(['pwd', 'sms', 'mfa']);
    expect(auditOfType(h, 'factor.totp_added')[0]?.details).to.deep.include({ during: 'sign-in' });

    // The next sign-in asks for the app, not for enrolment.
    const next = new Browser(h);
    const mfa = await submitPassword(next, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    expect(mfa.html).to.include('Код из приложения-аутентификатора');
    const again = await passConsent(next, await next.submit(mfa, '/mfa/verify', { code: await totpCode(secret, 1) }));
    expect(redirectParams(again).get('code')).to.be.a('string');
  });

  it('lets the citizen enrol the confirmed mobile (SMS) instead', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const enrol = await submitPassword(browser, PHONE, authorizePath({}, challenge));
    expect(enrol.html, 'SMS codes are offered only once the mobile is proven').to.not.include('/mfa/enrol/sms"');
    const sent = await browser.submit(enrol, '/mfa/enrol/contact/send', {});
    expect(sent.status).to.equal(200);
    const wrong = await browser.submit(sent, '/mfa/enrol/contact', {
      code: String((Number(h.gateway.code(PHONE)) + 1) % 1_000_000).padStart(6, '0'),
    });
    expect(wrong.status).to.equal(400);
    expect(wrong.html).to.not.include('/mfa/enrol/sms"');
    const proven = await browser.submit(wrong, '/mfa/enrol/contact', { code: h.gateway.code(PHONE) });
    expect(proven.html).to.include('Коды подтверждения входа будут приходить в SMS на номер +7 912 ***-**-89.');
    expect((await h.services.accounts.findActive(accountId))!.mfa).to.equal(undefined);
    const rp = await passConsent(browser, await browser.submit(proven, '/mfa/enrol/sms', {}));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.amr).to.have.members(['pwd', 'sms', 'mfa']);
    expect(claims.acr).to.equal(MFA);
    expect((await h.services.accounts.findActive(accountId))!.mfa).to.deep.equal({ enabled: true, preferred: 'sms' });

    // From now on the password is followed by an SMS code.
    const next = new Browser(h);
    const mfa = await submitPassword(next, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    expect(mfa.html).to.include('/mfa/sms/send');
  });

  it('asks a citizen who has a factor for it, without enrolment', async () => {
    const secret = await addTotp(h, accountId);
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
    expect(redirectParams(rp).get('code')).to.be.a('string');
  });

  for (const [kind, contact, normalized, amr] of [
    ['mobile', '8 (916) 111-22-33', '+79161112233', 'sms'],
    ['e-mail', 'new.citizen@example.ru', 'new.citizen@example.ru', 'otp'],
  ] as const) {
    it(`walks a citizen who registers inside the sign-in (${kind}) through enrolment, the registration code counting as the contact proof`, async () => {
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const login = await browser.get(authorizePath({}, challenge));
      const enrol = await register(browser, h, { start: `${login.url}/register`, contact, normalized });
      expect(enrol.location, 'no code for the relying party before enrolment').to.equal(undefined);
      expect(enrol.url).to.match(/\/mfa\/enrol$/);
      expect(enrol.html).to.include('Вход с подтверждением обязателен для всех учётных записей.');
      expect(enrol.html, 'no second code: the contact was proven a moment ago').to.not.include('/mfa/enrol/contact');
      const sentBefore = h.gateway.sent.length;
      const secret = totpSecretOf(enrol.html);
      const rp = await passConsent(browser, await browser.submit(enrol, '/mfa/enrol/totp', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.amr).to.have.members(['pwd', amr, 'mfa']);
      const account = (await h.services.accounts.findActive(claims.sub as string))!;
      expect(account.totp?.sealedSecret).to.match(/^v1\./);
      expect(
        h.gateway.sent
          .slice(sentBefore)
          .map((m) => m.text)
          .join(' '),
        'only the notice of the new factor',
      ).to.not.match(/\b\d{6}\b/);
    });
  }

  it('cannot be skipped: leaving the enrolment page ends the sign-in without a code', async () => {
    const browser = new Browser(h);
    const enrol = await submitPassword(browser, PHONE, authorizePath({ state: 'st-m' }));
    expect(enrol.url).to.match(/\/mfa\/enrol$/);
    const back = await browser.submit(enrol, '/abort', {});
    const params = redirectParams(back);
    expect(params.get('code')).to.equal(null);
    expect(params.get('error'), 'the relying party did not ask for it: the citizen declined').to.equal('access_denied');
    expect(params.get('state')).to.equal('st-m');
    // The enrolment pages of that sign-in are gone with it.
    const stale = await browser.get(enrol.url);
    expect(stale.status).to.equal(400);
  });
});
