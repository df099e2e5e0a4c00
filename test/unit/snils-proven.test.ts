/**
 * When a certificate's SNILS may sign in to the account that holds it on its own (DESIGN §2, §6):
 * only when the SNILS is known to be the account holder's. A SNILS only typed in proves nothing.
 */
import { expect } from 'chai';
import { snilsProvenFor, withCertificate } from '../../src/accounts/linked-identities.ts';
import { newVerification } from '../../src/accounts/verification.ts';
import type { Account, VerificationEvent } from '../../src/store.ts';

const CERT = { issuer: 'CN=Тестовый УЦ', serialNumber: '0A1B2C', notAfter: '2030-01-01T00:00:00.000Z' };

function account(changes: Partial<Account> = {}): Account {
  return {
    id: 'a1',
    version: 1,
    status: 'active',
    level: 'simplified',
    name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
    phone: '+79123456789',
    phoneVerified: true,
    emailVerified: false,
    snils: '11223344595',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...changes,
  };
}

const verified = (a: Account, method: VerificationEvent['method'], items: VerificationEvent['items']): Account => ({
  ...a,
  verifications: [
    ...(a.verifications ?? []),
    newVerification(a, { method, level: method === 'registry' ? 'standard' : 'confirmed', actor: 'test', evidence: {}, items }),
  ],
});

describe('snilsProvenFor: may a certificate sign in to the account with its SNILS on its own', () => {
  it('no: the SNILS was only typed in', () => {
    expect(snilsProvenFor(account(), CERT)).to.equal(false);
  });

  it('no: the verification that holds does not vouch for the SNILS', () => {
    expect(snilsProvenFor(verified(account(), 'service_centre', ['name']), CERT)).to.equal(false);
  });

  it('yes: a verification that still holds binds the SNILS to the person (a bank, a service centre, the post, an e-signature)', () => {
    expect(snilsProvenFor(verified(account(), 'bank', ['name', 'snils']), CERT)).to.equal(true);
  });

  it('no: the registry alone on an account no confirming source bound to a person (it says the data is real, not whose account it is)', () => {
    expect(snilsProvenFor(verified(account(), 'registry', ['name', 'snils']), CERT)).to.equal(false);
    // On a confirmed account the registry tied the SNILS to the passport a confirming source bound to the person.
    expect(snilsProvenFor({ ...verified(account(), 'registry', ['name', 'snils']), level: 'confirmed' }, CERT)).to.equal(true);
  });

  it('no: the SNILS was verified, then changed (typed over)', () => {
    const a = verified(account(), 'service_centre', ['name', 'snils']);
    expect(snilsProvenFor({ ...a, snils: '12345678964' }, CERT)).to.equal(false);
  });

  it('yes: this certificate was used on the account before; another certificate was not', () => {
    const a = withCertificate(account(), CERT);
    expect(snilsProvenFor(a, CERT)).to.equal(true);
    expect(snilsProvenFor(a, { ...CERT, serialNumber: 'FFFF' })).to.equal(false);
    expect(snilsProvenFor(a, { ...CERT, issuer: 'CN=Другой УЦ' })).to.equal(false);
  });

  it('yes: an e-signature verified this SNILS, even after another item (the name) changed', () => {
    const a = verified(account(), 'esignature', ['name', 'snils']);
    expect(snilsProvenFor({ ...a, name: { family: 'Петров', given: 'Иван' } }, CERT)).to.equal(true);
    // … but not after the SNILS itself changed, and not from a verification of another method.
    expect(snilsProvenFor({ ...a, snils: '12345678964' }, CERT)).to.equal(false);
    const bySomeoneElse = verified(account(), 'service_centre', ['name', 'snils']);
    expect(snilsProvenFor({ ...bySomeoneElse, name: { family: 'Петров', given: 'Иван' } }, CERT)).to.equal(false);
  });
});
