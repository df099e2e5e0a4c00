/**
 * Raising the level inside a sign-in (/interaction/:uid/upgrade): a relying party asks for a
 * standard account, the citizen's is simplified; the explanation page offers to enter SNILS and
 * passport now; the registry's answer (approved, rejected, or not yet) decides whether the
 * sign-in continues. Confirmed cannot be reached this way.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Browser, csrfOf, decodeEntities, type Page } from '../support/browser.ts';
import {
  addTotp,
  authorizePath,
  GOOD_PASSWORD,
  openCabinet,
  passConsent,
  pkce,
  redeem,
  submitPassword,
  totpCode,
} from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IDENTITY_FORM, saveIdentity, snilsFor } from '../support/identity.ts';
import { createAccount, errorsOn, resetStore } from './fixtures.ts';
import { legacyFingerprint } from '../../src/accounts/verification.ts';

const PHONE = '+79123456789';
const STANDARD = 'urn:vkhod:loa:standard';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));

const uidOf = (page: Page) => page.url.match(/^\/interaction\/([^/?]+)/)![1]!;
const upgradeForm = (browser: Browser, page: Page, fields: Record<string, string>) =>
  browser.post(`/interaction/${uidOf(page)}/upgrade`, { _csrf: csrfOf(page.html), ...fields });

describe('levels: the upgrade to standard inside a sign-in', function () {
  let h: Harness;
  let accountId: string;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } })).id;
  });
  const account = async () => (await h.services.accounts.findActive(accountId))!;

  /** Password sign-in on a request for `acr`; expects the explanation page. */
  async function unmetPage(browser: Browser, acr: string, challenge: string): Promise<Page> {
    const page = await submitPassword(browser, PHONE, authorizePath({ acr_values: acr }, challenge));
    expect(page.status, page.html.slice(0, 300)).to.equal(403);
    expect(page.html).to.include(RU.unmet.heading);
    return page;
  }

  it('rejected by the registry: the reason and a way to fix the data; fixed, the sign-in continues with acr standard', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const unmet = await unmetPage(browser, STANDARD, challenge);
    expect(unmet.html).to.include(RU.unmet.upgrade);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    expect(form.html).to.include(RU.upgrade.lead);

    const rejected = await upgradeForm(browser, form, { ...IDENTITY_FORM, family: 'Несовпадающая' });
    expect(rejected.url).to.match(/\/upgrade\/status$/);
    expect(decodeEntities(rejected.html.match(/id="registry-status">([^<]*)</)![1]!)).to.equal(
      RU.identity.registry_rejected.replace('{reason}', RU.identity.registry_reasons.mismatch),
    );
    expect(rejected.html).to.include(RU.upgrade.fix);
    expect((await account()).level).to.equal('simplified');

    const again = await browser.get(`/interaction/${uidOf(rejected)}/upgrade`);
    expect(again.html, 'the stored data is shown to fix').to.include('value="Несовпадающая"').and.include('value="4506"');
    const done = await passConsent(browser, await upgradeForm(browser, again, IDENTITY_FORM));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims).to.include({ sub: accountId, acr: STANDARD, account_level: 'standard' });
    expect((await account()).name.family).to.equal('Иванова');
  });

  it('a sign-in through an existing session can be raised too (the explanation page keeps the sign-in)', async () => {
    const browser = new Browser(h);
    const first = pkce();
    const plain = await passConsent(browser, await submitPassword(browser, PHONE, authorizePath({}, first.challenge)));
    expect((await redeem(h, plain.location, first.verifier)).claims.acr).to.equal('urn:vkhod:loa:simplified');

    const { verifier, challenge } = pkce();
    const unmet = await browser.get(authorizePath({ acr_values: STANDARD }, challenge));
    expect(unmet.status).to.equal(403);
    expect(unmet.html).to.include('id="start-upgrade"');
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    expect(form.status, form.html.slice(0, 300)).to.equal(200);
    const done = await passConsent(browser, await upgradeForm(browser, form, IDENTITY_FORM));
    expect((await redeem(h, done.location, verifier)).claims).to.include({ acr: STANDARD });
  });

  it('standard with a second factor (standard-mfa): after the upgrade the sign-in asks for the factor', async () => {
    const secret = await addTotp(h, accountId);
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const unmet = await unmetPage(browser, 'urn:vkhod:loa:standard-mfa', challenge);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const mfa = await upgradeForm(browser, form, IDENTITY_FORM);
    expect(mfa.url, mfa.html.slice(0, 300)).to.match(/\/mfa$/);
    expect((await account()).level).to.equal('standard');
    const done = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.acr).to.equal('urn:vkhod:loa:standard-mfa');
    expect(claims.amr).to.include.members(['pwd', 'otp']);
  });

  it('confirmed cannot be reached inside the sign-in: the page says how, without the form', async () => {
    const browser = new Browser(h);
    const unmet = await unmetPage(browser, 'urn:vkhod:loa:confirmed', pkce().challenge);
    expect(unmet.html).to.not.include('id="start-upgrade"');
    expect(unmet.html).to.include(RU.unmet.how_level);
    expect(unmet.html).to.include(RU.acr.confirmed);
  });

  it('bad data: 400 with the messages, nothing stored; a form without the CSRF token is refused', async () => {
    const browser = new Browser(h);
    const unmet = await unmetPage(browser, STANDARD, pkce().challenge);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const bad = await upgradeForm(browser, form, { ...IDENTITY_FORM, passport_department_code: '77', given: 'Maria' });
    expect(bad.status).to.equal(400);
    expect(errorsOn(bad.html)).to.include.members([RU.identity.problems.bad_department_code, RU.names.not_cyrillic]);
    const forged = await browser.post(`/interaction/${uidOf(unmet)}/upgrade`, { ...IDENTITY_FORM });
    expect(forged.status).to.equal(403);
    const a = await account();
    expect(a.identity).to.equal(undefined);
    expect(a.snils).to.equal(undefined);
  });

  it('the upgrade form belongs to a sign-in waiting for it: without one it is refused', async () => {
    const browser = new Browser(h);
    const login = await browser.get(authorizePath({ acr_values: STANDARD }));
    expect(login.html).to.include('name="identifier"');
    const res = await browser.get(`/interaction/${uidOf(login)}/upgrade`);
    expect(res.status).to.equal(400);
    expect(res.html).to.not.include('name="snils"');
  });

  it('a SNILS verified on another account: 409 with the message on the form', async () => {
    await createAccount(h, { phone: '+79120000001', snils: '11223344595', snilsVerified: true });
    const browser = new Browser(h);
    const unmet = await unmetPage(browser, STANDARD, pkce().challenge);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const res = await upgradeForm(browser, form, IDENTITY_FORM);
    expect(res.status).to.equal(409);
    expect(errorsOn(res.html)).to.include(RU.identity.taken.snils);
    expect((await account()).snils).to.equal(undefined);
  });
});

