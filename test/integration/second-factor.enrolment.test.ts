/**
 * Enrolment inside a sign-in (/interaction/:uid/mfa/enrol) is only for an account that has to
 * get a second factor now. Someone who knows only the password of an account that already has
 * one must not reach it: enrolling a factor of their own would skip the citizen's. And on an
 * account without one, a factor of their own proves nothing either: enrolment waits for a code to
 * the account's confirmed contact, which is this sign-in's second factor.
 */
import { expect } from 'chai';
import { Browser, csrfOf } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, passConsent, pkce, postJson, redeem, submitPassword, totpCode, totpSecretOf } from '../support/flows.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount } from './fixtures.ts';

const PHONE = '+79123456789';
const EMAIL = 'anna.petrova@example.ru';
const SNILS = '11223344595';
const MFA = 'urn:vkhod:loa:simplified-mfa';

/** The relying party's redirect, with its query. */
function redirectParams(location: string | undefined): URLSearchParams {
  expect(location, 'a redirect to the relying party').to.be.a('string');
  const url = new URL(location!);
  expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
  return url.searchParams;
}

describe('second factor: enrolment inside a sign-in', function () {
  let h: Harness;
  afterEach(() => h.close());

  for (const [label, env, setup] of [
    ['sign-in with confirmation on', {}, (hh: Harness, id: string) => addTotp(hh, id, { mfa: true })],
    ['a relying party asking for -mfa', {}, (hh: Harness, id: string) => addTotp(hh, id)],
    ['the deployment requiring a factor', { VKHOD_REQUIRE_SECOND_FACTOR: 'true' }, (hh: Harness, id: string) => addTotp(hh, id)],
  ] as const) {
    it(`cannot be used to skip an existing factor (${label})`, async () => {
      h = await startHarness({ env });
      const accountId = (await createAccount(h, { phone: PHONE })).id;
      await setup(h, accountId);
      const before = (await h.services.accounts.findActive(accountId))!;
      const browser = new Browser(h);
      const mfa = await submitPassword(browser, PHONE, authorizePath(label.includes('-mfa') ? { acr_values: MFA } : {}));
      expect(mfa.url, 'the second step, not enrolment').to.match(/\/mfa$/);
      const _csrf = csrfOf(mfa.html);

      const page = await browser.get(`${mfa.url}/enrol`);
      expect(page.status).to.equal(400);
      expect(page.html).to.not.include('totp-secret');

      const totp = await browser.post(`${mfa.url}/enrol/totp`, { _csrf, code: '123456' }, false);
      expect(totp.status).to.equal(400);
      const contact = await browser.post(`${mfa.url}/enrol/contact/send`, { _csrf }, false);
      expect(contact.status).to.equal(400);
      const sms = await browser.post(`${mfa.url}/enrol/sms`, { _csrf }, false);
      expect(sms.status).to.equal(400);
      expect(h.gateway.sent.filter((m) => m.to === PHONE)).to.have.length(0);
      const options = await postJson(browser, `${mfa.url}/enrol/webauthn/options`, { _csrf });
      expect(options.status).to.equal(400);
      expect(options.body.options).to.equal(undefined);
      // A registration made against a challenge from elsewhere gets nowhere either.
      const auth = new SoftAuthenticator(h.url);
      const response = auth.create({
        challenge: 'AAAA',
        rp: { id: '127.0.0.1', name: 'vkhod' },
        user: { id: 'x', name: 'x', displayName: 'x' },
      });
      const registered = await postJson(browser, `${mfa.url}/enrol/webauthn`, { _csrf, handle: 'x', response, name: 'Чужой' });
      expect(registered.status).to.equal(400);
      expect(registered.body.redirect).to.equal(undefined);

      const after = (await h.services.accounts.findActive(accountId))!;
      expect(after.version).to.equal(before.version);
      expect(after.passkeys ?? []).to.have.length(0);
      expect(auditOfType(h, 'signin').filter((e) => e.outcome === 'success')).to.have.length(0);
    });
  }
});

