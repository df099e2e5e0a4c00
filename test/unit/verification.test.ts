import { expect } from 'chai';
import {
  derivedLevel,
  identityFingerprint,
  newVerification,
  presentItems,
  readyForRegistry,
  validVerifications,
  verifiedItems,
  withDerivedLevel,
} from '../../src/accounts/verification.ts';
import { REGISTRY_ITEMS } from '../../src/accounts/registry.ts';
import type { Account, IdentityData, VerificationEvent } from '../../src/store.ts';

const IDENTITY: IdentityData = {
  birthDate: '1985-03-05',
  gender: 'female',
  birthPlace: 'гор. Москва',
  inn: '500100732259',
  passport: { series: '4506', number: '123456', issueDate: '2005-03-20', issuer: 'ОВД района Хамовники', departmentCode: '772-001' },
  address: { formatted: 'г. Москва, ул. Тверская, д. 1', postalCode: '125009' },
};

function account(changes: Partial<Account> = {}): Account {
  return {
    id: 'a1',
    version: 1,
    status: 'active',
    level: 'simplified',
    name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' },
    phone: '+79123456789',
    phoneVerified: true,
    emailVerified: false,
    snils: '11223344595',
    identity: IDENTITY,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...changes,
  };
}

const withIdentity = (a: Account, identity: Partial<IdentityData>): Account => ({ ...a, identity: { ...a.identity, ...identity } });
const verify = (
  a: Account,
  level: 'standard' | 'confirmed',
  items?: VerificationEvent['items'],
  method: VerificationEvent['method'] = level === 'standard' ? 'registry' : 'service_centre',
): Account => ({
  ...a,
  verifications: [...(a.verifications ?? []), newVerification(a, { method, level, actor: 'test', evidence: {}, items })],
});

