/**
 * The account domain service: creating simplified accounts, finding them by what a citizen
 * types, changing passwords. Every write goes through the Store port with its audit event
 * in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { DuplicateKeyError, VersionConflictError, type AccountKey, type AuditEvent, type Store } from '../store.ts';
import type { Account, PersonName } from './account.ts';
import { auditEvent, type AuditInput } from '../security/audit.ts';
import type { Contact } from './contacts.ts';
import { passportKey } from './passport.ts';
import { verifiedItems } from './verification.ts';

/**
 * The keys an account can be found by: its confirmed contacts, passkeys, banks, and its SNILS and
 * passport — unique only once verified; a number only typed in is a shared key that never blocks
 * its real owner (DESIGN §2).
 */
export function accountKeys(account: Account): AccountKey[] {
  const keys: AccountKey[] = [];
  const verified = account.snils || account.identity?.passport ? verifiedItems(account) : new Map();
  if (account.phone && account.phoneVerified) keys.push({ kind: 'phone', value: account.phone });
  if (account.email && account.emailVerified) keys.push({ kind: 'email', value: account.email });
  if (account.snils) keys.push({ kind: 'snils', value: account.snils, ...(verified.has('snils') ? {} : { shared: true }) });
  for (const passkey of account.passkeys ?? []) keys.push({ kind: 'webauthn', value: passkey.id });
  for (const link of account.federations ?? []) keys.push({ kind: `fed:${link.provider}`, value: link.subject });
  const passport = account.identity?.passport;
  if (passport)
    keys.push({
      kind: 'passport',
      value: passportKey(passport.series, passport.number),
      ...(verified.has('id_doc') ? {} : { shared: true }),
    });
  return keys;
}

/** Whether two key lists hold the same keys (order aside). */
function sameKeys(a: AccountKey[], b: AccountKey[]): boolean {
  if (a.length !== b.length) return false;
  const id = (k: AccountKey) => `${k.kind}\u0000${k.value}\u0000${k.shared ? 1 : 0}`;
  const seen = new Set(a.map(id));
  return b.every((k) => seen.has(id(k)));
}

/**
 * The data of the account that relying parties receive (claims.ts): what OIDC's `updated_at`
 * dates. Devices seen, consents, factors and sessions are not part of it.
 */
function releasedData(a: Account): string {
  return JSON.stringify([
    a.name,
    a.phone ?? null,
    a.phoneVerified,
    a.email ?? null,
    a.emailVerified,
    a.snils ?? null,
    a.identity ?? null,
    a.level,
    (a.verifications ?? []).map((v) => v.id),
  ]);
}

/** Deleted by its owner (in the cabinet) and still in its grace: the owner may restore it. */
export function restorableByOwner(account: Account, now = new Date()): boolean {
  return account.status === 'deactivated' && account.deletion?.actor === 'self' && new Date(account.deletion.eraseAfter) > now;
}

export function fullName(name: PersonName): string {
  return [name.family, name.given, name.middle].filter(Boolean).join(' ');
}

export type AccountEvent = Omit<AuditInput, 'accountId'>;
export type AccountEvents = AccountEvent | ((before: Account, after: Account) => AccountEvent[]);

export interface Registration {
  name: PersonName;
  contact: Contact;
  passwordHash: string;
  ip?: string;
  clientId?: string;
  /** The consent to the processing of personal data the citizen gave (its version). */
  pdConsentVersion?: string;
}

/** How often `modify` re-reads and retries a change that met a concurrent one. */
const MODIFY_ATTEMPTS = 16;

