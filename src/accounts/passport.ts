/** The Russian internal passport: series (4 digits), number (6), department code (NNN-NNN). */

export function normalizePassportSeries(input: string): string | undefined {
  const digits = input.trim().replace(/\s+/g, '');
  return /^\d{4}$/.test(digits) ? digits : undefined;
}

export function normalizePassportNumber(input: string): string | undefined {
  const digits = input.trim().replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

export function normalizeDepartmentCode(input: string): string | undefined {
  const digits = input.trim().replace(/[\s-]/g, '');
  return /^\d{6}$/.test(digits) ? `${digits.slice(0, 3)}-${digits.slice(3)}` : undefined;
}

/** Series and number as printed: 45 06 123456. */
export function formatPassport(series: string, number: string): string {
  return `${series.slice(0, 2)} ${series.slice(2)} ${number}`;
}

/** The account key a passport is found by (the service centre searches by it). */
export function passportKey(series: string, number: string): string {
  return `${series}${number}`;
}
