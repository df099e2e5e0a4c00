/**
 * The derivation table (docs/claims.md): which source vouches for which item, and which level the
 * items covered by holding verifications give. Every source × every item, and the two attacks a
 * source that does not carry an item used to allow: a bank without SNILS over a SNILS typed in,
 * one's own qualified certificate over someone else's typed passport.
 */
import { expect } from 'chai';
import { CORE_ITEMS, derivedLevel, newVerification, uncoveredItems, verifiedItems } from '../../src/accounts/verification.ts';
import type { Account, IdentityData, VerificationMethod, VerifiedItem } from '../../src/store.ts';

const IDENTITY: IdentityData = {
  birthDate: '1985-03-05',
  gender: 'female',
  birthPlace: 'гор. Москва',
  inn: '500100732259',
  passport: { series: '4506', number: '123456', issueDate: '2005-03-20', issuer: 'ОВД района Хамовники', departmentCode: '772-001' },
  address: { formatted: 'г. Москва, ул. Тверская, д. 1', postalCode: '125009' },
};

const account = (): Account => ({
  id: 'a1',
  version: 1,
  status: 'active',
  level: 'simplified',
  name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' },
  phoneVerified: false,
  emailVerified: false,
  snils: '11223344595',
  identity: IDENTITY,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
});

/** The table as relying parties read it in docs/claims.md (pinned here, not read from the code). */
const TABLE: Record<VerificationMethod, VerifiedItem[]> = {
  registry: ['name', 'birthdate', 'snils', 'id_doc'],
  service_centre: ['name', 'birthdate', 'gender', 'birthplace', 'id_doc'],
  post: ['name', 'birthdate', 'snils', 'id_doc', 'address'],
  bank: ['name', 'birthdate', 'snils', 'inn', 'id_doc'],
  esignature: ['name', 'snils', 'inn'],
};
const SOURCES = Object.keys(TABLE) as VerificationMethod[];
const ITEMS: VerifiedItem[] = ['name', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address'];

function record(a: Account, method: VerificationMethod, items?: VerifiedItem[]): Account {
  const event = newVerification(a, { method, level: method === 'registry' ? 'standard' : 'confirmed', actor: 'test', evidence: {}, items });
  const next = { ...a, verifications: [...(a.verifications ?? []), event] };
  return { ...next, level: derivedLevel(next) };
}

/** Each item changed to another valid value. */
function changed(a: Account, item: VerifiedItem): Account {
  const i = a.identity!;
  switch (item) {
    case 'name':
      return { ...a, name: { ...a.name, family: 'Петрова' } };
    case 'birthdate':
      return { ...a, identity: { ...i, birthDate: '1986-04-06' } };
    case 'gender':
      return { ...a, identity: { ...i, gender: 'male' } };
    case 'birthplace':
      return { ...a, identity: { ...i, birthPlace: 'гор. Тверь' } };
    case 'snils':
      return { ...a, snils: '12345678964' };
    case 'inn':
      return { ...a, identity: { ...i, inn: '000100000004' } };
    case 'id_doc':
      return { ...a, identity: { ...i, passport: { ...i.passport!, number: '654321' } } };
    case 'address':
      return { ...a, identity: { ...i, address: { formatted: 'г. Тверь, ул. Советская, д. 5' } } };
  }
}

describe('levels: the derivation table (every source × every item)', () => {
  for (const source of SOURCES) {
    describe(`source: ${source}`, () => {
      for (const item of ITEMS) {
        const vouches = TABLE[source].includes(item);
        it(`${vouches ? 'vouches' : 'never vouches'} for ${item}${vouches ? ', and not once it changes' : ', even when asked to'}`, () => {
          const a = record(account(), source, ITEMS);
          expect(verifiedItems(a).has(item), 'as recorded').to.equal(vouches);
          expect(verifiedItems(changed(a, item)).has(item), 'after a change').to.equal(false);
        });
      }

      it('alone gives the level its core items support', () => {
        const a = record(account(), source);
        const covers = CORE_ITEMS.every((i) => TABLE[source].includes(i));
        const expected = !covers ? 'simplified' : source === 'registry' ? 'standard' : 'confirmed';
        expect(a.level).to.equal(expected);
        expect(uncoveredItems(a)).to.deep.equal(CORE_ITEMS.filter((i) => !TABLE[source].includes(i)));
      });

      if (source !== 'registry') {
        it('on top of the registry check confirms; a change of any core item drops the level to simplified, of any other keeps it', () => {
          const a = record(record(account(), 'registry'), source);
          expect(a.level).to.equal('confirmed');
          for (const item of ITEMS) {
            const after = derivedLevel(changed(a, item));
            expect(after, item).to.equal(CORE_ITEMS.includes(item) ? 'simplified' : 'confirmed');
          }
        });
      }
    });
  }

  describe('a confirming source cannot lift the level over an item it does not carry', () => {
    it("the attack: a bank that returns no SNILS, over a SNILS typed in (someone else's) → not confirmed, SNILS not verified", () => {
      const squatted = { ...account(), snils: '12345678964' };
      const a = record(squatted, 'bank', ['name', 'birthdate', 'id_doc']);
      expect(a.level).to.equal('simplified');
      expect(uncoveredItems(a)).to.deep.equal(['snils']);
      expect(verifiedItems(a).has('snils')).to.equal(false);
    });

    it("the attack: one's own qualified certificate, over a passport typed in (someone else's) → not confirmed, passport not verified", () => {
      const a = record(account(), 'esignature');
      expect(a.level).to.equal('simplified');
      expect(uncoveredItems(a)).to.deep.equal(['birthdate', 'id_doc']);
      expect(verifiedItems(a).has('id_doc')).to.equal(false);
    });

    it('the same sources confirm once the registry has checked what they do not carry, and only while it holds', () => {
      const bank = record(record(account(), 'registry'), 'bank', ['name', 'birthdate', 'id_doc']);
      expect(bank.level).to.equal('confirmed');
      const certificate = record(record(account(), 'esignature'), 'registry');
      expect(certificate.level, 'certificate first, registry after').to.equal('confirmed');
      expect(derivedLevel({ ...certificate, identity: { ...IDENTITY, passport: { ...IDENTITY.passport!, number: '000001' } } })).to.equal(
        'simplified',
      );
    });

    it('a bank that returned every core item confirms on its own; without the passport it does not', () => {
      expect(record(account(), 'bank').level).to.equal('confirmed');
      expect(record(account(), 'bank', ['name', 'birthdate', 'snils']).level).to.equal('simplified');
    });
  });
});
