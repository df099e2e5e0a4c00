/**
 * ESIA's request `timestamp`: `yyyy.MM.dd HH:mm:ss Z` (e.g. `2024.03.05 14:07:31 +0300`). A `+`
 * left unencoded in a query string arrives as a space; both spellings are read, and the signature
 * is checked over either (what the client signed had the `+`).
 */
const FORMAT = /^(\d{4})\.(\d{2})\.(\d{2}) (\d{2}):(\d{2}):(\d{2}) ?([+\- ])(\d{2}):?(\d{2})$/;

export interface EsiaTimestamp {
  /** milliseconds since the epoch */
  at: number;
  /** the spellings the client may have signed: as received, and with the `+` restored */
  spellings: string[];
}

export function parseEsiaTimestamp(raw: string): EsiaTimestamp | undefined {
  const m = FORMAT.exec(raw);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, sign, zh, zm] = m as unknown as string[];
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(utc);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)
    return undefined;
  const spellings = [raw];
  if (sign === ' ') spellings.push(raw.replace(/ (\d{2}:?\d{2})$/, '+$1'));
  return { at: utc - offsetMinutes * 60_000, spellings: [...new Set(spellings)] };
}

/** Formats `date` as ESIA does (UTC offset +0000). */
export function formatEsiaTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}.${p(date.getUTCMonth() + 1)}.${p(date.getUTCDate())} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`;
}
