/**
 * The attack: with one's own qualified e-signature and someone else's passport typed in, the account
 * became `confirmed`. A certificate carries a name, a SNILS (and an INN) — no passport, no birth
 * date: it confirms only over a passport the registry checked, and says which items it could not.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { signAndSend } from '../support/esign-browser.ts';
import { startPki, type TestPki } from '../support/federation.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem } from '../support/flows.ts';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

const SCOPE = 'openid profile snils id_doc';
const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const IVAN_NAME = { family: 'Петров', given: 'Иван', middle: 'Сергеевич' };
/** Someone else's passport (Ольга Смирнова's). */
const SOMEONE_ELSES_PASSPORT = {
  series: '4612',
  number: '654321',
  issueDate: '2010-08-15',
  issuer: 'ТП УФМС России по Московской обл. в г. Химки',
  departmentCode: '500-101',
};

describe("levels: one's own e-signature does not confirm a passport typed in", function () {
  let h: Harness;
  let pki: TestPki;
  before(async () => {
    pki = await startPki();
    h = await startHarness({
      clients: [{ ...(defaultClients()[0] as object), scope: SCOPE, vkhod_esia_compat: true }],
      env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.dir, VKHOD_ESIGN_CRL_FILE: pki.dir },
    });
  });
  after(async () => {
    await h.close();
    pki.close();
  });
  beforeEach(() => resetStore(h));

  async function attacker() {
    const account = await createAccount(h, { phone: '+79120000091', name: IVAN_NAME });
    return h.services.levels.saveIdentity(account.id, {
      snils: IVAN.snils,
      identity: { birthDate: '1985-03-14', gender: 'male', birthPlace: 'гор. Москва', passport: SOMEONE_ELSES_PASSPORT },
    });
  }

  it('sign-in: signature + password — acr not confirmed, no is_tru, the passport not among verified_claims', async () => {
    const account = await attacker();
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizePath({ scope: SCOPE }, challenge));
    const esign = await browser.get(login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!);
    const held = await signAndSend(browser, esign, await pki.citizen(IVAN, { kind: 'rsa' }));
    expect(held.url).to.match(/\/esign-link$/);
    const done = await passConsent(browser, await browser.submit(held, '/esign-link', { password: GOOD_PASSWORD }));
    const { claims, body } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(account.id);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');

    const userinfo = (await request(h.url).get('/me').set('authorization', `Bearer ${body.access_token}`)).body as Record<string, unknown>;
    expect(userinfo.account_level).to.equal('simplified');
    expect(userinfo['urn:esia:sbj']).to.be.an('object').and.not.have.property('urn:esia:sbj:is_tru');
    const verified = (userinfo.verified_claims ?? []) as Array<{ claims: Record<string, unknown> }>;
    expect(
      verified.some((v) => 'snils' in v.claims),
      'the certificate vouches for its SNILS',
    ).to.equal(true);
    expect(
      verified.some((v) => 'id_document' in v.claims || 'birthdate' in v.claims),
      'not for a passport or birth date it does not carry',
    ).to.equal(false);
    expect(auditOfType(h, 'level.not_confirmed').at(-1)!.details).to.deep.include({
      method: 'esignature',
      missing: ['birthdate', 'id_doc'],
    });
  });

  it('cabinet: confirming with the signature says the birth date and passport could not be confirmed', async () => {
    const account = await attacker();
    const browser = new Browser(h);
    await openCabinet(browser, '/account/federation', '+79120000091');
    const page = await browser.get('/account/federation/esign');
    const done = await signAndSend(browser, page, await pki.citizen(IVAN, { kind: 'rsa' }));
    expect(done.html).to.include('Учётная запись пока не подтверждена');
    expect(done.html).to.match(/id="unconfirmed">[^<]*не может подтвердить: Дата рождения, Паспорт\./);
    expect((await h.services.accounts.findActive(account.id))!.level).to.equal('simplified');
    expect(await h.services.accounts.findByKey({ kind: 'passport', value: '4612654321' }), 'the passport is not a verified key').to.equal(
      undefined,
    );
  });
});
