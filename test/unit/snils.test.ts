import { expect } from 'chai';
import { formatSnils, looksLikeSnils, normalizeSnils, snilsCheckSum } from '../../src/accounts/snils.ts';

/** A valid SNILS (11 digits) for the first nine digits, computed with the rule under test. */
const valid = (nine: string) => `${nine}${String(snilsCheckSum(nine) % 100).padStart(2, '0')}`;

describe('SNILS', () => {
  describe('snilsCheckSum', () => {
    it('computes the Pension Fund check digits for known numbers', () => {
      // 1*9 + 1*8 + 2*7 + 2*6 + 3*5 + 3*4 + 4*3 + 4*2 + 5*1 = 95
      expect(snilsCheckSum('112233445')).to.equal(95);
      // 1*9 + 2*8 + ... + 9*1 = 165 → 165 mod 101 = 64
      expect(snilsCheckSum('123456789')).to.equal(64);
    });

    it('gives 00 for a sum of exactly 100 or 101', () => {
      // 9*9 + 1*8 + 1*7 + 4*1 = 100
      expect(snilsCheckSum('911000004')).to.equal(0);
      // 9*9 + 1*8 + 1*7 + 5*1 = 101
      expect(snilsCheckSum('911000005')).to.equal(0);
    });

    it('uses the remainder of 101 above that, and 00 when the remainder is 100', () => {
      // 9*(9+8+7+6+5+4+3+2+1) = 405 → 405 mod 101 = 1
      expect(snilsCheckSum('999999999')).to.equal(1);
      // 9*9 + 9*8 + 6*7 + 1*6 = 201 → remainder 100 → 00
      expect(snilsCheckSum('996100000')).to.equal(0);
      // 9*9 + 9*8 + 6*7 + 2*6 = 207 → remainder 5
      expect(snilsCheckSum('996200000')).to.equal(5);
    });
  });

  describe('normalizeSnils', () => {
    it('accepts 112-233-445 95 in every usual notation', () => {
      for (const input of ['112-233-445 95', '11223344595', '112 233 445 95', '112-233-445-95', ' 112-233-445 95 ', '112233445 95']) {
        expect(normalizeSnils(input), input).to.equal('11223344595');
      }
    });

    it('accepts numbers whose check digits are computed by the rule', () => {
      for (const nine of ['123456789', '987654321', '555555555', '200300400']) {
        expect(normalizeSnils(valid(nine)), nine).to.equal(valid(nine));
      }
    });

    it('refuses wrong check digits', () => {
      expect(normalizeSnils('112-233-445 96')).to.equal(undefined);
      expect(normalizeSnils('112-233-445 00')).to.equal(undefined);
      expect(normalizeSnils('123-456-789 65')).to.equal(undefined);
    });

    it('refuses too short, too long, letters and foreign separators', () => {
      for (const input of ['112-233-445 9', '1122334459', '112-233-445 951', 'abc-233-445 95', '112/233/445 95', '112.233.445.95', '']) {
        expect(normalizeSnils(input), input).to.equal(undefined);
      }
    });

    it('does not check numbers up to 001-001-998 (issued before check digits existed)', () => {
      expect(normalizeSnils('001-001-998 77')).to.equal('00100199877');
      expect(normalizeSnils('000-000-001 42')).to.equal('00000000142');
      // 001-001-999 is checked: its check digits are 65.
      expect(snilsCheckSum('001001999')).to.equal(65);
      expect(normalizeSnils('001-001-999 00')).to.equal(undefined);
      expect(normalizeSnils('001-001-999 65')).to.equal('00100199965');
    });
  });

  it('formats 11 digits as XXX-XXX-XXX YY', () => {
    expect(formatSnils('11223344595')).to.equal('112-233-445 95');
  });

  it('recognises SNILS-looking input', () => {
    expect(looksLikeSnils('112-233-445 95')).to.equal(true);
    expect(looksLikeSnils('11223344595')).to.equal(true);
    expect(looksLikeSnils('1122334459')).to.equal(false);
    expect(looksLikeSnils('ivan@mail.ru')).to.equal(false);
  });
});