describe('verification and levels', () => {
  describe('identityFingerprint', () => {
    const base = identityFingerprint(account());

    it('changes when the name changes (family, given or middle)', () => {
      expect(identityFingerprint(account({ name: { family: 'Петрова', given: 'Мария', middle: 'Петровна' } }))).to.not.equal(base);
      expect(identityFingerprint(account({ name: { family: 'Иванова', given: 'Марина', middle: 'Петровна' } }))).to.not.equal(base);
      expect(identityFingerprint(account({ name: { family: 'Иванова', given: 'Мария' } }))).to.not.equal(base);
    });

    it('changes when SNILS, birth date or passport series/number change', () => {
      expect(identityFingerprint(account({ snils: '12345678964' }))).to.not.equal(base);
      expect(identityFingerprint(account({ snils: undefined }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { birthDate: '1985-03-06' }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { passport: { ...IDENTITY.passport!, number: '123457' } }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { passport: { ...IDENTITY.passport!, series: '4507' } }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { passport: undefined }))).to.not.equal(base);
    });

    it('changes with every other detail of the passport and with the letter case of the name (the registry was sent them as they are)', () => {
      const passport = IDENTITY.passport!;
      expect(identityFingerprint(withIdentity(account(), { passport: { ...passport, issueDate: '2019-01-01' } }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { passport: { ...passport, issuer: 'Другой отдел' } }))).to.not.equal(base);
      expect(identityFingerprint(withIdentity(account(), { passport: { ...passport, departmentCode: '999-999' } }))).to.not.equal(base);
      expect(identityFingerprint(account({ name: { family: 'ИВАНОВА', given: 'мария', middle: 'Петровна' } }))).to.not.equal(base);
    });

    it('does not change with the address, INN or contacts', () => {
      expect(identityFingerprint(withIdentity(account(), { address: { formatted: 'г. Тверь, ул. Советская, д. 5' } }))).to.equal(base);
      expect(identityFingerprint(withIdentity(account(), { address: undefined }))).to.equal(base);
      expect(identityFingerprint(withIdentity(account(), { inn: undefined }))).to.equal(base);
      expect(identityFingerprint(account({ phone: '+79990000000', email: 'm@example.test' }))).to.equal(base);
    });

    it('does not run fields together (family "Ан" + given "на" differs from "Анна" + "")', () => {
      const a = identityFingerprint(account({ name: { family: 'Ан', given: 'на' } }));
      const b = identityFingerprint(account({ name: { family: 'Анна', given: '' } }));
      expect(a).to.not.equal(b);
    });
  });

  describe('derivedLevel', () => {
    it('is simplified without verifications', () => {
      expect(derivedLevel(account())).to.equal('simplified');
      expect(derivedLevel(account({ verifications: [] }))).to.equal('simplified');
    });

    it('ignores the stored level field: it derives from the events', () => {
      expect(derivedLevel(account({ level: 'confirmed' }))).to.equal('simplified');
      expect(withDerivedLevel(account({ level: 'confirmed' })).level).to.equal('simplified');
    });

    it('is the highest level among the verifications that hold', () => {
      const standard = verify(account(), 'standard');
      expect(derivedLevel(standard)).to.equal('standard');
      const confirmed = verify(standard, 'confirmed');
      expect(derivedLevel(confirmed)).to.equal('confirmed');
      expect(withDerivedLevel(confirmed).level).to.equal('confirmed');
    });

    it('drops to simplified when the name, SNILS, birth date or passport change after verification', () => {
      const confirmed = verify(verify(account(), 'standard'), 'confirmed');
      expect(derivedLevel({ ...confirmed, name: { ...confirmed.name, family: 'Петрова' } })).to.equal('simplified');
      expect(derivedLevel({ ...confirmed, snils: '12345678964' })).to.equal('simplified');
      expect(derivedLevel(withIdentity(confirmed, { birthDate: '1986-03-05' }))).to.equal('simplified');
      expect(derivedLevel(withIdentity(confirmed, { passport: { ...IDENTITY.passport!, number: '654321' } }))).to.equal('simplified');
    });

    it('keeps the level when only the address or INN change', () => {
      const confirmed = verify(verify(account(), 'standard'), 'confirmed');
      expect(derivedLevel(withIdentity(confirmed, { address: { formatted: 'г. Тверь' } }))).to.equal('confirmed');
      expect(derivedLevel(withIdentity(confirmed, { inn: undefined }))).to.equal('confirmed');
    });

    it('changing the data back brings the old verification back; a newer one for new data counts on its own', () => {
      const standard = verify(account(), 'standard');
      const changed = { ...standard, snils: '12345678964' };
      expect(derivedLevel(changed)).to.equal('simplified');
      expect(derivedLevel({ ...changed, snils: '11223344595' })).to.equal('standard');
      // Confirmed by a bank for the old SNILS, the new one checked by the registry only: standard.
      const confirmedOld = verify(standard, 'confirmed', ['name', 'birthdate', 'snils', 'id_doc'], 'bank');
      const reverified = verify({ ...confirmedOld, snils: '12345678964' }, 'standard');
      expect(derivedLevel(reverified)).to.equal('standard');
      expect(validVerifications(reverified).map((v) => v.level)).to.deep.equal(['standard']);
      // The service centre saw the passport, not the SNILS: its confirmation survives a SNILS the registry checked again.
      const inPerson = verify({ ...verify(standard, 'confirmed'), snils: '12345678964' }, 'standard');
      expect(derivedLevel(inPerson)).to.equal('confirmed');
    });
  });

  describe('verifiedItems', () => {
    it('lists the items of the verifications that hold, each with its newest event', () => {
      const standard = verify(account(), 'standard', REGISTRY_ITEMS);
      const registry = standard.verifications![0]!;
      expect([...verifiedItems(standard).keys()]).to.have.members(['name', 'birthdate', 'snils', 'id_doc']);
      const confirmed = verify(standard, 'confirmed', ['name', 'birthdate', 'snils', 'id_doc', 'address'], 'post');
      const post = confirmed.verifications![1]!;
      const items = verifiedItems(confirmed);
      expect(items.get('snils')).to.equal(post);
      expect(items.get('address')).to.equal(post);
      expect(items.has('inn')).to.equal(false);
      expect(verifiedItems(standard).get('snils')).to.equal(registry);
    });

    it('nothing is verified once the fingerprint changes', () => {
      const standard = verify(account(), 'standard');
      expect(verifiedItems({ ...standard, snils: '12345678964' }).size).to.equal(0);
    });

    it('an item whose value changed after the verification is not verified any more, though the level holds', () => {
      const confirmed = verify(verify(verify(account(), 'standard'), 'confirmed'), 'confirmed', undefined, 'post');
      const withInn = verify(confirmed, 'confirmed', ['name', 'inn'], 'esignature');
      expect([...verifiedItems(withInn).keys()]).to.include.members(['inn', 'address', 'gender', 'birthplace']);
      const edited = withIdentity(withInn, {
        inn: '000100000004',
        address: { formatted: 'г. Тверь' },
        gender: 'male',
        birthPlace: 'гор. Тверь',
      });
      expect(derivedLevel(edited)).to.equal('confirmed');
      const items = verifiedItems(edited);
      expect([...items.keys()]).to.have.members(['name', 'birthdate', 'snils', 'id_doc']);
      // A passport detail outside the fingerprint (issuer) changed: the passport is not verified, so neither is the level.
      const issuer = withIdentity(confirmed, { passport: { ...IDENTITY.passport!, issuer: 'УФМС' } });
      expect(verifiedItems(issuer).has('id_doc')).to.equal(false);
      expect(derivedLevel(issuer)).to.equal('simplified');
    });

    it('an item added after the verification (INN entered later) is not verified', () => {
      const standard = verify(withIdentity(account(), { inn: undefined }), 'standard');
      const later = withIdentity(standard, { inn: '500100732259' });
      expect(derivedLevel(later)).to.equal('standard');
      expect(verifiedItems(later).has('inn')).to.equal(false);
    });
  });

  describe('newVerification', () => {
    it('records method, level, actor, evidence, time, the fingerprint and by default every item the account holds', () => {
      const a = account();
      const before = Date.now();
      const event = newVerification(a, { method: 'service_centre', level: 'confirmed', actor: 'operator:1', evidence: { office: '1' } });
      expect(event).to.include({ method: 'service_centre', level: 'confirmed', actor: 'operator:1', fingerprint: identityFingerprint(a) });
      expect(event.evidence).to.deep.equal({ office: '1' });
      expect(event.id).to.match(/^[0-9a-f-]{36}$/);
      expect(Date.parse(event.time)).to.be.at.least(before - 1000);
      // What an operator sees in a passport: no SNILS, INN or address.
      expect(event.items).to.have.members(['name', 'birthdate', 'gender', 'birthplace', 'id_doc']);
    });

    it('never vouches for an item the account does not hold', () => {
      const a = withIdentity(account(), { inn: undefined, address: undefined });
      const event = newVerification(a, {
        method: 'bank',
        level: 'confirmed',
        actor: 'bank',
        evidence: {},
        items: ['name', 'inn', 'address', 'snils'],
      });
      expect(event.items).to.deep.equal(['name', 'snils']);
    });
  });

  describe('presentItems and readyForRegistry', () => {
    it('names what the account holds', () => {
      expect(presentItems(account())).to.have.members(['name', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address']);
      expect(presentItems(account({ snils: undefined, identity: undefined }))).to.deep.equal(['name']);
    });

    it('is ready for the registry with SNILS, birth date, gender, place of birth and passport; INN and address are not needed', () => {
      expect(readyForRegistry(account())).to.equal(true);
      expect(readyForRegistry(withIdentity(account(), { inn: undefined, address: undefined }))).to.equal(true);
      expect(readyForRegistry(account({ snils: undefined }))).to.equal(false);
      for (const missing of ['birthDate', 'gender', 'birthPlace', 'passport'] as const) {
        expect(readyForRegistry(withIdentity(account(), { [missing]: undefined })), missing).to.equal(false);
      }
    });
  });
});
