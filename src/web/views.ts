/**
 * Handlebars pages: `views/layouts/main.hbs` around `views/pages/<name>.hbs`, partials from
 * `views/partials/`. Compiled once at start. Every page gets the locale, a `t` helper, the CSP
 * nonce and the CSRF token for its binding.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import type { Context } from 'koa';
import { Messages, pickLocale, type Locale } from './i18n.ts';

export interface PageState {
  locale?: Locale;
  nonce?: string;
  csrf?: (binding: string) => string;
  /** The relying party's `ui_locales` of the interaction this request belongs to. */
  uiLocales?: unknown;
}

export class Views {
  private readonly hbs = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;
  readonly messages: Messages;

  constructor(dir: string) {
    this.messages = new Messages(dir);
    const messages = this.messages;
    this.hbs.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
      return messages.t(options.data.root.locale as Locale, key, options.hash as Record<string, unknown>);
    });
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).join(''));
    this.hbs.registerHelper('array', (...args: unknown[]) => args.slice(0, -1));
    this.hbs.registerHelper('json', (value: unknown) => new Handlebars.SafeString(JSON.stringify(value, null, 2).replace(/</g, '\\u003c')));
    for (const file of readdirSync(join(dir, 'partials'))) {
      // Compiled here, once: a partial registered as source is compiled again on every render that
      // uses it (Handlebars caches it only in that render's own partials table).
      this.hbs.registerPartial(basename(file, '.hbs'), this.hbs.compile(readFileSync(join(dir, 'partials', file), 'utf8')));
    }
    for (const file of readdirSync(join(dir, 'pages'))) {
      this.pages.set(basename(file, '.hbs'), this.hbs.compile(readFileSync(join(dir, 'pages', file), 'utf8'), { strict: false }));
    }
    this.layout = this.hbs.compile(readFileSync(join(dir, 'layouts', 'main.hbs'), 'utf8'));
  }

  /**
   * The page language: a `?ui_locales=` on this page, then the citizen's own choice (cookie set by
   * the language switch), then the relying party's `ui_locales`, then Accept-Language.
   */
  locale(ctx: Context, uiLocales?: unknown): Locale {
    const state = ctx.state as PageState;
    if (!state.locale || uiLocales !== undefined) {
      const chosen = [ctx.query.ui_locales, ctx.cookies.get('vkhod.lang'), uiLocales ?? state.uiLocales].find(
        (v) => typeof v === 'string' && v,
      );
      state.locale = pickLocale(chosen, ctx.get('accept-language'));
    }
    return state.locale;
  }

  /** A day ("2 декабря 2026 г." / "2 December 2026") in the page's language. */
  date(ctx: Context, iso: string): string {
    return new Date(iso).toLocaleDateString(this.locale(ctx) === 'en' ? 'en-GB' : 'ru-RU', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    });
  }

  t(ctx: Context, key: string, params?: Record<string, unknown>): string {
    return this.messages.t(this.locale(ctx), key, params);
  }

  /**
   * The notice a page was redirected with (`?notice=saved` after a change), as a locale key under
   * `<namespace>.notices` — only names that have a text there, anything else is ignored.
   */
  notice(ctx: Context, namespace: string): string | undefined {
    const name = ctx.query.notice;
    if (typeof name !== 'string' || !/^[a-z_]{1,40}$/.test(name)) return undefined;
    const key = `${namespace}.notices.${name}`;
    return this.messages.has(key) ? key : undefined;
  }

  /** Renders a page into the response. `data.title` is a locale key. */
  render(ctx: Context, page: string, data: Record<string, unknown> = {}, status = 200): void {
    const template = this.pages.get(page);
    if (!template) throw new Error(`no page ${page}`);
    const state = ctx.state as PageState;
    const locale = this.locale(ctx);
    const root = { ...data, locale, nonce: state.nonce, otherLocale: locale === 'ru' ? 'en' : 'ru', path: ctx.path };
    const body = template(root);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = this.layout({ ...root, body });
  }
}
