/**
 * The MongoDB store's collections: document shapes, indexes and small helpers shared by the
 * repositories. Port values (ISO strings, plain JSON) are stored as they are; a Date field is
 * added only where a TTL index needs one.
 */
import type { mongo } from 'mongoose';
import type { Account, AuditEvent, Challenge, Letter, OidcPayload, StoredClient } from '../../src/store.ts';

export const COLLECTIONS = {
  oidc: 'oidc',
  accounts: 'accounts',
  accountKeys: 'account_keys',
  sharedKeys: 'account_shared_keys',
  challenges: 'challenges',
  audit: 'audit',
  settings: 'settings',
  letters: 'letters',
  rateLimits: 'rate_limits',
  // relying parties (adapters/mongo/clients.ts) and the ESIA profile (adapters/mongo/esia.ts)
  clients: 'clients',
  esiaOids: 'esia_oids',
  esiaCounters: 'esia_counters',
  esiaUsedStates: 'esia_used_states',
} as const;

export type ClientDoc = StoredClient & { _id: string };
/** An account's ESIA oid: `_id` is the account id, `oid` unique. */
export interface EsiaOidDoc {
  _id: string;
  oid: number;
}
/** `{ _id: 'oid', value }`: the oid handed out last is ESIA_OID_BASE + value. */
export interface EsiaCounterDoc {
  _id: string;
  value: number;
}

export interface OidcDoc {
  model: string;
  id: string;
  payload: OidcPayload;
  grantId?: string;
  accountId?: string;
  userCode?: string;
  uid?: string;
  /** TTL index; absent = never expires. `find` also hides rows past it (TTL sweeps lag). */
  expiresAt?: Date;
  /** Seconds since the epoch, set by `consume`, cleared by `upsert`. */
  consumed?: number;
  /** A tombstone of an ended session or grant (OidcAdapter.destroy): never found, never written over. */
  ended?: true;
}

/** The account itself, keyed by its id. */
export type AccountDoc = Account & { _id: string };

export interface AccountKeyDoc {
  kind: string;
  value: string;
  accountId: string;
}

/** `expiresAt` stays the port's ISO string (compared as a string, like SQLite); `expiresAtDate` feeds the TTL index. */
export type ChallengeDoc = Challenge & { _id: string; expiresAtDate: Date };

/** `atDate` is `at` as a Date: it feeds the retention TTL index (the port's `at` stays an ISO string). */
export type AuditDoc = AuditEvent & { atDate?: Date };

export interface SettingDoc {
  _id: string;
  value: string;
  version: number;
}

export type LetterDoc = Letter & { _id: string };

export interface Collections {
  oidc: mongo.Collection<OidcDoc>;
  accounts: mongo.Collection<AccountDoc>;
  accountKeys: mongo.Collection<AccountKeyDoc>;
  /** identity numbers typed in but not verified: several accounts may hold one */
  sharedKeys: mongo.Collection<AccountKeyDoc>;
  challenges: mongo.Collection<ChallengeDoc>;
  audit: mongo.Collection<AuditDoc>;
  settings: mongo.Collection<SettingDoc>;
  letters: mongo.Collection<LetterDoc>;
  clients: mongo.Collection<ClientDoc>;
  esiaOids: mongo.Collection<EsiaOidDoc>;
  esiaCounters: mongo.Collection<EsiaCounterDoc>;
}

export function collections(db: mongo.Db): Collections {
  return {
    oidc: db.collection<OidcDoc>(COLLECTIONS.oidc),
    accounts: db.collection<AccountDoc>(COLLECTIONS.accounts),
    accountKeys: db.collection<AccountKeyDoc>(COLLECTIONS.accountKeys),
    sharedKeys: db.collection<AccountKeyDoc>(COLLECTIONS.sharedKeys),
    challenges: db.collection<ChallengeDoc>(COLLECTIONS.challenges),
    audit: db.collection<AuditDoc>(COLLECTIONS.audit),
    settings: db.collection<SettingDoc>(COLLECTIONS.settings),
    letters: db.collection<LetterDoc>(COLLECTIONS.letters),
    clients: db.collection<ClientDoc>(COLLECTIONS.clients),
    esiaOids: db.collection<EsiaOidDoc>(COLLECTIONS.esiaOids),
    esiaCounters: db.collection<EsiaCounterDoc>(COLLECTIONS.esiaCounters),
  };
}

const present = (field: string) => ({ partialFilterExpression: { [field]: { $exists: true } } });

/**
 * Idempotent: run at every open. It also creates the collections, which multi-document
 * transactions need to exist beforehand on older servers. Sequential on purpose: concurrent
 * implicit creation of one collection can race on some server versions.
 */
