/** Calendar dates citizens type: DD.MM.YYYY or YYYY-MM-DD, stored as YYYY-MM-DD. */

/** YYYY-MM-DD for a real calendar date, otherwise undefined. */
export function parseDate(input: string | undefined): string | undefined {
  const raw = (input ?? '').trim();
  const m = raw.match(/^(\d{4})-(\d{2})-(\d{2})$/) ?? raw.match(/^(\d{2})\.(\d{2})\.(\d{4})$/);
  if (!m) return undefined;
  const [y, mo, d] = raw.includes('-') ? [m[1], m[2], m[3]] : [m[3], m[2], m[1]];
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return undefined;
  return `${y}-${mo}-${d}`;
}

/** Written like a date (DD.MM.YYYY or YYYY-MM-DD) whether or not the day exists (31.02.1985). */
export function looksLikeDate(input: string | undefined): boolean {
  const raw = (input ?? '').trim();
  return /^\d{4}-\d{2}-\d{2}$/.test(raw) || /^\d{2}\.\d{2}\.\d{4}$/.test(raw);
}

/** Whole years from `birth` to `on` (both YYYY-MM-DD). */
export function ageOn(birth: string, on: string): number {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** DD.MM.YYYY for display. */
export function formatDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}.${m}.${y}`;
}
