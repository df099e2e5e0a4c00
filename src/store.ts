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
  /**
   * Marks a live, not yet consumed entry consumed (a conditional write): true when this caller
   * consumed it, false when it was already consumed, expired or gone — the caller lost the race.
   */
  consume(id: string): Promise<boolean>;
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
/** `deactivated`: deletion asked, refused everywhere, erased after the grace unless cancelled. */
export type AccountStatus = 'active' | 'deactivated' | 'deleted';

export interface PersonName {
  family: string;
  given: string;
  middle?: string;
}

export type SecondFactorKind = 'sms' | 'totp' | 'webauthn';

/** A registered WebAuthn authenticator (passkey or security key). */
export interface Passkey {
  /** credential id, base64url */
  id: string;
  /** COSE public key, base64url */
  publicKey: string;
  counter: number;
  transports?: string[];
  name: string;
  /** multiDevice = synced passkey (software-protected), singleDevice = bound to hardware */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: string;
  lastUsedAt?: string;
}

/** A Russian internal passport. */
export interface Passport {
  /** 4 digits */
  series: string;
  /** 6 digits */
  number: string;
  /** YYYY-MM-DD */
  issueDate: string;
  issuer: string;
  /** NNN-NNN */
  departmentCode: string;
}

export interface PostalAddress {
  formatted: string;
  postalCode?: string;
}

/** Identity data beyond the name; what of it is verified is told by `verifications`. */
export interface IdentityData {
  /** YYYY-MM-DD */
  birthDate?: string;
  gender?: 'male' | 'female';
  birthPlace?: string;
  inn?: string;
  passport?: Passport;
  address?: PostalAddress;
}

export type VerificationMethod = 'registry' | 'service_centre' | 'post' | 'bank' | 'esignature';
export type VerifiedItem = 'name' | 'birthdate' | 'gender' | 'birthplace' | 'snils' | 'inn' | 'id_doc' | 'address';

/**
 * A change of level with its method, evidence, actor and time (DESIGN §2). It holds while the
 * identity data it verified is unchanged: `fingerprint` is taken over that data.
 */
export interface VerificationEvent {
  id: string;
  method: VerificationMethod;
  level: 'standard' | 'confirmed';
  items: VerifiedItem[];
  fingerprint: string;
  /**
   * A digest of each item's value as verified: an item whose value changed since (an INN or an
   * address edited later, which does not touch `fingerprint`) is no longer verified.
   */
  itemDigests?: Partial<Record<VerifiedItem, string>>;
  time: string;
  /** `registry`, an operator's login, a bank's id, a certificate's serial … */
  actor: string;
  evidence: Record<string, unknown>;
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
  /** "Sign-in with confirmation": every password sign-in asks for a second factor. */
  mfa?: { enabled: boolean; preferred?: SecondFactorKind };
  /** Authenticator app: the seed sealed with the at-rest key, and the last accepted time step. */
  totp?: { sealedSecret: string; createdAt: string; lastTimeStep: number };
  passkeys?: Passkey[];
  /** Single-use recovery codes: keyed hashes of the ones not used yet. */
  recoveryCodes?: { hashes: string[]; createdAt: string };
  identity?: IdentityData;
  /** Every verification, newest last; the level is derived from those that still hold. */
  verifications?: VerificationEvent[];
  /** The registry check of the current data (upgrade to standard). */
  registryCheck?: {
    ticket: string;
    status: 'pending' | 'approved' | 'rejected';
    submittedAt: string;
    decidedAt?: string;
    reason?: string;
    fingerprint: string;
  };
  /** Upstream identities linked to this account (banks): found by the key `fed:<bank id>`. */
  federations?: Array<{ provider: string; subject: string; linkedAt: string }>;
  /**
   * A confirmation code sent by post, waiting to be typed in. `fingerprint`: the identity data
   * (identityFingerprint) the letter was sent for; the code confirms that data and no other.
   */
  postalConfirmation?: { challengeId: string; letterId: string; requestedAt: string; fingerprint?: string };
  /** Sessions and refresh tokens issued before this instant are no longer honoured. */
  sessionsValidAfter?: string;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
  /** A deletion asked for (status `deactivated`): erased at `eraseAfter` unless cancelled. */
  deletion?: { requestedAt: string; eraseAfter: string; actor: string; reason?: string };
  /** Consent to the processing of personal data given at registration (152-FZ). */
  pdConsent?: { version: string; at: string };
  /** Room for later capabilities (factors, identity documents) without schema changes. */
  extra?: Record<string, unknown>;
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
  /** Relying parties (issue 14). */
  readonly clients: ClientRepository;
  /** A rate-limiter-flexible limiter whose counters live in this store. */
  rateLimiter(options: RateLimiterOptions): RateLimiterAbstract;
  /** Resolves when the store answers; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
