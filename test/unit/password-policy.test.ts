import { expect } from 'chai';
import { checkPassword, PASSWORD_MAX_LENGTH, type PasswordPolicy } from '../../src/accounts/password-policy.ts';

const policy: PasswordPolicy = { minLength: 8, classes: ['upper', 'lower', 'digit', 'symbol'] };
const GOOD = 'Зелёный-Кит-42!';

describe('checkPassword', () => {
  it('accepts a long password with every class', () => {
    expect(checkPassword(GOOD, GOOD, policy)).to.deep.equal([]);
    expect(checkPassword('Лунный-Свет-9%', undefined, policy)).to.deep.equal([]);
  });

  it('refuses characters no keyboard types: NUL and other controls, zero-width and direction marks', () => {
    for (const odd of ['\u0000', '\u0007', '\u007f', '\u0085', '\u200b', '\u200e', '\u202e', '\ufeff']) {
      const password = `Зелёный${odd}Кит-42!`;
      expect(checkPassword(password, password, policy), JSON.stringify(odd)).to.deep.equal(['control_characters']);
    }
    // Spaces, letters of any script, symbols and emoji joined by a zero-width joiner (a phone's emoji keyboard) stay allowed.
    expect(checkPassword('Зелёный кит 42! ∑ Ω', undefined, policy)).to.deep.equal([]);
    expect(checkPassword('Зелёный-Кит-42!👨\u200d👩\u200d👧', undefined, policy)).to.deep.equal([]);
  });

  it('requires a password', () => {
    expect(checkPassword('', '', policy)).to.deep.equal(['required']);
    expect(checkPassword(undefined, undefined, policy)).to.deep.equal(['required']);
  });

  it('names each missing character class', () => {
    expect(checkPassword('зелёный-кит-42!', undefined, policy)).to.deep.equal(['needs_upper']);
    expect(checkPassword('ЗЕЛЁНЫЙ-КИТ-42!', undefined, policy)).to.deep.equal(['needs_lower']);
    expect(checkPassword('Зелёный-Кит-!!', undefined, policy)).to.deep.equal(['needs_digit']);
    expect(checkPassword('ЗелёныйКит42', undefined, policy)).to.deep.equal(['needs_symbol']);
    expect(checkPassword('зелёныйкитик', undefined, policy)).to.have.members(['needs_upper', 'needs_digit', 'needs_symbol']);
  });

  it('follows the configured classes only', () => {
    const lettersOnly: PasswordPolicy = { minLength: 8, classes: ['lower'] };
    expect(checkPassword('зелёныйкитик', undefined, lettersOnly)).to.deep.equal([]);
    expect(checkPassword('ЗЕЛЁНЫЙКИТИК', undefined, lettersOnly)).to.deep.equal(['needs_lower']);
  });

  it('enforces the minimum length (in characters, not bytes)', () => {
    expect(checkPassword('Кт-4!яЖ', undefined, policy)).to.include('too_short');
    // 8 Cyrillic characters are 16 bytes but 8 characters: long enough.
    expect(checkPassword('Кто-4!яЖ', undefined, policy)).to.not.include('too_short');
    expect(checkPassword('Зелёный-Кит-42!', undefined, { ...policy, minLength: 16 })).to.include('too_short');
  });

  it(`refuses more than ${PASSWORD_MAX_LENGTH} characters`, () => {
    expect(checkPassword(`${GOOD}${'ж'.repeat(PASSWORD_MAX_LENGTH)}`, undefined, policy)).to.deep.equal(['too_long']);
  });

  it('refuses common passwords, also as the core word of one with digits and symbols around it', () => {
    for (const p of ['Qwerty123!', 'Password1!', 'P@ssw0rd', 'Пароль123!', '!Parol2024', 'Йцукен123!', 'Gosuslugi1!', 'Admin2024#']) {
      expect(checkPassword(p, undefined, policy), p).to.include('common');
    }
  });

  it('refuses keyboard and alphabet sequences, Latin and Cyrillic', () => {
    for (const p of ['Asdfghjkl1!', 'Йцукенгш1!', 'Фывапролд1!', 'Ячсмить-7', 'Абвгдеж1!', 'Абвгдеёж1!', 'Zyxwvuts9!']) {
      expect(checkPassword(p, undefined, policy), p).to.include('common');
    }
  });

  it('refuses repeated characters', () => {
    expect(checkPassword('Aaaaaaa1!', undefined, policy)).to.include('common');
  });

  it('refuses a password that contains the citizen’s phone, e-mail or name', () => {
    expect(checkPassword('Кит-9123456789!', undefined, policy, ['+79123456789'])).to.include('contains_personal');
    expect(checkPassword('Maria.ivanova-42!', undefined, policy, ['maria.ivanova@example.ru'])).to.include('contains_personal');
    expect(checkPassword('Иванова-Кот-42!', undefined, policy, ['Иванова', 'Мария'])).to.include('contains_personal');
    // Short personal data (under 4 characters) is not a reason to refuse.
    expect(checkPassword('Зелёный-Ли-42!', undefined, policy, ['Ли'])).to.deep.equal([]);
    expect(checkPassword(GOOD, undefined, policy, ['+79123456789', 'Иванова', 'Мария'])).to.deep.equal([]);
  });

  it('reports a confirmation that does not match, and not when confirmation is not asked', () => {
    expect(checkPassword(GOOD, 'Зелёный-Кит-43!', policy)).to.deep.equal(['mismatch']);
    expect(checkPassword(GOOD, '', policy)).to.deep.equal(['mismatch']);
    expect(checkPassword(GOOD, undefined, policy)).to.deep.equal([]);
  });

  it('lists every problem at once, in the order a person fixes them', () => {
    expect(checkPassword('qwerty', 'x', policy)).to.deep.equal([
      'too_short',
      'needs_upper',
      'needs_digit',
      'needs_symbol',
      'common',
      'mismatch',
    ]);
  });
});
