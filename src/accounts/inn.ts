/**
 * INN, the taxpayer number: 12 digits for a person, the last two check digits computed with the
 * Federal Tax Service's weights.
 */
const W11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

function checkDigit(digits: string, weights: number[]): number {
  const sum = weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
  return (sum % 11) % 10;
}

/** 12 digits when the input is a personal INN with valid check digits, otherwise undefined. */
export function normalizeInn(input: string): string | undefined {
  const digits = input.trim().replace(/[\s-]/g, '');
  if (!/^\d{12}$/.test(digits) || /^0{12}$/.test(digits)) return undefined;
  if (checkDigit(digits, W11) !== Number(digits[10]) || checkDigit(digits, W12) !== Number(digits[11])) return undefined;
  return digits;
}

/** The two check digits for the first ten digits of a personal INN (tests and fixtures use it). */
export function innCheckDigits(ten: string): string {
  const d11 = checkDigit(ten, W11);
  return `${d11}${checkDigit(`${ten}${d11}`, W12)}`;
}
