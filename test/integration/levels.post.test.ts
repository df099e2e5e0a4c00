/**
 * Confirmation by post (DESIGN §2): a standard account asks for a code; a letter with it is
 * queued to the registered address (the code kept hashed, sealed in the letter, 30 days of life);
 * the citizen types it in and the account is confirmed. A code works once, only for a standard
 * account, and proves only the address the letter went to.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { IDENTITY_FORM, itemStatus, makeStandard, postIdentityForm, saveIdentity, snilsFor } from '../support/identity.ts';
import { POST_CODE_TTL_SECONDS } from '../../src/methods/postal-confirmation.ts';
import { verifiedItems } from '../../src/accounts/verification.ts';
import type { Letter } from '../../src/store.ts';
import { auditOfType, createAccount, errorsOn, expireChallenge, resetStore } from './fixtures.ts';
import { legacyFingerprint } from '../../src/accounts/verification.ts';

const PHONE = '+79123456789';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));

describe('levels: confirmation by a code sent by post', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
    browser = new Browser(h);
  });

  const account = async () => (await h.services.accounts.findActive(accountId))!;
  const open = async () => {
    const page = await openCabinet(browser, '/account/identity', PHONE);
    expect(page.url).to.equal('/account/identity');
    return page;
  };
  const requestCode = (page: Page) => browser.post('/account/identity/post', { _csrf: csrfOf(page.html) });
  const typeCode = (page: Page, code: string) => browser.post('/account/identity/post/code', { _csrf: csrfOf(page.html), code });
  const queued = () => h.services.store.letters.list('queued');
  const stored = async (id: string) => (await h.services.store.letters.find(id))!;
  /** A voided request's letter is off the print queue, without its code, and cannot be marked sent. */
  const expectCancelled = async (id: string, reason: string) => {
    const letter = await stored(id);
    expect(letter).to.include({ status: 'cancelled', cancelReason: reason });
    expect(letter.sealedCode, 'the sealed code is dropped').to.equal(undefined);
    expect((await queued()).map((l) => l.id)).to.not.include(id);
    expect(await h.services.store.letters.markSent(id, new Date().toISOString(), 'operator:postman')).to.equal(false);
    expect((await stored(id)).status).to.equal('cancelled');
  };
  const codeIn = (letter: Letter) => h.services.postal.printable(letter).code!;

  it('request → a letter queued to the address with a 30-day code kept hashed → wrong code refused → right code: confirmed', async () => {
    await makeStandard(h, accountId);
    const page = await open();
    expect(page.html).to.include(RU.identity.post_request);
    expect(page.html).to.not.include('name="code"');

    const requested = await requestCode(page);
    expect(requested.url).to.equal('/account/identity?notice=post_requested');
    expect(requested.html).to.include(RU.identity.notices.post_requested);
    expect(requested.html).to.include('name="code"');

    const letters = await queued();
    expect(letters).to.have.length(1);
    const letter = letters[0]!;
    expect(letter.accountId).to.equal(accountId);
    expect(letter.recipient).to.deep.equal({
      name: 'Иванова Мария Петровна',
      address: { formatted: IDENTITY_FORM.address, postalCode: IDENTITY_FORM.postal_code },
    });
    const code = codeIn(letter);
    expect(code).to.match(/^\d{6}$/);
    // Neither the letter record nor the challenge holds the code in clear.
    expect(JSON.stringify(letter)).to.not.include(code);
    const a = await account();
    const challenge = (await h.services.store.challenges.find(a.postalConfirmation!.challengeId))!;
    expect(JSON.stringify(challenge)).to.not.include(code);
    expect(challenge.purpose).to.equal('post');
    const life = (Date.parse(challenge.expiresAt) - Date.parse(challenge.createdAt)) / 1000;
    expect(life).to.equal(POST_CODE_TTL_SECONDS);
    expect(POST_CODE_TTL_SECONDS).to.equal(30 * 86400);
    // Nothing went by SMS: the code travels only on paper.
    expect(h.gateway.sent.map((m) => m.text).join('\n')).to.not.include(code);
    expect(auditOfType(h, 'level.post_requested')).to.have.length(1);

    const wrong = await typeCode(requested, code === '000000' ? '111111' : '000000');
    expect(wrong.status).to.equal(400);
    expect(errorsOn(wrong.html)).to.include(RU.code.wrong);
    expect((await account()).level).to.equal('standard');

    const right = await typeCode(wrong, code);
    expect(right.url).to.equal('/account/identity?notice=confirmed');
    expect(right.html).to.match(/id="account-level" data-level="confirmed">подтверждённая</);
    const confirmed = await account();
    expect(confirmed.level).to.equal('confirmed');
    expect(confirmed.postalConfirmation).to.equal(undefined);
    const event = confirmed.verifications!.at(-1)!;
    expect(event).to.include({ method: 'post', level: 'confirmed' });
    expect(event.evidence).to.include({ letterId: letter.id, address: IDENTITY_FORM.address });
    expect(itemStatus(right.html, 'address')).to.match(/^проверено: код письмом Почты России/);
    expect(h.gateway.sent.map((m) => m.text)).to.include(RU.messages.level.confirmed);
    const changed = auditOfType(h, 'level.changed');
    expect(changed.at(-1)!.details).to.include({ from: 'standard', to: 'confirmed', method: 'post' });
  });

  it('a used code is refused and changes nothing', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const code = codeIn((await queued())[0]!);
    expect((await typeCode(page, code)).url).to.equal('/account/identity?notice=confirmed');
    const versions = (await account()).version;
    const again = await typeCode(page, code);
    expect(again.status).to.equal(409);
    expect(errorsOn(again.html)).to.include(RU.identity.level_errors.already);
    const a = await account();
    expect(a.version).to.equal(versions);
    expect(a.verifications).to.have.length(2);
  });

  it('only a standard account can ask for a code', async () => {
    await saveIdentity(h, accountId);
    const page = await open();
    expect(page.html, 'not offered to a simplified account').to.not.include('/account/identity/post');
    const res = await requestCode(page);
    expect(res.status).to.equal(409);
    expect(errorsOn(res.html)).to.include(RU.identity.post_errors.not_standard);
    expect(await queued()).to.have.length(0);
    // Nor can a simplified account type one in.
    const typed = await typeCode(page, '123456');
    expect(typed.status).to.equal(409);
    expect((await account()).level).to.equal('simplified');
  });

  it('no address → told to give one, no letter', async () => {
    await makeStandard(h, accountId, { address: '', postal_code: '' });
    const page = await open();
    expect(page.html).to.include(RU.identity.post_needs_address);
    const res = await requestCode(page);
    expect(res.status).to.equal(409);
    expect(errorsOn(res.html)).to.include(RU.identity.post_errors.no_address);
    expect(await queued()).to.have.length(0);
  });

  it('one letter at a time', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const again = await requestCode(page);
    expect(again.status).to.equal(409);
    expect(errorsOn(again.html)).to.include(RU.identity.post_errors.already_requested);
    expect(await queued()).to.have.length(1);
  });

  it('after SNILS or passport changed, the code no longer confirms (the level dropped)', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const code = codeIn((await queued())[0]!);
    await postIdentityForm(browser, page, { ...IDENTITY_FORM, snils: snilsFor('123456789'), accept_level_drop: 'simplified' });
    expect((await account()).level).to.equal('simplified');
    const typed = await typeCode(page, code);
    expect(typed.status).to.equal(409);
    expect(errorsOn(typed.html)).to.include(RU.identity.post_errors.not_standard);
    expect((await account()).level).to.equal('simplified');
  });

  it('a code sent for other data does not confirm data changed and checked again since: refused, the request voided', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const letter = (await queued())[0]!;
    const code = codeIn(letter);
    expect((await account()).postalConfirmation!.fingerprint, 'the request remembers the data it is for').to.be.a('string');
    // The citizen changes name and SNILS and passes the registry check again: standard, new data.
    await makeStandard(h, accountId, { family: 'Смирнова', snils: snilsFor('123456789') });
    const changed = await open();
    expect(changed.html, 'the stale request is not offered for a code').to.not.include('name="code"');
    expect(changed.html).to.include('id="post-outdated"');
    const typed = await typeCode(page, code);
    expect(typed.status).to.equal(409);
    expect(errorsOn(typed.html)).to.include(RU.identity.post_errors.data_changed);
    const a = await account();
    expect(a.level).to.equal('standard');
    expect(a.verifications!.map((v) => v.method)).to.not.include('post');
    expect(a.postalConfirmation, 'the request is void').to.equal(undefined);
    expect(auditOfType(h, 'level.post_voided').at(-1)!.details).to.deep.equal({ letterId: letter.id, reason: 'data_changed' });
    await expectCancelled(letter.id, 'data_changed');
    // The same code typed again finds nothing; a new letter for the new data confirms it.
    expect(errorsOn((await typeCode(typed, code)).html)).to.include(RU.identity.post_errors.nothing_requested);
    const again = await requestCode(typed);
    expect(again.url).to.equal('/account/identity?notice=post_requested');
    const fresh = (await queued()).at(-1)!;
    expect(fresh.recipient!.name).to.equal('Смирнова Мария Петровна');
    expect((await typeCode(again, codeIn(fresh))).url).to.equal('/account/identity?notice=confirmed');
    expect((await account()).level).to.equal('confirmed');
  });

  it('a letter in the post before the fingerprint covered the whole passport still confirms its data (a letter is not wasted)', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const letter = (await queued())[0]!;
    await h.services.accounts.modify(accountId, (a) => ({
      ...a,
      postalConfirmation: { ...a.postalConfirmation!, fingerprint: legacyFingerprint(a) },
    }));
    expect((await typeCode(page, codeIn(letter))).url).to.equal('/account/identity?notice=confirmed');
    expect((await account()).level).to.equal('confirmed');
  });

  it('a code sent for one passport does not confirm another issue of it (same series and number, other issuer and date)', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const letter = (await queued())[0]!;
    await makeStandard(h, accountId, {
      passport_issue_date: '01.01.2019',
      passport_issuer: 'Другой отдел',
      passport_department_code: '999-999',
    });
    const typed = await typeCode(page, codeIn(letter));
    expect(typed.status).to.equal(409);
    expect(errorsOn(typed.html)).to.include(RU.identity.post_errors.data_changed);
    expect((await account()).verifications!.map((v) => v.method)).to.not.include('post');
    await expectCancelled(letter.id, 'data_changed');
  });

  it('a new letter can be asked for at once when the data changed after the request', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const first = (await queued())[0]!;
    await makeStandard(h, accountId, { snils: snilsFor('123456789') });
    const again = await requestCode(page);
    expect(again.url).to.equal('/account/identity?notice=post_requested');
    expect((await account()).postalConfirmation!.letterId).to.not.equal(first.id);
    expect(auditOfType(h, 'level.post_requested').at(-1)!.details).to.include({ replaces: first.id });
    await expectCancelled(first.id, 'replaced');
    expect((await queued()).map((l) => l.id)).to.deep.equal([(await account()).postalConfirmation!.letterId]);
    // The first letter's code is refused: its request was replaced.
    const typed = await typeCode(again, codeIn(first));
    expect(typed.status).to.equal(400);
    expect((await account()).level).to.equal('standard');
  });

  it('a letter already marked sent stays sent when its request is voided', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const letter = (await queued())[0]!;
    const code = codeIn(letter);
    expect(await h.services.store.letters.markSent(letter.id, new Date().toISOString(), 'operator:postman')).to.equal(true);
    await makeStandard(h, accountId, { snils: snilsFor('123456789') });
    const typed = await typeCode(page, code);
    expect(errorsOn(typed.html)).to.include(RU.identity.post_errors.data_changed);
    expect(auditOfType(h, 'level.post_voided').at(-1)!.details).to.deep.equal({ letterId: letter.id, reason: 'data_changed' });
    expect(await stored(letter.id))
      .to.include({ status: 'sent', sentBy: 'operator:postman' })
      .and.not.have.property('cancelReason');
  });

  it('after the address changed, the code confirms the person but does not make the new address verified', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const code = codeIn((await queued())[0]!);
    await postIdentityForm(browser, page, { ...IDENTITY_FORM, address: 'г. Тверь, ул. Советская, д. 5', postal_code: '170100' });
    expect((await account()).level).to.equal('standard');
    const done = await typeCode(page, code);
    expect(done.url).to.equal('/account/identity?notice=confirmed');
    const a = await account();
    expect(a.level).to.equal('confirmed');
    expect(a.verifications!.at(-1)!.evidence).to.include({ address: IDENTITY_FORM.address });
    expect(verifiedItems(a).has('address')).to.equal(false);
    expect(itemStatus(done.html, 'address')).to.equal('не проверено');
  });

  it('five wrong codes use the letter up; a new one can then be asked for', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const first = (await queued())[0]!;
    const code = codeIn(first);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i += 1) expect((await typeCode(page, wrong)).status).to.equal(400);
    const last = await typeCode(page, wrong);
    expect(errorsOn(last.html)).to.include(RU.code.exhausted);
    const right = await typeCode(page, code);
    expect(right.url).to.not.include('notice=confirmed');
    expect((await account()).level).to.equal('standard');
    expect(auditOfType(h, 'level.post_voided')[0]?.details).to.include({ reason: 'exhausted' });
    await expectCancelled(first.id, 'exhausted');
    // The message says to ask for a new code: that works, and the new code confirms.
    const again = await requestCode(right);
    expect(again.url).to.equal('/account/identity?notice=post_requested');
    const letters = await queued();
    expect(letters, 'only the new letter is to be printed').to.have.length(1);
    expect(letters[0]!.id).to.not.equal(first.id);
    const fresh = codeIn(letters[0]!);
    expect((await typeCode(again, fresh)).url).to.equal('/account/identity?notice=confirmed');
  });

  it('an expired code (30 days gone) is refused and a new letter can be asked for', async () => {
    await makeStandard(h, accountId);
    const page = await requestCode(await open());
    const letter = (await queued())[0]!;
    const code = codeIn(letter);
    const { challengeId } = (await account()).postalConfirmation!;
    expireChallenge(h, challengeId);
    const typed = await typeCode(page, code);
    expect(errorsOn(typed.html)).to.include(RU.code.expired);
    expect((await account()).level).to.equal('standard');
    await expectCancelled(letter.id, 'expired');
    expect((await requestCode(typed)).url).to.equal('/account/identity?notice=post_requested');
  });
});
