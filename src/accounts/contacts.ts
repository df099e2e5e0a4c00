/**
 * Contacts citizens sign in and receive codes with: a Russian mobile number and an e-mail
 * address. Each normalizer returns the canonical form or undefined for input that is not one.
 */
import { z } from 'zod';
import type { Account } from './account.ts';

/** Any common notation (+7…, 8…, 7…, bare 10 digits; spaces, dashes, brackets) → +79XXXXXXXXX. */
export function normalizePhone(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length > 32 || !/^\+?[\d\s()\-.]+$/.test(trimmed)) return undefined;
  let digits = trimmed.replace(/\D/g, '');
  if (digits.length === 11 && (digits.startsWith('8') || digits.startsWith('7'))) digits = digits.slice(1);
  else if (digits.length !== 10 || trimmed.startsWith('+')) return undefined;
  // Russian mobile numbers are +7 9XX XXX-XX-XX.
  if (!digits.startsWith('9')) return undefined;
  return `+7${digits}`;
}

const emailSchema = z.email();

/** Trimmed and lower-cased; undefined unless it is a plausible address of at most 254 characters. */
export function normalizeEmail(input: string): string | undefined {
  const value = input.trim().toLowerCase();
  if (value.length > 254 || !emailSchema.safeParse(value).success) return undefined;
  return value;
}

/** +7 912 345-67-89 for display; the masked form hides the middle digits. */
export function formatPhone(phone: string, masked = false): string {
  const d = phone.slice(2);
  return masked ? `+7 ${d.slice(0, 3)} ***-**-${d.slice(8)}` : `+7 ${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`;
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export type ContactKind = 'phone' | 'email';

export interface Contact {
  kind: ContactKind;
  value: string;
}

/** A contact typed by a citizen: a mobile number or an e-mail address. */
export function parseContact(input: string): Contact | undefined {
  if (input.includes('@')) {
    const value = normalizeEmail(input);
    return value ? { kind: 'email', value } : undefined;
  }
  const value = normalizePhone(input);
  return value ? { kind: 'phone', value } : undefined;
}

export function maskContact(contact: Contact): string {
  return contact.kind === 'phone' ? formatPhone(contact.value, true) : maskEmail(contact.value);
}

/** The account's confirmed contacts, the mobile first: where notices and codes to the holder go. */
export function confirmedContacts(account: Pick<Account, 'phone' | 'phoneVerified' | 'email' | 'emailVerified'>): Contact[] {
  return [
    ...(account.phone && account.phoneVerified ? [{ kind: 'phone' as const, value: account.phone }] : []),
    ...(account.email && account.emailVerified ? [{ kind: 'email' as const, value: account.email }] : []),
  ];
}
