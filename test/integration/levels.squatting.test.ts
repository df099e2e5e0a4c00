/**
 * Squatting on identity numbers: someone types a citizen's SNILS into their own account before the
 * citizen does. A number typed in but not verified blocks nobody: the citizen signs in with an
 * e-signature, through a bank, enters the SNILS in the cabinet, is confirmed at a service centre —
 * each path succeeds, the verified number is taken from the squatter's account (its owner is told,
 * its level re-derived) and both sides are audited.
 */
import { expect } from 'chai';
import { Browser, csrfOf } from '../support/browser.ts';
import { signAndSend } from '../support/esign-browser.ts';
import { startFederation, startPki, throughBank, type FederationSetup, type TestPki } from '../support/federation.ts';
import { authorizePath, openCabinet, passConsent, pkce, redeem } from '../support/flows.ts';
import { IDENTITY_FORM, makeStandard, postIdentityForm } from '../support/identity.ts';
import { addOperator, api } from './admin-fixtures.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

const ELENA = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' };
const IVAN_SNILS = '11223344595';
const SQUATTER_PHONE = '+79120000070';

describe('levels: a SNILS typed into another account does not block its owner', function () {
  let f: FederationSetup;
  let pki: TestPki;
  before(async () => {
    pki = await startPki();
    f = await startFederation({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.dir, VKHOD_ESIGN_CRL_FILE: pki.dir } });
  });
  after(async () => {
    await f.close();
    pki.close();
  });
  beforeEach(() => resetStore(f.h));

  const squat = (snils: string) => createAccount(f.h, { phone: SQUATTER_PHONE, snils, name: { family: 'Захватов', given: 'Пётр' } });

  /** The squatter lost the number, was told so, and both accounts carry the audit. */
  async function expectReleased(squatterId: string, ownerId: string, kind = 'snils') {
    const squatter = (await f.h.services.accounts.findActive(squatterId))!;
    expect(squatter.snils, 'taken from the squatter').to.equal(undefined);
    expect(auditOfType(f.h, 'identity.number_removed').find((e) => e.accountId === squatterId)?.details).to.deep.include({
      kind,
      reason: 'verified_by_owner',
      owner: ownerId,
    });
    expect(auditOfType(f.h, 'identity.number_claimed').find((e) => e.accountId === ownerId)?.details).to.deep.include({
      kind,
      from: squatterId,
    });
    expect(
      f.h.gateway.sent.some((m) => m.to === SQUATTER_PHONE && /СНИЛС.*удалён/.test(m.text)),
      'the squatter is told',
    ).to.equal(true);
  }

  it('e-signature: the owner says "not my account" and gets their own account with the SNILS verified', async () => {
    const squatter = await squat(ELENA.snils);
    const browser = new Browser(f.h);
    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizePath({}, challenge));
    const esign = await browser.get(login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!);
    const held = await signAndSend(browser, esign, await pki.citizen(ELENA, { kind: 'ecdsa' }));
    expect(held.url).to.match(/\/esign-link$/);
    expect(held.html).to.include('esign-link-new');
    const done = await passConsent(browser, await browser.submit(held, '/esign-link/new', {}));
    const { claims } = await redeem(f.h, done.location, verifier);
    expect(claims.sub).to.not.equal(squatter.id);
    const owner = (await f.h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    expect(owner.id).to.equal(claims.sub);
    await expectReleased(squatter.id, owner.id);
  });

  it("e-signature: another person's true data typed in and passed by the registry does not land the certificate's holder in that account", async () => {
    // The squatter types Elena's real name, SNILS, birth date and passport; the registry says they are real.
    const squatter = await createAccount(f.h, { phone: SQUATTER_PHONE, name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' } });
    await makeStandard(f.h, squatter.id, { family: 'Морозова', given: 'Елена', middle: 'Игоревна', snils: ELENA.snils, inn: ELENA.inn });
    const browser = new Browser(f.h);
    const login = await browser.get(authorizePath({}, pkce().challenge));
    const esign = await browser.get(login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!);
    const held = await signAndSend(browser, esign, await pki.citizen(ELENA, { kind: 'ecdsa' }));
    // Not signed in to it (before: straight in, and the squatter's account confirmed by her signature).
    expect(held.location, 'no code for the relying party').to.equal(undefined);
    expect(held.url).to.match(/\/esign-link$/);
    const after = (await f.h.services.accounts.findActive(squatter.id))!;
    expect(after.level, 'not confirmed by her signature').to.equal('standard');
    expect((after.verifications ?? []).map((v) => v.method)).to.not.include('esignature');
  });

  it('bank: the owner says "not my account" and gets their own account, confirmed by the bank', async () => {
    const squatter = await squat(IVAN_SNILS);
    const browser = new Browser(f.h);
    const { verifier, challenge } = pkce();
    const held = await throughBank(browser, f.bank, await browser.get(authorizePath({}, challenge)), { customer: 'cust-1001' });
    expect(held.url).to.match(/\/bank-link$/);
    expect(held.html).to.include('bank-link-new');
    const done = await passConsent(browser, await browser.submit(held, '/bank-link/new', {}));
    const { claims } = await redeem(f.h, done.location, verifier);
    const owner = (await f.h.services.accounts.findByKey({ kind: 'snils', value: IVAN_SNILS }))!;
    expect(owner.id).to.equal(claims.sub).and.not.equal(squatter.id);
    expect(claims.acr).to.equal('urn:vkhod:loa:confirmed');
    await expectReleased(squatter.id, owner.id);
  });

  it('cabinet and service centre: the owner enters the SNILS (accepted), the registry checks it, an operator confirms in person', async () => {
    const squatter = await squat('11223344595');
    const victim = await createAccount(f.h, { phone: '+79120000071', name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } });
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/identity', '+79120000071');
    const saved = await postIdentityForm(browser, page, IDENTITY_FORM);
    expect(saved.url, saved.html.slice(0, 300)).to.equal('/account/identity?notice=saved');
    expect((await f.h.services.accounts.findActive(victim.id))!.snils).to.equal('11223344595');

    const checked = await browser.post('/account/identity/verify', { _csrf: csrfOf(saved.html) });
    expect(checked.url).to.match(/^\/account\/identity\?notice=/);
    expect((await f.h.services.accounts.findActive(victim.id))!.level).to.equal('standard');
    await expectReleased(squatter.id, victim.id);

    const desk = await addOperator(f.h, 'desk-squat', ['service_centre']);
    const res = await api(f.h, desk)
      .post(`/admin/api/accounts/${victim.id}/confirm`)
      .send({ passport_series: '4506', passport_number: '123456' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect((await f.h.services.accounts.findActive(victim.id))!.level).to.equal('confirmed');
  });

  it("operator: sees the accounts holding one SNILS unverified and takes it from the squatter's (audited, owner told)", async () => {
    const squatter = await squat(IVAN_SNILS);
    await createAccount(f.h, { phone: '+79120000074', snils: IVAN_SNILS, name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' } });
    const desk = await addOperator(f.h, 'desk-conflict', ['service_centre']);
    const browser = new Browser(f.h);
    const login = await browser.get('/operator');
    const search = await browser.submit(login, '/operator/login', { login: desk.login, password: desk.password });
    const found = await browser.submit(search, '/operator/search', { snils: IVAN_SNILS, passport: '' });
    expect(found.html).to.include('id="conflict-matches"');
    expect(found.html).to.include('Захватов Пётр').and.include('Петров Иван Сергеевич');

    const card = await browser.get(`/operator/accounts/${squatter.id}`);
    expect(card.html).to.include('id="conflict-snils"');
    const resolved = await browser.submit(card, '/numbers/snils/remove', {});
    expect(resolved.url).to.equal(`/operator/accounts/${squatter.id}?notice=number_removed`);
    expect((await f.h.services.accounts.findActive(squatter.id))!.snils).to.equal(undefined);
    const event = auditOfType(f.h, 'identity.number_removed').find((e) => e.accountId === squatter.id)!;
    expect(event.details).to.deep.include({ kind: 'snils', reason: 'operator_decision' });
    expect((event as { actor?: string }).actor).to.match(/desk-conflict/);
    expect(f.h.gateway.sent.some((m) => m.to === SQUATTER_PHONE && /СНИЛС.*удалён/.test(m.text))).to.equal(true);
  });

  it('data stored before this rule (a typed SNILS kept as a unique key) does not block the owner either', async () => {
    const squatter = await squat(IVAN_SNILS);
    const stored = (await f.h.services.store.accounts.findById(squatter.id))!;
    const legacyKeys = (await f.h.services.store.accounts.keysOf(squatter.id)).map(({ kind, value }) => ({ kind, value }));
    await f.h.services.store.accounts.update(stored, stored.version, legacyKeys);
    expect((await f.h.services.store.accounts.findByKey({ kind: 'snils', value: IVAN_SNILS }))?.id, 'the old unique key').to.equal(
      squatter.id,
    );

    const owner = await createAccount(f.h, { phone: '+79120000075', name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } });
    await f.h.services.levels.saveIdentity(owner.id, {
      snils: IVAN_SNILS,
      identity: {
        birthDate: '1985-03-05',
        gender: 'female',
        birthPlace: 'гор. Москва',
        passport: { series: '4506', number: '123456', issueDate: '2005-03-20', issuer: 'ОВД района Хамовники', departmentCode: '772-001' },
      },
    });
    expect((await f.h.services.levels.requestStandard(owner.id)).level).to.equal('standard');
    expect((await f.h.services.accounts.findByKey({ kind: 'snils', value: IVAN_SNILS }))?.id).to.equal(owner.id);
    expect((await f.h.services.accounts.findActive(squatter.id))!.snils).to.equal(undefined);
  });

  it('a number verified on another account is still refused in the cabinet (the verified holder is its owner)', async () => {
    const owner = await createAccount(f.h, { phone: '+79120000072', name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } });
    const browser0 = new Browser(f.h);
    const page0 = await openCabinet(browser0, '/account/identity', '+79120000072');
    await postIdentityForm(browser0, page0, IDENTITY_FORM);
    expect((await f.h.services.levels.requestStandard(owner.id)).level).to.equal('standard');

    await createAccount(f.h, { phone: '+79120000073', name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } });
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/identity', '+79120000073');
    const refused = await postIdentityForm(browser, page, IDENTITY_FORM);
    expect(refused.status).to.equal(409);
  });
});
