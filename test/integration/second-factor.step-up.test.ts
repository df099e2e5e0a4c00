/**
 * Step-up (DESIGN §3): a relying party asking for an `-mfa` acr, or for a recent sign-in
 * (max_age), gets the citizen asked for what the session lacks — in the same flow, inside an
 * existing session — and acr/amr in ID tokens, refreshes and introspection say exactly what
 * happened. An account with no second factor is offered enrolment (after a code to its confirmed
 * contact), or goes back with unmet_authentication_requirements. A sign-in no second factor can
 * make two-factor (a passkey without user verification) is not asked for one.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import {
  addTotp,
  authorizePath,
  openCabinet,
  passConsent,
  pkce,
  postJson,
  proveContact,
  redeem,
  signIn,
  submitPassword,
  totpCode,
  totpSecretOf,
} from '../support/flows.ts';
import { IDENTITY_FORM } from '../support/identity.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount } from './fixtures.ts';

const PHONE = '+79123456789';
const EMAIL = 'anna.petrova@example.ru';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';
const MFA = 'urn:vkhod:loa:simplified-mfa';

const token = (h: Harness, fields: Record<string, string>) =>
  request(h.url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send(fields);
const introspect = (h: Harness, value: string) =>
  request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token: value });

function redirectParams(page: Page): URLSearchParams {
  expect(page.location, `a redirect to the relying party, got ${page.status} at ${page.url}`).to.be.a('string');
  const url = new URL(page.location!);
  expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
  return url.searchParams;
}

describe('step-up to a second factor', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  describe('inside an existing password session', () => {
    let accountId: string;
    let secret: string;
    let browser: Browser;
    /** The tokens of the first, password-only sign-in (with a refresh token). */
    let first: { body: Record<string, unknown>; claims: Record<string, unknown> };
    beforeEach(async () => {
      accountId = (await createAccount(h, { phone: PHONE })).id;
      secret = await addTotp(h, accountId);
      browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const page = await submitPassword(browser, PHONE, authorizePath({ scope: 'openid offline_access', prompt: 'consent' }, challenge));
      first = await redeem(h, (await passConsent(browser, page)).location, verifier);
      expect(first.claims.acr).to.equal(SIMPLIFIED);
      expect(first.claims.amr).to.deep.equal(['pwd']);
      expect(first.body.refresh_token).to.be.a('string');
    });

    it('asks only for the second factor (no password form) and issues acr simplified-mfa with amr pwd + otp + mfa', async () => {
      const { verifier, challenge } = pkce();
      const mfa = await browser.get(authorizePath({ acr_values: MFA, scope: 'openid offline_access', prompt: 'consent' }, challenge));
      expect(mfa.status).to.equal(200);
      expect(mfa.url).to.match(/\/mfa$/);
      expect(mfa.html).to.not.include('name="password"');
      expect(mfa.html).to.include('Код из приложения-аутентификатора');
      const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
      const stepped = await redeem(h, rp.location, verifier);
      expect(stepped.claims.sub).to.equal(accountId);
      expect(stepped.claims.acr).to.equal(MFA);
      expect(stepped.claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
      expect(stepped.claims.auth_time as number).to.be.at.least(first.claims.auth_time as number);

      // A refresh keeps what the sign-in was: the step-up grant stays -mfa …
      const refreshed = await token(h, { grant_type: 'refresh_token', refresh_token: stepped.body.refresh_token as string });
      expect(refreshed.status, refreshed.text).to.equal(200);
      const refreshedClaims = JSON.parse(Buffer.from((refreshed.body.id_token as string).split('.')[1]!, 'base64url').toString());
      expect(refreshedClaims.acr).to.equal(MFA);
      expect(refreshedClaims.amr).to.have.members(['pwd', 'otp', 'mfa']);
      // … and the refresh token of the earlier password-only sign-in is never upgraded by it.
      const old = await token(h, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string });
      expect(old.status, old.text).to.equal(200);
      const oldClaims = JSON.parse(Buffer.from((old.body.id_token as string).split('.')[1]!, 'base64url').toString());
      expect(oldClaims.acr).to.equal(SIMPLIFIED);
      expect(oldClaims.amr).to.deep.equal(['pwd']);

      // Introspection tells a resource server the same.
      const steppedInfo = await introspect(h, stepped.body.access_token as string);
      expect(steppedInfo.body).to.include({ active: true, acr: MFA });
      expect(steppedInfo.body.amr).to.have.members(['pwd', 'otp', 'mfa']);
      const firstInfo = await introspect(h, first.body.access_token as string);
      expect(firstInfo.body).to.include({ active: true, acr: SIMPLIFIED });
      expect(firstInfo.body.amr).to.deep.equal(['pwd']);
      const refreshedInfo = await introspect(h, refreshed.body.access_token as string);
      expect(refreshedInfo.body).to.include({ active: true, acr: MFA });
    });

    it('after the step-up the session satisfies -mfa: the next request is answered without asking', async () => {
      const mfa = await browser.get(authorizePath({ acr_values: MFA }));
      const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
      expect(redirectParams(rp).get('code')).to.be.a('string');
      const { verifier, challenge } = pkce();
      const silent = await browser.get(authorizePath({ acr_values: MFA, prompt: 'none' }, challenge));
      const { claims } = await redeem(h, silent.location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
    });

    it('the acr asked through the claims parameter (essential) steps up the same way', async () => {
      const { verifier, challenge } = pkce();
      const claimsParam = JSON.stringify({ id_token: { acr: { essential: true, values: [MFA] } } });
      const mfa = await browser.get(authorizePath({ claims: claimsParam }, challenge));
      expect(mfa.url).to.match(/\/mfa$/);
      const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
    });

    it('prompt=login with an -mfa acr asks for the password again, then the second factor', async () => {
      const { verifier, challenge } = pkce();
      const login = await browser.get(authorizePath({ acr_values: MFA, prompt: 'login' }, challenge));
      expect(login.html, 'the relying party asked for a new sign-in').to.include('name="password"');
      const mfa = await browser.submit(login, '/login', { identifier: PHONE, password: 'Зелёный-Кит-42!' });
      expect(mfa.url).to.match(/\/mfa$/);
      const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.auth_time as number).to.be.at.least(first.claims.auth_time as number);
    });

    it('prompt=none cannot step up: login_required, never a code', async () => {
      const page = await browser.get(authorizePath({ acr_values: MFA, prompt: 'none' }));
      const params = redirectParams(page);
      expect(params.get('error')).to.equal('login_required');
      expect(params.get('code')).to.equal(null);
    });

    it('a wrong code during step-up gives no token; cancelling returns access_denied', async () => {
      const mfa = await browser.get(authorizePath({ acr_values: MFA, state: 'st-1' }));
      const wrong = await browser.submit(mfa, '/mfa/verify', { code: '000000' === (await totpCode(secret)) ? '999999' : '000000' });
      expect(wrong.status).to.equal(400);
      expect(wrong.location).to.equal(undefined);
      const back = await browser.submit(wrong, '/abort', {});
      const params = redirectParams(back);
      expect(params.get('error')).to.equal('access_denied');
      expect(params.get('state')).to.equal('st-1');
      expect(params.get('code')).to.equal(null);
    });
  });

  it('max_age asks for the password again, and then for the second factor when the session had two (no silent downgrade)', async () => {
    const accountId = (await createAccount(h, { phone: PHONE })).id;
    const secret = await addTotp(h, accountId);
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE, authorizePath({ acr_values: MFA }));
    expect(mfa.url).to.match(/\/mfa$/);
    expect(
      redirectParams(await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }))).get('code'),
    ).to.be.a('string');

    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizePath({ max_age: '0' }, challenge));
    expect(login.html, 'a fresh sign-in asks the password again').to.include('name="password"');
    expect(login.html).to.include('Сервис просит подтвердить вход ещё раз.');
    const second = await browser.submit(login, '/login', { identifier: PHONE, password: 'Зелёный-Кит-42!' });
    expect(second.url, 'and the second factor the session had').to.match(/\/mfa$/);
    const rp = await passConsent(browser, await browser.submit(second, '/mfa/verify', { code: await totpCode(secret, 1) }));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.acr).to.equal(MFA);
    expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
  });

  it('an account with only a confirmed mobile steps up by SMS', async () => {
    await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const mfa = await submitPassword(browser, PHONE, authorizePath({ acr_values: MFA }, challenge));
    expect(mfa.url).to.match(/\/mfa$/);
    const sent = await browser.submit(mfa, '/mfa/sms/send', {});
    const rp = await passConsent(browser, await browser.submit(sent, '/mfa/verify', { code: h.gateway.code(PHONE) }));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.acr).to.equal(MFA);
    expect(claims.amr).to.have.members(['pwd', 'sms', 'mfa']);
  });

  it('a passkey sign-in that cannot meet the requested level explains why and returns unmet_authentication_requirements', async () => {
    await createAccount(h, { phone: PHONE });
    const auth = new SoftAuthenticator(h.url);
    // The passkey is added in the cabinet.
    const cabinet = new Browser(h);
    const security = await openCabinet(cabinet, '/account/security', PHONE);
    const started = await postJson(cabinet, '/account/security/passkeys/options', { _csrf: csrfOf(security.html) });
    expect(
      (
        await postJson(cabinet, '/account/security/passkeys', {
          _csrf: csrfOf(security.html),
          handle: started.body.handle,
          response: auth.create(started.body.options),
          name: 'Ключ',
        })
      ).status,
    ).to.equal(200);

    const browser = new Browser(h);
    const login = await browser.get(authorizePath({ acr_values: 'urn:vkhod:loa:standard-mfa', state: 'st-3' }));
    const uid = login.url.match(/^\/interaction\/([^/?]+)/)![1]!;
    const _csrf = csrfOf(login.html);
    const options = await postJson(browser, `/interaction/${uid}/webauthn/options`, { _csrf });
    const res = await postJson(browser, `/interaction/${uid}/webauthn`, {
      _csrf,
      handle: options.body.handle,
      response: auth.get(options.body.options),
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.redirect).to.equal(`/interaction/${uid}/unmet`);
    const unmet = await browser.get(res.body.redirect);
    expect(unmet.status).to.equal(403);
    expect(unmet.html).to.include('Сервису нужно больше, чем есть сейчас');
    const back = await browser.submit(unmet, '/abort', { reason: 'unmet' });
    const params = redirectParams(back);
    expect(params.get('error')).to.equal('unmet_authentication_requirements');
    expect(params.get('state')).to.equal('st-3');
    expect(params.get('code')).to.equal(null);
  });

  describe('a passkey without user verification (one factor that no second factor makes two kinds)', () => {
    /** A presence-only passkey added in the cabinet; returns its authenticator. */
    async function presenceOnlyPasskey(): Promise<SoftAuthenticator> {
      const auth = new SoftAuthenticator(h.url, { userVerified: false });
      const cabinet = new Browser(h);
      const security = await openCabinet(cabinet, '/account/security', PHONE);
      const started = await postJson(cabinet, '/account/security/passkeys/options', { _csrf: csrfOf(security.html) });
      expect(
        (
          await postJson(cabinet, '/account/security/passkeys', {
            _csrf: csrfOf(security.html),
            handle: started.body.handle,
            response: auth.create(started.body.options),
            name: 'Ключ',
          })
        ).status,
      ).to.equal(200);
      return auth;
    }

    async function passkeySignIn(browser: Browser, auth: SoftAuthenticator, acr: string, state: string) {
      const login = await browser.get(authorizePath({ acr_values: acr, state }));
      const uid = login.url.match(/^\/interaction\/([^/?]+)/)![1]!;
      const _csrf = csrfOf(login.html);
      const options = await postJson(browser, `/interaction/${uid}/webauthn/options`, { _csrf });
      const res = await postJson(browser, `/interaction/${uid}/webauthn`, {
        _csrf,
        handle: options.body.handle,
        response: auth.get(options.body.options),
      });
      expect(res.status, res.text).to.equal(200);
      return { uid, redirect: res.body.redirect as string };
    }

    it('is not sent to the second-factor page for an -mfa request (amr hwk + otp would still be one kind): straight to the explanation', async () => {
      const accountId = (await createAccount(h, { phone: PHONE })).id;
      await addTotp(h, accountId);
      const auth = await presenceOnlyPasskey();
      const sentBefore = h.gateway.sent.length;
      const browser = new Browser(h);
      const { uid, redirect } = await passkeySignIn(browser, auth, MFA, 'st-4');
      expect(redirect, 'not /mfa: no second factor can meet the request').to.equal(`/interaction/${uid}/unmet`);
      const unmet = await browser.get(redirect);
      expect(unmet.status).to.equal(403);
      expect(unmet.html).to.include('Сервису нужно больше, чем есть сейчас');
      const back = await browser.submit(unmet, '/abort', { reason: 'unmet' });
      expect(redirectParams(back).get('error')).to.equal('unmet_authentication_requirements');
      expect(h.gateway.sent.length, 'no SMS code sent').to.equal(sentBefore);
    });

    it('raising the level in the sign-in ends at the explanation too, not at the second-factor page', async () => {
      await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } });
      const auth = await presenceOnlyPasskey();
      const browser = new Browser(h);
      const { uid, redirect } = await passkeySignIn(browser, auth, 'urn:vkhod:loa:standard-mfa', 'st-5');
      expect(redirect).to.equal(`/interaction/${uid}/unmet`);
      const unmet = await browser.get(redirect);
      expect(unmet.html).to.include('id="start-upgrade"');
      const form = await browser.get(`/interaction/${uid}/upgrade`);
      const after = await browser.post(`/interaction/${uid}/upgrade`, { _csrf: csrfOf(form.html), ...IDENTITY_FORM });
      expect(after.url, 'the explanation, not /mfa').to.match(/\/upgrade\/status$/);
      expect(after.status).to.equal(403);
      expect(after.html).to.include('Сервису нужно больше, чем есть сейчас');
      expect(after.html, 'the level is there now: only the sign-in falls short').to.not.include('id="start-upgrade"');
      const back = await browser.submit(after, '/abort', { reason: 'unmet' });
      expect(redirectParams(back).get('error')).to.equal('unmet_authentication_requirements');
    });
  });

  describe('an account with no second factor', () => {
    let accountId: string;
    beforeEach(async () => {
      accountId = (await createAccount(h, { email: EMAIL })).id;
    });

    it('is shown how to add one; going back gives the relying party unmet_authentication_requirements', async () => {
      const browser = new Browser(h);
      const enrol = await submitPassword(browser, EMAIL, authorizePath({ acr_values: MFA, state: 'st-2' }));
      expect(enrol.status).to.equal(200);
      expect(enrol.url).to.match(/\/mfa\/enrol$/);
      expect(enrol.html).to.include('Настройте подтверждение входа');
      expect(enrol.html).to.include('Сервис требует вход с подтверждением.');
      // First a code to the confirmed e-mail; the factors come after it.
      expect(enrol.html).to.include('Сначала подтвердите, что это вы');
      expect(enrol.html).to.include('Отправим код на почту a***@example.ru, указанную в учётной записи.');
      expect(enrol.html).to.not.include('<img class="qr"');
      expect(enrol.html).to.not.include('data-webauthn="register"');
      const factors = await proveContact(browser, h, enrol, EMAIL);
      expect(factors.html).to.match(/<img class="qr" src="data:image\/png;base64,/);
      expect(factors.html).to.include('data-webauthn="register"');
      expect(factors.html, 'no SMS without a confirmed mobile').to.not.include('/mfa/enrol/sms');
      const back = await browser.submit(factors, '/abort', { reason: 'unmet' });
      const params = redirectParams(back);
      expect(params.get('error')).to.equal('unmet_authentication_requirements');
      expect(params.get('state')).to.equal('st-2');
      expect(params.get('code')).to.equal(null);
      expect((await h.services.accounts.findActive(accountId))!.totp).to.equal(undefined);
    });

    it('inside an existing session, too: straight to the enrolment page, no password form', async () => {
      const browser = new Browser(h);
      expect(redirectParams(await signIn(browser, EMAIL, 'Зелёный-Кит-42!')).get('code')).to.be.a('string');
      const enrol = await browser.get(authorizePath({ acr_values: MFA }));
      expect(enrol.url).to.match(/\/mfa\/enrol$/);
      expect(enrol.html).to.not.include('name="password"');
      const back = await browser.submit(enrol, '/abort', { reason: 'unmet' });
      expect(redirectParams(back).get('error')).to.equal('unmet_authentication_requirements');
    });

    it('enrolling an authenticator app there, after the e-mail code, completes the sign-in with -mfa', async () => {
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const enrol = await proveContact(
        browser,
        h,
        await submitPassword(browser, EMAIL, authorizePath({ acr_values: MFA }, challenge)),
        EMAIL,
      );
      expect(h.gateway.last(EMAIL)?.subject).to.equal('Подключение подтверждения входа vkhod');
      const secret = totpSecretOf(enrol.html);
      const wrong = await browser.submit(enrol, '/mfa/enrol/totp', { code: '000000' === (await totpCode(secret)) ? '999999' : '000000' });
      expect(wrong.status).to.equal(400);
      expect(totpSecretOf(wrong.html), 'the same secret is offered again').to.equal(secret);
      expect((await h.services.accounts.findActive(accountId))!.totp).to.equal(undefined);
      const rp = await passConsent(browser, await browser.submit(wrong, '/mfa/enrol/totp', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.acr).to.equal(MFA);
      // pwd + the e-mail code (a one-time code: otp) + mfa.
      expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
      const account = (await h.services.accounts.findActive(accountId))!;
      expect(account.totp?.sealedSecret).to.match(/^v1\./);
      expect(account.mfa).to.deep.equal({ enabled: true, preferred: 'totp' });
      expect(auditOfType(h, 'factor.totp_added')[0]).to.deep.include({ accountId });
      expect(h.gateway.last(EMAIL)?.text).to.include('подключено приложение-аутентификатор');
    });

    it('creating a passkey there, after the e-mail code, completes the sign-in with -mfa and keeps the passkey for the next sign-ins', async () => {
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const enrol = await proveContact(
        browser,
        h,
        await submitPassword(browser, EMAIL, authorizePath({ acr_values: MFA }, challenge)),
        EMAIL,
      );
      const _csrf = csrfOf(enrol.html);
      const started = await postJson(browser, `${enrol.url}/webauthn/options`, { _csrf });
      expect(started.status, started.text).to.equal(200);
      const auth = new SoftAuthenticator(h.url);
      const res = await postJson(browser, `${enrol.url}/webauthn`, {
        _csrf,
        handle: started.body.handle,
        response: auth.create(started.body.options),
        name: 'Ноутбук',
      });
      expect(res.status, res.text).to.equal(200);
      const { claims } = await redeem(h, (await passConsent(browser, await browser.get(res.body.redirect))).location, verifier);
      expect(claims.acr).to.equal(MFA);
      expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
      expect((await h.services.accounts.findActive(accountId))!.passkeys!.map((p) => p.name)).to.deep.equal(['Ноутбук']);
    });
  });
});
