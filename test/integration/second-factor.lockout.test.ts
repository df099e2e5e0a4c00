/**
 * Wrong second factors count towards the account's lockout (DESIGN §6): whichever factor is
 * tried, the account locks after VKHOD_LOGIN_MAX_FAILURES wrong answers, and then even the right
 * password (or the right code) is refused.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, openCabinet, passConsent, postJson, submitPassword, totpCode } from '../support/flows.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount, firstError } from './fixtures.ts';

const PHONE = '+79123456789';
const LOCKED = /^Слишком много неудачных попыток\. Вход временно заблокирован — попробуйте через 10 мин\./;

/** A 6-digit code that is not `code`. */
const not = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

describe('second factor: wrong answers lock the account', function () {
  let h: Harness;
  let accountId: string;
  let secret: string;
  beforeEach(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3', VKHOD_LOGIN_LOCKOUT_SECONDS: '600' } });
    accountId = (await createAccount(h, { phone: PHONE })).id;
    secret = await addTotp(h, accountId, { mfa: true });
  });
  afterEach(() => h.close());

  it('locks after 3 wrong app codes, then refuses the right code and even the right password', async () => {
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    const good = await totpCode(secret);
    const answers: Page[] = [];
    for (let i = 0; i < 3; i += 1) answers.push(await browser.submit(mfa, '/mfa/verify', { code: not(good) }));
    expect(answers.slice(0, 2).map((p) => p.status)).to.deep.equal([400, 400]);
    expect(answers[2]!.status, 'the third wrong code locks').to.equal(429);
    expect(firstError(answers[2]!.html)).to.match(LOCKED);

    const right = await browser.submit(mfa, '/mfa/verify', { code: good });
    expect(right.status, 'the right code while locked').to.equal(429);
    expect(right.location).to.equal(undefined);
    expect(firstError(right.html)).to.match(LOCKED);

    const again = await submitPassword(new Browser(h), PHONE);
    expect(again.status, 'the right password while locked').to.equal(429);
    expect(firstError(again.html)).to.match(LOCKED);
    expect(again.html).to.include('name="password"');

    const events = await h.services.store.audit.listForAccount(accountId);
    expect(events.filter((e) => e.type === 'signin' && e.outcome === 'success')).to.have.length(0);
    expect(events.filter((e) => e.type === 'signin.second_factor' && e.outcome === 'failure')).to.have.length(3);
  });

  it('counts every kind of second factor together: a wrong recovery code, SMS code and app code', async () => {
    const { hashes } = h.services.recoveryCodes.generate(accountId);
    await h.services.accounts.modify(accountId, (a) => ({ ...a, recoveryCodes: { hashes, createdAt: new Date().toISOString() } }));
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    const recovery = await browser.get(`${mfa.url}?method=recovery`);
    expect(recovery.html).to.include('Резервный код');
    const wrongRecovery = await browser.submit(recovery, '/mfa/verify', { method: 'recovery', code: 'abcde-fghjk' });
    expect(wrongRecovery.status).to.equal(400);
    const sms = await browser.get(`${mfa.url}?method=sms`);
    const smsPage = await browser.submit(sms, '/mfa/sms/send', {});
    await browser.submit(smsPage, '/mfa/verify', { method: 'sms', code: not(h.gateway.code(PHONE)) });
    const third = await browser.submit(mfa, '/mfa/verify', { method: 'totp', code: not(await totpCode(secret)) });
    expect(third.status).to.equal(429);
    expect(firstError(third.html)).to.match(LOCKED);
    expect(auditOfType(h, 'signin.second_factor').map((e) => e.details?.method)).to.deep.equal(['recovery', 'sms', 'totp']);
    expect((await submitPassword(new Browser(h), PHONE)).status).to.equal(429);
  });

  it('counts wrong passkey answers to the second step', async () => {
    const auth = new SoftAuthenticator(h.url);
    // The passkey is added in the cabinet (its sign-in needs the app code).
    const cabinet = new Browser(h);
    const mfa0 = await openCabinet(cabinet, '/account/security', PHONE);
    const security = await cabinet.submit(mfa0, '/mfa/verify', { code: await totpCode(secret) });
    expect(security.url).to.equal('/account/security');
    const _csrf0 = csrfOf(security.html);
    const reg = await postJson(cabinet, '/account/security/passkeys/options', { _csrf: _csrf0 });
    expect(
      (
        await postJson(cabinet, '/account/security/passkeys', {
          _csrf: _csrf0,
          handle: reg.body.handle,
          response: auth.create(reg.body.options),
          name: 'Ключ',
        })
      ).status,
    ).to.equal(200);

    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    const _csrf = csrfOf(mfa.html);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = await postJson(browser, `${mfa.url}/webauthn/options`, { _csrf });
      const res = await postJson(browser, `${mfa.url}/webauthn`, {
        _csrf,
        handle: started.body.handle,
        response: auth.get(started.body.options, { origin: 'https://phishing.example' }),
      });
      statuses.push(res.status);
    }
    expect(statuses).to.deep.equal([400, 400, 429]);
    // The right passkey does not open a locked account either.
    const started = await postJson(browser, `${mfa.url}/webauthn/options`, { _csrf });
    const right = await postJson(browser, `${mfa.url}/webauthn`, {
      _csrf,
      handle: started.body.handle,
      response: auth.get(started.body.options),
    });
    expect(right.status).to.equal(429);
    expect(right.body.redirect).to.equal(undefined);
    expect(right.body.error ?? right.body.error_description).to.match(LOCKED);
    expect((await submitPassword(new Browser(h), PHONE)).status).to.equal(429);
  });

  it('a successful second factor clears the count', async () => {
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    const good = await totpCode(secret);
    await browser.submit(mfa, '/mfa/verify', { code: not(good) });
    await browser.submit(mfa, '/mfa/verify', { code: not(good) });
    const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: good }));
    expect(rp.location).to.match(/[?&]code=/);

    const next = new Browser(h);
    const mfa2 = await submitPassword(next, PHONE, authorizePath());
    for (const _ of [1, 2]) expect((await next.submit(mfa2, '/mfa/verify', { code: not(good) })).status).to.equal(400);
    expect(auditOfType(h, 'signin.second_factor')).to.have.length(4);
  });
});
