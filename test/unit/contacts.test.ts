import { expect } from 'chai';
import { formatPhone, maskContact, normalizeEmail, normalizePhone, parseContact } from '../../src/accounts/contacts.ts';

describe('normalizePhone', () => {
  const accepted: Array<[string, string]> = [
    ['+7 (912) 345-67-89', 'international with brackets and dashes'],
    ['+79123456789', 'E.164'],
    ['89123456789', 'trunk prefix 8'],
    ['8 (912) 345-67-89', 'trunk prefix 8 with brackets'],
    ['8-912-345-67-89', 'dashes only'],
    ['9123456789', 'bare ten digits'],
    ['912 345 67 89', 'bare ten digits with spaces'],
    ['7 912 345 67 89', 'country code without plus'],
    ['79123456789', 'country code without plus, no spaces'],
    ['+7.912.345.67.89', 'dots'],
    ['  +7 912 345-67-89  ', 'surrounding spaces'],
  ];
  for (const [input, notation] of accepted) {
    it(`accepts ${notation}: "${input}" → +79123456789`, () => {
      expect(normalizePhone(input)).to.equal('+79123456789');
    });
  }

  const rejected: Array<[string, string]> = [
    ['8 495 123-45-67', 'a Moscow landline (trunk prefix)'],
    ['+7 495 123-45-67', 'a Moscow landline (international)'],
    ['4951234567', 'a bare landline'],
    ['+7 912 abc-45-67', 'letters'],
    ['телефон', 'words'],
    ['+7 912 345-67-890', 'one digit too many'],
    ['+7 912 345-67-8', 'one digit too few'],
    ['+791234567891234', 'far too long'],
    ['+1 212 555 0100', 'a US number'],
    ['+9123456789', 'ten digits after a plus (no country code)'],
    ['+44 7911 123456', 'a UK mobile'],
    ['', 'empty'],
    ['   ', 'spaces only'],
    [`+7 912 345 67 89${' '.repeat(30)}1`, 'padded past 32 characters'],
    ['+7 912 345-67-89 доб. 1', 'an extension'],
  ];
  for (const [input, what] of rejected) {
    it(`rejects ${what}: "${input.slice(0, 40)}"`, () => {
      expect(normalizePhone(input)).to.equal(undefined);
    });
  }

  it('formats and masks a normalized number for display', () => {
    expect(formatPhone('+79123456789')).to.equal('+7 912 345-67-89');
    expect(formatPhone('+79123456789', true)).to.equal('+7 912 ***-**-89');
  });
});

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Maria.Ivanova@Example.RU ')).to.equal('maria.ivanova@example.ru');
  });

  it('keeps plus-addressing and subdomains', () => {
    expect(normalizeEmail('ivan.petrov+gosuslugi@mail.example.com')).to.equal('ivan.petrov+gosuslugi@mail.example.com');
  });

  for (const bad of ['ivan', 'ivan@', '@mail.ru', 'ivan@mail', 'ivan petrov@mail.ru', 'ivan@@mail.ru', '', '   ']) {
    it(`rejects "${bad}"`, () => {
      expect(normalizeEmail(bad)).to.equal(undefined);
    });
  }

  it('rejects an address longer than 254 characters', () => {
    const address = (labels: number) =>
      `ivan@${['a', 'b', 'c', 'd', 'e', 'f']
        .slice(0, labels)
        .map((c) => c.repeat(50))
        .join('.')}.ru`;
    expect(normalizeEmail(address(4)), 'a long but allowed address').to.equal(address(4));
    const long = address(5);
    expect(long.length).to.be.greaterThan(254);
    expect(normalizeEmail(long)).to.equal(undefined);
  });
});

describe('parseContact', () => {
  it('reads an e-mail address when there is an @', () => {
    expect(parseContact('Ivan@Mail.ru')).to.deep.equal({ kind: 'email', value: 'ivan@mail.ru' });
  });
  it('reads a mobile number otherwise', () => {
    expect(parseContact('8 912 345 67 89')).to.deep.equal({ kind: 'phone', value: '+79123456789' });
  });
  it('refuses what is neither', () => {
    expect(parseContact('ivan@')).to.equal(undefined);
    expect(parseContact('8 495 123 45 67')).to.equal(undefined);
  });
  it('masks contacts so a page does not reveal them in full', () => {
    expect(maskContact({ kind: 'email', value: 'maria@example.ru' })).to.equal('m***@example.ru');
    expect(maskContact({ kind: 'phone', value: '+79123456789' })).to.not.include('345');
  });
});
