import { expect } from 'chai';
import { ageOn, formatDate, parseDate, today } from '../../src/accounts/dates.ts';

describe('dates', () => {
  describe('parseDate', () => {
    it('reads DD.MM.YYYY and YYYY-MM-DD into YYYY-MM-DD', () => {
      expect(parseDate('05.03.1985')).to.equal('1985-03-05');
      expect(parseDate('1985-03-05')).to.equal('1985-03-05');
      expect(parseDate(' 31.12.1999 ')).to.equal('1999-12-31');
    });

    it('knows 29 February: leap years (including 2000) yes, other years (including 1900) no', () => {
      expect(parseDate('29.02.2024')).to.equal('2024-02-29');
      expect(parseDate('2024-02-29')).to.equal('2024-02-29');
      expect(parseDate('29.02.2000')).to.equal('2000-02-29');
      expect(parseDate('29.02.2023')).to.equal(undefined);
      expect(parseDate('2023-02-29')).to.equal(undefined);
      expect(parseDate('29.02.1900')).to.equal(undefined);
    });

    it('refuses days and months that do not exist', () => {
      for (const input of ['31.04.2020', '00.01.2020', '32.01.2020', '15.13.2020', '15.00.2020', '2020-04-31', '2020-13-01']) {
        expect(parseDate(input), input).to.equal(undefined);
      }
    });

    it('refuses other notations and junk', () => {
      for (const input of ['5.3.1985', '05/03/1985', '1985.03.05', '05-03-1985', '05.03.85', '19850305', 'вчера', '', undefined]) {
        expect(parseDate(input), String(input)).to.equal(undefined);
      }
    });
  });

  describe('ageOn', () => {
    it('counts whole years: the birthday itself is the day the age is reached', () => {
      expect(ageOn('2011-06-15', '2025-06-15')).to.equal(14);
      expect(ageOn('2011-06-15', '2025-06-14')).to.equal(13);
      expect(ageOn('2011-06-15', '2025-05-20')).to.equal(13);
      expect(ageOn('2011-06-15', '2025-07-01')).to.equal(14);
      expect(ageOn('1985-03-05', '1985-03-05')).to.equal(0);
    });
  });

  it('prints DD.MM.YYYY, and today() is a real date in UTC', () => {
    expect(formatDate('1985-03-05')).to.equal('05.03.1985');
    expect(parseDate(today())).to.equal(today());
    expect(today()).to.equal(new Date().toISOString().slice(0, 10));
  });
});
