import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { Messages, pickLocale } from '../../src/web/i18n.ts';
import type { FactorChange } from '../../src/methods/factor-changes.ts';

describe('pickLocale', () => {
  it('falls back to Russian', () => {
    expect(pickLocale(undefined, undefined)).to.equal('ru');
    expect(pickLocale('', '')).to.equal('ru');
    expect(pickLocale('de fr', 'de, fr;q=0.8')).to.equal('ru');
  });

  it('follows Accept-Language', () => {
    expect(pickLocale(undefined, 'en')).to.equal('en');
    expect(pickLocale(undefined, 'en-US,en;q=0.9')).to.equal('en');
    expect(pickLocale(undefined, 'ru-RU,ru;q=0.9,en;q=0.8')).to.equal('ru');
  });

  it('orders Accept-Language by q-value, not by position', () => {
    expect(pickLocale(undefined, 'ru;q=0.5, en;q=0.8')).to.equal('en');
    expect(pickLocale(undefined, 'de, en;q=0.2, ru;q=0.7')).to.equal('ru');
  });

  it('ignores languages with q=0 and malformed q-values', () => {
    expect(pickLocale(undefined, 'en;q=0, ru;q=0.1')).to.equal('ru');
    expect(pickLocale(undefined, 'en;q=0')).to.equal('ru');
    expect(pickLocale(undefined, 'en;q=abc')).to.equal('ru');
  });

  it('lets ui_locales beat Accept-Language, taking its first supported language', () => {
    expect(pickLocale('en', 'ru')).to.equal('en');
    expect(pickLocale('ru', 'en')).to.equal('ru');
    expect(pickLocale('fr en ru', 'ru')).to.equal('en');
    expect(pickLocale('EN-gb', undefined)).to.equal('en');
  });

  it('falls through to Accept-Language when ui_locales has nothing supported', () => {
    expect(pickLocale('de', 'en')).to.equal('en');
  });
});

describe('Messages', () => {
  const messages = new Messages(fileURLToPath(new URL('../../views', import.meta.url)));

  it('fills placeholders and falls back to Russian, then to the key', () => {
    expect(messages.t('ru', 'login.locked', { minutes: 15 })).to.include('15 мин');
    expect(messages.t('en', 'login.title')).to.not.equal(messages.t('ru', 'login.title'));
    expect(messages.t('en', 'no.such.key')).to.equal('no.such.key');
  });
});

describe('Messages.t', () => {
  const messages = new Messages(fileURLToPath(new URL('../../views', import.meta.url)));

  it('a value ending with a full stop (a Russian date) ends the sentence: no second stop', () => {
    const done = messages.t('ru', 'deletion.done', { date: '2 января 2027 г.' });
    expect(done).to.include('2 января 2027 г. Передумали');
    expect(done).to.not.include('г..');
    expect(messages.t('en', 'deletion.done', { date: '2 January 2027' })).to.include('on 2 January 2027. Changed');
    expect(messages.t('ru', 'messages.deletion.text', { name: 'Мария', date: '2 января 2027 г.' })).to.not.include('г..');
    expect(messages.t('ru', 'no.such.key')).to.equal('no.such.key');
  });
});

describe('Messages: keys whose last part holds dots (audit event types)', () => {
  const messages = new Messages(fileURLToPath(new URL('../../views', import.meta.url)));

  it('finds history.events["signin.new_device"] and the like (they fell back to the raw type before)', () => {
    expect(messages.has('history.events.signin.new_device')).to.equal(true);
    expect(messages.t('ru', 'history.events.account.password_changed')).to.not.include('account.');
    expect(messages.has('history.events.no.such.event')).to.equal(false);
    // Not Object.prototype's members either.
    expect(messages.has('history.events.constructor')).to.equal(false);
  });

  it('has a history text for every change of how the account signs in (FactorChange)', async () => {
    const changes: FactorChange[] = [
      'totp_added',
      'totp_removed',
      'sms_enabled',
      'mfa_enabled',
      'mfa_disabled',
      'passkey_added',
      'passkey_renamed',
      'passkey_removed',
      'recovery_codes_generated',
    ];
    for (const change of changes) expect(messages.has(`history.events.factor.${change}`), change).to.equal(true);
  });
});
