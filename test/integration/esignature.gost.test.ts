/**
 * Sign-in and confirmation with GOST R 34.10-2012 certificates, as Russian qualified certificates
 * are: the PKI and the signatures are made by an independent implementation (OpenSSL's GOST
 * engine; skipped, and said so, without it) — a 512-bit root, a 256-bit intermediate it signed, a
 * GOST-signed CRL. 256- and 512-bit keys, .sig file and pasted Base64, with and without signed
 * attributes; an employee's certificate signs the person in and keeps its organisation; a GOST
 * certificate from vkhod's own development CA works too. Every refusal shows its message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { sendSignature } from '../support/esign-browser.ts';
import { challengeOn } from '../support/federation.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IVAN_FORM, makeConfirmed, makeStandard, saveIdentity } from '../support/identity.ts';
import { makeOpensslGostPki, type OpensslGostPki, skipWithoutGostEngine } from '../support/openssl-gost.ts';
import { createGostCa, issueGostCitizen } from '../../scripts/esign/gost-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';
import { addOperator } from './admin-fixtures.ts';
import { auditOfType, countRows, createAccount, errorsOn, resetStore } from './fixtures.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const ELENA = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' };
const CONFIRMED_MFA = 'urn:vkhod:loa:confirmed-mfa';
const DAY = 86400_000;

describe("e-signature with GOST R 34.10-2012 certificates (fixtures by OpenSSL's GOST engine)", function () {
  this.timeout(60_000);
  let h: Harness;
  let pki: OpensslGostPki;
  before(async function () {
    skipWithoutGostEngine(this);
    pki = makeOpensslGostPki();
    h = await startHarness({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.trustDir, VKHOD_ESIGN_CRL_FILE: pki.trustDir } });
  });
  after(async () => {
    await h?.close();
    pki?.close();
  });
  beforeEach(() => h && resetStore(h));

  async function esignPage(browser: Browser): Promise<{ page: Page; verifier: string }> {
    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizePath({}, challenge));
    const page = await browser.get(login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!);
    expect(page.status).to.equal(200);
    expect(page.html).to.include('ГОСТ Р 34.10-2012');
    return { page, verifier };
  }

  /** The page shown again with `message`, nothing signed in, nothing made, the reason audited. */
  function expectRefused(res: Page, status: number, message: string, reason: string): void {
    expect(res.status, res.html.slice(0, 300)).to.equal(status);
    expect(errorsOn(res.html)).to.deep.equal([message]);
    expect(countRows(h, 'accounts')).to.equal(0);
    expect(auditOfType(h, 'esign.verify').map((e) => e.details?.reason)).to.deep.equal([reason]);
    expect(auditOfType(h, 'signin')).to.deep.equal([]);
  }

  it('makes an account from a 256-bit GOST certificate (a .sig file): amr sc mfa, name and SNILS verified, the key algorithm in the evidence; confirmed once the registry checks the rest', async () => {
    const citizen = pki.sub.issue(ELENA, { algorithm: 'gost2012_256', paramSet: 'TCA' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(browser, await sendSignature(browser, page, pki.sign(citizen, challengeOn(page).text), 'file'));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.amr).to.deep.equal(['sc', 'mfa']);
    // A certificate carries name and SNILS, not the birth date or passport (DESIGN §2): not confirmed yet.
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    const account = (await h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    expect(claims.sub).to.equal(account.id);
    expect(account.name).to.deep.equal({ family: 'Морозова', given: 'Елена', middle: 'Игоревна' });
    expect(account.level).to.equal('simplified');
    await saveIdentity(h, account.id, { family: 'Морозова', given: 'Елена', middle: 'Игоревна', snils: ELENA.snils, inn: ELENA.inn });
    expect((await h.services.levels.requestStandard(account.id)).level, 'registry-checked data under the GOST certificate').to.equal(
      'confirmed',
    );
    expect(account.identity?.inn).to.equal(ELENA.inn);
    const event = account.verifications!.at(-1)!;
    expect(event.evidence).to.deep.include({ type: 'qes', serialNumber: citizen.serial, keyAlgorithm: 'GOST R 34.10-2012 256-bit key' });
    expect(event.evidence.issuer).to.include('CN=sub');
    expect(event.evidence.signTools).to.deep.equal({ subject: 'CryptoPro CSP (test)' });
  });

  it('signs in directly the account whose SNILS is proven, with a 512-bit GOST certificate and a pasted Base64 signature without signed attributes', async () => {
    const existing = await createAccount(h, { phone: '+79120000010' });
    await makeConfirmed(h, existing.id, IVAN_FORM);
    const citizen = pki.sub.issue(IVAN, { algorithm: 'gost2012_512', paramSet: 'C' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(
      browser,
      await sendSignature(browser, page, pki.sign(citizen, challengeOn(page).text, { noAttributes: true }).toString('base64'), 'paste'),
    );
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.acr).to.equal(CONFIRMED_MFA);
    expect((await h.services.accounts.findActive(existing.id))!.verifications!.at(-1)!.evidence).to.deep.include({
      keyAlgorithm: 'GOST R 34.10-2012 512-bit key',
    });
  });

  it("an employee's certificate (with the organisation's OGRN and INN) signs the person in as a person, and keeps the organisation with the certificate", async () => {
    const employee = pki.sub.issue(
      { ...ELENA, organization: 'ПАО Сбербанк', ogrn: '1027700132195', innLe: '7707083893' },
      { algorithm: 'gost2012_256', paramSet: 'A' },
    );
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(browser, await sendSignature(browser, page, pki.sign(employee, challengeOn(page).text)));
    const { claims } = await redeem(h, done.location, verifier);
    const account = (await h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    expect(claims.sub).to.equal(account.id);
    expect(account.name).to.deep.equal({ family: 'Морозова', given: 'Елена', middle: 'Игоревна' });
    expect(account.identity?.inn, "the person's INN, not the organisation's").to.equal(ELENA.inn);
    const organization = { name: 'ПАО Сбербанк', ogrn: '1027700132195', inn: '7707083893' };
    expect(account.verifications!.at(-1)!.evidence.organization).to.deep.equal(organization);
    expect((account.extra?.certificates as Array<Record<string, unknown>>)[0]).to.deep.include({
      serialNumber: employee.serial,
      organization,
    });

    // an operator sees the certificate: its key, the organisation, and the signing tool it names
    const desk = await addOperator(h, 'desk', ['service_centre']);
    const operator = new Browser(h);
    const login = await operator.get('/operator');
    await operator.submit(login, '/operator/login', { login: desk.login, password: desk.password });
    const card = await operator.get(`/operator/accounts/${account.id}`);
    expect(card.status, card.html.slice(0, 300)).to.equal(200);
    expect(card.html).to.include('Сертификаты электронной подписи');
    expect(card.html).to.include(employee.serial);
    expect(card.html).to.include('GOST R 34.10-2012 256-bit key');
    expect(card.html).to.include('ПАО Сбербанк, ОГРН 1027700132195, ИНН 7707083893');
    expect(card.html).to.include('CryptoPro CSP (test)');
  });

  it('confirms the signed-in account in the cabinet with a GOST signature', async () => {
    const account = await createAccount(h, { phone: '+79120000012', name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' } });
    await makeStandard(h, account.id, { family: 'Морозова', given: 'Елена', middle: 'Игоревна', snils: ELENA.snils, inn: ELENA.inn });
    const browser = new Browser(h);
    await openCabinet(browser, '/account/federation', '+79120000012', GOOD_PASSWORD);
    const page = await browser.get('/account/federation/esign');
    expect(page.status).to.equal(200);
    const citizen = pki.sub.issue(ELENA, { algorithm: 'gost2012_512', paramSet: 'A' });
    const done = await sendSignature(browser, page, pki.sign(citizen, challengeOn(page).text));
    expect(done.url).to.equal('/account/federation?notice=esign_linked');
    const stored = (await h.services.accounts.findActive(account.id))!;
    expect(stored.snils).to.equal(ELENA.snils);
    expect(stored.level).to.equal('confirmed');
  });

  it("a certificate of vkhod's own GOST development CA (make-test-ca --gost, signed by `npm run esign`) signs in once its CA is in the trusted folder", async () => {
    const ca = createGostCa({ paramSet: 'tc26-256-B' });
    const citizen = issueGostCitizen(ca, ELENA, { paramSet: 'tc26-512-B' });
    const browser = new Browser(h);
    const first = await esignPage(browser);
    const sign = async (page: Page) =>
      Buffer.from(
        await signCms({ content: Buffer.from(challengeOn(page).text), certificatePem: citizen.pem, privateKeyPem: citizen.keyPem }),
      );
    expectRefused(
      await sendSignature(browser, first.page, await sign(first.page)),
      403,
      'Сертификат выдан удостоверяющим центром, которому vkhod не доверяет.',
      'untrusted',
    );
    writeFileSync(join(pki.trustDir, 'vkhod-dev-gost.pem'), ca.pem);
    resetStore(h);
    // A confirmed account with this SNILS (bound to the person): the development CA's certificate signs in to it.
    const existing = await createAccount(h, { phone: '+79120000013' });
    await makeConfirmed(h, existing.id, { family: 'Морозова', given: 'Елена', middle: 'Игоревна', snils: ELENA.snils, inn: ELENA.inn });
    const second = await esignPage(browser);
    const done = await passConsent(browser, await sendSignature(browser, second.page, await sign(second.page)));
    const { claims } = await redeem(h, done.location, second.verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.acr).to.equal(CONFIRMED_MFA);
  });

  describe('refusals, each with its message', () => {
    it('an expired GOST certificate', async () => {
      const expired = pki.sub.issue(IVAN, { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      expectRefused(
        await sendSignature(browser, page, pki.sign(expired, challengeOn(page).text)),
        403,
        'Срок действия сертификата истёк. Войдите другим способом или получите новый сертификат.',
        'expired',
      );
    });

    it('a GOST certificate whose root vkhod does not trust', async () => {
      const stranger = pki.stranger.issue(IVAN);
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      expectRefused(
        await sendSignature(browser, page, pki.sign(stranger, challengeOn(page).text, { chain: false })),
        403,
        'Сертификат выдан удостоверяющим центром, которому vkhod не доверяет.',
        'untrusted',
      );
    });

    it("a GOST certificate revoked in the intermediate's GOST-signed CRL", async () => {
      const revoked = pki.sub.issue(IVAN, { algorithm: 'gost2012_512', paramSet: 'B' });
      pki.sub.revoke(revoked.cert);
      pki.publishCrl();
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      expectRefused(
        await sendSignature(browser, page, pki.sign(revoked, challengeOn(page).text)),
        403,
        'Сертификат отозван удостоверяющим центром. Подпись не принята.',
        'revoked',
      );
    });

    it('a GOST signature of other data', async () => {
      const citizen = pki.sub.issue(IVAN);
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      expectRefused(
        await sendSignature(browser, page, pki.sign(citizen, `${challengeOn(page).text}-другое`)),
        403,
        'Подпись не сходится с запросом: подписан другой текст или подпись повреждена. Подпишите запрос с этой страницы заново.',
        'bad_signature',
      );
    });

    it('a file in the wrong format (the certificate instead of the signature)', async () => {
      const citizen = pki.sub.issue(IVAN);
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      expectRefused(
        await sendSignature(browser, page, Buffer.from(citizen.certificatePem)),
        400,
        'Это не похоже на подпись CMS (PKCS#7). Загрузите файл .sig, созданный программой для подписи.',
        'malformed',
      );
    });
  });
});
