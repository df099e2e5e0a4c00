/**
 * Sign-in with a qualified e-signature, with certificates made at test time by a test CA that
 * vkhod trusts: the citizen signs a single-use challenge (RSA or ECDSA; a .sig file or pasted
 * Base64); an account whose SNILS is proven to be its holder's is signed in and confirmed; an
 * account whose SNILS was only typed in asks for its password first (whoever typed it may not be
 * the SNILS's holder); a new account is made from the certificate at `confirmed`; the ID token
 * says amr `sc` `mfa` and acr confirmed-mfa. In the cabinet a signature confirms an account and
 * adds the certificate's SNILS to it.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { sendSignature, signAndSend } from '../support/esign-browser.ts';
import { challengeOn, signText, startPki, type TestPki } from '../support/federation.ts';
import { addTotp, authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem, totpCode } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IVAN_FORM, makeConfirmed, saveIdentity } from '../support/identity.ts';
import { signCms } from '../../scripts/esign/sign.ts';
import type { AuditEvent } from '../../src/store.ts';
import { auditOfType, countRows, createAccount, firstError, resetStore } from './fixtures.ts';
import { accountClaims } from '../../src/oidc/claims.ts';

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
    expect(login.html).to.match(
      /<a class="button button-secondary" href="\/interaction\/[^"]+\/esign" id="esign-link">Войти с электронной подписью<\/a>/,
    );
    const href = login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!;
    const page = await browser.get(href);
    expect(page.status).to.equal(200);
    return { page, verifier };
  }

  it('signs in directly the account whose SNILS is bound to the person (RSA, a .sig file), and the ID token says sc mfa and confirmed-mfa', async () => {
    const existing = await createAccount(h, { phone: '+79120000010' });
    // Confirmed at a service centre: the registry tied the SNILS to the passport the operator saw.
    await makeConfirmed(h, existing.id, IVAN_FORM);
    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    expect(challengeOn(page).text).to.match(/^vkhod:127\.0\.0\.1:\d+:[A-Za-z0-9_-]{32}$/);

    const done = await passConsent(browser, await signAndSend(browser, page, citizen, 'file'));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.amr).to.deep.equal(['sc', 'mfa']);
    expect(claims.acr).to.equal(CONFIRMED_MFA);

    const account = (await h.services.accounts.findActive(existing.id))!;
    expect(account.level).to.equal('confirmed');
    expect(account.identity?.inn).to.equal(IVAN.inn);
    const event = account.verifications!.at(-1)!;
    expect(event).to.deep.include({ method: 'esignature', level: 'confirmed' });
    expect(event.evidence).to.deep.include({
      serialNumber: citizen.issued.certificate.serialNumber.toUpperCase(),
      notAfter: citizen.issued.certificate.notAfter.toISOString(),
    });
    expect(event.evidence.issuer).to.include('CN=Тестовый УЦ vkhod');
    expect(event.items).to.deep.equal(['name', 'snils', 'inn']);
    expect(auditOfType(h, 'signin').at(-1)!.details).to.deep.include({ method: 'esignature', amr: ['sc', 'mfa'] });
    expect(auditOfType(h, 'esign.password_required')).to.deep.equal([]);
  });

  it('asks for the password of an account whose SNILS was only typed in, then signs in, verifies name and SNILS (no passport in a certificate: not confirmed) and remembers the certificate; the next signature signs in directly', async () => {
    const existing = await createAccount(h, {
      phone: '+79120000010',
      snils: IVAN.snils,
      name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
    });
    const citizen = await pki.citizen(IVAN, { kind: 'rsa' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const held = await signAndSend(browser, page, citizen, 'file');
    expect(held.url).to.match(/^\/interaction\/[^/]+\/esign-link$/);
    expect(held.html).to.include('Подтвердите, что учётная запись ваша');
    expect(held.html).to.include('Петров И.');
    expect(held.html).to.include('+7 912 ***-**-10');
    expect((await h.services.accounts.findActive(existing.id))!.level, 'nothing changes before the password').to.equal('simplified');

    const wrong = await browser.submit(held, '/esign-link', { password: 'Не-тот-пароль-1!' });
    expect(wrong.status).to.equal(400);
    expect(firstError(wrong.html)).to.equal('Неверный пароль. Проверьте раскладку клавиатуры и Caps Lock.');
    expect(auditOfType(h, 'esign.link').map((e) => e.outcome)).to.deep.equal(['failure']);

    const done = await passConsent(browser, await browser.submit(wrong, '/esign-link', { password: GOOD_PASSWORD }));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.amr).to.deep.equal(['sc', 'pwd', 'mfa']);
    // A certificate carries name and SNILS, not the birth date or passport: the level waits for the registry.
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    const account = (await h.services.accounts.findActive(existing.id))!;
    expect(account.level).to.equal('simplified');
    expect(await h.services.accounts.findByKey({ kind: 'snils', value: IVAN.snils }), 'the SNILS is verified now').to.deep.include({
      id: existing.id,
    });
    expect(account.verifications!.at(-1)!).to.deep.include({ method: 'esignature', items: ['name', 'snils', 'inn'] });
    expect((account.extra?.certificates as Array<{ serialNumber: string }>).map((c) => c.serialNumber)).to.deep.equal([
      citizen.issued.certificate.serialNumber.toUpperCase(),
    ]);
    expect(auditOfType(h, 'signin').at(-1)!.details).to.deep.include({ method: 'esignature+password', amr: ['sc', 'pwd', 'mfa'] });

    // The account is now proven to be the SNILS holder's: the signature alone signs in.
    const again = new Browser(h);
    const second = await esignPage(again);
    const direct = await passConsent(again, await signAndSend(again, second.page, citizen));
    const { claims: next } = await redeem(h, direct.location, second.verifier);
    expect(next.sub).to.equal(existing.id);
    expect(next.amr).to.deep.equal(['sc', 'mfa']);
  });

  it('makes an account from the certificate for a SNILS vkhod does not know, name and SNILS verified — confirmed once the registry checks the passport (ECDSA, pasted Base64)', async () => {
    const citizen = await pki.citizen(ELENA, { kind: 'ecdsa' });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const done = await passConsent(browser, await signAndSend(browser, page, citizen, 'paste'));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    const account = (await h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    expect(claims.sub).to.equal(account.id);
    expect(account.name).to.deep.equal({ family: 'Морозова', given: 'Елена', middle: 'Игоревна' });
    expect(account.level).to.equal('simplified');
    expect(account.identity?.inn).to.equal(ELENA.inn);
    expect(account.passwordHash).to.equal(undefined);
    expect((account.extra?.certificates as unknown[]).length).to.equal(1);
    expect(auditOfType(h, 'account.registered')[0]!.details).to.deep.equal({ via: 'esignature', level: 'simplified' });
    expect(auditOfType(h, 'level.changed')).to.deep.equal([]);
    // verified_claims say the name and SNILS were checked by a signature, never that a simplified
    // account is confirmed (before: assurance_level "confirmed").
    const simplified = accountClaims(account, new Set(['openid', 'fullname', 'snils'])).verified_claims as Array<{ verification: object }>;
    expect(simplified[0]!.verification).to.not.have.property('assurance_level');
    // Birth date and passport checked by the registry: the certificate's binding applies, confirmed.
    await saveIdentity(h, account.id, { family: 'Морозова', given: 'Елена', middle: 'Игоревна', snils: ELENA.snils, inn: ELENA.inn });
    const confirmed = await h.services.levels.requestStandard(account.id);
    expect(confirmed.level).to.equal('confirmed');
    const levels = (
      accountClaims(confirmed, new Set(['openid', 'fullname', 'snils', 'id_doc'])).verified_claims as Array<{
        verification: { assurance_level?: string };
      }>
    ).map((v) => v.verification.assurance_level);
    expect(levels.length).to.be.greaterThan(0);
    for (const level of levels) expect(level).to.be.oneOf(['standard', 'confirmed']);
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
    expect(download.headers['cache-control']).to.equal('no-store');
    expect(download.text).to.equal(challengeOn(second.page).text);
    const signed = await signText(`${download.text}\n`, citizen);
    expect((await sendSignature(newline, second.page, signed)).html).to.include('/consent');
  });

  it("does not confirm an account whose name differs from the certificate's, but signs it in after its password", async () => {
    const existing = await createAccount(h, { phone: '+79120000011', snils: IVAN.snils, name: { family: 'Петрова', given: 'Ивана' } });
    const browser = new Browser(h);
    const { page, verifier } = await esignPage(browser);
    const held = await signAndSend(browser, page, await pki.citizen(IVAN));
    expect(held.url).to.match(/\/esign-link$/);
    const done = await passConsent(browser, await browser.submit(held, '/esign-link', { password: GOOD_PASSWORD }));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    const account = (await h.services.accounts.findActive(existing.id))!;
    expect(account.level).to.equal('simplified');
    expect(account.extra?.certificates, 'a certificate of another name is not remembered').to.equal(undefined);
  });

  it("in the cabinet adds the certificate's SNILS to the signed-in account, and says which items it could not confirm", async () => {
    const account = await createAccount(h, { phone: '+79120000012', name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' } });
    const browser = new Browser(h);
    const cabinet = await openCabinet(browser, '/account/federation', '+79120000012', GOOD_PASSWORD);
    expect(cabinet.html).to.include('Подтвердить электронной подписью');
    const page = await browser.get('/account/federation/esign');
    expect(page.status).to.equal(200);
    expect(page.html, 'titled as a confirmation, not a sign-in').to.include(
      '<h1>Подтверждение учётной записи квалифицированной электронной подписью</h1>',
    );
    expect(page.html).to.include('<title>Подтверждение электронной подписью');
    expect(page.html).to.not.include('Вход с');
    // the challenge as a file, like on the sign-in page: never cached, and none for an unknown handle
    const download = await browser.agent.get(page.html.match(/href="(\/account\/federation\/esign\/challenge\/[^"]+)"/)![1]!);
    expect(download.status).to.equal(200);
    expect(download.headers['cache-control']).to.equal('no-store');
    expect(download.text).to.equal(challengeOn(page).text);
    expect((await browser.agent.get('/account/federation/esign/challenge/unknown-handle')).status).to.equal(404);
    const done = await signAndSend(browser, page, await pki.citizen(ELENA, { kind: 'ecdsa' }));
    expect(done.status).to.equal(200);
    expect(done.html).to.include('Учётная запись пока не подтверждена');
    expect(done.html).to.match(/id="unconfirmed">[^<]*Дата рождения, Паспорт/);
    const stored = (await h.services.accounts.findActive(account.id))!;
    expect(stored.snils).to.equal(ELENA.snils);
    expect(stored.level).to.equal('simplified');
    expect(countRows(h, 'accounts')).to.equal(1);

    // Now the signature signs this account in.
    const other = new Browser(h);
    const { page: again, verifier } = await esignPage(other);
    const signedIn = await passConsent(other, await signAndSend(other, again, await pki.citizen(ELENA, { kind: 'ecdsa' })));
    expect((await redeem(h, signedIn.location, verifier)).claims.sub).to.equal(account.id);
  });

  it('an account made from a certificate reaches the structured log, not only the store', async () => {
    const published: AuditEvent[] = [];
    const original = h.services.audit.published;
    h.services.audit.published = (event: AuditEvent) => {
      published.push(event);
      original.call(h.services.audit, event);
    };
    try {
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      await passConsent(browser, await signAndSend(browser, page, await pki.citizen(ELENA, { kind: 'ecdsa' })));
    } finally {
      h.services.audit.published = original;
    }
    const account = (await h.services.accounts.findByKey({ kind: 'snils', value: ELENA.snils }))!;
    const mine = published.filter((e) => e.accountId === account.id).map((e) => e.type);
    expect(mine).to.include.members(['account.registered', 'level.verified']);
    expect(
      mine.filter((t) => t === 'account.registered'),
      'once',
    ).to.have.length(1);
  });

  describe("a SNILS typed into an account proves nothing: the certificate's holder does not land in it", () => {
    it("the attack: someone types a citizen's name and SNILS into their own account; the citizen's signature does not sign in to it, nor confirm it", async () => {
      // The attacker registers and types the victim's name and SNILS (no check of either).
      const attacker = await createAccount(h, {
        phone: '+79120000066',
        snils: IVAN.snils,
        name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
        password: 'Чужой-Пароль-77!',
      });
      // The victim signs in with their qualified e-signature.
      const victim = new Browser(h);
      const { page } = await esignPage(victim);
      const held = await signAndSend(victim, page, await pki.citizen(IVAN, { kind: 'rsa' }));
      expect(held.status).to.equal(200);
      expect(held.location, 'no redirect to the relying party').to.equal(undefined);
      expect(held.url).to.match(/\/esign-link$/);
      expect(held.html).to.include('ваш СНИЛС указал в своей учётной записи кто-то другой');
      expect(held.html).to.not.include('/consent');
      // The victim does not know the attacker's password: nothing they can send gets them in.
      for (const password of ['', GOOD_PASSWORD]) {
        const refused = await victim.submit(held, '/esign-link', { password });
        expect(refused.status).to.equal(400);
        expect(refused.location).to.equal(undefined);
      }
      const account = (await h.services.accounts.findActive(attacker.id))!;
      expect(account.level, "not raised with the victim's identity").to.equal('simplified');
      expect(account.verifications ?? []).to.deep.equal([]);
      expect(account.extra?.certificates).to.equal(undefined);
      expect(account.identity?.inn).to.equal(undefined);
      expect(
        auditOfType(h, 'signin').filter((e) => e.outcome === 'success'),
        'no sign-in',
      ).to.deep.equal([]);
      expect(auditOfType(h, 'esign.password_required').map((e) => e.accountId)).to.deep.equal([attacker.id]);
      expect(countRows(h, 'accounts')).to.equal(1);
    });

    it('an account without a password: refused with the way to confirm it in the cabinet', async () => {
      const existing = await createAccount(h, {
        phone: '+79120000014',
        snils: IVAN.snils,
        name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
      });
      await h.services.accounts.modify(existing.id, (a) => ({ ...a, passwordHash: undefined }));
      const browser = new Browser(h);
      const { page } = await esignPage(browser);
      const held = await signAndSend(browser, page, await pki.citizen(IVAN));
      expect(held.url).to.match(/\/esign-link$/);
      expect(held.html).to.include('Ваш СНИЛС указан в учётной записи, данные которой не подтверждены');
      expect(held.html).to.include('/account/federation');
      expect(held.html).to.not.include('name="password"');
      // A password sent anyway (the form is not there) changes nothing: the CSRF token is the interaction's.
      const refused = await browser.post(held.url, { _csrf: csrfOf(page.html), password: GOOD_PASSWORD });
      expect(refused.status).to.equal(400);
      expect((await h.services.accounts.findActive(existing.id))!.level).to.equal('simplified');
    });

    it('an account with sign-in with confirmation on: the password, then its second factor', async () => {
      const existing = await createAccount(h, {
        phone: '+79120000015',
        snils: IVAN.snils,
        name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
      });
      const secret = await addTotp(h, existing.id, { mfa: true });
      const browser = new Browser(h);
      const { page, verifier } = await esignPage(browser);
      const held = await signAndSend(browser, page, await pki.citizen(IVAN));
      const second = await browser.submit(held, '/esign-link', { password: GOOD_PASSWORD });
      expect(second.url).to.match(/\/mfa$/);
      expect(second.location).to.equal(undefined);
      // Nothing is remembered or verified before the second factor: password and certificate alone
      // must not make the certificate sign in on its own (before: remembered and SNILS verified here).
      const midway = (await h.services.accounts.findActive(existing.id))!;
      expect(midway.extra?.certificates ?? []).to.deep.equal([]);
      expect((midway.verifications ?? []).map((v) => v.method)).to.not.include('esignature');
      const done = await passConsent(browser, await browser.submit(second, '/mfa/verify', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, done.location, verifier);
      expect(claims.sub).to.equal(existing.id);
      expect(claims.amr).to.deep.equal(['sc', 'pwd', 'otp', 'mfa']);
    });
  });

  it('refuses in the cabinet a certificate of another person', async () => {
    await createAccount(h, {
      phone: '+79120000013',
      snils: '15678901211',
      name: { family: 'Морозова', given: 'Елена', middle: 'Игоревна' },
    });
    const browser = new Browser(h);
    await openCabinet(browser, '/account/federation', '+79120000013', GOOD_PASSWORD);
    const refused = await signAndSend(browser, await browser.get('/account/federation/esign'), await pki.citizen(ELENA, { kind: 'ecdsa' }));
    expect(refused.status).to.equal(409);
    expect(refused.html).to.include('СНИЛС в сертификате не совпадает со СНИЛС вашей учётной записи.');
  });
});
