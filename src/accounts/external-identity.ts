/**
 * Identity data that comes from outside (a bank, a qualified certificate): normalized with the
 * same validators as typed data, matched against accounts, and merged into an account.
 */
import type { Account, Passport, PersonName, VerifiedItem } from './account.ts';
import type { Accounts } from './accounts.ts';
import { heldNumbers } from './identity-numbers.ts';
import { passportKey } from './passport.ts';

/** What an external source says about a person; anything it did not say (or said badly) is absent. */
export interface ExternalProfile {
  name?: PersonName;
  /** YYYY-MM-DD */
  birthDate?: string;
  snils?: string;
  inn?: string;
  /** The full passport, when every field came and was valid. */
  passport?: Passport;
  /** series + number, enough to find an account even when the rest of the passport is missing */
  passportKey?: string;
  phone?: { value: string; verified: boolean };
  email?: { value: string; verified: boolean };
}

/** Case-insensitive, "ё" = "е", spaces collapsed: the way a person compares two spellings of a name. */
function namePart(value: string | undefined): string {
  return (value ?? '').trim().replace(/\s+/g, ' ').toLowerCase().replace(/ё/g, 'е');
}

export function sameName(a: PersonName, b: PersonName): boolean {
  return namePart(a.family) === namePart(b.family) && namePart(a.given) === namePart(b.given) && namePart(a.middle) === namePart(b.middle);
}

/**
 * The account this profile belongs to: the one with the same verified SNILS, or the same verified
 * passport whose name and birth date also match. Failing that, the one account that only typed in
 * that SNILS (or passport, with the name and birth date) — a candidate whose holder must still
 * prove it is theirs, and which the person may decline (it may be a squatter's).
 */
export async function findByProfile(accounts: Accounts, profile: ExternalProfile): Promise<Account | undefined> {
  const key = profile.passportKey ?? (profile.passport ? passportKey(profile.passport.series, profile.passport.number) : undefined);
  const samePerson = (a: Account) => Boolean(profile.name && sameName(a.name, profile.name) && a.identity?.birthDate === profile.birthDate);
  if (profile.snils) {
    const bySnils = await accounts.findByKey({ kind: 'snils', value: profile.snils });
    if (bySnils) return bySnils;
  }
  if (key && profile.name && profile.birthDate) {
    const byPassport = await accounts.findByKey({ kind: 'passport', value: key });
    if (byPassport && samePerson(byPassport)) return byPassport;
  }
  if (profile.snils) {
    const typed = await accounts.holdersOf({ kind: 'snils', value: profile.snils });
    if (typed.length === 1) return typed[0];
  }
  if (key && profile.name && profile.birthDate) {
    const typed = (await accounts.holdersOf({ kind: 'passport', value: key })).filter(samePerson);
    if (typed.length === 1) return typed[0];
  }
  return undefined;
}

/** True when the account matched the profile only by numbers it typed in (nothing verified proves it is the person's). */
export function matchedOnlyByTypedNumbers(account: Account, profile: ExternalProfile): boolean {
  const numbers = heldNumbers(account);
  const key = profile.passportKey ?? (profile.passport ? passportKey(profile.passport.series, profile.passport.number) : undefined);
  return !numbers.some(
    (n) => n.verified && ((n.kind === 'snils' && n.value === profile.snils) || (n.kind === 'passport' && n.value === key)),
  );
}

/**
 * True when the profile cannot be the account's owner: a different SNILS or birth date (neither
 * changes in a lifetime; names and passports do).
 */
export function conflicts(account: Account, profile: ExternalProfile): boolean {
  if (account.snils && profile.snils && account.snils !== profile.snils) return true;
  const birth = account.identity?.birthDate;
  return Boolean(birth && profile.birthDate && birth !== profile.birthDate);
}

/** Enough to vouch for a person: a name, a birth date and SNILS or a passport. */
export function confirmable(profile: ExternalProfile): boolean {
  return Boolean(profile.name && profile.birthDate && (profile.snils || profile.passport));
}

/** The identity items the profile brings. */
export function profileItems(profile: ExternalProfile): VerifiedItem[] {
  const items: VerifiedItem[] = [];
  if (profile.name) items.push('name');
  if (profile.birthDate) items.push('birthdate');
  if (profile.snils) items.push('snils');
  if (profile.inn) items.push('inn');
  if (profile.passport) items.push('id_doc');
  return items;
}

/** The account with the profile's identity data in place of its own (contacts are left alone). */
export function withProfile(account: Account, profile: ExternalProfile): Account {
  return {
    ...account,
    ...(profile.name ? { name: profile.name } : {}),
    ...(profile.snils ? { snils: profile.snils } : {}),
    identity: {
      ...account.identity,
      ...(profile.birthDate ? { birthDate: profile.birthDate } : {}),
      ...(profile.inn ? { inn: profile.inn } : {}),
      ...(profile.passport ? { passport: profile.passport } : {}),
    },
  };
}