describe('second factor: enrolment inside a sign-in needs a code to a confirmed contact first', function () {
  let h: Harness;
  afterEach(() => h.close());

  for (const [label, env, contact, acr] of [
    ['mandatory deployment, account with a confirmed mobile', { VKHOD_REQUIRE_SECOND_FACTOR: 'true' }, { phone: PHONE }, undefined],
    ['a relying party asking for -mfa, account with a confirmed e-mail only', {}, { email: EMAIL }, MFA],
  ] as const) {
    it(`someone with only the password cannot enrol their own authenticator app or passkey and finish (${label})`, async () => {
      h = await startHarness({ env });
      const account = await createAccount(h, contact);
      const to = 'phone' in contact ? contact.phone : contact.email;
      const attacker = new Browser(h);
      const { verifier, challenge } = pkce();
      const enrol = await submitPassword(attacker, to, authorizePath(acr ? { acr_values: acr } : {}, challenge));
      expect(enrol.url).to.match(/\/mfa\/enrol$/);
      expect(enrol.html, 'no authenticator-app seed to scan yet').to.not.include('totp-secret');
      expect(enrol.html).to.not.include('data-webauthn="register"');
      const _csrf = csrfOf(enrol.html);

      // Their own app, with codes that are right for the seed they would scan: refused, no seed is even issued.
      const totp = await attacker.post(`${enrol.url}/totp`, { _csrf, code: '123456' }, false);
      expect(totp.status).to.equal(400);
      // Their own passkey: no options, and a registration made up without them gets nowhere.
      const options = await postJson(attacker, `${enrol.url}/webauthn/options`, { _csrf });
      expect(options.status).to.equal(400);
      expect(options.body.options).to.equal(undefined);
      const auth = new SoftAuthenticator(h.url);
      const response = auth.create({
        challenge: 'AAAA',
        rp: { id: '127.0.0.1', name: 'vkhod' },
        user: { id: 'x', name: 'x', displayName: 'x' },
      });
      const registered = await postJson(attacker, `${enrol.url}/webauthn`, { _csrf, handle: 'x', response, name: 'Мой' });
      expect(registered.status).to.equal(400);
      expect(registered.body.redirect).to.equal(undefined);
      expect((await attacker.post(`${enrol.url}/sms`, { _csrf }, false)).status).to.equal(400);
      expect((await attacker.post(`${enrol.url}/contact`, { _csrf, code: '123456' }, false)).status, 'no code was sent yet').to.equal(400);

      // The code goes to the owner's contact (with a warning), not to the attacker; guesses count.
      const sent = await attacker.submit(enrol, '/mfa/enrol/contact/send', {});
      expect(sent.status).to.equal(200);
      expect(h.gateway.last(to)?.text).to.include('Если вы не входили в vkhod, срочно смените пароль.');
      const right = h.gateway.code(to);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      const guess = await attacker.submit(sent, '/mfa/enrol/contact', { code: wrong });
      expect(guess.status).to.equal(400);
      expect(guess.html).to.not.include('totp-secret');
      expect((await attacker.post(`${enrol.url}/totp`, { _csrf, code: '123456' }, false)).status, 'still nothing to enrol').to.equal(400);
      expect(auditOfType(h, 'signin.second_factor').map((e) => e.details?.method)).to.deep.equal(['contact-enrol']);

      const after = (await h.services.accounts.findActive(account.id))!;
      expect(after.version).to.equal(account.version);
      expect(after.totp).to.equal(undefined);
      expect(after.passkeys ?? []).to.have.length(0);
      expect(auditOfType(h, 'signin').filter((e) => e.outcome === 'success')).to.have.length(0);

      // Only whoever holds the code from the owner's phone or mailbox gets further (here: the same sign-in).
      const proven = await attacker.submit(guess, '/mfa/enrol/contact', { code: right });
      const secret = totpSecretOf(proven.html);
      const rp = await passConsent(attacker, await attacker.submit(proven, '/mfa/enrol/totp', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.amr).to.have.members(['pwd', 'phone' in contact ? 'sms' : 'otp', 'mfa']);
    });
  }

  it('the code is limited like every one-time code: three sends per ten minutes to a contact', async () => {
    h = await startHarness({ env: { VKHOD_REQUIRE_SECOND_FACTOR: 'true' } });
    await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const enrol = await submitPassword(browser, PHONE);
    let page = enrol;
    for (let i = 0; i < 3; i += 1) {
      page = await browser.submit(page, '/mfa/enrol/contact/send', {});
      expect(page.status).to.equal(200);
    }
    const limited = await browser.submit(page, '/mfa/enrol/contact/send', {});
    expect(limited.status).to.equal(429);
    expect(limited.html).to.include('Коды отправлялись слишком часто');
    expect(h.gateway.sent.filter((m) => m.to === PHONE)).to.have.length(3);
    // The last code sent still works.
    const proven = await browser.submit(limited, '/mfa/enrol/contact', { code: h.gateway.code(PHONE) });
    expect(proven.html).to.include('id="totp-secret"');
  });

  for (const [mode, env, error] of [
    ['a relying party asking for -mfa', {}, 'unmet_authentication_requirements'],
    ['a mandatory deployment', { VKHOD_REQUIRE_SECOND_FACTOR: 'true' }, 'access_denied'],
  ] as const) {
    it(`an account with no confirmed contact cannot enrol in the sign-in: it is told why, and the service gets ${error} (${mode})`, async () => {
      h = await startHarness({ env });
      // Signs in with SNILS; the e-mail it registered with is no longer confirmed.
      const account = await createAccount(h, { email: EMAIL, snils: SNILS, snilsVerified: true });
      await h.services.accounts.modify(account.id, (a) => ({ ...a, emailVerified: false }));
      const browser = new Browser(h);
      const enrol = await submitPassword(
        browser,
        SNILS,
        authorizePath(Object.keys(env).length ? { state: 'st-n' } : { acr_values: MFA, state: 'st-n' }),
      );
      expect(enrol.url).to.match(/\/mfa\/enrol$/);
      expect(enrol.status).to.equal(403);
      expect(enrol.html).to.include(
        'В учётной записи нет подтверждённого номера телефона или почты, поэтому подключить второй фактор во время входа нельзя.',
      );
      expect(enrol.html).to.not.include('totp-secret');
      expect(enrol.html).to.not.include('/mfa/enrol/contact');
      const _csrf = csrfOf(enrol.html);
      expect((await browser.post(`${enrol.url}/contact/send`, { _csrf }, false)).status).to.equal(400);
      expect(h.gateway.sent).to.have.length(0);
      // The page's "back to the service" form says unmet unless a second factor is mandatory.
      const unmet = enrol.html.includes('name="reason" value="unmet"');
      expect(unmet).to.equal(error === 'unmet_authentication_requirements');
      const back = await browser.submit(enrol, '/abort', unmet ? { reason: 'unmet' } : {});
      const params = redirectParams(back.location);
      expect(params.get('error')).to.equal(error);
      expect(params.get('state')).to.equal('st-n');
      expect(params.get('code')).to.equal(null);
    });
  }
});
