/**
 * Levels as a consequence of verifications (DESIGN §2). Each VerificationEvent records which items
 * (name, birth date, SNILS, passport, INN, address, …) it vouches for and from which source. The
 * level is derived from the items, not from the events:
 *
 * - an event **holds** while every core item it vouched for (name, birth date, SNILS, passport) is
 *   unchanged; while it holds it covers each of its items whose value is still the one it saw;
 * - `standard`: every core item is covered — by the registry check, or by a confirming source;
 * - `confirmed`: standard, and a confirming source (service centre, post, bank, qualified
 *   certificate) holds for the person — so every core item is vouched for either by a confirming
 *   source that carried it or by the registry, and the items the confirming source carried match.
 *
 * A source can never vouch for more than its column of SOURCE_ITEMS (docs/claims.md has the table):
 * a bank that returned no SNILS, or a certificate (which carries no passport), cannot lift the
 * level over a SNILS or passport that was only typed in.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Account, AccountLevel, VerificationEvent, VerificationMethod, VerifiedItem } from './account.ts';

/** The items a level is made of. */
export const CORE_ITEMS: readonly VerifiedItem[] = ['name', 'birthdate', 'snils', 'id_doc'];

/** The most each source can vouch for (a bank: only what it returned; the post: the data its letter was bound to). */
export const SOURCE_ITEMS: Record<VerificationMethod, readonly VerifiedItem[]> = {
  registry: ['name', 'birthdate', 'snils', 'id_doc'],
  service_centre: ['name', 'birthdate', 'gender', 'birthplace', 'id_doc'],
  post: ['name', 'birthdate', 'snils', 'id_doc', 'address'],
  bank: ['name', 'birthdate', 'snils', 'inn', 'id_doc'],
  esignature: ['name', 'snils', 'inn'],
};

/** Sources that confirm a person (the registry checks data; these bind it to the person). */
export const CONFIRMING_METHODS: readonly VerificationMethod[] = ['service_centre', 'post', 'bank', 'esignature'];

export const isConfirming = (event: Pick<VerificationEvent, 'method'>): boolean => CONFIRMING_METHODS.includes(event.method);

/**
 * The identity data a registry check was sent for, a letter was bound to, or a confirmation was
 * made over: every core item exactly as stored (each one's digest, see itemDigest) — the whole
 * passport (issue date, issuer, department code too) and the name as written. Any change of any
 * of it is other data, which the check, the letter or the confirmation never saw.
 */
export function identityFingerprint(account: Pick<Account, 'name' | 'snils' | 'identity'>): string {
  return createHash('sha256')
    .update(JSON.stringify(CORE_ITEMS.map((item) => itemDigest(account, item))))
    .digest('base64url');
}

/**
 * The fingerprint kept before it covered every item exactly: name, birth date, SNILS and the
 * passport's series and number, in lower case. Only to read what was recorded with it: verification
 * events without item digests, and letters with a code sent before (postal-confirmation.ts).
 */
export function legacyFingerprint(account: Pick<Account, 'name' | 'snils' | 'identity'>): string {
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

/** True while the item has the value the event saw (events from before item digests: the fingerprint). */
function itemHolds(account: Account, event: VerificationEvent, item: VerifiedItem): boolean {
  if (!event.itemDigests) return event.fingerprint === legacyFingerprint(account);
  return event.itemDigests[item] === itemDigest(account, item);
}

/** True while every core item the event vouched for is unchanged. */
export function holds(account: Account, event: VerificationEvent): boolean {
  const core = event.items.filter((item) => CORE_ITEMS.includes(item));
  if (!event.itemDigests) return event.fingerprint === legacyFingerprint(account);
  return core.length > 0 && core.every((item) => itemHolds(account, event, item));
}

/** Verifications that still hold for the current data. */
export function validVerifications(account: Account): VerificationEvent[] {
  return (account.verifications ?? []).filter((v) => holds(account, v));
}

/** Core items no holding verification vouches for: what keeps the account from standard. */
export function uncoveredItems(account: Account): VerifiedItem[] {
  const covered = verifiedItems(account);
  return CORE_ITEMS.filter((item) => !covered.has(item));
}

export function derivedLevel(account: Account): AccountLevel {
  if (uncoveredItems(account).length) return 'simplified';
  // A confirming source that holds and knows the person by name binds the checked data to them.
  return validVerifications(account).some((v) => isConfirming(v) && v.items.includes('name') && itemHolds(account, v, 'name'))
    ? 'confirmed'
    : 'standard';
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
  return createHash('sha256')
    .update(JSON.stringify([item, value[item]]))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * The item, with the value it has now, is vouched for by a verification that still holds and
 * binds the data to the person — a service centre, a letter, a bank, an e-signature — not only by
 * the registry (which says the data is real, not that the account's holder is that person).
 */
export function boundToPerson(account: Account, item: VerifiedItem): boolean {
  return validVerifications(account).some((v) => isConfirming(v) && v.items.includes(item) && itemHolds(account, v, item));
}

/**
 * Items covered by at least one verification that holds, with the newest such event each. An item
 * whose value changed after the event (e.g. an INN or the address edited later) is not covered by it.
 */
export function verifiedItems(account: Account): Map<VerifiedItem, VerificationEvent> {
  return new Map([...itemVerifications(account)].map(([item, events]) => [item, events.at(-1)!]));
}

/** Every verification that holds for each item it vouches for (as it is now), oldest first. */
export function itemVerifications(account: Account): Map<VerifiedItem, VerificationEvent[]> {
  const out = new Map<VerifiedItem, VerificationEvent[]>();
  for (const event of validVerifications(account)) {
    for (const item of event.items) if (itemHolds(account, event, item)) out.set(item, [...(out.get(item) ?? []), event]);
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

export function newVerification(
  account: Account,
  input: Omit<VerificationEvent, 'id' | 'time' | 'fingerprint' | 'items'> & { items?: VerifiedItem[] },
): VerificationEvent {
  const present = new Set(presentItems(account));
  // Only what the account holds, and only what this source can vouch for at all.
  const items = (input.items ?? [...present]).filter((item) => present.has(item) && SOURCE_ITEMS[input.method].includes(item));
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
