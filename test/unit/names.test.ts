import { expect } from 'chai';
import { checkName, NAME_MAX_LENGTH } from '../../src/accounts/names.ts';

describe('checkName', () => {
  it('accepts Cyrillic names, with ё', () => {
    expect(checkName('Иванова', true)).to.deep.equal({ value: 'Иванова' });
    expect(checkName('Пётр', true)).to.deep.equal({ value: 'Пётр' });
  });

  it('takes й and ё written as a letter and a combining mark (pasted from some systems) as those letters', () => {
    expect(checkName('Андрей'.normalize('NFD'), true)).to.deep.equal({ value: 'Андрей' });
    expect(checkName('Соловьёв'.normalize('NFD'), true)).to.deep.equal({ value: 'Соловьёв' });
    // A stray combining mark on a letter that has no composed form stays refused.
    expect(checkName('Ан\u0301на', true).problem).to.equal('not_cyrillic');
  });

  it('accepts hyphens, spaces and apostrophes between parts', () => {
    expect(checkName('Римский-Корсаков', true)).to.deep.equal({ value: 'Римский-Корсаков' });
    expect(checkName('Анна Мария', true)).to.deep.equal({ value: 'Анна Мария' });
    expect(checkName("Д'Артаньян", true)).to.deep.equal({ value: "Д'Артаньян" });
    expect(checkName('Д’Артаньян', true)).to.deep.equal({ value: 'Д’Артаньян' });
  });

  it('tidies spaces: trims, collapses, and removes them around a hyphen', () => {
    expect(checkName('  Анна   Мария ', true)).to.deep.equal({ value: 'Анна Мария' });
    expect(checkName('Римский - Корсаков', true)).to.deep.equal({ value: 'Римский-Корсаков' });
  });

  it('rejects Latin letters, even mixed with Cyrillic', () => {
    expect(checkName('Ivanova', true)).to.deep.equal({ problem: 'not_cyrillic' });
    // A Latin "o" among Cyrillic letters.
    expect(checkName('Ивaнова', true)).to.deep.equal({ problem: 'not_cyrillic' });
  });

  it('rejects digits and other symbols', () => {
    for (const input of ['Иван2', 'Иван!', 'Иван_Петров', '-Иван', 'Иван-', 'Иван--Петров']) {
      expect(checkName(input, true), input).to.deep.equal({ problem: 'not_cyrillic' });
    }
  });

  it(`rejects more than ${NAME_MAX_LENGTH} characters`, () => {
    expect(checkName('а'.repeat(NAME_MAX_LENGTH), true)).to.deep.equal({ value: 'а'.repeat(NAME_MAX_LENGTH) });
    expect(checkName('а'.repeat(NAME_MAX_LENGTH + 1), true)).to.deep.equal({ problem: 'too_long' });
  });

  it('requires a required name and lets an optional one be empty', () => {
    expect(checkName('', true)).to.deep.equal({ problem: 'required' });
    expect(checkName('   ', true)).to.deep.equal({ problem: 'required' });
    expect(checkName(undefined, true)).to.deep.equal({ problem: 'required' });
    expect(checkName('', false)).to.deep.equal({});
    expect(checkName(undefined, false)).to.deep.equal({});
    // An optional name is still checked when given.
    expect(checkName('Ivanovich', false)).to.deep.equal({ problem: 'not_cyrillic' });
  });
});
