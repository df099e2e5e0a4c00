/**
 * The Store port (DESIGN §5): interfaces only. `adapters/sqlite` and `adapters/mongo`
 * implement it and both must pass `test/contract/`.
 */
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Account, PostalAddress } from './accounts/account.ts';

/** The domain types the port names, for the adapters and contract tests (which import only the port). */
export type {
  AccountLevel,
  AccountStatus,
  PersonName,
  SecondFactorKind,
  Passkey,
  Passport,
  PostalAddress,
  IdentityData,
  VerificationMethod,
  VerifiedItem,
  VerificationEvent,
  Account,
} from './accounts/account.ts';

/** node-oidc-provider's Adapter contract. Expiry is honoured by the store itself. */
export interface OidcAdapter {
  upsert(id: string, payload: OidcPayload, expiresIn: number): Promise<void>;
  find(id: string): Promise<OidcPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcPayload | undefined>;
  findByUid(uid: string): Promise<OidcPayload | undefined>;
  /**
   * Marks a live, not yet consumed entry consumed (a conditional write): true when this caller
   * consumed it, false when it was already consumed, expired or gone — the caller lost the race.
   */
  consume(id: string): Promise<boolean>;
  /**
   * Removes the entry. For the models in ENDED_FOR_GOOD (a sign-in session, a grant) the removal is
   * final: it leaves a tombstone that `find` and `findByUid` do not see and `upsert` never writes
   * over (a conditional write), so a request that loaded the entry before it was ended cannot save
   * it back at its end — node-oidc-provider saves the session after every request it serves.
   * (Those models are never consumed.)
   */
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** What ending means for good: "end this session", a withdrawn consent (see OidcAdapter.destroy). */
export const ENDED_FOR_GOOD: ReadonlySet<string> = new Set(['Session', 'Grant']);
/** How long a tombstone of an entry that had no expiry (or was not found) is kept, seconds. */
export const TOMBSTONE_SECONDS = 3600;

export interface OidcPayload {
  [key: string]: unknown;
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
}

/**
 * A key that finds an account: a normalized login identifier (`phone`, `email`, `snils`),
 * a federated subject (`fed:<issuer>`), or a WebAuthn credential id (`webauthn`).
 * Unique across all accounts — unless `shared`: an identity number (SNILS, passport) typed in but
 * not verified may be held by several accounts at once (it never blocks its real owner), is not
 * found by `findByKey`, and is found with every other holder by `holdersOf`.
 */
export interface AccountKey {
  kind: string;
  value: string;
  shared?: boolean;
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

/**
 * The store cannot take writes right now (its lock is held past the deadline, the disk is full,
 * an I/O error): the caller can only wait. Answered 503 with `Retry-After`, never 500.
 * `statusCode`, `expose` and `error_description` make node-oidc-provider answer it as such too.
 */
export class StoreUnavailableError extends Error {
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  readonly error_description: string;

