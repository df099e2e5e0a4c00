/**
 * What a citizen types into "Телефон, почта или СНИЛС": recognised and normalized to the
 * account key it finds.
 */
import type { AccountKey } from '../store.ts';
import { normalizeEmail, normalizePhone } from './contacts.ts';
import { looksLikeSnils, normalizeSnils } from './snils.ts';

export type IdentifierProblem = 'required' | 'bad_email' | 'bad_snils' | 'bad_phone';

export function parseLoginIdentifier(input: string | undefined): { key?: AccountKey; problem?: IdentifierProblem } {
  const raw = (input ?? '').trim();
  if (!raw) return { problem: 'required' };
  if (raw.includes('@')) {
    const value = normalizeEmail(raw);
    return value ? { key: { kind: 'email', value } } : { problem: 'bad_email' };
  }
  // Written the SNILS way (123-456-789 01) it is a SNILS even if the digits could dial a phone.
  if (/^\d{3}-\d{3}-\d{3}[ -]\d{2}$/.test(raw)) {
    const snils = normalizeSnils(raw);
    return snils ? { key: { kind: 'snils', value: snils } } : { problem: 'bad_snils' };
  }
  const phone = normalizePhone(raw);
  if (phone) return { key: { kind: 'phone', value: phone } };
  if (looksLikeSnils(raw)) {
    const snils = normalizeSnils(raw);
    return snils ? { key: { kind: 'snils', value: snils } } : { problem: 'bad_snils' };
  }
  return { problem: 'bad_phone' };
}
