/**
 * Identity data for the level tests: a valid form as a citizen types it, and shortcuts that raise
 * an account through the domain (the development registry approves at once in tests).
 */
import { expect } from 'chai';
import { checkIdentitySubmission } from '../../src/accounts/identity.ts';
import { innCheckDigits } from '../../src/accounts/inn.ts';
import { snilsCheckSum } from '../../src/accounts/snils.ts';
import type { Account } from '../../src/store.ts';
import { csrfOf, type Browser, type Page } from './browser.ts';
import type { Harness } from './harness.ts';

/** A SNILS with valid check digits for nine digits (999… is "not found" at the development registry). */
export const snilsFor = (nine: string) => `${nine}${String(snilsCheckSum(nine)).padStart(2, '0')}`;
/** A personal INN with valid check digits for ten digits. */
export const innFor = (ten: string) => `${ten}${innCheckDigits(ten)}`;

/** A complete identity form (name included) that the development registry approves. */
export const IDENTITY_FORM: Record<string, string> = {
  family: 'Иванова',
  given: 'Мария',
  middle: 'Петровна',
  birth_date: '05.03.1985',
  gender: 'female',
  birth_place: 'гор. Москва',
  snils: '112-233-445 95',
  inn: innFor('5001007322'),
  passport_series: '45 06',
  passport_number: '123456',
  passport_issue_date: '20.03.2005',
  passport_issuer: 'ОВД района Хамовники гор. Москвы',
  passport_department_code: '772-001',
  address: 'г. Москва, ул. Тверская, д. 1, кв. 2',
  postal_code: '125009',
};

/** The identity form's fields for the test certificates' Ivan Petrov (scripts/esign's citizen), his SNILS without an INN. */
export const IVAN_FORM: Record<string, string> = {
  family: 'Петров',
  given: 'Иван',
  middle: 'Сергеевич',
  gender: 'male',
  snils: '11223344595',
  inn: '',
};

/** Stores identity data straight through the domain (as the cabinet form would). */
export async function saveIdentity(h: Harness, accountId: string, changes: Record<string, string> = {}): Promise<Account> {
  const submission = checkIdentitySubmission({ ...IDENTITY_FORM, ...changes });
  expect(submission.errors, 'valid identity data').to.deep.equal({});
  return h.services.levels.saveIdentity(accountId, { snils: submission.snils, identity: submission.identity, name: submission.name });
}

/** Identity data + an approved registry check: a standard account. */
export async function makeStandard(h: Harness, accountId: string, changes: Record<string, string> = {}): Promise<Account> {
  await saveIdentity(h, accountId, changes);
  const account = await h.services.levels.requestStandard(accountId);
  expect(account.level, 'approved by the development registry').to.equal('standard');
  return account;
}

/** A standard account confirmed by a service-centre operator (straight through the domain). */
export async function makeConfirmed(h: Harness, accountId: string, changes: Record<string, string> = {}): Promise<Account> {
  await makeStandard(h, accountId, changes);
  return h.services.levels.confirm(accountId, {
    method: 'service_centre',
    actor: 'operator:test',
    evidence: { document: 'passport', checkedInPerson: true },
  });
}

/** Posts the cabinet identity form (its action is exactly /account/identity) with the page's CSRF token. */
export function postIdentityForm(browser: Browser, page: Page, fields: Record<string, string>, path = '/account/identity'): Promise<Page> {
  return browser.post(path, { _csrf: csrfOf(page.html), ...fields });
}

/** The field error under `field`, or undefined. */
export function fieldError(html: string, field: string): string | undefined {
  const m = html.match(new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`));
  return m
    ? m[1]!
        .replace(/&quot;/g, '"')
        .replace(/&#x27;/g, "'")
        .replace(/&amp;/g, '&')
    : undefined;
}

/** The verification status cell of an item on an identity page. */
export function itemStatus(html: string, item: string): string | undefined {
  return html.match(new RegExp(`data-item="${item}">([^<]*)<`))?.[1];
}
