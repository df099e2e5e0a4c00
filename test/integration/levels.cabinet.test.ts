/**
 * The cabinet's personal data page (/account/identity) and the upgrade to standard: the form
 * with a message per bad field and nothing stored, the registry check with each of its answers,
 * the level dropping when verified data changes, SNILS and passport unique across accounts.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Browser, csrfOf, decodeEntities, type Page } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { fieldError, IDENTITY_FORM, innFor, itemStatus, makeStandard, postIdentityForm, snilsFor } from '../support/identity.ts';
import { auditOfType, createAccount, errorsOn, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));
const PROBLEM = RU.identity.problems as Record<string, string>;
const NAMES = RU.names as Record<string, string>;
const today = () => new Date().toISOString().slice(0, 10).split('-').reverse().join('.');

describe('levels: personal data in the cabinet and the registry check', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } })).id;
    browser = new Browser(h);
    page = await openCabinet(browser, '/account/identity', PHONE);
    expect(page.url).to.equal('/account/identity');
  });

  const account = async () => (await h.services.accounts.findActive(accountId))!;
  const smsTexts = () => h.gateway.sent.filter((m) => m.to === PHONE).map((m) => m.text);
  const submitCheck = (p: Page) => browser.post('/account/identity/verify', { _csrf: csrfOf(p.html) });
  /** Saves the form with `changes` and expects the "saved" page. */
  async function save(changes: Record<string, string> = {}): Promise<Page> {
    const saved = await postIdentityForm(browser, page, { ...IDENTITY_FORM, ...changes });
    expect(saved.url, saved.html.slice(0, 2000)).to.equal('/account/identity?notice=saved');
    expect(saved.html).to.include(RU.identity.notices.saved);
    return saved;
  }

  it('shows the level and, for a new account, every item as not given except the name', async () => {
    expect(page.html).to.match(/id="account-level" data-level="simplified">упрощённая</);
    expect(itemStatus(page.html, 'name')).to.equal('не проверено');
    for (const item of ['birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address'])
      expect(itemStatus(page.html, item), item).to.equal('не указано');
    expect(page.html, 'no registry check offered before the data is there').to.not.include('/account/identity/verify');
    expect(page.html).to.include('value="Иванова"');
  });

  describe('bad input: 400, a message at the field, the typed values kept, nothing stored', () => {
    const cases: Array<[string, Record<string, string>, string, string]> = [
      ['family', { family: 'Ivanova' }, 'family', NAMES.not_cyrillic!],
      ['given empty', { given: '' }, 'given', NAMES.required!],
      ['middle with a digit', { middle: 'Петровна2' }, 'middle', NAMES.not_cyrillic!],
      ['SNILS check digits', { snils: '112-233-445 96' }, 'snils', PROBLEM.bad_snils!],
      ['INN check digits', { inn: '500100732258' }, 'inn', PROBLEM.bad_inn!],
      ['passport series', { passport_series: '45 0' }, 'passport_series', PROBLEM.bad_series!],
      ['passport number', { passport_number: '12345' }, 'passport_number', PROBLEM.bad_number!],
      ['department code', { passport_department_code: '77-001' }, 'passport_department_code', PROBLEM.bad_department_code!],
      ['birth date 29.02 of a non-leap year', { birth_date: '29.02.1985' }, 'birth_date', PROBLEM.no_such_date!],
      [
        'birth date 31.02.1985: says the date does not exist',
        { birth_date: '31.02.1985' },
        'birth_date',
        'Такой даты нет в календаре — проверьте день и месяц.',
      ],
      ['birth date not a date', { birth_date: '5 марта' }, 'birth_date', PROBLEM.bad_date!],
      ['birth date in the future', { birth_date: '01.01.2999' }, 'birth_date', PROBLEM.future_date!],
      ['younger than 14', { birth_date: today(), passport_issue_date: today() }, 'birth_date', PROBLEM.too_young!],
      ['older than 125', { birth_date: '01.01.1850' }, 'birth_date', PROBLEM.too_old!],
      ['passport before 14', { passport_issue_date: '04.03.1999' }, 'passport_issue_date', PROBLEM.before_14!],
      ['passport issued in the future', { passport_issue_date: '01.01.2999' }, 'passport_issue_date', PROBLEM.future_date!],
      ['gender', { gender: 'x' }, 'gender', PROBLEM.required!],
      ['birth place in Latin', { birth_place: 'Moscow' }, 'birth_place', PROBLEM.not_cyrillic!],
      ['issuer missing', { passport_issuer: '' }, 'passport_issuer', PROBLEM.required!],
      ['postal code', { postal_code: '1250' }, 'postal_code', PROBLEM.bad_postal_code!],
    ];
    for (const [label, changes, field, message] of cases) {
      it(label, async () => {
        const before = await account();
        const res = await postIdentityForm(browser, page, { ...IDENTITY_FORM, ...changes });
        expect(res.status).to.equal(400);
        expect(fieldError(res.html, field), `message at ${field}`).to.equal(message);
        expect(errorsOn(res.html)).to.include(RU.identity.fix_errors);
        if (field !== 'gender') expect(res.html, 'the field is marked').to.match(new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
        // What was typed is shown again (so one mistake does not cost the whole form).
        const html = decodeEntities(res.html);
        for (const [f, v] of Object.entries({ ...IDENTITY_FORM, ...changes }))
          if (f !== 'gender' && v) expect(html, f).to.include(`value="${v}"`);
        const after = await account();
        expect(after.version, 'nothing written').to.equal(before.version);
        expect(after.identity).to.equal(undefined);
        expect(after.snils).to.equal(undefined);
        expect(auditOfType(h, 'identity.updated')).to.have.length(0);
      });
    }

    it('several bad fields at once: a message at each', async () => {
      const res = await postIdentityForm(browser, page, { ...IDENTITY_FORM, snils: '1', inn: '2', passport_number: '3', family: '' });
      expect(res.status).to.equal(400);
      expect(fieldError(res.html, 'snils')).to.equal(PROBLEM.bad_snils);
      expect(fieldError(res.html, 'inn')).to.equal(PROBLEM.bad_inn);
      expect(fieldError(res.html, 'passport_number')).to.equal(PROBLEM.bad_number);
      expect(fieldError(res.html, 'family')).to.equal(NAMES.required);
      expect((await account()).identity).to.equal(undefined);
    });
  });

  it('saves valid data in its normal form; nothing is verified yet and the level stays simplified', async () => {
    const saved = await save({ snils: '11223344595', passport_department_code: '772001', family: ' Римская-Корсакова ' });
    const a = await account();
    expect(a.level).to.equal('simplified');
    expect(a.snils).to.equal('11223344595');
    expect(a.name).to.deep.equal({ family: 'Римская-Корсакова', given: 'Мария', middle: 'Петровна' });
    expect(a.identity).to.deep.equal({
      birthDate: '1985-03-05',
      gender: 'female',
      birthPlace: 'гор. Москва',
      inn: IDENTITY_FORM.inn,
      passport: {
        series: '4506',
        number: '123456',
        issueDate: '2005-03-20',
        issuer: 'ОВД района Хамовники гор. Москвы',
        departmentCode: '772-001',
      },
      address: { formatted: 'г. Москва, ул. Тверская, д. 1, кв. 2', postalCode: '125009' },
    });
    for (const item of ['name', 'birthdate', 'snils', 'inn', 'id_doc', 'address'])
      expect(itemStatus(saved.html, item), item).to.equal('не проверено');
    expect(saved.html).to.include('value="112-233-445 95"');
    expect(saved.html).to.include('value="05.03.1985"');
    expect(saved.html).to.include('/account/identity/verify');
    expect(auditOfType(h, 'identity.updated').map((e) => e.accountId)).to.deep.equal([accountId]);
  });

  it('leaving INN or the address empty removes them', async () => {
    const saved = await save();
    await postIdentityForm(browser, saved, { ...IDENTITY_FORM, inn: '', address: '', postal_code: '' });
    const a = await account();
    expect(a.identity?.inn).to.equal(undefined);
    expect(a.identity?.address).to.equal(undefined);
    expect(a.identity?.passport?.number).to.equal('123456');
  });

  it('registry approves → standard, told by SMS, audited level.changed; the checked items say so', async () => {
    const saved = await save();
    const done = await submitCheck(saved);
    expect(done.url).to.equal('/account/identity?notice=confirmed');
    expect(done.html).to.match(/id="account-level" data-level="standard">стандартная</);
    const a = await account();
    expect(a.level).to.equal('standard');
    expect(a.registryCheck?.status).to.equal('approved');
    expect(a.verifications).to.have.length(1);
    expect(a.verifications![0]).to.include({ method: 'registry', level: 'standard', actor: 'development-registry' });

    expect(smsTexts()).to.include(RU.messages.level.standard);
    const changed = auditOfType(h, 'level.changed');
    expect(changed).to.have.length(1);
    expect(changed[0]).to.deep.include({ accountId, outcome: 'success' });
    expect(changed[0]!.details).to.include({ from: 'simplified', to: 'standard', method: 'registry' });
    expect(auditOfType(h, 'level.registry_submitted')).to.have.length(1);

    const by = `проверено: проверка в государственных реестрах, ${today()}`;
    for (const item of ['name', 'birthdate', 'snils', 'id_doc']) expect(itemStatus(done.html, item), item).to.equal(by);
    // The registry is not asked about the INN or the address: they are not verified by it.
    for (const item of ['inn', 'address', 'gender', 'birthplace']) expect(itemStatus(done.html, item), item).to.equal('не проверено');
    expect(done.html, 'no second check offered').to.not.include('/account/identity/verify');
    expect(done.html, 'the way to confirmed is shown').to.include(RU.identity.confirm_heading);
  });

  describe('registry rejections: the reason is shown, the level stays, the citizen is told', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['not_found (SNILS unknown to the Social Fund)', { snils: snilsFor('999000001') }, 'not_found'],
      ['invalid_passport (listed as invalid)', { passport_series: '00 12' }, 'invalid_passport'],
      ['mismatch (data differs from the registry)', { family: 'Несовпадающая' }, 'mismatch'],
    ];
    for (const [label, changes, reason] of cases) {
      it(label, async () => {
        const saved = await save(changes);
        const done = await submitCheck(saved);
        expect(done.url).to.equal('/account/identity?notice=submitted');
        const status = done.html.match(/id="registry-status">([^<]*)</)?.[1];
        expect(decodeEntities(status ?? '')).to.equal(
          RU.identity.registry_rejected.replace('{reason}', RU.identity.registry_reasons[reason]),
        );
        const a = await account();
        expect(a.level).to.equal('simplified');
        expect(a.verifications ?? []).to.have.length(0);
        expect(a.registryCheck).to.include({ status: 'rejected', reason });
        expect(smsTexts()).to.include(RU.messages.level.rejected);
        expect(auditOfType(h, 'level.changed')).to.have.length(0);
        const rejected = auditOfType(h, 'level.registry_rejected');
        expect(rejected).to.have.length(1);
        expect(rejected[0]!.details).to.deep.equal({ reason });
        // The citizen fixes the data: the old answer goes, a new check can be sent and passes.
        const fixed = await postIdentityForm(browser, done, IDENTITY_FORM);
        expect(fixed.html).to.not.include('id="registry-status"');
        expect((await submitCheck(fixed)).url).to.equal('/account/identity?notice=confirmed');
        expect((await account()).level).to.equal('standard');
      });
    }
  });

  it('a check needs complete data; a second one while standard is refused', async () => {
    const incomplete = await submitCheck(page);
    expect(incomplete.status).to.equal(409);
    expect(errorsOn(incomplete.html)).to.include(RU.identity.level_errors.incomplete);
    await save();
    const ok = await submitCheck(page);
    expect(ok.url).to.equal('/account/identity?notice=confirmed');
    const again = await submitCheck(ok);
    expect(again.status).to.equal(409);
    expect(errorsOn(again.html)).to.include(RU.identity.level_errors.already);
    expect((await account()).verifications).to.have.length(1);
  });

  describe('changing verified data drops the level', () => {
    for (const [label, changes] of [
      ['passport number', { passport_number: '654321' }],
      ['SNILS', { snils: snilsFor('123456789') }],
      ['surname', { family: 'Петрова' }],
      ['birth date', { birth_date: '06.03.1985' }],
    ] as Array<[string, Record<string, string>]>) {
      it(label, async () => {
        await makeStandard(h, accountId);
        h.gateway.sent.length = 0;
        const fresh = await browser.get('/account/identity');
        expect(fresh.html).to.match(/data-level="standard"/);
        // Said before saving (levels.identity-change), saved once the citizen accepts the drop.
        const saved = await postIdentityForm(browser, fresh, { ...IDENTITY_FORM, ...changes, accept_level_drop: 'simplified' });
        expect(saved.url).to.equal('/account/identity?notice=saved_dropped_simplified');
        expect(saved.html).to.match(/id="account-level" data-level="simplified">упрощённая</);
        const a = await account();
        expect(a.level).to.equal('simplified');
        expect(a.verifications, 'the old verification is kept as history').to.have.length(1);
        for (const item of ['name', 'snils', 'id_doc']) expect(itemStatus(saved.html, item), item).to.equal('не проверено');
        expect(smsTexts()).to.deep.equal([RU.messages.level.simplified]);
        const changed = auditOfType(h, 'level.changed');
        expect(changed.at(-1)!.details).to.include({ from: 'standard', to: 'simplified', reason: 'data_changed' });
        expect(saved.html, 'a new check can be sent').to.include('/account/identity/verify');
      });
    }

    it('but not when only the address or INN change (and those are not verified anyway)', async () => {
      await makeStandard(h, accountId);
      h.gateway.sent.length = 0;
      const fresh = await browser.get('/account/identity');
      const saved = await postIdentityForm(browser, fresh, {
        ...IDENTITY_FORM,
        address: 'г. Тверь, ул. Советская, д. 5',
        postal_code: '170100',
        inn: innFor('7707083893'),
      });
      expect(saved.url).to.equal('/account/identity?notice=saved');
      expect((await account()).level).to.equal('standard');
      expect(smsTexts()).to.deep.equal([]);
      expect(auditOfType(h, 'level.changed')).to.have.length(1);
      expect(itemStatus(saved.html, 'snils')).to.match(/^проверено/);
    });
  });

  describe('SNILS and passport belong to one account', () => {
    it('a SNILS verified on another account → 409 with a message, nothing stored (one only typed in elsewhere blocks nobody: levels.squatting)', async () => {
      await createAccount(h, { phone: '+79120000001', snils: '11223344595', snilsVerified: true });
      const res = await postIdentityForm(browser, page, IDENTITY_FORM);
      expect(res.status).to.equal(409);
      expect(errorsOn(res.html)).to.include(RU.identity.taken.snils);
      expect((await account()).snils).to.equal(undefined);
      expect((await account()).identity).to.equal(undefined);
    });

    it('a passport held by another account → 409 with a message, nothing stored', async () => {
      const other = await createAccount(h, { phone: '+79120000001' });
      await makeStandard(h, other.id, { snils: snilsFor('123456789') });
      const res = await postIdentityForm(browser, page, IDENTITY_FORM);
      expect(res.status).to.equal(409);
      expect(errorsOn(res.html)).to.include(RU.identity.taken.passport);
      expect((await account()).identity).to.equal(undefined);
      // The same passport with another number is fine.
      await postIdentityForm(browser, page, { ...IDENTITY_FORM, passport_number: '654321' });
      expect((await account()).identity?.passport?.number).to.equal('654321');
    });
  });

  it('saving needs a fresh sign-in and the page’s CSRF token', async () => {
    const noToken = await browser.post('/account/identity', { ...IDENTITY_FORM });
    expect(noToken.status).to.equal(403);
    const stranger = new Browser(h);
    const signedOut = await stranger.post('/account/identity', { ...IDENTITY_FORM, _csrf: csrfOf(page.html) });
    expect([401, 403]).to.include(signedOut.status);
    expect((await account()).identity).to.equal(undefined);
  });
});
