/**
 * The MongoDB Store (DESIGN §5), selected by MONGODB_URI. It needs a replica set (a
 * single-node one is enough): account writes are multi-document transactions.
 *
 * Uses a dedicated mongoose connection (never the global one) and the native driver's
 * collections under it; expiry is a TTL index plus an explicit check on read.
 */
import mongoose, { type Connection, type mongo } from 'mongoose';
import { RateLimiterMongo } from 'rate-limiter-flexible';
import type {
  LetterRepository,
  AccountRepository,
  AuditLog,
  ChallengeRepository,
  ClientRepository,
  OidcAdapter,
  RateLimiterOptions,
  SettingRepository,
  Store,
  StoreTransfer,
} from '../../src/store.ts';
import { DURABLE_CONNECTION, retried } from './durability.ts';
import { migrate, schemaVersionOf } from './migrations.ts';
import { MongoTransfer } from './transfer.ts';
import { MongoAccounts, MongoAuditLog } from './accounts.ts';
import { MongoClients } from './clients.ts';
import { collections, COLLECTIONS, ensureIndexes, type Collections } from './collections.ts';
import { listOidcByAccountId, MongoOidcAdapter, revokeOidcByAccountId } from './oidc-adapter.ts';
import { MongoChallenges, MongoLetters, MongoSettings } from './records.ts';
import { MongoEsia } from './esia.ts';

export interface MongoStoreOptions {
  /** A MongoDB connection string (a replica set: transactions are used). */
  uri: string;
  /** Overrides the database named in the URI (tests use a throwaway one). */
  dbName?: string;
  /** Audit events older than this many days are removed by a TTL index (0 or absent: kept forever). */
  auditRetentionDays?: number;
}

export async function openMongoStore(options: MongoStoreOptions): Promise<MongoStore> {
  const connection = await mongoose
    .createConnection(options.uri, {
      ...(options.dbName ? { dbName: options.dbName } : {}),
      // no mongoose models here, and operations must fail rather than queue when disconnected
      autoIndex: false,
      autoCreate: false,
      bufferCommands: false,
      // majority write and read concern, journaled, retryable (durability.ts)
      ...DURABLE_CONNECTION,
    })
    .asPromise();
  try {
    const db = database(connection);
    await requireTransactions(db);
    const { to } = await migrate(db, () => ensureIndexes(db, { auditRetentionDays: options.auditRetentionDays ?? 0 }));
    return new MongoStore(connection, to);
  } catch (err) {
    await connection.close().catch(() => {});
    throw err;
  }
}

/** Fails fast at boot rather than at the first account write: transactions need a replica set or mongos. */
async function requireTransactions(db: mongo.Db): Promise<void> {
  const hello = await db.admin().command({ hello: 1 });
  if (!hello.setName && hello.msg !== 'isdbgrid') {
    throw new Error('the MongoDB store needs a replica set (a single-node one will do): account writes use transactions');
  }
}

function database(connection: Connection): mongo.Db {
  if (!connection.db) throw new Error('mongo connection has no database');
  return connection.db;
}

export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  readonly accounts: AccountRepository;
  readonly challenges: ChallengeRepository;
  readonly audit: AuditLog;
  readonly settings: SettingRepository;
  readonly letters: LetterRepository;
  readonly transfer: StoreTransfer;
  /** ESIA profile: oids and used states (adapters/mongo/esia.ts) */
  readonly esia: MongoEsia;
  readonly clients: ClientRepository;
  readonly db: mongo.Db;
  private readonly collections: Collections;
  private readonly adapters = new Map<string, OidcAdapter>();
  private closed = false;

  constructor(
    readonly connection: Connection,
    /** The schema version found (after migrations) at open. */
    readonly schemaVersion: number,
  ) {
    this.db = database(connection);
    this.collections = collections(this.db);
    const audit = new MongoAuditLog(this.collections.audit);
    this.audit = audit;
    this.accounts = new MongoAccounts(connection, this.collections, audit);
    this.challenges = new MongoChallenges(this.collections.challenges);
    this.settings = new MongoSettings(this.collections.settings);
    this.letters = new MongoLetters(this.collections.letters);
    this.transfer = new MongoTransfer(connection, this.collections);
    this.esia = new MongoEsia(this.db);
    this.clients = new MongoClients(this.db);
  }

  /** The version stored now (another process may have migrated since this one opened). */
  async storedSchemaVersion(): Promise<number> {
    return schemaVersionOf(this.db);
  }

  oidcAdapter(model: string): OidcAdapter {
    let adapter = this.adapters.get(model);
    if (!adapter) {
      adapter = new MongoOidcAdapter(this.collections.oidc, model);
      this.adapters.set(model, adapter);
    }
    return adapter;
  }

  async revokeOidcByAccountId(accountId: string): Promise<number> {
    return retried(() => revokeOidcByAccountId(this.collections.oidc, accountId));
  }

  async listOidcByAccountId(model: string, accountId: string) {
    return listOidcByAccountId(this.collections.oidc, model, accountId);
  }

  rateLimiter(options: RateLimiterOptions) {
    // The native client + dbName: RateLimiterMongo calls `client.db(dbName).collection(tableName)`.
    // (Given the mongoose Connection itself it would go through mongoose's collection wrapper.)
    return new RateLimiterMongo({
      storeClient: this.connection.getClient(),
      dbName: this.db.databaseName,
      tableName: COLLECTIONS.rateLimits,
      disableIndexesCreation: true, // built once by ensureIndexes
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      blockDuration: options.blockDuration ?? 0,
    });
  }

  /** Ready to write: the replica set has a primary (through mongos: the router answers). */
  async ping(): Promise<void> {
    if (this.closed) throw new Error('store closed');
    // `hello` on the primary-preferring connection: `primary` names the current primary, if any.
    const hello = await this.db.admin().command({ hello: 1 });
    if (hello.msg === 'isdbgrid') return;
    if (!hello.isWritablePrimary && !hello.primary) throw new Error('the replica set has no primary');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.close();
  }
}
