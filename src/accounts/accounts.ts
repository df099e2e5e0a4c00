/**
 * The account domain service: creating simplified accounts, finding them by what a citizen
 * types, changing passwords. Every write goes through the Store port with its audit event
 * in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Account, AccountKey, AuditEvent, PersonName, Store } from '../store.ts';
import { auditEvent } from '../security/audit.ts';
import type { Contact } from './contacts.ts';

/** The keys an account can be found by: its confirmed contacts and its SNILS. */
export function accountKeys(account: Account): AccountKey[] {
  const keys: AccountKey[] = [];
  if (account.phone && account.phoneVerified) keys.push({ kind: 'phone', value: account.phone });
  if (account.email && account.emailVerified) keys.push({ kind: 'email', value: account.email });
  if (account.snils) keys.push({ kind: 'snils', value: account.snils });
  return keys;
}

export function fullName(name: PersonName): string {
  return [name.family, name.given, name.middle].filter(Boolean).join(' ');
}

export interface Registration {
  name: PersonName;
  contact: Contact;
  passwordHash: string;
  ip?: string;
  clientId?: string;
}

export class Accounts {
  constructor(private readonly store: Store) {}

  /** Creates a simplified account with one confirmed contact. Throws DuplicateKeyError if the contact is taken. */
  async register(input: Registration): Promise<Account> {
    const now = new Date().toISOString();
    const account: Account = {
      id: randomUUID(),
      version: 1,
      status: 'active',
      level: 'simplified',
      name: input.name,
      phoneVerified: false,
      emailVerified: false,
      passwordHash: input.passwordHash,
      createdAt: now,
      updatedAt: now,
    };
    if (input.contact.kind === 'phone') Object.assign(account, { phone: input.contact.value, phoneVerified: true });
    else Object.assign(account, { email: input.contact.value, emailVerified: true });
    const event = auditEvent({
      type: 'account.registered',
      accountId: account.id,
      actor: 'self',
      ip: input.ip,
      clientId: input.clientId,
      outcome: 'success',
      details: { contact: input.contact.kind, level: 'simplified' },
    });
    await this.store.accounts.create(account, accountKeys(account), [event]);
    return account;
  }

  async findActive(id: string): Promise<Account | undefined> {
    const account = await this.store.accounts.findById(id);
    return account?.status === 'active' ? account : undefined;
  }

  async findByKey(key: AccountKey): Promise<Account | undefined> {
    const account = await this.store.accounts.findByKey(key);
    return account?.status === 'active' ? account : undefined;
  }

  /**
   * Sets a new password and ends every session and token of the account (recovery, or a
   * change the citizen asked for). Retries once on a concurrent change.
   */
  async replacePassword(accountId: string, passwordHash: string, event: Omit<AuditEvent, 'id' | 'at' | 'accountId'>): Promise<Account> {
    for (let attempt = 0; ; attempt += 1) {
      const current = await this.findActive(accountId);
      if (!current) throw new Error('account not found');
      const now = new Date().toISOString();
      try {
        const next = await this.store.accounts.update(
          { ...current, passwordHash, sessionsValidAfter: now, updatedAt: now },
          current.version,
          undefined,
          [auditEvent({ ...event, accountId })],
        );
        await this.store.revokeOidcByAccountId(accountId);
        return next;
      } catch (err) {
        if (attempt >= 2 || (err as Error).name !== 'VersionConflictError') throw err;
      }
    }
  }
}
