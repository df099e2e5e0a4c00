import { expect } from 'chai';
import {
  formatPassport,
  normalizeDepartmentCode,
  normalizePassportNumber,
  normalizePassportSeries,
  passportKey,
} from '../../src/accounts/passport.ts';

describe('passport', () => {
  describe('series', () => {
    it('accepts 4 digits, typed as printed ("45 06") or together', () => {
      expect(normalizePassportSeries('4506')).to.equal('4506');
      expect(normalizePassportSeries('45 06')).to.equal('4506');
      expect(normalizePassportSeries(' 45  06 ')).to.equal('4506');
      expect(normalizePassportSeries('0012')).to.equal('0012');
    });

    it('refuses other lengths, letters and an empty value', () => {
      for (const input of ['450', '45060', '45 0', 'АБ06', '45O6', '', '  ']) {
        expect(normalizePassportSeries(input), JSON.stringify(input)).to.equal(undefined);
      }
    });
  });

  describe('number', () => {
    it('accepts 6 digits, with spaces', () => {
      expect(normalizePassportNumber('123456')).to.equal('123456');
      expect(normalizePassportNumber('123 456')).to.equal('123456');
      expect(normalizePassportNumber('000001')).to.equal('000001');
    });

    it('refuses 5 or 7 digits and non-digits', () => {
      for (const input of ['12345', '1234567', '12345a', '№123456', '']) {
        expect(normalizePassportNumber(input), JSON.stringify(input)).to.equal(undefined);
      }
    });
  });

  describe('department code', () => {
    it('accepts NNN-NNN with or without the dash (or with a space) and stores it with the dash', () => {
      for (const input of ['770-001', '770001', '770 001', ' 770-001 ']) {
        expect(normalizeDepartmentCode(input), input).to.equal('770-001');
      }
    });

    it('refuses 5 or 7 digits and letters', () => {
      for (const input of ['77-001', '770-0011', '770-00', 'abc-def', '770–00a', '']) {
        expect(normalizeDepartmentCode(input), input).to.equal(undefined);
      }
    });
  });

  it('prints series and number as in the passport, and keys an account by them', () => {
    expect(formatPassport('4506', '123456')).to.equal('45 06 123456');
    expect(passportKey('4506', '123456')).to.equal('4506123456');
  });
});
