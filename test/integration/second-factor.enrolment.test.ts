/**
 * Enrolment inside a sign-in (/interaction/:uid/mfa/enrol) is only for an account that has to
 * get a second factor now. Someone who knows only the password of an account that already has
 * one must not reach it: enrolling a factor of their own would skip the citizen's.
 */
import { expect } from 'chai';
import { Browser, csrfOf } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, postJson, submitPassword } from '../support/flows.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount } from './fixtures.ts';

const PHONE = '+79123456789';
const MFA = 'urn:vkhod:loa:simplified-mfa';

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
      const sms = await browser.post(`${mfa.url}/enrol/sms/send`, { _csrf }, false);
      expect(sms.status).to.equal(400);
      expect(h.gateway.sent.filter((m) => m.to === PHONE)).to.have.length(0);
      const options = await postJson(browser, `${mfa.url}/enrol/webauthn/options`, { _csrf });
      expect(options.status).to.equal(400);
      expect(options.body.options).to.equal(undefined);
      // A registration made against a challenge from elsewhere gets nowhere either.
      const auth = new SoftAuthenticator(h.url);
      const response = auth.create({ challenge: 'AAAA', rp: { id: '127.0.0.1', name: 'vkhod' }, user: { id: 'x', name: 'x', displayName: 'x' } });
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
