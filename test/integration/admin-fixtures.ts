/**
 * Shortcuts for the admin suites (not a spec file): operators added through the domain service,
 * citizens made standard through the Levels API with the development registry (no delay in
 * tests), and the admin API called with HTTP Basic.
 */
import { expect } from 'chai';
import request from 'supertest';
import { snilsCheckSum } from '../../src/accounts/snils.ts';
import type { OperatorRole } from '../../src/admin/operators.ts';
import type { Account } from '../../src/store.ts';
import type { Harness } from '../support/harness.ts';
import { auditOfType, createAccount } from './fixtures.ts';

export interface TestOperator {
  login: string;
  password: string;
}

/** Adds an operator (or, when the login is taken from an earlier test, gives it a new password). */
export async function addOperator(h: Harness, login: string, roles: OperatorRole[], name = 'Оператор Тестовый'): Promise<TestOperator> {
  if (await h.services.operators.find(login)) return { login, password: await h.services.operators.resetPassword(login, 'test') };
  const { password } = await h.services.operators.add({ login, name, roles }, 'test');
  return { login, password };
}

/** A SNILS with valid check digits built from nine digits (above 001-001-998). */
export function snilsFrom(nine: string): string {
  return `${nine}${String(snilsCheckSum(nine)).padStart(2, '0')}`;
}

export interface CitizenData {
  phone?: string;
  nine?: string;
  series?: string;
  number?: string;
  family?: string;
}

export const CITIZEN = {
  phone: '+79123456789',
  nine: '112233445',
  series: '4506',
  number: '123456',
  birthDate: '1985-03-14',
  address: { formatted: 'г. Москва, ул. Тверская, д. 1, кв. 1', postalCode: '125009' },
};

/** An active simplified account with SNILS, passport and address saved (not yet checked). */
export async function citizenWithData(h: Harness, data: CitizenData = {}): Promise<Account> {
  const account = await createAccount(h, {
    phone: data.phone ?? CITIZEN.phone,
    name: { family: data.family ?? 'Иванова', given: 'Мария', middle: 'Петровна' },
  });
  return h.services.levels.saveIdentity(account.id, {
    snils: snilsFrom(data.nine ?? CITIZEN.nine),
    identity: {
      birthDate: CITIZEN.birthDate,
      gender: 'female',
      birthPlace: 'г. Москва',
      passport: {
        series: data.series ?? CITIZEN.series,
        number: data.number ?? CITIZEN.number,
        issueDate: '2005-04-01',
        issuer: 'ОВД района Тверской г. Москвы',
        departmentCode: '770-001',
      },
      address: CITIZEN.address,
    },
  });
}

/** A standard account: data saved and approved by the development registry. */
export async function standardCitizen(h: Harness, data: CitizenData = {}): Promise<Account> {
  const account = await citizenWithData(h, data);
  const standard = await h.services.levels.requestStandard(account.id);
  expect(standard.level, 'the registry approved the citizen').to.equal('standard');
  return standard;
}

export async function levelOf(h: Harness, accountId: string): Promise<Account['level']> {
  return (await h.services.store.accounts.findById(accountId))!.level;
}

/** The admin API as an operator (or anonymously when `as` is undefined), Russian by default. */
export function api(h: Harness, as?: TestOperator, language = 'ru') {
  const agent = request(h.url);
  const prepare = (test: request.Test) => {
    test.set('accept-language', language).set('accept', 'application/json');
    return as ? test.auth(as.login, as.password) : test;
  };
  return {
    get: (path: string) => prepare(agent.get(path)),
    post: (path: string) => prepare(agent.post(path)),
    delete: (path: string) => prepare(agent.delete(path)),
  };
}

/** Audit events of a type written with this actor. */
export function auditBy(h: Harness, type: string, actor: string) {
  return auditOfType(h, type).filter((e) => (e as { actor?: string }).actor === actor);
}
