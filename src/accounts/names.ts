/**
 * Names as in a Russian passport: Cyrillic letters, with hyphens, spaces and apostrophes
 * between parts (Римский-Корсаков, Анна Мария, Д'Артаньян).
 */
const NAME = /^[А-ЯЁа-яё]+(?:[ '’-][А-ЯЁа-яё]+)*$/u;
export const NAME_MAX_LENGTH = 60;

export type NameProblem = 'required' | 'too_long' | 'not_cyrillic';

/** Collapses spaces; returns the cleaned name or the problem. */
export function checkName(input: string | undefined, required: boolean): { value?: string; problem?: NameProblem } {
  // NFC: "й" or "ё" typed (or pasted, e.g. from macOS) as a letter and a combining mark is the letter.
  const value = (input ?? '')
    .normalize('NFC')
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\s*-\s*/g, '-');
  if (!value) return required ? { problem: 'required' } : {};
  if (value.length > NAME_MAX_LENGTH) return { problem: 'too_long' };
  if (!NAME.test(value)) return { problem: 'not_cyrillic' };
  return { value };
}
