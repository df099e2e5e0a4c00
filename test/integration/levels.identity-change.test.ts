/**
 * Identity data changes need a recent sign-in everywhere: the in-flow upgrade page asks for the
 * password again when the sign-in it serves is not recent (a session re-used for this request),
 * as the cabinet asks for a fresh sign-in. A change that lowers the level says so before saving
 * (to which level and why) and after.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Browser, csrfOf, decodeEntities, type Page } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IDENTITY_FORM, makeStandard, postIdentityForm, snilsFor } from '../support/identity.ts';
import { auditOfType, createAccount, errorsOn, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));
const uidOf = (page: Page) => page.url.match(/^\/interaction\/([^/?]+)/)![1]!;
const upgradeForm = (browser: Browser, page: Page, fields: Record<string, string>) =>
  browser.post(`/interaction/${uidOf(page)}/upgrade`, { _csrf: csrfOf(page.html), ...fields });

describe('levels: identity changes need a recent sign-in, and a drop of level is said before and after', function () {
  let h: Harness;
  let accountId: string;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } })).id;
  });
  const account = async () => (await h.services.accounts.findActive(accountId))!;

  /** Makes the pending sign-in of this interaction as old as a session signed in 10 minutes ago. */
  async function ageSignIn(uid: string) {
    const flows = h.services.store.oidcAdapter('VkhodFlow');
    const pending = (await flows.find(`mfa.${uid}`))!;
    await flows.upsert(`mfa.${uid}`, { ...pending, authTime: Math.floor(Date.now() / 1000) - 600 }, 900);
  }

  it('upgrade page, sign-in not recent: no change without the password again; a wrong one is refused and counted; the right one saves', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const unmet = await submitPassword(browser, PHONE, authorizePath({ acr_values: 'urn:vkhod:loa:standard' }, challenge));
    expect(unmet.status).to.equal(403);
    await ageSignIn(uidOf(unmet));
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    expect(form.html).to.include('id="current_password"');

    const without = await upgradeForm(browser, form, IDENTITY_FORM);
    expect(without.status).to.equal(401);
    expect((await account()).snils, 'nothing saved').to.equal(undefined);
    const wrong = await upgradeForm(browser, form, { ...IDENTITY_FORM, current_password: 'Не-тот-пароль-1!' });
    expect(wrong.status).to.equal(401);
    expect(errorsOn(wrong.html)).to.include(RU.identity.reauth_wrong);
    expect(auditOfType(h, 'identity.reauth').map((e) => e.outcome)).to.deep.equal(['failure', 'failure']);
    expect((await account()).snils).to.equal(undefined);

    const done = await passConsent(browser, await upgradeForm(browser, form, { ...IDENTITY_FORM, current_password: GOOD_PASSWORD }));
    expect((await redeem(h, done.location, verifier)).claims.acr).to.equal('urn:vkhod:loa:standard');
  });

  it('upgrade page right after the password: no second password asked', async () => {
    const browser = new Browser(h);
    const unmet = await submitPassword(browser, PHONE, authorizePath({ acr_values: 'urn:vkhod:loa:standard' }, pkce().challenge));
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    expect(form.html).to.not.include('id="current_password"');
    const res = await upgradeForm(browser, form, IDENTITY_FORM);
    expect(res.status).to.be.below(400);
    expect((await account()).snils).to.equal('11223344595');
  });

  it('cabinet: changing the SNILS of a standard account warns (standard → simplified, SNILS) and saves only when accepted; the notice says it after', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);
    const page = await openCabinet(browser, '/account/identity', PHONE);
    const changed = { ...IDENTITY_FORM, snils: snilsFor('123456789') };
    const warned = await postIdentityForm(browser, page, changed);
    expect(warned.status).to.equal(409);
    const warning = decodeEntities(warned.html.match(/id="level-drop">([^<]*)</)![1]!);
    expect(warning).to.include('«стандартная»').and.include('«упрощённая»').and.include('СНИЛС');
    expect((await account()).level, 'nothing saved before the citizen agrees').to.equal('standard');
    expect(warned.html).to.include('name="accept_level_drop" value="simplified"');

    const saved = await postIdentityForm(browser, warned, { ...changed, accept_level_drop: 'simplified' });
    expect(saved.url).to.equal('/account/identity?notice=saved_dropped_simplified');
    expect(saved.html).to.include(RU.identity.notices.saved_dropped_simplified);
    expect((await account()).level).to.equal('simplified');
  });

  it('cabinet: a change that keeps the level (the address) saves at once, without a warning', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);
    const page = await openCabinet(browser, '/account/identity', PHONE);
    const saved = await postIdentityForm(browser, page, { ...IDENTITY_FORM, address: 'г. Тверь, ул. Советская, д. 5' });
    expect(saved.url).to.equal('/account/identity?notice=saved');
  });

  it('upgrade page: a change that lowers the level is said before saving and on the status page after', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);
    const unmet = await submitPassword(browser, PHONE, authorizePath({ acr_values: 'urn:vkhod:loa:confirmed' }, pkce().challenge));
    expect(unmet.status).to.equal(403);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const changed = { ...IDENTITY_FORM, passport_number: '654321' };
    const warned = await upgradeForm(browser, form, changed);
    expect(warned.status).to.equal(409);
    expect(decodeEntities(warned.html.match(/id="level-drop">([^<]*)</)![1]!)).to.include('Паспорт');
    expect((await account()).identity?.passport?.number).to.equal('123456');
    const saved = await upgradeForm(browser, warned, { ...changed, accept_level_drop: 'simplified' });
    expect(saved.html).to.include(RU.upgrade.notices.dropped_simplified);
  });
});
