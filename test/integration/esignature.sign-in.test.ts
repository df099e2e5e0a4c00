/**
 * Sign-in with a qualified e-signature, with certificates made at test time by a test CA that
 * vkhod trusts: the citizen signs a single-use challenge (RSA or ECDSA; a .sig file or pasted
 * Base64); an account with the certificate's SNILS is signed in and confirmed, a new one is made
 * from the certificate at `confirmed`; the ID token says amr `sc` and acr confirmed-mfa. In the
 * cabinet a signature confirms an account and adds the certificate's SNILS to it.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { sendSignature, signAndSend } from '../support/esign-browser.ts';
import { challengeOn, signText, startPki, type TestPki } from '../support/federation.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { signCms } from '../../scripts/esign/sign.ts';
import { auditOfType, countRows, createAccount, resetStore } from './fixtures.ts';

const IVAN = { family: 'Петров', given: 'Иван Сергеевич', snils: '11223344595', inn: '770123456703' };
const ELENA = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' };
const CONFIRMED_MFA = 'urn:vkhod:loa:confirmed-mfa';

describe('e-signature: sign-in with a qualified certificate', function () {
  let h: Harness;
  let pki: TestPki;
  before(async () => {
    pki = await startPki();
    h = await startHarness({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: pki.dir, VKHOD_ESIGN_CRL_FILE: pki.dir } });
  });
  after(async () => {
    await h.close();
    pki.close();
  });
  beforeEach(() => resetStore(h));

  async function esignPage(browser: Browser, params: Record<string, string> = {}): Promise<{ page: Page; verifier: string }> {
    const { verifier, challenge } = pkce();
    const login = await browser.get(authorizePath(params, challenge));
    expect(login.html).to.match(/<a class="button button-secondary" href="\/interaction\/[^"]+\/esign" id="esign-link">Войти с электронной подписью<\/a>/);
    const href = login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!;
    const page = await browser.get(href);
    expect(page.status).to.equal(200);
    return { page, verifier };
  }

  it('signs in the account with the certificate\'s SNILS (RSA, a .sig file), confirms it, and the ID token says sc and confirmed-mfa', async () => {
    const existing = await createAccount(h, { phone: '+79120000010', snils: IVAN.snils, name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' } });
    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    expect(challengeOn(page).text).to.match(/^vkhod:127\.0\.0\.1:\d+:[A-Za-z0-9_-]{32}$/);

    const done = await passConsent(browser, await signAndSend(browser, page, citizen, 'file'));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.amr).to.deep.equal(['sc']);
    expect(claims.acr).to.equal(CONFIRMED_MFA);

    const account = (await h.services.accounts.findActive(existing.id))!;
    expect(account.level).to.equal('confirmed');
    expect(account.identity?.inn).to.equal(IVAN.inn);
    const event = account.verifications!.at(-1)!;
    expect(event).to.deep.include({ method: 'esignature', level: 'confirmed' });
    expect(event.evidence).to.deep.include({ serialNumber: citizen.issued.certificate.serialNumber.toUpperCase(), notAfter: citizen.issued.certificate.notAfter.toISOString() });
    expect(event.evidence.issuer).to.include('CN=Тестовый УЦ vkhod');
    expect(event.items).to.deep.equal(['name', 'snils', 'inn']);
    expect(auditOfType(h, 'signin').at(-1)!.details).to.deep.include({ method: 'esignature', amr: ['sc'] });
  });

  it('makes a confirmed account from the certificate for a SNILS vkhod does not know (ECDSA, pasted Base64)', async () => {
    const citizen = await pki.citizen(ELENA, { kind: 'ecdsa' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(browser, await signAndSend(browser, page, citizen, 'paste'));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.acr).to.equal(CONFIRMED_MFA);
    const account = (await h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    expect(claims.sub).to.equal(account.id);
    expect(account.name).to.deep.equal({ family: 'Морозова', given: 'Елена', middle: 'Игоревна' });
    expect(account.level).to.equal('confirmed');
    expect(account.identity?.inn).to.equal(ELENA.inn);
    expect(account.passwordHash).to.equal(undefined);
    expect((account.extra?.certificates as unknown[]).length).to.equal(1);
    expect(auditOfType(h, 'account.registered')[0]!.details).to.deep.equal({ via: 'esignature', level: 'simplified' });
    expect(auditOfType(h, 'level.changed')[0]!.details).to.deep.include({ method: 'esignature', to: 'confirmed' });
  });

  it('accepts a signature with the content attached and one over the challenge file with a line break added', async () => {
    const citizen = await pki.citizen(ELENA, { kind: 'ecdsa' });
    const attached = new Browser(h);
    const first = await esignPage(attached);
    const cms = await signCms({ content: new TextEncoder().encode(challengeOn(first.page).text), ...citizen, attached: true });
    expect((await sendSignature(attached, first.page, Buffer.from(cms))).html).to.include('/consent');

    const newline = new Browser(h);
    const second = await esignPage(newline);
    const download = await newline.agent.get(second.page.html.match(/href="([^"]+\/esign\/challenge\/[^"]+)"/)![1]!);
    expect(download.headers['content-disposition']).to.equal('attachment; filename="vkhod-challenge.txt"');
    expect(download.text).to.equal(challengeOn(second.page).text);
    const signed = await signText(`${download.text}\n`, citizen);
    expect((await sendSignature(newline, second.page, signed)).html).to.include('/consent');
  });

  it('does not confirm an account whose name differs from the certificate\'s, but signs it in', async () => {
    const existing = await createAccount(h, { phone: '+79120000011', snils: IVAN.snils, name: { family: 'Петрова', given: 'Ивана' } });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(browser, await signAndSend(browser, page, await pki.citizen(IVAN)));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    expect((await h.services.accounts.findActive(existing.id))!.level).to.equal('simplified');
  });

  it('confirms the signed-in account in the cabinet and adds the certificate\'s SNILS to it', async () => {
    const account = await createAccount(h, { phone: '+79120000012', name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' } });
    const browser = new Browser(h);
    const cabinet = await openCabinet(browser, '/account/federation', '+79120000012', GOOD_PASSWORD);
    expect(cabinet.html).to.include('Подтвердить электронной подписью');
    const page = await browser.get('/account/federation/esign');
    expect(page.status).to.equal(200);
    const done = await signAndSend(browser, page, await pki.citizen(ELENA, { kind: 'ecdsa' }));
    expect(done.url).to.equal('/account/federation?notice=esign_linked');
    expect(done.html).to.include('Учётная запись подтверждена электронной подписью.');
    const stored = (await h.services.accounts.findActive(account.id))!;
    expect(stored.snils).to.equal(ELENA.snils);
    expect(stored.level).to.equal('confirmed');
    expect(countRows(h, 'accounts')).to.equal(1);

    // Now the signature signs this account in.
    const other = new Browser(h);
    const { page: again, verifier } = await esignPage(other);
    const signedIn = await passConsent(other, await signAndSend(other, again, await pki.citizen(ELENA, { kind: 'ecdsa' })));
    expect((await redeem(h, signedIn.location, verifier)).claims.sub).to.equal(account.id);
  });

  it('refuses in the cabinet a certificate of another person', async () => {
    await createAccount(h, { phone: '+79120000013', snils: '15678901211', name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' } });
    const browser = new Browser(h);
    await openCabinet(browser, '/account/federation', '+79120000013', GOOD_PASSWORD);
    const refused = await signAndSend(browser, await browser.get('/account/federation/esign'), await pki.citizen(ELENA, { kind: 'ecdsa' }));
    expect(refused.status).to.equal(409);
    expect(refused.html).to.include('СНИЛС в сертификате не совпадает со СНИЛС вашей учётной записи.');
  });
});
