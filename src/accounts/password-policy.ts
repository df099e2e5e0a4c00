/**
 * Which passwords a citizen may choose (DESIGN §6): a minimum length, the character classes
 * citizens are used to, and no common or guessable passwords.
 */
import type { PasswordClass } from '../../config/load.ts';
import { COMMON_PASSWORDS } from './common-passwords.ts';
import type { Account } from './account.ts';
import { transliterate } from './transliterate.ts';

export interface PasswordPolicy {
  minLength: number;
  classes: PasswordClass[];
}

export const PASSWORD_MAX_LENGTH = 128;

export type PasswordProblem =
  | 'required'
  | 'too_short'
  | 'too_long'
  | 'needs_upper'
  | 'needs_lower'
  | 'needs_digit'
  | 'needs_symbol'
  | 'common'
  | 'contains_personal'
  | 'control_characters'
  | 'mismatch';

/**
 * Characters no keyboard types and that a form, a copy or another browser may drop or change: a
 * password holding one may become impossible to type again. Control characters (C0, DEL, C1),
 * format characters (zero-width, direction marks and overrides, the BOM) and unpaired surrogates.
 */
const UNTYPEABLE = /[\p{Cc}\p{Cs}]|(?!\u200d)\p{Cf}/u; // U+200D joins emoji a phone's keyboard types (👨‍👩‍👧)

const CLASS_TEST: Record<PasswordClass, RegExp> = {
  upper: /\p{Lu}/u,
  lower: /\p{Ll}/u,
  digit: /\d/,
  symbol: /[^\p{L}\d\s]/u,
};

const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  'йцукенгшщзхъ',
  'фывапролджэ',
  'ячсмитьбю',
  'абвгдеёжзийклмнопрстуфхцчшщъыьэюя',
  'абвгдежзийклмнопрстуфхцчшщъыьэюя',
];

/** The password's core word: lower-cased, with the digits and symbols around it removed. */
function core(password: string): string {
  return password.toLowerCase().replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
}

function isGuessable(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || COMMON_PASSWORDS.has(core(password))) return true;
  if (/^(.)\1+$/u.test(lower) || new Set(lower).size <= 3) return true;
  const isSequence = (s: string) => s.length >= 6 && SEQUENCES.some((seq) => seq.includes(s) || [...seq].reverse().join('').includes(s));
  // A keyboard or alphabet run is as guessable with digits and symbols around it (Йцукенгш1!).
  return isSequence(lower.replace(/[^\p{L}\d]/gu, '')) || isSequence(core(password).replace(/[^\p{L}]/gu, ''));
}

/**
 * Problems with a new password, in the order a person fixes them; empty when it is acceptable.
 * `personal` holds the citizen's own data (names, phone, e-mail) that a password must not contain,
 * in Cyrillic or in Latin letters (Ivanov, Sergey).
 */
export function checkPassword(
  password: string | undefined,
  confirm: string | undefined,
  policy: PasswordPolicy,
  personal: string[] = [],
): PasswordProblem[] {
  if (!password) return ['required'];
  if (password.length > PASSWORD_MAX_LENGTH) return ['too_long'];
  const problems: PasswordProblem[] = [];
  if (UNTYPEABLE.test(password)) problems.push('control_characters');
  if ([...password].length < policy.minLength) problems.push('too_short');
  for (const cls of policy.classes) if (!CLASS_TEST[cls].test(password)) problems.push(`needs_${cls}`);
  if (isGuessable(password)) problems.push('common');
  const lower = password.toLowerCase();
  const personalHit = [...personal, ...personal.flatMap(transliterate)]
    .map((p) => p.toLowerCase().replace(/^\+7/, ''))
    .filter((p) => p.length >= 4)
    .some((p) => lower.includes(p.split('@')[0]!.slice(0, 32)));
  if (personalHit) problems.push('contains_personal');
  if (confirm !== undefined && confirm !== password) problems.push('mismatch');
  return problems;
}

/** The citizen's own words a password must not contain (the policy adds their Latin spellings). */
export function personalWords(a: Pick<Account, 'name' | 'phone' | 'email'>): string[] {
  return [a.name.family, a.name.given, a.name.middle, a.phone, a.email].filter((w): w is string => Boolean(w));
}