export async function ensureIndexes(db: mongo.Db, options: { auditRetentionDays: number } = { auditRetentionDays: 0 }): Promise<void> {
  const c = collections(db);
  const rateLimits = db.collection(COLLECTIONS.rateLimits);
  const steps: (() => Promise<unknown>)[] = [
    () => c.oidc.createIndex({ model: 1, id: 1 }, { unique: true }),
    () => c.oidc.createIndex({ grantId: 1 }, present('grantId')),
    () => c.oidc.createIndex({ accountId: 1 }, present('accountId')),
    () => c.oidc.createIndex({ model: 1, uid: 1 }, present('uid')),
    () => c.oidc.createIndex({ model: 1, userCode: 1 }, present('userCode')),
    () => c.oidc.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
    () => db.createCollection(COLLECTIONS.accounts).catch(ignoreExists),
    () => c.accounts.createIndex({ 'deletion.eraseAfter': 1 }, { partialFilterExpression: { status: 'deactivated' } }),
    () => c.accountKeys.createIndex({ kind: 1, value: 1 }, { unique: true }),
    () => c.accountKeys.createIndex({ accountId: 1 }),
    () => c.sharedKeys.createIndex({ kind: 1, value: 1, accountId: 1 }, { unique: true }),
    () => c.sharedKeys.createIndex({ accountId: 1 }),
    () => c.challenges.createIndex({ expiresAtDate: 1 }, { expireAfterSeconds: 0 }),
    () => c.challenges.createIndex({ expiresAt: 1 }),
    () => c.audit.createIndex({ id: 1 }, { unique: true }),
    () => c.audit.createIndex({ accountId: 1, at: -1, _id: -1 }),
    () => db.createCollection(COLLECTIONS.settings).catch(ignoreExists),
    () => c.letters.createIndex({ status: 1, createdAt: 1, _id: 1 }),
    () => c.letters.createIndex({ accountId: 1 }),
    // the two indexes RateLimiterMongo.createIndexes() would build (our limiters are told not to)
    () => rateLimits.createIndex({ expire: -1 }, { expireAfterSeconds: 0 }),
    () => rateLimits.createIndex({ key: 1 }, { unique: true }),
    // clients and the ESIA profile: created here so that a transaction (store import) may write them
    ...clientsAndEsiaSteps(db),
  ];
  for (const step of steps) await step();
  await auditRetention(db, options.auditRetentionDays);
}

/** The clients and ESIA collections and their indexes (idempotent; also migration 3). */
export function clientsAndEsiaSteps(db: mongo.Db): (() => Promise<unknown>)[] {
  const c = collections(db);
  return [
    () => db.createCollection(COLLECTIONS.clients).catch(ignoreExists),
    () => db.createCollection(COLLECTIONS.esiaCounters).catch(ignoreExists),
    () => c.esiaOids.createIndex({ oid: 1 }, { unique: true }),
    () => db.collection(COLLECTIONS.esiaUsedStates).createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
  ];
}

/**
 * The audit's retention (VKHOD_AUDIT_RETENTION_DAYS) as a TTL index on `atDate`; a changed
 * setting changes the index in place (collMod), 0 drops it (kept forever).
 */
async function auditRetention(db: mongo.Db, days: number): Promise<void> {
  const audit = db.collection(COLLECTIONS.audit);
  const name = 'audit_retention';
  const existing = (await audit.indexes()).find((i) => i.name === name);
  if (days <= 0) {
    if (existing) await audit.dropIndex(name);
    return;
  }
  const expireAfterSeconds = days * 86400;
  if (!existing) await audit.createIndex({ atDate: 1 }, { name, expireAfterSeconds });
  else if (existing.expireAfterSeconds !== expireAfterSeconds) {
    await db.command({ collMod: COLLECTIONS.audit, index: { name, expireAfterSeconds } });
  }
}

/** NamespaceExists (48): the collection is already there. */
function ignoreExists(err: unknown): void {
  if ((err as { code?: unknown }).code !== 48) throw err;
}

/** E11000 duplicate key, from a single write or a bulk write. */
export const isDuplicateKey = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;

/**
 * A JSON copy, exactly what the SQLite adapter stores: `undefined` members disappear (the
 * driver would otherwise write them as null) and the caller's object is never mutated
 * (the driver adds `_id` to inserted documents).
 */
export const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Lookups by a missing value match nothing (as `= NULL` in SQL); `{ f: null }` would match absent fields. */
export const isKey = (value: unknown): value is string => typeof value === 'string';
