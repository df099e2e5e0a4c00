/** What the bad-input suites share: test data, a browser that records every page, the sign-in step. */
import { Browser, type Page } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';

export const PHONE = '+79123456789';
export const NEW_PHONE = '+79123456780';
export const NEW_PASSWORD = 'Синий-Слон-17#';
export const CSRF_RU = 'Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите действие.';
export const TOO_LARGE_RU = 'Отправлено слишком много данных. Сократите введённый текст и попробуйте снова.';

/** A Browser that keeps every page it saw, so each test can check that none leaked internals. */
export class RecordingBrowser extends Browser {
  static pages: Page[] = [];
  override async get(url: string, maxRedirects?: number): Promise<Page> {
    const page = await super.get(url, maxRedirects);
    RecordingBrowser.pages.push(page);
    return page;
  }
  override async post(url: string, fields: Record<string, string>, follow?: boolean): Promise<Page> {
    const page = await super.post(url, fields, follow);
    RecordingBrowser.pages.push(page);
    return page;
  }
}

export async function signInOnly(browser: Browser): Promise<Page> {
  const login = await browser.get(authorizePath());
  return browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
}
