import { expect } from 'chai';
import { DEFAULT_BANK_CLAIMS } from '../../config/federation.ts';
import { classifyBankError, profileFromClaims } from '../../src/methods/bank.ts';

describe("a bank's claims → the profile vkhod uses", () => {
  it('normalizes every datum with the validators typed data goes through', () => {
    const profile = profileFromClaims(
      {
        family_name: 'Петров',
        given_name: 'Иван',
        middle_name: 'Сергеевич',
        birthdate: '14.03.1985',
        snils: '112-233-445 95',
        inn: '770123456703',
        passport: {
          series: '45 10',
          number: '123456',
          issue_date: '2005-04-01',
          issuer: 'ОВД  района   Хамовники',
          department_code: '770001',
        },
        phone_number: '8 (916) 123-45-67',
        phone_number_verified: true,
        email: 'Ivan.Petrov@Example.RU',
        email_verified: 'true',
      },
      DEFAULT_BANK_CLAIMS,
    );
    expect(profile).to.deep.equal({
      name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
      birthDate: '1985-03-14',
      snils: '11223344595',
      inn: '770123456703',
      passportKey: '4510123456',
      passport: { series: '4510', number: '123456', issueDate: '2005-04-01', issuer: 'ОВД района Хамовники', departmentCode: '770-001' },
      phone: { value: '+79161234567', verified: true },
      email: { value: 'ivan.petrov@example.ru', verified: true },
    });
  });

  it('leaves out what is missing or malformed, and never takes an unconfirmed contact as verified', () => {
    const profile = profileFromClaims(
      {
        family_name: 'Smith',
        given_name: 'John',
        birthdate: '1985-02-30',
        snils: '112-233-445 96',
        passport: { series: '4510', number: '123456' },
        phone_number: '+79161234567',
        email: 'a@b.ru',
        email_verified: false,
      },
      DEFAULT_BANK_CLAIMS,
    );
    expect(profile).to.deep.equal({
      passportKey: '4510123456',
      phone: { value: '+79161234567', verified: false },
      email: { value: 'a@b.ru', verified: false },
    });
  });

  it("reads the claims where the bank's mapping says they are", () => {
    const profile = profileFromClaims(
      { person: { last: 'Иванова', first: 'Мария' }, ids: { pension: '11223344595' } },
      { ...DEFAULT_BANK_CLAIMS, family_name: 'person.last', given_name: 'person.first', snils: 'ids.pension' },
    );
    expect(profile).to.deep.equal({ name: { family: 'Иванова', given: 'Мария' }, snils: '11223344595' });
  });

  it('tells a bank that is down from a response that fails a check', () => {
    expect(classifyBankError(Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED') })).code).to.equal(
      'unavailable',
    );
    expect(classifyBankError(Object.assign(new Error('operation timed out'), { code: 'OAUTH_TIMEOUT' })).code).to.equal('unavailable');
    expect(
      classifyBankError(Object.assign(new Error('unexpected JWT claim value encountered'), { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' })),
    ).to.deep.include({ code: 'invalid_response', detail: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' });
  });
});
