/**
 * Russian → Latin letters, the ways citizens type their names in Latin: as on a passport (ICAO:
 * Sergei, Iuliia, Khabarov) and the common informal way (Sergey, Yuliya, Habarov).
 */
const PASSPORT: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'i',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: 'ie',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'iu',
  я: 'ia',
};
const INFORMAL: Record<string, string> = { ...PASSPORT, ё: 'yo', й: 'y', х: 'h', ц: 'c', щ: 'sch', ъ: '', ю: 'yu', я: 'ya' };

/** The Latin spellings of a Cyrillic word (lower case); none when it has no Cyrillic letters. */
export function transliterate(value: string): string[] {
  const lower = value.toLowerCase();
  if (!/[а-яё]/.test(lower)) return [];
  return [...new Set([PASSPORT, INFORMAL].map((map) => [...lower].map((c) => map[c] ?? c).join('')))];
}
