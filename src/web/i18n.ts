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
    return lookupIn(this.trees[locale], key);
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

/**
 * The text at `key` in a tree of texts: parts separated by dots, where a part may itself hold dots
 * (`history.events` keys are audit event types such as `signin.new_device`): at each level the
 * rest of the key as one name is tried first. Own properties only.
 */
function lookupIn(node: string | Tree | undefined, key: string): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  if (Object.hasOwn(node, key) && typeof node[key] === 'string') return node[key] as string;
  for (let dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
    const head = key.slice(0, dot);
    if (!Object.hasOwn(node, head)) continue;
    const found = lookupIn(node[head], key.slice(dot + 1));
    if (found !== undefined) return found;
  }
  return undefined;
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
