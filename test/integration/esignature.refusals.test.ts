/**
 * Every signature vkhod must not accept, each refused with its own message (the page is shown
 * again with a new challenge), no sign-in and no account: a CA vkhod does not trust, an expired or
 * not-yet-valid certificate, a revoked one (and one whose CRL is out of date), a certificate not
 * meant for signing, a tampered signature, a signature of another text, a replayed challenge, a
 * signature under the withdrawn GOST R 34.11-94, a certificate without SNILS, and input that is no signature.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import * as pkijs from 'pkijs';
import { Browser, type Page } from '../support/browser.ts';
import { sendSignature, signAndSend } from '../support/esign-browser.ts';
import { challengeOn, signText, startPki, type TestPki } from '../support/federation.ts';
import { authorizePath } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createCa, createCrl, issueCitizen, KeyUsage, privateKeyPem } from '../../scripts/esign/test-ca.ts';
import { auditOfType, countRows, errorsOn, expectNoLeak, resetStore } from './fixtures.ts';

const ELENA = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' };
const DAY = 86400_000;

describe('e-signature: signatures that are refused', function () {
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
  afterEach(() => rmSync(join(pki.dir, 'ca.crl'), { force: true }));

  async function esignPage(browser = new Browser(h)): Promise<{ browser: Browser; page: Page }> {
    const login = await browser.get(authorizePath());
    const page = await browser.get(login.html.match(/href="(\/interaction\/[^"]+\/esign)"/)![1]!);
    expect(page.status).to.equal(200);
    return { browser, page };
  }

  /** The page again (a new challenge), the message, no sign-in, no account, the refusal audited. */
  function expectRefused(page: Page, before: Page, status: number, message: string, reason: string): void {
    expect(page.status, page.html.slice(0, 400)).to.equal(status);
    expect(page.location).to.equal(undefined);
    expect(errorsOn(page.html)).to.deep.equal([message]);
    expect(challengeOn(page).handle, 'a new challenge for the next try').to.not.equal(challengeOn(before).handle);
    expectNoLeak(page.html);
    expect(countRows(h, 'accounts')).to.equal(0);
    expect(auditOfType(h, 'esign.verify').map((e) => e.details?.reason)).to.deep.equal([reason]);
    expect(auditOfType(h, 'signin')).to.deep.equal([]);
  }

  it('refuses a certificate from a CA vkhod does not trust', async () => {
    const stranger = await createCa({ name: 'Чужой УЦ', kind: 'rsa' });
    const issued = await issueCitizen(stranger, ELENA);
    const { browser, page } = await esignPage();
    const res = await signAndSend(browser, page, {
      certificatePem: issued.certificate.toString('pem'),
      privateKeyPem: await privateKeyPem(issued.keys.privateKey),
    });
    expectRefused(res, page, 403, 'Сертификат выдан удостоверяющим центром, которому vkhod не доверяет.', 'untrusted');
  });

  it('refuses an expired certificate and one not valid yet', async () => {
    const expired = await pki.citizen(ELENA, { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    const first = await esignPage();
    expectRefused(
      await signAndSend(first.browser, first.page, expired),
      first.page,
      403,
      'Срок действия сертификата истёк. Войдите другим способом или получите новый сертификат.',
      'expired',
    );

    resetStore(h);
    const future = await pki.citizen(ELENA, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 400 * DAY) });
    const second = await esignPage();
    expectRefused(
      await signAndSend(second.browser, second.page, future),
      second.page,
      403,
      'Сертификат ещё не начал действовать. Проверьте дату на компьютере или попробуйте позже.',
      'not_yet_valid',
    );
  });

  it('refuses a certificate its CA has revoked (CRL), and any when the CRL is out of date', async () => {
    const revoked = await pki.citizen(ELENA);
    const good = await pki.citizen(ELENA);
    writeFileSync(join(pki.dir, 'ca.crl'), (await createCrl(pki.ca, [revoked.issued.certificate.serialNumber])).toString('pem'));
    const first = await esignPage();
    expectRefused(
      await signAndSend(first.browser, first.page, revoked),
      first.page,
      403,
      'Сертификат отозван удостоверяющим центром. Подпись не принята.',
      'revoked',
    );
    // Another certificate of the same CA is fine with the same CRL.
    const ok = await esignPage();
    expect((await signAndSend(ok.browser, ok.page, good)).html).to.include('/consent');

    resetStore(h);
    writeFileSync(
      join(pki.dir, 'ca.crl'),
      (await createCrl(pki.ca, [], { thisUpdate: new Date(Date.now() - 30 * DAY), nextUpdate: new Date(Date.now() - DAY) })).toString(
        'pem',
      ),
    );
    const stale = await esignPage();
    expectRefused(
      await signAndSend(stale.browser, stale.page, good),
      stale.page,
      403,
      'Не удалось проверить, не отозван ли сертификат: список отзыва устарел. Попробуйте позже.',
      'revocation_unknown',
    );
  });

  it('refuses a certificate whose key usage is not signing', async () => {
    const encryption = await pki.citizen(ELENA, { keyUsage: KeyUsage.keyEncipherment | KeyUsage.dataEncipherment });
    const { browser, page } = await esignPage();
    expectRefused(
      await signAndSend(browser, page, encryption),
      page,
      403,
      'Этот сертификат не предназначен для электронной подписи.',
      'key_usage',
    );
  });

  it('refuses a tampered signature and a signature of another text', async () => {
    const citizen = await pki.citizen(ELENA, { kind: 'ecdsa' });
    const first = await esignPage();
    const signature = await signText(challengeOn(first.page).text, citizen);
    signature[signature.length - 5] ^= 0x01; // a bit of the signature value, at the end of SignerInfo
    expectRefused(
      await sendSignature(first.browser, first.page, signature),
      first.page,
      403,
      'Подпись не сходится с запросом: подписан другой текст или подпись повреждена. Подпишите запрос с этой страницы заново.',
      'bad_signature',
    );

    resetStore(h);
    const second = await esignPage();
    const otherText = await signText(`${challengeOn(second.page).text}-and-more`, citizen);
    expectRefused(
      await sendSignature(second.browser, second.page, otherText),
      second.page,
      403,
      'Подпись не сходится с запросом: подписан другой текст или подпись повреждена. Подпишите запрос с этой страницы заново.',
      'bad_signature',
    );
  });

  it('accepts a challenge once: after a failed try its signature no longer counts, and another sign-in cannot use it', async () => {
    const citizen = await pki.citizen(ELENA, { kind: 'ecdsa' });
    const { browser, page } = await esignPage();
    const signature = await signText(challengeOn(page).text, citizen);
    // A first try with the wrong file uses the challenge up …
    expect((await sendSignature(browser, page, Buffer.from('not a signature'))).status).to.equal(400);
    // … so the right signature of it is refused now.
    const replay = await sendSignature(browser, page, signature);
    expect(replay.status).to.equal(400);
    expect(errorsOn(replay.html)).to.deep.equal([
      'Запрос для подписи устарел или уже использован. Подпишите новый запрос с этой страницы.',
    ]);

    // A genuine signature of another sign-in's challenge: refused there whether or not it was used.
    resetStore(h);
    const victim = await esignPage();
    const other = await esignPage();
    const theirs = await signText(challengeOn(victim.page).text, citizen);
    const early = await sendSignature(other.browser, other.page, theirs, 'file', challengeOn(victim.page).handle);
    expect(errorsOn(early.html)).to.deep.equal(['Запрос для подписи устарел или уже использован. Подпишите новый запрос с этой страницы.']);
    expect((await sendSignature(victim.browser, victim.page, theirs)).html, 'the owner can still use it').to.include('/consent');
    const accounts = countRows(h, 'accounts');
    const late = await sendSignature(other.browser, early, theirs, 'file', challengeOn(victim.page).handle);
    expect(late.status).to.equal(400);
    expect(errorsOn(late.html)).to.deep.equal(['Запрос для подписи устарел или уже использован. Подпишите новый запрос с этой страницы.']);
    expect(auditOfType(h, 'signin'), 'only the owner signed in').to.have.length(1);
    expect(countRows(h, 'accounts')).to.equal(accounts);
  });

  it('says plainly that signatures under the withdrawn GOST R 34.11-94 are not accepted, and that a key and digest that do not belong together are not supported', async () => {
    const citizen = await pki.citizen(ELENA);
    const redeclare = async (page: Page, digest: string) => {
      const der = await signText(challengeOn(page).text, citizen);
      const info = pkijs.ContentInfo.fromBER(new Uint8Array(der));
      const signed = new pkijs.SignedData({ schema: info.content });
      signed.signerInfos[0]!.digestAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: digest });
      return Buffer.from(
        new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signed.toSchema(true) }).toSchema().toBER(false),
      );
    };
    const first = await esignPage();
    // The same signature, declaring the GOST R 34.11-94 digest.
    expectRefused(
      await sendSignature(first.browser, first.page, await redeclare(first.page, '1.2.643.2.2.9')),
      first.page,
      422,
      'Подпись сделана по отменённому ГОСТ Р 34.10-2001 или ГОСТ Р 34.11-94 — такие подписи не принимаются. Подпишите сертификатом по ГОСТ Р 34.10-2012.',
      'gost_unsupported',
    );

    resetStore(h);
    const second = await esignPage();
    // An ECDSA key declaring Streebog-256: neither suite checks that pair.
    expectRefused(
      await sendSignature(second.browser, second.page, await redeclare(second.page, '1.2.643.7.1.1.2.2')),
      second.page,
      422,
      'Алгоритм подписи не поддерживается. Подпишите сертификатом по ГОСТ Р 34.10-2012 (хеш ГОСТ Р 34.11-2012) или RSA/ECDSA с SHA-256.',
      'unsupported_algorithm',
    );
  });

  it('refuses a certificate without SNILS, input that is not a signature, and an empty form', async () => {
    const noSnils = await pki.citizen({ family: 'Морозова', given: 'Елена Игоревна' });
    const first = await esignPage();
    expectRefused(
      await signAndSend(first.browser, first.page, noSnils),
      first.page,
      422,
      'В сертификате нет СНИЛС владельца — по нему не найти учётную запись.',
      'no_snils',
    );

    resetStore(h);
    const second = await esignPage();
    expectRefused(
      await sendSignature(second.browser, second.page, 'MIIB-это-не-подпись', 'paste'),
      second.page,
      400,
      'Это не похоже на подпись CMS (PKCS#7). Загрузите файл .sig, созданный программой для подписи.',
      'malformed',
    );

    resetStore(h);
    const third = await esignPage();
    expectRefused(
      await sendSignature(third.browser, third.page, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])),
      third.page,
      400,
      'Это не похоже на подпись CMS (PKCS#7). Загрузите файл .sig, созданный программой для подписи.',
      'malformed',
    );

    resetStore(h);
    const fourth = await esignPage();
    expectRefused(
      await sendSignature(fourth.browser, fourth.page, '', 'paste'),
      fourth.page,
      400,
      'Загрузите файл подписи или вставьте подпись в Base64.',
      'empty',
    );
  });

  it('refuses a file larger than a signature can be, with 413', async () => {
    const { browser, page } = await esignPage();
    const res = await sendSignature(browser, page, Buffer.alloc(200 * 1024, 0x30));
    expect(res.status).to.equal(413);
    expectNoLeak(res.html);
  });
});