  constructor(
    public readonly reason: 'busy' | 'full' | 'io' | 'closed',
    /** seconds */
    public readonly retryAfter = 1,
  ) {
    // The message is the OAuth error code node-oidc-provider puts in `error`.
    super('temporarily_unavailable');
    this.name = 'StoreUnavailableError';
    this.error_description =
      reason === 'busy' ? 'the service is busy, try again shortly' : 'the service cannot store data right now, try again later';
  }
}

export interface AccountRepository {
  /** Creates the account, its keys and the events in one transaction. */
  create(account: Account, keys: AccountKey[], events?: AuditEvent[]): Promise<void>;
  findById(id: string): Promise<Account | undefined>;
  /** The account holding this unique key (shared keys are never found here). */
  findByKey(key: AccountKey): Promise<Account | undefined>;
  /** Every account holding the kind + value, unique or shared (at most a few). */
  holdersOf(key: Pick<AccountKey, 'kind' | 'value'>): Promise<Account[]>;
  /** Unique keys first (kind, value order), then the shared ones with `shared: true`. */
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
  /** Ids of `deactivated` accounts whose `deletion.eraseAfter` is at or before `at` (at most `limit`). */
  dueForErasure(at: string, limit: number): Promise<string[]>;
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
  /**
   * Takes one attempt before the typed code is compared: atomically counts it if the challenge is
   * unconsumed, unexpired at `now` and has attempts left, and returns the challenge after the
   * increment; undefined when there was none to take (so of N parallel guesses at most
   * `maxAttempts` are ever compared).
   */
  takeAttempt(id: string, now: string): Promise<Challenge | undefined>;
  /**
   * Atomically marks the challenge consumed if it is unconsumed, unexpired at `now` and its
   * attempts (the one taken for this check included) are within `maxAttempts`. Returns true for
   * exactly one caller.
   */
  consume(id: string, now: string): Promise<boolean>;
  /** Removes expired challenges; returns how many. */
  sweep(now: string): Promise<number>;
}

/** A letter with a confirmation code, queued for printing and posting (upgrade to confirmed). */
export interface Letter {
  id: string;
  accountId: string;
  /** queued → sent (posted), or queued → cancelled (its request was voided: nothing to post). */
  status: 'queued' | 'sent' | 'cancelled';
  createdAt: string;
  /** Whom it goes to; removed when the account is erased (152-FZ: no personal data outlives it). */
  recipient?: { name: string; address: PostalAddress };
  /** The code to print, sealed with the at-rest key; removed once the letter is sent or cancelled. */
  sealedCode?: string;
  sentAt?: string;
  /** the operator who marked it sent */
  sentBy?: string;
  cancelledAt?: string;
  /** why it was cancelled (e.g. `exhausted`, `expired`, `data_changed`, `replaced`, `erased`) */
  cancelReason?: string;
  /** when the account was erased and the recipient with it */
  erasedAt?: string;
}

export interface LetterRepository {
  create(letter: Letter): Promise<void>;
  find(id: string): Promise<Letter | undefined>;
  /** Oldest first (the print queue order). */
  list(status: Letter['status'], limit?: number): Promise<Letter[]>;
  /** queued → sent, dropping the sealed code; true for exactly one caller. */
  markSent(id: string, at: string, by: string): Promise<boolean>;
  /** queued → cancelled, dropping the sealed code; true for exactly one caller (false if sent or cancelled). */
  cancel(id: string, at: string, reason: string): Promise<boolean>;
  /**
   * The account is erased: each of its letters loses its recipient (name, address) and code and
   * gets `erasedAt`; a queued one is cancelled (`erased`: nothing to post). The rest of the record
   * (status, dates, the operator who sent it) stays. Idempotent; returns how many letters changed.
   */
  eraseForAccount(accountId: string, at: string): Promise<number>;
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

/* ESIA profile (src/esia): the numeric oid of each account and the requests' single-use `state`s. */

/** The first oid handed out is above this (ESIA's own oids are 9–10 digits; ours never look like small test numbers). */
export const ESIA_OID_BASE = 1_000_000_000;

export interface EsiaRepository {
  /**
   * The account's numeric oid: the one it has, or the next one, allocated once (stable, unique,
   * never reused — not even after the account is erased). Parallel calls for one account get one oid.
   */
  oidOf(accountId: string): Promise<number>;
  /** The account an oid was allocated to. */
  accountOfOid(oid: number): Promise<string | undefined>;
  /**
   * Records a request's `key` (client + state) as used until `expiresAt` (ISO): true for exactly
   * one caller, false when it was already used (a replay). Expired keys may be swept.
   */
  useOnce(key: string, expiresAt: string): Promise<boolean>;
}

/* ---- Relying parties (clients) kept in the store (issue 14): every process reads them from here ---- */

/** One client secret: only its keyed hash is kept (src/oidc/client-secrets.ts). */
export interface ClientSecretHash {
  hash: string;
  createdAt: string;
  /** Set when a newer secret replaced it: accepted until then (the overlap), refused after. */
  expiresAt?: string;
}

/**
 * A registered relying party. `metadata` is the registration as given (OIDC client metadata plus
 * vkhod's own members and any profile block, e.g. `esia`), never the plain secret.
 */
export interface StoredClient {
  clientId: string;
  /** `deleted` is a tombstone: the clients file does not bring the client back on the next start. */
  status: 'active' | 'disabled' | 'deleted';
  metadata: Record<string, unknown>;
  secrets: ClientSecretHash[];
  /** `file`: seeded from the clients file and not changed since; `store`: created or changed by the admin API or CLI. */
  source: 'file' | 'store';
  /** A keyed digest of the file entry it was last seeded from (source `file`). */
  fileDigest?: string;
  /** Optimistic concurrency: incremented by every successful update. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ClientRepository {
  find(clientId: string): Promise<StoredClient | undefined>;
  /** Every client, tombstones included, ordered by client id. */
  list(): Promise<StoredClient[]>;
  /** Stores a new client with version 1; false when the id is taken (a tombstone too: update it instead). */
  create(client: StoredClient): Promise<boolean>;
  /** Writes when the stored version equals `expectedVersion`; the stored version becomes `expectedVersion + 1`. */
  update(client: StoredClient, expectedVersion: number): Promise<boolean>;
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
  /** The live entries of one model that belong to an account (`payload.accountId`): the cabinet's sessions list. */
  listOidcByAccountId(model: string, accountId: string): Promise<Array<{ id: string; payload: OidcPayload }>>;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  readonly audit: AuditLog;
  readonly settings: SettingRepository;
  readonly letters: LetterRepository;
  /** ESIA profile: oids and single-use request states (src/esia). */
  readonly esia: EsiaRepository;
  /** Relying parties (issue 14). */
  readonly clients: ClientRepository;
  /** A rate-limiter-flexible limiter whose counters live in this store. */
  rateLimiter(options: RateLimiterOptions): RateLimiterAbstract;
  /** Resolves when the store answers; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Issue 14: an audit trail that can be read, schema versions, moving between stores.
// (Interface merging: the members below join AuditLog and Store declared above.)
// ---------------------------------------------------------------------------------------------

/** The largest page an audit query returns, whatever it asks for. */
export const AUDIT_PAGE_MAX = 500;

/** A page of the audit trail: newest first (`at`, then `id`, both descending). */
export interface AuditQuery {
  accountId?: string;
  /** An exact event type (`signin.password`), or a family with a trailing `*` (`admin.*`). */
  type?: string;
  /** ISO instant: events at or after it. */
  since?: string;
  /** ISO instant: events before it. */
  until?: string;
  /** Page size, 1..AUDIT_PAGE_MAX. */
  limit: number;
  /** `next` of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Present when there may be more: pass it as `cursor` for the next page. */
  next?: string;
}

export interface AuditEvent {
  /** Why it failed (or what made it happen): a short code such as `wrong_password`, `replay`. */
  reason?: string;
}

export interface AuditLog {
  /** Newest first, filtered by account, type and time; paged by an opaque cursor. */
  query(query: AuditQuery): Promise<AuditPage>;
  /** Deletes at most `limit` events older than `before` (retention); returns how many. */
  deleteBefore(before: string, limit: number): Promise<number>;
}

/** The cursor both adapters use: the last event's (at, id), so both page the same way. */
export interface AuditCursor {
  at: string;
  id: string;
}

/**
 * The store was written by a newer vkhod (its schema version is past what this one knows):
 * refused at start with one line, never opened (an old binary could corrupt what it does not know).
 */
export class StoreVersionError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`the store has schema version ${found}, newer than this vkhod knows (${known}): run a newer vkhod or restore a backup`);
    this.name = 'StoreVersionError';
  }
}

/**
 * One record of what outlives a session (accounts with their keys and consents, audit, settings —
 * signing keys, operators — letters, relying parties with their tombstones and secret hashes, and
 * the ESIA oids with the oid sequence); short-lived tokens, codes, counters and used ESIA states are
 * not moved. `store export` / `store import` copy these between adapters.
 */
export type TransferRecord =
  | { kind: 'account'; account: Account; keys: AccountKey[] }
  | { kind: 'audit'; event: AuditEvent }
  | { kind: 'setting'; name: string; value: string; version: number }
  | { kind: 'letter'; letter: Letter }
  // glue: relying parties (tombstones and secret hashes too) and the ESIA oids move with the data
  | { kind: 'client'; client: StoredClient }
  | { kind: 'esia-oid'; accountId: string; oid: number }
  /** The highest oid ever handed out (absent when none was): an oid is never reused after a move. */
  | { kind: 'esia-oid-sequence'; last: number };

export interface StoreTransfer {
  /** Every record, kind by kind (account, audit, setting, letter, client, esia-oid, esia-oid-sequence), each kind by id ascending. */
  exportRecords(): AsyncIterable<TransferRecord>;
  /** Writes the records as they are (a record with the same id is replaced), durably, all or none. */
  importRecords(records: TransferRecord[]): Promise<void>;
  /** How many records of each kind the store holds. */
  counts(): Promise<Record<TransferRecord['kind'], number>>;
}

export interface Store {
  /** The schema version the store is at (after the migrations run at open). */
  readonly schemaVersion: number;
  readonly transfer: StoreTransfer;
}
