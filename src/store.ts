/**
 * The Store port (DESIGN §5): interfaces only. `adapters/sqlite` and `adapters/mongo`
 * implement it and both must pass `test/contract/`.
 */
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** node-oidc-provider's Adapter contract. Expiry is honoured by the store itself. */
export interface OidcAdapter {
  upsert(id: string, payload: OidcPayload, expiresIn: number): Promise<void>;
  find(id: string): Promise<OidcPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcPayload | undefined>;
  findByUid(uid: string): Promise<OidcPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface OidcPayload {
  [key: string]: unknown;
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
}

export type AccountLevel = 'simplified' | 'standard' | 'confirmed';
export type AccountStatus = 'active' | 'deleted';

export interface PersonName {
  family: string;
  given: string;
  middle?: string;
}

/** The stored shape of an account. The domain (`src/accounts`) owns its rules. */
export interface Account {
  id: string;
  /** Optimistic concurrency: incremented by every successful update. */
  version: number;
  status: AccountStatus;
  level: AccountLevel;
  name: PersonName;
  phone?: string;
  phoneVerified: boolean;
  email?: string;
  emailVerified: boolean;
  snils?: string;
  passwordHash?: string;
  /** Sessions and refresh tokens issued before this instant are no longer honoured. */
  sessionsValidAfter?: string;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
  /** Room for later capabilities (factors, identity documents) without schema changes. */
  extra?: Record<string, unknown>;
}

/**
 * A key that finds an account: a normalized login identifier (`phone`, `email`, `snils`),
 * a federated subject (`fed:<issuer>`), or a WebAuthn credential id (`webauthn`).
 * Unique across all accounts.
 */
export interface AccountKey {
  kind: string;
  value: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  type: string;
  accountId?: string;
  /** Who acted: `self`, `system`, an operator id, a client id. */
  actor?: string;
  clientId?: string;
  ip?: string;
  outcome?: 'success' | 'failure';
  details?: Record<string, unknown>;
}

export class DuplicateKeyError extends Error {
  constructor(public readonly key?: AccountKey) {
    super('account key already in use');
    this.name = 'DuplicateKeyError';
  }
}

export class VersionConflictError extends Error {
  constructor(public readonly accountId: string) {
    super(`account ${accountId} was changed concurrently`);
    this.name = 'VersionConflictError';
  }
}

export interface AccountRepository {
  /** Creates the account, its keys and the events in one transaction. */
  create(account: Account, keys: AccountKey[], events?: AuditEvent[]): Promise<void>;
  findById(id: string): Promise<Account | undefined>;
  findByKey(key: AccountKey): Promise<Account | undefined>;
  keysOf(id: string): Promise<AccountKey[]>;
  /**
   * Stores `account` when the stored version equals `expectedVersion`; the stored version
   * becomes `expectedVersion + 1`. When `keys` is given it replaces the account's keys.
   * Events are appended in the same transaction. Throws VersionConflictError / DuplicateKeyError.
   */
  update(account: Account, expectedVersion: number, keys?: AccountKey[], events?: AuditEvent[]): Promise<Account>;
  /** Marks deleted and frees its keys; the record stays until `erase`. */
  softDelete(id: string, at: string): Promise<void>;
  /** Removes the account and its keys for good. Audit events are kept. */
  erase(id: string): Promise<void>;
}

/** A one-time code (SMS, e-mail, post): only its keyed hash is stored. */
export interface Challenge {
  id: string;
  purpose: string;
  /** Normalized phone or e-mail address, or an account id for postal codes. */
  recipient: string;
  codeHash: string;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  expiresAt: string;
  consumedAt?: string;
  accountId?: string;
}

export interface ChallengeRepository {
  create(challenge: Challenge): Promise<void>;
  find(id: string): Promise<Challenge | undefined>;
  /** Atomically counts one wrong attempt; returns the challenge after the increment. */
  recordFailure(id: string): Promise<Challenge | undefined>;
  /**
   * Atomically marks the challenge consumed if it is unconsumed, unexpired at `now` and
   * has attempts left. Returns true for exactly one caller.
   */
  consume(id: string, now: string): Promise<boolean>;
  /** Removes expired challenges; returns how many. */
  sweep(now: string): Promise<number>;
}

export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listForAccount(accountId: string, limit?: number): Promise<AuditEvent[]>;
}

/** Small shared documents (e.g. the encrypted signing-key set) with compare-and-set. */
export interface SettingRepository {
  get(name: string): Promise<{ value: string; version: number } | undefined>;
  /** Writes when the stored version equals `expectedVersion` (0 = absent). Returns success. */
  put(name: string, value: string, expectedVersion: number): Promise<boolean>;
}

export interface RateLimiterOptions {
  keyPrefix: string;
  points: number;
  /** seconds */
  duration: number;
  /** seconds */
  blockDuration?: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'mongo';
  oidcAdapter(model: string): OidcAdapter;
  /** Ends every session and grant of an account (password recovery, account removal). */
  revokeOidcByAccountId(accountId: string): Promise<number>;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  readonly audit: AuditLog;
  readonly settings: SettingRepository;
  /** A rate-limiter-flexible limiter whose counters live in this store. */
  rateLimiter(options: RateLimiterOptions): RateLimiterAbstract;
  /** Resolves when the store answers; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