export class Accounts {
  constructor(
    private readonly store: Store,
    /** Told of every audit event written with an account change (the structured log mirrors them). */
    private readonly published: (event: AuditEvent) => void = () => undefined,
  ) {}

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
      ...(input.pdConsentVersion ? { pdConsent: { version: input.pdConsentVersion, at: now } } : {}),
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
      details: {
        contact: input.contact.kind,
        level: 'simplified',
        ...(input.pdConsentVersion ? { pdConsent: input.pdConsentVersion } : {}),
      },
    });
    await this.store.accounts.create(account, accountKeys(account), [event]);
    this.published(event);
    return account;
  }

  /**
   * Stores an account made elsewhere (from a bank's or a certificate's data) with its audit events
   * in one transaction, and mirrors the events to the structured log like every other account
   * write. Throws DuplicateKeyError when one of its keys is taken.
   */
  async createWith(account: Account, events: AuditEvent[]): Promise<Account> {
    await this.store.accounts.create(account, accountKeys(account), events);
    events.forEach(this.published);
    return account;
  }

  async findActive(id: string): Promise<Account | undefined> {
    const account = await this.store.accounts.findById(id);
    return account?.status === 'active' ? account : undefined;
  }

  /**
   * An active account, or one its owner deleted and may still restore (in its grace). An account an
   * operator deleted (a written request, a court order) is not: only an operator undoes that.
   */
  async findActiveOrPendingDeletion(id: string, now = new Date()): Promise<Account | undefined> {
    const account = await this.store.accounts.findById(id);
    if (account?.status === 'active') return account;
    return account && restorableByOwner(account, now) ? account : undefined;
  }

  /** One request's reads of accounts, by an object that lives as long as the request (its IncomingMessage). */
  private readonly requestReads = new WeakMap<object, Map<string, Promise<Account | undefined>>>();

  /**
   * `findActive`, read once per request: node-oidc-provider asks for the signed-in account three
   * times while it resumes a sign-in (the acr check, the account, the grant) — one read serves them
   * all. Only for the provider's checks, which read and change nothing: a change made later in the
   * same request is not seen here (vkhod's own changes read afresh, `modify`).
   */
  findActiveOnce(request: object, id: string): Promise<Account | undefined> {
    let reads = this.requestReads.get(request);
    if (!reads) this.requestReads.set(request, (reads = new Map()));
    let read = reads.get(id);
    if (!read) {
      read = this.findActive(id);
      reads.set(id, read);
      // a failed read is not kept: the next check reads again
      read.catch(() => reads.delete(id));
    }
    return read;
  }

  async findByKey(key: AccountKey): Promise<Account | undefined> {
    const account = await this.store.accounts.findByKey(key);
    if (account && (await this.healedIdentityKey(account, key))) return undefined;
    return account?.status === 'active' ? account : undefined;
  }

  /** As `findByKey`, and also an account deleted but still in its grace (a password sign-in offers to restore it). */
  async findByKeyOrPendingDeletion(key: AccountKey): Promise<Account | undefined> {
    const active = await this.findByKey(key);
    if (active) return active;
    const stored = await this.store.accounts.findByKey(key);
    return stored?.status === 'deactivated' ? stored : undefined;
  }

  /**
   * Data stored before identity numbers were unique only once verified may still hold an
   * unverified SNILS or passport as a unique key: it is rewritten as shared (it blocks nobody).
   * True when that happened for `key`.
   */
  private async healedIdentityKey(account: Account, key: AccountKey): Promise<boolean> {
    if ((key.kind !== 'snils' && key.kind !== 'passport') || account.status !== 'active') return false;
    const current = accountKeys(account).find((k) => k.kind === key.kind && k.value === key.value);
    if (current && !current.shared) return false;
    await this.modify(account.id, (a) => a, undefined, { rewriteKeys: true }).catch(() => undefined);
    return true;
  }

  /** Every active account holding this identity number, verified (unique) or only typed in (shared). */
  async holdersOf(key: Pick<AccountKey, 'kind' | 'value'>): Promise<Account[]> {
    return (await this.store.accounts.holdersOf(key)).filter((a) => a.status === 'active');
  }

  /**
   * Applies `mutate` to the current account and stores it with its keys and audit events in one
   * transaction. `events` is one event, or a function of (before, after) giving several — e.g. a
   * level change noticed only once the new state is known. With `expect` the change applies only
   * to that version (a concurrent change fails with VersionConflictError — used where a race must
   * lose, e.g. a TOTP code used twice); otherwise it retries on the fresh version. `first` saves
   * the first read when the caller has just read the account (a stale one only costs a retry).
   * The lookup keys are written only when the change changes them (most changes — a known
   * device, a setting — leave them as they are); `rewriteKeys` writes them all the same (healing
   * keys stored by older code).
   */
  async modify(
    accountId: string,
    mutate: (current: Account) => Account,
    events?: AccountEvents,
    options: { expect?: Account; first?: Account; rewriteKeys?: boolean; pendingDeletionToo?: boolean } = {},
  ): Promise<Account> {
    for (let attempt = 0; ; attempt += 1) {
      // `first`: the caller's fresh read, for the first try (a conflict re-reads).
      const current =
        options.expect ??
        (attempt === 0 && options.first?.id === accountId
          ? options.first
          : options.pendingDeletionToo
            ? await this.findActiveOrPendingDeletion(accountId)
            : await this.findActive(accountId));
      if (!current) throw new Error('account not found');
      const now = new Date().toISOString();
      const mutated = mutate(current);
      const next = { ...mutated, updatedAt: now, ...(releasedData(mutated) !== releasedData(current) ? { profileUpdatedAt: now } : {}) };
      const inputs = typeof events === 'function' ? events(current, next) : events ? [events] : [];
      const written = inputs.map((e) => auditEvent({ ...e, accountId }));
      try {
        const keys = accountKeys(next);
        const changed = options.rewriteKeys || !sameKeys(accountKeys(current), keys);
        const stored = await this.store.accounts.update(next, current.version, changed ? keys : undefined, written);
        written.forEach(this.published);
        return stored;
      } catch (err) {
        // An identity number held unique by an account that never verified it (older data): heal it and try again.
        if (err instanceof DuplicateKeyError && err.key && attempt < 2 && (await this.findByKey(err.key)) === undefined) continue;
        // Each round of concurrent changes commits at least one of them, so N racing changes (tabs
        // of one citizen allowing at once) need at most N tries; bounded all the same.
        if (options.expect || attempt >= MODIFY_ATTEMPTS - 1 || !(err instanceof VersionConflictError)) throw err;
      }
    }
  }

  /** Sets a new password and ends every session and token of the account (recovery, or a change). */
  /**
   * A new password (recovery, the cabinet). Also for an account deleted but in its grace: the
   * citizen who proved a contact regains the password, and signing in with it offers the restore.
   */
  async replacePassword(accountId: string, passwordHash: string, event: Omit<AuditInput, 'accountId'>): Promise<Account> {
    const next = await this.modify(accountId, (a) => ({ ...a, passwordHash, sessionsValidAfter: new Date().toISOString() }), event, {
      pendingDeletionToo: true,
    });
    await this.store.revokeOidcByAccountId(accountId);
    return next;
  }
}
