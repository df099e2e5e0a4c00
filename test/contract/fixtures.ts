/** Builders for the Store contract suite: unique ids, accounts, events, challenges. */
import { randomBytes } from 'node:crypto';
import type { Account, AccountKey, AuditEvent, Challenge } from '../../src/store.ts';

/** A short unique id, so tests never collide inside one store (or across runs). */
export const uniq = (prefix = 'id'): string => `${prefix}-${randomBytes(8).toString('hex')}`;

const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

export const isoIn = (ms: number, from = Date.now()): string => new Date(from + ms).toISOString();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function fakeAccount(overrides: Partial<Account> = {}): Account {
  const id = overrides.id ?? uniq('acc');
  const at = new Date().toISOString();
  return {
    id,
    version: 1,
    status: 'active',
    level: 'standard',
    name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' },
    phone: `+7${digits(10)}`,
    phoneVerified: true,
    email: `${id}@example.test`,
    emailVerified: false,
    snils: digits(11),
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${digits(8)}`,
    createdAt: at,
    updatedAt: at,
    extra: { factors: [{ kind: 'totp', enabled: true, counter: 3 }], nested: { a: [1, 'two', null, false] } },
    ...overrides,
  };
}

/** The login keys an account would be found by. */
export function keysFor(account: Account): AccountKey[] {
  const keys: AccountKey[] = [];
  if (account.phone) keys.push({ kind: 'phone', value: account.phone });
  if (account.email) keys.push({ kind: 'email', value: account.email });
  if (account.snils) keys.push({ kind: 'snils', value: account.snils });
  return keys;
}

export const byKindValue = (a: AccountKey, b: AccountKey): number =>
  a.kind === b.kind ? (a.value < b.value ? -1 : a.value > b.value ? 1 : 0) : a.kind < b.kind ? -1 : 1;

export const sortedKeys = (keys: AccountKey[]): AccountKey[] => [...keys].sort(byKindValue);

export function fakeEvent(accountId: string | undefined, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: uniq('evt'),
    at: new Date().toISOString(),
    type: 'account.created',
    ...(accountId ? { accountId } : {}),
    actor: 'self',
    clientId: 'test-client',
    ip: '203.0.113.7',
    outcome: 'success',
    details: { channel: 'sms', codes: [1, 2, 3] },
    ...overrides,
  };
}

export function fakeChallenge(overrides: Partial<Challenge> = {}): Challenge {
  return {
    id: uniq('chl'),
    purpose: 'login',
    recipient: `+7${digits(10)}`,
    codeHash: randomBytes(32).toString('base64url'),
    attempts: 0,
    maxAttempts: 3,
    createdAt: new Date().toISOString(),
    expiresAt: isoIn(10 * 60_000),
    ...overrides,
  };
}
