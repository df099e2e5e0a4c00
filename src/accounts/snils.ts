/**
 * SNILS, the pension insurance number: 11 digits, the last two a check sum of the first nine.
 * Written XXX-XXX-XXX YY; citizens type it with or without the separators.
 */

/** The two check digits for the first nine digits, by the Pension Fund's rule. */
export function snilsCheckSum(nine: string): number {
  let sum = 0;
  for (let i = 0; i < 9; i += 1) sum += Number(nine[i]) * (9 - i);
  if (sum < 100) return sum;
  if (sum === 100 || sum === 101) return 0;
  const rest = sum % 101;
  return rest === 100 ? 0 : rest;
}

/** 11 digits when the input is a SNILS with valid check digits, otherwise undefined. */
export function normalizeSnils(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length > 20 || !/^[\d\s-]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length !== 11) return undefined;
  const nine = digits.slice(0, 9);
  // Numbers up to 001-001-998 were issued before check sums existed and are not checked.
  if (Number(nine) <= 1001998) return digits;
  return snilsCheckSum(nine) === Number(digits.slice(9)) ? digits : undefined;
}

export function formatSnils(snils: string): string {
  return `${snils.slice(0, 3)}-${snils.slice(3, 6)}-${snils.slice(6, 9)} ${snils.slice(9)}`;
}

/** True when the input looks like a SNILS attempt (digits with SNILS separators, 11 digits). */
export function looksLikeSnils(input: string): boolean {
  return /^\s*\d{3}[\s-]?\d{3}[\s-]?\d{3}[\s-]?\d{2}\s*$/.test(input);
}
