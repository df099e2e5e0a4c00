/**
 * User-facing text: `views/locales/<lang>.json`, Russian by default, English by `ui_locales`
 * or Accept-Language. Keys are dotted paths; `{name}` placeholders are filled from params.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'ru';

type Tree = { [key: string]: string | Tree };

export class Messages {
  private readonly trees: Record<Locale, Tree>;

  constructor(viewsDir: string) {
    this.trees = Object.fromEntries(
      LOCALES.map((l) => [l, JSON.parse(readFileSync(join(viewsDir, 'locales', `${l}.json`), 'utf8')) as Tree]),
    ) as Record<Locale, Tree>;
  }

  private lookup(locale: Locale, key: string): string | undefined {
    let node: string | Tree | undefined = this.trees[locale];
    for (const part of key.split('.')) {
      if (typeof node !== 'object') return undefined;
      node = node[part];
    }
    return typeof node === 'string' ? node : undefined;
  }

  has(key: string): boolean {
    return this.lookup(DEFAULT_LOCALE, key) !== undefined;
  }

  /**
   * The text for `key` in `locale`, falling back to Russian, then to the key itself. A value that
   * ends with a full stop (a Russian date: "2 января 2027 г.") ends the sentence after it too: no
   * second one ("г..").
   */
  t(locale: Locale, key: string, params: Record<string, unknown> = {}): string {
    const template = this.lookup(locale, key) ?? this.lookup(DEFAULT_LOCALE, key) ?? key;
    return template.replace(/\{(\w+)\}(\.?)/g, (_m, name: string, stop: string) => {
      if (params[name] === undefined) return `{${name}}${stop}`;
      const value = String(params[name]);
      return stop && value.endsWith('.') ? value : value + stop;
    });
  }
}

/** The first supported language in `ui_locales` (space-separated), else in Accept-Language. */
export function pickLocale(uiLocales: unknown, acceptLanguage: string | undefined): Locale {
  const fromList = (list: string[]) =>
    list.map((l) => l.trim().toLowerCase().split(/[-_]/)[0]).find((l): l is Locale => (LOCALES as readonly string[]).includes(l ?? ''));
  if (typeof uiLocales === 'string') {
    const hit = fromList(uiLocales.split(' '));
    if (hit) return hit;
  }
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .map((part) => {
        const [tag = '', ...params] = part.trim().split(';');
        const q = Number(params.find((p) => p.trim().startsWith('q='))?.split('=')[1] ?? 1);
        return { tag, q: Number.isFinite(q) ? q : 0 };
      })
      .filter((x) => x.q > 0)
      .sort((a, b) => b.q - a.q)
      .map((x) => x.tag);
    const hit = fromList(ranked);
    if (hit) return hit;
  }
  return DEFAULT_LOCALE;
}
