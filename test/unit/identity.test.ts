import { expect } from 'chai';
import { checkIdentity, checkIdentitySubmission, MAX_AGE, MIN_AGE, type IdentityForm } from '../../src/accounts/identity.ts';
import { innCheckDigits } from '../../src/accounts/inn.ts';

const NOW = '2025-06-15';
const INN = `5001007322${innCheckDigits('5001007322')}`;

/** A complete, valid identity form as a citizen types it. */
const FORM: Required<IdentityForm> = {
  birth_date: '05.03.1985',
  gender: 'female',
  birth_place: 'гор. Москва',
  snils: '112-233-445 95',
  inn: INN,
  passport_series: '45 06',
  passport_number: '123456',
  passport_issue_date: '20.03.2005',
  passport_issuer: 'ОВД района Хамовники гор. Москвы',
  passport_department_code: '772001',
  address: 'г. Москва, ул. Тверская, д. 1, кв. 2',
  postal_code: '125009',
};

const errorsOf = (changes: IdentityForm) => checkIdentity({ ...FORM, ...changes }, NOW).errors;

describe('identity data', () => {
  describe('checkIdentity', () => {
    it('takes letters written with combining marks (й, ё) as the letters', () => {
      const checked = checkIdentity({
        ...FORM,
        birth_place: 'гор. Йошкар-Ола'.normalize('NFD'),
        passport_issuer: 'ОВД района Тёплый Стан'.normalize('NFD'),
      });
      expect(checked.errors).to.deep.equal({});
      expect(checked.identity.birthPlace).to.equal('гор. Йошкар-Ола');
      expect(checked.identity.passport!.issuer).to.equal('ОВД района Тёплый Стан');
    });

    it('accepts a complete form and stores every value in its normal form', () => {
      const checked = checkIdentity(FORM, NOW);
      expect(checked.errors).to.deep.equal({});
      expect(checked.snils).to.equal('11223344595');
      expect(checked.identity).to.deep.equal({
        birthDate: '1985-03-05',
        gender: 'female',
        birthPlace: 'гор. Москва',
        inn: INN,
        passport: {
          series: '4506',
          number: '123456',
          issueDate: '2005-03-20',
          issuer: 'ОВД района Хамовники гор. Москвы',
          departmentCode: '772-001',
        },
        address: { formatted: 'г. Москва, ул. Тверская, д. 1, кв. 2', postalCode: '125009' },
      });
    });

    it('takes dates in either notation and collapses spaces in texts', () => {
      const checked = checkIdentity(
        {
          ...FORM,
          birth_date: '1985-03-05',
          passport_issue_date: '2005-03-20',
          birth_place: '  гор.   Москва ',
          passport_department_code: '772-001',
        },
        NOW,
      );
      expect(checked.errors).to.deep.equal({});
      expect(checked.identity.birthDate).to.equal('1985-03-05');
      expect(checked.identity.passport?.issueDate).to.equal('2005-03-20');
      expect(checked.identity.passport?.departmentCode).to.equal('772-001');
      expect(checked.identity.birthPlace).to.equal('гор. Москва');
    });

    it('requires SNILS, birth date, gender, place of birth and every passport field; INN and address are optional', () => {
      const empty = checkIdentity({}, NOW);
      expect(empty.errors).to.deep.equal({
        birth_date: 'required',
        gender: 'required',
        birth_place: 'required',
        snils: 'required',
        passport_series: 'required',
        passport_number: 'required',
        passport_issue_date: 'required',
        passport_issuer: 'required',
        passport_department_code: 'required',
      });
      expect(empty.identity).to.deep.equal({});
      const noOptional = checkIdentity({ ...FORM, inn: '', address: '', postal_code: '' }, NOW);
      expect(noOptional.errors).to.deep.equal({});
      expect(noOptional.identity).to.not.have.any.keys('inn', 'address');
      // Blanks count as empty.
      expect(errorsOf({ snils: '   ', passport_issuer: ' ' })).to.deep.equal({ snils: 'required', passport_issuer: 'required' });
    });

    it('checks the SNILS and INN check digits', () => {
      expect(errorsOf({ snils: '112-233-445 96' })).to.deep.equal({ snils: 'bad_snils' });
      expect(errorsOf({ snils: '112-233-445' })).to.deep.equal({ snils: 'bad_snils' });
      expect(errorsOf({ inn: `${INN.slice(0, 11)}${(Number(INN[11]) + 1) % 10}` })).to.deep.equal({ inn: 'bad_inn' });
      expect(errorsOf({ inn: '7707083893' }), 'an organisation’s INN').to.deep.equal({ inn: 'bad_inn' });
      const withoutInn = checkIdentity({ ...FORM, inn: '123' }, NOW);
      expect(withoutInn.identity.inn).to.equal(undefined);
    });

    it('checks passport series, number and department code formats', () => {
      expect(errorsOf({ passport_series: '450' })).to.deep.equal({ passport_series: 'bad_series' });
      expect(errorsOf({ passport_series: '45 06 1' })).to.deep.equal({ passport_series: 'bad_series' });
      expect(errorsOf({ passport_number: '12345' })).to.deep.equal({ passport_number: 'bad_number' });
      expect(errorsOf({ passport_number: '12345А' })).to.deep.equal({ passport_number: 'bad_number' });
      expect(errorsOf({ passport_department_code: '77-001' })).to.deep.equal({ passport_department_code: 'bad_department_code' });
      expect(errorsOf({ passport_department_code: 'код' })).to.deep.equal({ passport_department_code: 'bad_department_code' });
      // An incomplete passport is not stored at all.
      expect(checkIdentity({ ...FORM, passport_number: '1' }, NOW).identity.passport).to.equal(undefined);
    });

    it('refuses dates that do not exist (29.02 of a non-leap year) and accepts 29.02 of a leap year', () => {
      expect(errorsOf({ birth_date: '29.02.1985' })).to.deep.equal({ birth_date: 'no_such_date' });
      expect(errorsOf({ birth_date: '31.06.1985' })).to.deep.equal({ birth_date: 'no_such_date' });
      expect(errorsOf({ birth_date: '5 марта 1985' })).to.deep.equal({ birth_date: 'bad_date' });
      expect(errorsOf({ passport_issue_date: '29.02.2005' })).to.deep.equal({ passport_issue_date: 'no_such_date' });
      expect(checkIdentity({ ...FORM, birth_date: '29.02.1984' }, NOW).identity.birthDate).to.equal('1984-02-29');
    });

    it('refuses a birth date or passport issue date in the future', () => {
      expect(errorsOf({ birth_date: '16.06.2025' })).to.deep.equal({ birth_date: 'future_date' });
      expect(errorsOf({ passport_issue_date: '2025-06-16' })).to.deep.equal({ passport_issue_date: 'future_date' });
      // Today is not the future.
      expect(errorsOf({ passport_issue_date: '15.06.2025' })).to.deep.equal({});
    });

    it(`needs an age between ${MIN_AGE} and ${MAX_AGE} years`, () => {
      expect(errorsOf({ birth_date: '16.06.2011', passport_issue_date: '15.06.2025' }), 'one day short of 14').to.deep.equal({
        birth_date: 'too_young',
      });
      expect(errorsOf({ birth_date: '15.06.2011', passport_issue_date: '15.06.2025' }), '14 today').to.deep.equal({});
      expect(errorsOf({ birth_date: '01.01.2020' })).to.deep.equal({ birth_date: 'too_young' });
      expect(errorsOf({ birth_date: '15.06.1900', passport_issue_date: '01.01.2000' }), '125 today').to.deep.equal({});
      expect(errorsOf({ birth_date: '14.06.1900', passport_issue_date: '01.01.2000' }), '125 and a day').to.deep.equal({});
      expect(errorsOf({ birth_date: '14.06.1899', passport_issue_date: '01.01.2000' }), '126').to.deep.equal({ birth_date: 'too_old' });
    });

    it('refuses a passport issued before the 14th birthday', () => {
      expect(errorsOf({ birth_date: '05.03.1985', passport_issue_date: '04.03.1999' })).to.deep.equal({ passport_issue_date: 'before_14' });
      expect(errorsOf({ birth_date: '05.03.1985', passport_issue_date: '05.03.1999' })).to.deep.equal({});
    });

    it('accepts only female or male', () => {
      expect(errorsOf({ gender: 'male' })).to.deep.equal({});
      expect(errorsOf({ gender: 'other' })).to.deep.equal({ gender: 'required' });
      expect(errorsOf({ gender: 'Male' })).to.deep.equal({ gender: 'required' });
    });

    it('wants place of birth, issuer and address in Russian, and not too long', () => {
      expect(errorsOf({ birth_place: 'Moscow' })).to.deep.equal({ birth_place: 'not_cyrillic' });
      expect(errorsOf({ passport_issuer: 'UFMS' })).to.deep.equal({ passport_issuer: 'not_cyrillic' });
      expect(errorsOf({ address: 'Tverskaya 1' })).to.deep.equal({ address: 'not_cyrillic' });
      expect(errorsOf({ birth_place: '<script>' })).to.deep.equal({ birth_place: 'not_cyrillic' });
      expect(errorsOf({ birth_place: 'с. Большое-Село, Ярославская обл. (РСФСР)' })).to.deep.equal({});
      expect(errorsOf({ birth_place: 'г'.repeat(201) })).to.deep.equal({ birth_place: 'too_long' });
      expect(errorsOf({ address: 'г'.repeat(301) })).to.deep.equal({ address: 'too_long' });
    });

    it('checks the postal code: 6 digits', () => {
      expect(errorsOf({ postal_code: '12500' })).to.deep.equal({ postal_code: 'bad_postal_code' });
      expect(errorsOf({ postal_code: '1250099' })).to.deep.equal({ postal_code: 'bad_postal_code' });
      expect(checkIdentity({ ...FORM, postal_code: '' }, NOW).identity.address).to.deep.equal({ formatted: FORM.address });
    });

    it('reports every bad field at once', () => {
      expect(Object.keys(errorsOf({ snils: '1', inn: '2', passport_series: '3', birth_date: '4' }))).to.have.members([
        'snils',
        'inn',
        'passport_series',
        'birth_date',
      ]);
    });
  });

  describe('checkIdentitySubmission (name + identity, as a form body)', () => {
    const body = { family: 'Иванова', given: 'Мария', middle: 'Петровна', ...FORM };

    it('accepts a whole form with the name', () => {
      const s = checkIdentitySubmission(body, NOW);
      expect(s.errors).to.deep.equal({});
      expect(s.name).to.deep.equal({ family: 'Иванова', given: 'Мария', middle: 'Петровна' });
      expect(s.snils).to.equal('11223344595');
      expect(s.identity.passport?.series).to.equal('4506');
    });

    it('accepts names with a hyphen, a space or an apostrophe, and tidies spaces around a hyphen', () => {
      const s = checkIdentitySubmission({ ...body, family: ' Салтыков - Щедрин ', given: 'Анна  Мария', middle: "Д'Артаньяновна" }, NOW);
      expect(s.errors).to.deep.equal({});
      expect(s.name).to.deep.equal({ family: 'Салтыков-Щедрин', given: 'Анна Мария', middle: "Д'Артаньяновна" });
    });

    it('a middle name is optional; family and given names are required', () => {
      const s = checkIdentitySubmission({ ...body, middle: '' }, NOW);
      expect(s.errors).to.deep.equal({});
      expect(s.name).to.deep.equal({ family: 'Иванова', given: 'Мария' });
      const missing = checkIdentitySubmission({ ...body, family: '', given: ' ' }, NOW);
      expect(missing.errors).to.deep.equal({ family: 'names.required', given: 'names.required' });
      expect(missing.name).to.equal(undefined);
    });

    it('refuses Latin letters and digits in names, with the names.* problem key, and gives no name', () => {
      const s = checkIdentitySubmission({ ...body, family: 'Ivanova', middle: 'Петровна2' }, NOW);
      expect(s.errors).to.deep.equal({ family: 'names.not_cyrillic', middle: 'names.not_cyrillic' });
      expect(s.name).to.equal(undefined);
    });

    it('gives identity problems the identity.problems.* key', () => {
      const s = checkIdentitySubmission({ ...body, snils: '112-233-445 96', passport_department_code: '1' }, NOW);
      expect(s.errors).to.deep.equal({
        snils: 'identity.problems.bad_snils',
        passport_department_code: 'identity.problems.bad_department_code',
      });
    });

    it('keeps what was typed to show the form again; values that are not strings count as empty', () => {
      const s = checkIdentitySubmission({ ...body, family: ['Иванова', 'Петрова'], snils: { $gt: '' }, birth_date: 19850305 }, NOW);
      expect(s.errors).to.include({
        family: 'names.required',
        snils: 'identity.problems.required',
        birth_date: 'identity.problems.required',
      });
      expect(s.values.family).to.equal('');
      expect(s.values.passport_series).to.equal('45 06');
      expect(s.values).to.have.all.keys('family', 'given', 'middle', ...Object.keys(FORM));
    });

    it('cuts absurdly long values before checking them', () => {
      const s = checkIdentitySubmission({ ...body, birth_place: 'г'.repeat(10_000) }, NOW);
      expect(s.values.birth_place).to.have.length(400);
      expect(s.errors).to.deep.equal({ birth_place: 'identity.problems.too_long' });
    });
  });
});