describe('levels: a registry that answers later', function () {
  let h: Harness;
  let accountId: string;

  before(async () => {
    h = await startHarness({ env: { VKHOD_DEV_REGISTRY_DELAY_SECONDS: '3600' } });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
  });
  const account = async () => (await h.services.accounts.findActive(accountId))!;

  /** As if the registry's hour had passed: the ticket's decision is due now. */
  async function registryAnswers(): Promise<void> {
    await h.services.accounts.modify(accountId, (a) => {
      const ticket = JSON.parse(Buffer.from(a.registryCheck!.ticket.slice(4), 'base64url').toString('utf8'));
      return {
        ...a,
        registryCheck: {
          ...a.registryCheck!,
          ticket: `dev.${Buffer.from(JSON.stringify({ ...ticket, readyAt: Date.now() - 1 })).toString('base64url')}`,
        },
      };
    });
  }

  it('the sign-in waits on a status page, then continues once the answer is in; the cabinet shows the check pending meanwhile', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const unmet = await submitPassword(browser, PHONE, authorizePath({ acr_values: STANDARD }, challenge), GOOD_PASSWORD);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const waiting = await upgradeForm(browser, form, IDENTITY_FORM);
    expect(waiting.url).to.match(/\/upgrade\/status$/);
    expect(waiting.html).to.include(RU.upgrade.pending);
    expect(waiting.html).to.include(RU.upgrade.check_again);
    expect((await h.services.accounts.findActive(accountId))!.registryCheck?.status).to.equal('pending');

    // Still waiting: looking again changes nothing; sending the same data again is not a new check.
    expect((await browser.get(waiting.url)).html).to.include(RU.upgrade.pending);
    const resent = await upgradeForm(browser, await browser.get(`/interaction/${uidOf(unmet)}/upgrade`), IDENTITY_FORM);
    expect(resent.html).to.include(RU.upgrade.pending);
    const submitted = (await h.services.store.audit.listForAccount(accountId)).filter((e) => e.type === 'level.registry_submitted');
    expect(submitted).to.have.length(1);

    // Meanwhile the cabinet says the data is being checked.
    const cabinet = await openCabinet(new Browser(h), '/account/identity', PHONE);
    expect(cabinet.html).to.include(RU.identity.registry_pending);
    expect(cabinet.html).to.match(/data-level="simplified"/);

    await registryAnswers();
    const done = await passConsent(browser, await browser.get(waiting.url));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims).to.include({ acr: STANDARD, account_level: 'standard' });
    expect(h.gateway.sent.map((m) => m.text)).to.include(RU.messages.level.standard);
  });

  it('an answer is applied once, even when two requests look at the same time', async () => {
    await saveIdentity(h, accountId);
    await h.services.levels.requestStandard(accountId);
    await registryAnswers();
    const seen = await account();
    const results = await Promise.all([h.services.levels.refresh(seen), h.services.levels.refresh(seen), h.services.levels.refresh(seen)]);
    for (const r of results) expect(r.level).to.equal('standard');
    const a = await account();
    expect(a.verifications).to.have.length(1);
    const types = (await h.services.store.audit.listForAccount(accountId)).map((e) => e.type);
    expect(types.filter((t) => t === 'level.changed')).to.have.length(1);
    expect(types.filter((t) => t === 'level.verified')).to.have.length(1);
    expect(h.gateway.sent.filter((m) => m.text === RU.messages.level.standard)).to.have.length(1);
  });

  it('an answer for data changed meanwhile verifies nothing', async () => {
    await saveIdentity(h, accountId);
    await h.services.levels.requestStandard(accountId);
    await registryAnswers();
    const seen = await account();
    // The citizen changes the SNILS before the answer is looked at.
    await saveIdentity(h, accountId, { snils: snilsFor('123456789') });
    const after = await h.services.levels.refresh(seen);
    expect(after.level).to.equal('simplified');
    const a = await account();
    expect(a.level).to.equal('simplified');
    expect(a.verifications ?? []).to.have.length(0);
    expect(a.snils).to.equal('12345678964');
  });

  it('a check sent before the fingerprint covered the whole passport is dropped at the next look, and the data can be sent again', async () => {
    await saveIdentity(h, accountId);
    await h.services.levels.requestStandard(accountId);
    // As written by the version before: the fingerprint of the older formula.
    await h.services.accounts.modify(accountId, (a) => ({
      ...a,
      registryCheck: { ...a.registryCheck!, fingerprint: legacyFingerprint(a) },
    }));
    await registryAnswers();
    const looked = await h.services.levels.refresh(await account());
    expect(looked.registryCheck, 'no check left waiting for ever').to.equal(undefined);
    expect(looked.level).to.equal('simplified');
    expect((await h.services.levels.requestStandard(accountId)).registryCheck?.status).to.equal('pending');
  });

  // The registry was sent the whole passport and the name as typed: a change of any detail after
  // it — not only the series and number — is data it never saw (it used to verify them anyway).
  for (const [detail, change] of [
    ['the passport issue date', { passport_issue_date: '01.01.2019' }],
    ['the passport issuer', { passport_issuer: 'Не проверялось' }],
    ['the department code', { passport_department_code: '999-999' }],
    ['the case of the family name', { family: 'иванова' }],
  ] as const) {
    it(`an answer for data whose ${detail} changed meanwhile verifies nothing, and the check is void`, async () => {
      await saveIdentity(h, accountId);
      await h.services.levels.requestStandard(accountId);
      await registryAnswers();
      const seen = await account();
      await saveIdentity(h, accountId, change);
      expect((await account()).registryCheck, 'the pending check is void').to.equal(undefined);
      expect((await h.services.levels.refresh(seen)).level).to.equal('simplified');
      const a = await account();
      expect(a.level).to.equal('simplified');
      expect(a.verifications ?? []).to.have.length(0);
    });
  }
});
