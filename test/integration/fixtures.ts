/**
 * Shortcuts for the integration suites (not a spec file): accounts created straight through the
 * domain service (one argon2 hash per file), store edits the HTTP side cannot make (an expired
 * code), and small readers for pages and headers.
 */
import { expect } from 'chai';
import type { Response } from 'supertest';
import type { SqliteStore } from '../../adapters/sqlite/index.ts';
import { accountKeys } from '../../src/accounts/accounts.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { newVerification } from '../../src/accounts/verification.ts';
import type { Account, PersonName } from '../../src/store.ts';
import type { Browser, Page } from '../support/browser.ts';
import { decodeEntities } from '../support/browser.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';

const hashes = new Map<string, Promise<string>>();
const hashOf = (password: string) => {
  if (!hashes.has(password)) hashes.set(password, hashPassword(password));
  return hashes.get(password)!;
};

/** An active simplified account with a confirmed phone or e-mail (and optionally a SNILS). */
export async function createAccount(
  h: Harness,
  options: { phone?: string; email?: string; snils?: string; snilsVerified?: boolean; password?: string; name?: PersonName } = {},
): Promise<Account> {
  const contact = options.email
    ? { kind: 'email' as const, value: options.email }
    : { kind: 'phone' as const, value: options.phone ?? '+79123456789' };
  let account = await h.services.accounts.register({
    name: options.name ?? { family: 'Иванова', given: 'Мария' },
    contact,
    passwordHash: await hashOf(options.password ?? GOOD_PASSWORD),
  });
  if (options.snils) {
    let updated: Account = { ...account, snils: options.snils };
    // A SNILS only typed in is a shared key: it signs in nobody. `snilsVerified` stands for a check of it.
    if (options.snilsVerified)
      updated = {
        ...updated,
        verifications: [newVerification(updated, { method: 'registry', level: 'standard', actor: 'test', evidence: {}, items: ['snils'] })],
      };
    account = await h.services.store.accounts.update(updated, account.version, accountKeys(updated));
  }
  return account;
}

export function sqlite(h: Harness): SqliteStore['db'] {
  return (h.services.store as SqliteStore).db;
}

/**
 * Empties the store except its settings (the signing keys) and the clients, and forgets the messages sent: a
 * harness started once per file behaves like a fresh one in every test, without paying for new
 * signing keys each time.
 */
export function resetStore(h: Harness): void {
  const db = sqlite(h);
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('settings', 'clients') AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>
  ).map((t) => t.name);
  db.pragma('foreign_keys = OFF');
  try {
    for (const table of tables) db.prepare(`DELETE FROM "${table}"`).run();
  } finally {
    db.pragma('foreign_keys = ON');
  }
  h.gateway.sent.length = 0;
  h.gateway.failing = false;
}

/** Audit events of a type, newest last, straight from the store (also those without an account). */
export function auditOfType(
  h: Harness,
  type: string,
): Array<{ type: string; accountId?: string; clientId?: string; outcome?: string; details?: Record<string, unknown> }> {
  const rows = sqlite(h).prepare('SELECT event FROM audit WHERE type = ? ORDER BY seq').all(type) as Array<{ event: string }>;
  return rows.map((r) => JSON.parse(r.event));
}

export function countRows(h: Harness, table: 'accounts' | 'challenges' | 'audit'): number {
  return (sqlite(h).prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** The flow record behind a /register/:flow or /recover/:flow page. */
export async function flowOf(h: Harness, page: Page): Promise<{ id: string; challengeId: string; verified: boolean }> {
  const id = page.url.split('?')[0]!.split('/').pop()!;
  const flow = await h.services.store.oidcAdapter('VkhodFlow').find(id);
  expect(flow, `flow ${id}`).to.be.an('object');
  return flow as unknown as { id: string; challengeId: string; verified: boolean };
}

/** Moves a code's expiry into the past, as if five minutes had gone by. */
export function expireChallenge(h: Harness, challengeId: string): void {
  const past = new Date(Date.now() - 1000).toISOString();
  const db = sqlite(h);
  const row = db.prepare('SELECT doc FROM challenges WHERE id = ?').get(challengeId) as { doc: string } | undefined;
  expect(row, `challenge ${challengeId}`).to.be.an('object');
  const doc = { ...JSON.parse(row!.doc), expiresAt: past };
  db.prepare('UPDATE challenges SET expires_at = ?, doc = ? WHERE id = ?').run(past, JSON.stringify(doc), challengeId);
}

/** The error texts shown on a page (the error box and field errors), entities decoded. */
export function errorsOn(html: string): string[] {
  return [...html.matchAll(/<(?:div|p) class="(?:alert alert-error|field-error)"[^>]*>([^<]*)</g)].map((m) => decodeEntities(m[1]!.trim()));
}

export function firstError(html: string): string {
  const errors = errorsOn(html);
  expect(errors, 'an error message on the page').to.not.be.empty;
  return errors[0]!;
}

/** All Set-Cookie lines of a response. */
export function setCookies(res: Response): string[] {
  const raw = res.headers['set-cookie'] as unknown;
  return Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
}

/** No stack trace or raw exception text reaches the browser. */
export function expectNoLeak(body: string): void {
  expect(body).to.not.match(/^\s*at .+\(.+:\d+:\d+\)/m);
  expect(body).to.not.match(/\bat (?:async )?[\w.<>]+ \((?:file:|node:|\/)/);
  expect(body).to.not.include('Error:');
  expect(body).to.not.include('node_modules');
}

/** GETs a page through the browser's agent (cookies kept) without following redirects. */
export function rawGet(browser: Browser, path: string) {
  return browser.agent.get(path).set('accept-language', 'ru');
}

/**
 * The usual frame of a file's tests: one harness for the file (started before them, closed after)
 * and, before each test, an emptied store holding one citizen with `phone`. Read the harness
 * through the returned function inside the tests.
 */
export function harnessWithCitizen(phone: string, options?: Parameters<typeof startHarness>[0]): () => Harness {
  let h: Harness | undefined;
  before(async () => {
    h = await startHarness(options);
  });
  after(() => h?.close());
  beforeEach(async () => {
    resetStore(h!);
    await createAccount(h!, { phone });
  });
  return () => h!;
}
