import { expect } from 'chai';
import { innCheckDigits, normalizeInn } from '../../src/accounts/inn.ts';

/** A personal INN: ten digits and the two check digits the rule under test computes. */
const valid = (ten: string) => `${ten}${innCheckDigits(ten)}`;

describe('INN (personal, 12 digits)', () => {
  describe('innCheckDigits', () => {
    it('agrees with a published personal INN', () => {
      // 500100732259 is the example the Federal Tax Service's own check tools use.
      expect(innCheckDigits('5001007322')).to.equal('59');
    });

    it('takes the remainder of 11, and 0 when that remainder is 10 (both digits)', () => {
      // 11th digit: 1 × 10 (weight of the 4th digit) = 10 → 10 mod 11 = 10 → 0.
      // 12th digit: 1 × 4 (weight of the 4th digit) + 0 = 4.
      expect(innCheckDigits('0001000000')).to.equal('04');
      // 11th digit: 1 × 5 = 5. 12th digit: 1 × 3 + 5 × 8 = 43 → 43 mod 11 = 10 → 0.
      expect(innCheckDigits('0000010000')).to.equal('50');
    });
  });

  describe('normalizeInn', () => {
    it('accepts valid numbers, with spaces or dashes typed in', () => {
      for (const ten of ['5001007322', '7707083893', '1234567890', '3664069397', '0001000000']) {
        const inn = valid(ten);
        expect(normalizeInn(inn), inn).to.equal(inn);
      }
      expect(normalizeInn(' 5001 0073 2259 ')).to.equal('500100732259');
      expect(normalizeInn('5001-007322-59')).to.equal('500100732259');
    });

    it('refuses a wrong 11th or 12th check digit', () => {
      expect(normalizeInn('500100732249'), 'wrong 11th').to.equal(undefined);
      expect(normalizeInn('500100732258'), 'wrong 12th').to.equal(undefined);
      expect(normalizeInn('500100732295'), 'swapped').to.equal(undefined);
      // Every other last digit of a valid number is wrong.
      for (let d = 0; d <= 9; d += 1) {
        const inn = `50010073225${d}`;
        expect(normalizeInn(inn), inn).to.equal(d === 9 ? inn : undefined);
      }
    });

    it('refuses a single changed digit in the body', () => {
      expect(normalizeInn('500100732259')).to.equal('500100732259');
      expect(normalizeInn('500100742259')).to.equal(undefined);
      expect(normalizeInn('600100732259')).to.equal(undefined);
    });

    it('refuses the 10-digit INN of an organisation, other lengths, letters and all zeros', () => {
      expect(normalizeInn('7707083893')).to.equal(undefined);
      expect(normalizeInn('50010073225')).to.equal(undefined);
      expect(normalizeInn('5001007322590')).to.equal(undefined);
      expect(normalizeInn('50010073225O')).to.equal(undefined);
      expect(normalizeInn('')).to.equal(undefined);
      // Zeros pass the check-digit rule (0 and 0) but are not a number anyone has.
      expect(innCheckDigits('0000000000')).to.equal('00');
      expect(normalizeInn('000000000000')).to.equal(undefined);
    });
  });
});
