/**
 * Levels as a consequence of verifications (DESIGN §2): each VerificationEvent holds while the
 * identity data it verified is unchanged (its fingerprint still matches), and the account level
 * is the highest level among the events that hold. Changing the name, SNILS, birth date or
 * passport therefore drops the level until the new data is verified again.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Account, AccountLevel, VerificationEvent, VerifiedItem } from '../store.ts';

/** The data a verification vouches for, in a stable form. */
export function identityFingerprint(account: Pick<Account, 'name' | 'snils' | 'identity'>): string {
  const p = account.identity?.passport;
  const parts = [
    account.name.family,
    account.name.given,
    account.name.middle ?? '',
    account.identity?.birthDate ?? '',
    account.snils ?? '',
    p ? `${p.series}${p.number}` : '',
  ];
  return createHash('sha256').update(parts.join('\u0000').toLowerCase()).digest('base64url');
}

/** Verifications that still hold for the current data. */
export function validVerifications(account: Account): VerificationEvent[] {
  const fingerprint = identityFingerprint(account);
  return (account.verifications ?? []).filter((v) => v.fingerprint === fingerprint);
}

export function derivedLevel(account: Account): AccountLevel {
  const valid = validVerifications(account);
  if (valid.some((v) => v.level === 'confirmed')) return 'confirmed';
  if (valid.some((v) => v.level === 'standard')) return 'standard';
  return 'simplified';
}

/** The account with its level brought in line with its verifications. */
export function withDerivedLevel(account: Account): Account {
  return { ...account, level: derivedLevel(account) };
}

/** The value of an item, hashed: what a verification event keeps to know the item is unchanged. */
export function itemDigest(account: Pick<Account, 'name' | 'snils' | 'identity'>, item: VerifiedItem): string {
  const i = account.identity ?? {};
  const value: Record<VerifiedItem, unknown> = {
    name: [account.name.family, account.name.given, account.name.middle ?? ''],
    birthdate: i.birthDate ?? '',
    gender: i.gender ?? '',
    birthplace: i.birthPlace ?? '',
    snils: account.snils ?? '',
    inn: i.inn ?? '',
    id_doc: i.passport ? [i.passport.series, i.passport.number, i.passport.issueDate, i.passport.issuer, i.passport.departmentCode] : '',
    address: i.address ? [i.address.formatted, i.address.postalCode ?? ''] : '',
  };
  return createHash('sha256').update(JSON.stringify([item, value[item]])).digest('base64url').slice(0, 22);
}

/**
 * Items verified by at least one verification that holds, with the newest such event each. An
 * item whose value changed after the event (one the fingerprint does not cover, e.g. an INN or
 * the address) is not verified by it any more.
 */
export function verifiedItems(account: Account): Map<VerifiedItem, VerificationEvent> {
  const out = new Map<VerifiedItem, VerificationEvent>();
  for (const event of validVerifications(account)) {
    for (const item of event.items) {
      if (event.itemDigests && event.itemDigests[item] !== itemDigest(account, item)) continue;
      out.set(item, event);
    }
  }
  return out;
}

/** The identity items the account holds now (what a verification of it can vouch for). */
export function presentItems(account: Account): VerifiedItem[] {
  const i = account.identity ?? {};
  const items: VerifiedItem[] = ['name'];
  if (i.birthDate) items.push('birthdate');
  if (i.gender) items.push('gender');
  if (i.birthPlace) items.push('birthplace');
  if (account.snils) items.push('snils');
  if (i.inn) items.push('inn');
  if (i.passport) items.push('id_doc');
  if (i.address) items.push('address');
  return items;
}

/** True when the data a registry check needs is all there. */
export function readyForRegistry(account: Account): boolean {
  const i = account.identity;
  return Boolean(account.snils && i?.birthDate && i.gender && i.birthPlace && i.passport);
}

export function newVerification(account: Account, input: Omit<VerificationEvent, 'id' | 'time' | 'fingerprint' | 'items'> & { items?: VerifiedItem[] }): VerificationEvent {
  const present = new Set(presentItems(account));
  // Only what the account holds can be vouched for.
  const items = (input.items ?? [...present]).filter((item) => present.has(item));
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    fingerprint: identityFingerprint(account),
    items,
    itemDigests: Object.fromEntries(items.map((item) => [item, itemDigest(account, item)])),
    method: input.method,
    level: input.level,
    actor: input.actor,
    evidence: input.evidence,
  };
}
