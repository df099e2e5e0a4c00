/**
 * The embedded store's durability (issue 14): private data files, full sync for what must survive
 * a power cut (accounts, settings, audit, letters, revocations) while tokens stay on the fast path,
 * the schema version with its migrations on an older file and the refusal of a newer one.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import Database from 'libsql';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { SCHEMA_VERSION } from '../../adapters/sqlite/migrations.ts';
import { StoreUnavailableError, StoreVersionError } from '../../src/store.ts';
import { fakeAccount, fakeEvent, keysFor } from '../contract/fixtures.ts';
import { V1_ACCOUNT_ID, writeV1Store } from '../support/store-v1.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('store durability (SQLite, issue 14)', function () {
  this.timeout(120_000);
  let dir: string;
  const open: SqliteStore[] = [];
  const openAt = (path: string) => {
    const store = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
    open.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-durable-'));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mode = (path: string) => statSync(path).mode & 0o777;

  it('creates the data folder 0700 and the data file, its WAL and shared memory 0600, whatever the umask', async () => {
    const previous = process.umask(0o022);
    try {
      const path = join(dir, 'nested', 'vkhod.sqlite');
      const store = openAt(path);
      const account = fakeAccount();
      await store.accounts.create(account, keysFor(account));
      expect(mode(join(dir, 'nested'))).to.equal(0o700);
      expect(mode(path)).to.equal(0o600);
      expect(mode(`${path}-wal`)).to.equal(0o600);
      expect(mode(`${path}-shm`)).to.equal(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('answers a durable write only after an fsync of the WAL begun after its commit, never holding the event loop at FULL', async () => {
    const store = openAt(join(dir, 'vkhod.sqlite'));
    const walSync = store.walSync!;
    const level = () => (store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    // the commit itself runs at NORMAL (FULL would fsync inside COMMIT, on the event loop)
    expect(await store.writes.run(level, { durable: true })).to.equal(1);

    // hold the sync: the durable write waits for it, a token write committed beside it does not
    const real = walSync.sync.bind(walSync);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let syncsAsked = 0;
    walSync.sync = () => {
      syncsAsked += 1;
      return held.then(real);
    };
    const account = fakeAccount();
    let durableDone = false;
    const durable = store.accounts.create(account, keysFor(account)).then(() => (durableDone = true));
    await store.oidcAdapter('AccessToken').upsert('at-beside', { accountId: account.id }, 60);
    expect(syncsAsked).to.equal(1);
    expect(durableDone, 'answered before the WAL was synced').to.equal(false);
    // committed, though: readable at once
    expect(await store.accounts.findById(account.id)).to.not.equal(undefined);
    const syncsBefore = walSync.syncs;
    release();
    await durable;
    expect(walSync.syncs - syncsBefore).to.equal(1);
    walSync.sync = real;
    // a token write alone starts no sync
    const before = walSync.syncs;
    await store.oidcAdapter('AccessToken').upsert('at-alone', { accountId: account.id }, 60);
    expect(walSync.syncs).to.equal(before);
  });

  it('fails a durable write whose WAL sync failed with 503 (io), and keeps serving the writes after it', async () => {
    const store = openAt(join(dir, 'vkhod.sqlite'));
    const walSync = store.walSync!;
    const real = walSync.sync.bind(walSync);
    walSync.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const account = fakeAccount();
    const failed = await store.accounts.create(account, keysFor(account)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).to.be.instanceOf(StoreUnavailableError);
    expect((failed as StoreUnavailableError).reason).to.equal('io');
    walSync.sync = real;
    const other = fakeAccount();
    await store.accounts.create(other, keysFor(other));
    expect(await store.accounts.findById(other.id)).to.not.equal(undefined);
  });

  it('commits a durable write at synchronous=FULL when the store has no file to sync (in memory)', async () => {
    const store = openSqliteStore({ path: ':memory:', sweepIntervalMs: 0, backgroundCheckpoints: false });
    open.push(store);
    const level = () => (store.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    expect(store.walSync).to.equal(undefined);
    expect(await store.writes.run(level, { durable: true })).to.equal(2);
    expect(await store.writes.run(level)).to.equal(1);
    // and back to NORMAL between transactions
    expect(level()).to.equal(1);
  });

  it('accounts, audit, settings, letters and revocations are durable; tokens, codes and counters are not', async () => {
    const store = openAt(join(dir, 'vkhod.sqlite'));
    const durableCommits = async (write: () => Promise<unknown>) => {
      const before = store.writes.durableCommits;
      await write();
      return store.writes.durableCommits - before;
    };
    const account = fakeAccount();
    expect(await durableCommits(() => store.accounts.create(account, keysFor(account)))).to.equal(1);
    expect(await durableCommits(() => store.accounts.update({ ...account, updatedAt: new Date().toISOString() }, 1))).to.equal(1);
    expect(await durableCommits(() => store.audit.append(fakeEvent(account.id)))).to.equal(1);
    expect(await durableCommits(() => store.settings.put('signing-keys', '{}', 0))).to.equal(1);
    const letter = { id: 'l1', accountId: account.id, status: 'queued' as const, createdAt: new Date().toISOString() };
    expect(await durableCommits(() => store.letters.create(letter))).to.equal(1);
    expect(await durableCommits(() => store.revokeOidcByAccountId(account.id))).to.equal(1);

    expect(await durableCommits(() => store.oidcAdapter('AccessToken').upsert('at1', { accountId: account.id }, 60))).to.equal(0);
    const now = new Date();
    const challenge = {
      id: 'c1',
      purpose: 'signin',
      recipient: '+79990000000',
      codeHash: 'h',
      attempts: 0,
      maxAttempts: 3,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    };
    expect(await durableCommits(() => store.challenges.create(challenge))).to.equal(0);
    expect(await durableCommits(() => store.rateLimiter({ keyPrefix: 'x', points: 5, duration: 60 }).consume('k'))).to.equal(0);
  });

  it('relying parties and ESIA oids are durable; used ESIA states are not', async () => {
    const store = openAt(join(dir, 'vkhod.sqlite'));
    const durableCommits = async (write: () => Promise<unknown>) => {
      const before = store.writes.durableCommits;
      await write();
      return store.writes.durableCommits - before;
    };
    const at = new Date().toISOString();
    const client = {
      clientId: 'rp-durable',
      status: 'active' as const,
      metadata: { redirect_uris: ['https://rp.example.test/cb'] },
      secrets: [{ hash: 'h', createdAt: at }],
      source: 'store' as const,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    expect(await durableCommits(() => store.clients.create(client))).to.equal(1);
    expect(await durableCommits(() => store.clients.update({ ...client, status: 'deleted' }, 1))).to.equal(1);
    expect(await durableCommits(() => store.esia.oidOf('acc-durable'))).to.equal(1);
    expect(await durableCommits(() => store.esia.useOnce('rp|state', new Date(Date.now() + 60_000).toISOString()))).to.equal(0);
  });

  it('migrates a store written before schema versions, keeping its data, and reads its audit by type', async () => {
    const path = join(dir, 'old.sqlite');
    const { eventIds } = writeV1Store(path);
    const store = openAt(path);
    expect(store.schemaVersion).to.equal(SCHEMA_VERSION);
    const indexes = (
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit'").all() as { name: string }[]
    ).map((r) => r.name);
    expect(indexes).to.include.members(['audit_time', 'audit_type']);
    expect((await store.accounts.findByKey({ kind: 'phone', value: '+79990000001' }))?.id).to.equal(V1_ACCOUNT_ID);
    expect(await store.settings.get('v1.setting')).to.deep.equal({ value: '{"kept":true}', version: 1 });
    expect((await store.audit.query({ accountId: V1_ACCOUNT_ID, limit: 10 })).events.map((e) => e.id)).to.deep.equal(
      [...eventIds].reverse(),
    );
    expect((await store.audit.query({ type: 'signin.*', limit: 10 })).events.map((e) => e.id)).to.deep.equal([eventIds[1]]);
    await store.close();
    // opening again finds it migrated and changes nothing
    expect(openAt(path).schemaVersion).to.equal(SCHEMA_VERSION);
  });

  it('several processes starting at once on an old store: every one opens it at the current version', async () => {
    const path = join(dir, 'shared.sqlite');
    writeV1Store(path);
    const script = `
      import { openSqliteStore } from ${JSON.stringify(join(ROOT, 'adapters/sqlite/index.ts'))};
      const store = openSqliteStore({ path: ${JSON.stringify(path)}, sweepIntervalMs: 0, backgroundCheckpoints: false });
      console.log(store.schemaVersion);
      await store.close();`;
    const runs = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
            execFile(
              process.execPath,
              ['--import', 'tsx', '--no-warnings=ExperimentalWarning', '--input-type=module', '-e', script],
              { cwd: ROOT, timeout: 60_000 },
              (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
          }),
      ),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout.trim()).to.equal(String(SCHEMA_VERSION));
    }
    const store = openAt(path);
    expect((await store.audit.query({ accountId: V1_ACCOUNT_ID, limit: 10 })).events).to.have.length(2);
  });

  it("opening waits for another process's lock in every statement it runs, the tables repositories create included", () => {
    // What the processes above race on, pinned without timing: each statement run while the store
    // opens, and SQLite's busy timeout then. A table created at 1 ms (the request-path setting)
    // failed with SQLITE_BUSY when another process held the lock at that moment.
    const path = join(dir, 'waits.sqlite');
    writeV1Store(path);
    const proto = Database.prototype as unknown as { exec(this: Database.Database, sql: string): unknown };
    const exec = proto.exec;
    const seen: Array<{ sql: string; timeout: number }> = [];
    proto.exec = function (this: Database.Database, sql: string) {
      const timeout = (this.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout;
      seen.push({ sql: sql.trim().split('\n')[0]!.slice(0, 60), timeout });
      return exec.call(this, sql);
    };
    let store: SqliteStore;
    try {
      store = openAt(path);
    } finally {
      proto.exec = exec;
    }
    const creates = seen.filter((s) => /CREATE|BEGIN/i.test(s.sql));
    expect(creates.length, JSON.stringify(seen)).to.be.greaterThan(3);
    for (const { sql, timeout } of creates) expect(timeout, sql).to.be.at.least(1000);
    // and once open, requests wait a millisecond at most in SQLite's busy handler
    expect((store.db.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout).to.equal(1);
  });

  it('refuses a store written by a newer vkhod, and leaves the file as it was', () => {
    const path = join(dir, 'newer.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    let error: unknown;
    try {
      openAt(path);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(StoreVersionError);
    expect((error as Error).message).to.match(/schema version 99, newer than this vkhod knows \(\d+\)/);
    expect((error as Error).message).not.to.include('\n');
    const after = new Database(path);
    expect((after.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).to.equal(99);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).to.deep.equal([]);
    after.close();
  });

  it('vkhod refuses to start on a newer store: one line, exit code 1', async () => {
    const path = join(dir, 'newer.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VKHOD_') && k !== 'MONGODB_URI' && k !== 'NODE_OPTIONS'),
    );
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--no-warnings=ExperimentalWarning', 'src/main.ts'],
        {
          cwd: ROOT,
          timeout: 60_000,
          env: {
            ...inherited,
            NODE_ENV: 'test',
            PORT: '0',
            LOG_LEVEL: 'silent',
            VKHOD_SQLITE_PATH: path,
            VKHOD_DEV_SECRET_FILE: join(dir, 'secret.key'),
            VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code).to.equal(1);
    // (node-oidc-provider warns about the Node version on older runtimes: not ours)
    const lines = run.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('oidc-provider WARNING'));
    expect(lines).to.deep.equal([
      `vkhod: the store has schema version 99, newer than this vkhod knows (${SCHEMA_VERSION}): run a newer vkhod or restore a backup`,
    ]);
  });
});
