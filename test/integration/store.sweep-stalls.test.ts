/**
 * The embedded store's background work does not stall the event loop on a large store (issue 15,
 * "no event-loop stalls"). Found with `npm run bench:sweep` on a 258 MB file: the sweep's
 * statements for consumed tokens, used one-time codes and expired counters had no index, so each
 * slice read its whole table on the event loop (a backlog of 300 000 rows took 498 s, the loop
 * held up to 486 ms; a sweep with nothing to delete still held it 118 ms), and the deletes of a
 * backlog grew the WAL faster than the checkpointer ran, until the serving connection checkpointed
 * it inside a COMMIT (half a second). An audit query for a family of types sorted the whole family
 * on the event loop too. These tests pin the mechanisms, not the timings: every statement the
 * store prepares finds its rows through an index, an older file gets the indexes, the sweep hands
 * the WAL to the checkpointer before it reaches the serving connection's own checkpoint, and a
 * family query reads a page per type. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Database from 'libsql';
import { openSqliteStore, type SqliteStore } from '../../adapters/sqlite/index.ts';
import { SCHEMA_VERSION } from '../../adapters/sqlite/migrations.ts';
import { fakeEvent } from '../contract/fixtures.ts';

type Statement = { all(...args: unknown[]): unknown[] };
type Prepare = (this: InstanceType<typeof Database>, sql: string) => Statement;

/**
 * Statements that read a whole table on purpose, with the reason. Everything else the store
 * prepares must find its rows by an index or a key.
 */
const WHOLE_TABLE_BY_DESIGN: Array<[RegExp, string]> = [
  // reads the tiny sequence row and a MAX over the oid index: the plan names a subquery scan only
  [/INSERT OR IGNORE INTO esia_oids/, 'a scan of a one-row subquery'],
];

/** Every SQL text the store prepares while `run` runs (libsql's prepare, wrapped for the time). */
async function preparedDuring(run: () => unknown): Promise<Set<string>> {
  const proto = Database.prototype as unknown as { prepare: Prepare };
  const prepare = proto.prepare;
  const prepared = new Set<string>();
  proto.prepare = function (this: InstanceType<typeof Database>, sql: string) {
    prepared.add(sql);
    return prepare.call(this, sql);
  };
  try {
    await run();
  } finally {
    proto.prepare = prepare;
  }
  return prepared;
}

/** SQLite's plan of `sql`, a line per step, with every parameter bound to null. */
function planOf(db: InstanceType<typeof Database>, sql: string): string[] {
  const code = sql.replace(/'[^']*'/g, ''); // parameters, not the text of string literals ('$.accountId')
  const names = [...new Set(code.match(/[@:$][A-Za-z_]\w*/g) ?? [])];
  const positional = (code.match(/\?/g) ?? []).length;
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`) as unknown as Statement;
  const rows = (
    names.length
      ? plan.all(Object.fromEntries(names.map((n) => [n.slice(1), null])))
      : positional
        ? plan.all(Array(positional).fill(null)) // one array: libsql reads a lone argument as named parameters
        : plan.all()
  ) as { detail: string }[];
  return rows.map((r) => r.detail);
}

/** The tables that grow with the citizens and their traffic. */
const LARGE = ['oidc', 'accounts', 'account_keys', 'account_shared_keys', 'challenges', 'audit', 'letters', 'rate_limits'];

describe('the store never reads a whole large table on the event loop (issue 15)', function () {
  this.timeout(120_000);
  let dir: string;
  const open: SqliteStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-stalls-'));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every statement prepared at open finds its rows through an index or a key', async () => {
    let store: SqliteStore | undefined;
    const prepared = await preparedDuring(() => {
      store = openSqliteStore({ path: join(dir, 'plans.sqlite'), sweepIntervalMs: 0, backgroundCheckpoints: false });
      open.push(store);
      for (const model of ['AccessToken', 'RefreshToken', 'Session', 'Grant', 'Interaction']) store.oidcAdapter(model);
    });
    const fullScans: string[] = [];
    let planned = 0;
    for (const sql of prepared) {
      if (/^\s*(PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|CREATE|DROP)\b/i.test(sql)) continue;
      if (WHOLE_TABLE_BY_DESIGN.some(([pattern]) => pattern.test(sql))) continue;
      planned += 1;
      for (const detail of planOf(store!.db, sql)) {
        const scanned = /^SCAN (\w+)/.exec(detail)?.[1];
        if (scanned && LARGE.includes(scanned) && !/USING (COVERING )?INDEX/.test(detail))
          fullScans.push(`${sql.replace(/\s+/g, ' ')}  →  ${detail}`);
      }
    }
    expect(planned, 'statements checked').to.be.above(40);
    expect(fullScans).to.deep.equal([]);
  });

  it('a file at schema version 2 gets the sweep indexes when opened', async () => {
    const path = join(dir, 'v2.sqlite');
    const first = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
    await first.close();
    const db = new Database(path);
    db.exec('DROP INDEX oidc_consumed; DROP INDEX challenges_consumed; DROP INDEX rate_limits_expire');
    db.pragma('user_version = 2');
    db.close();
    const store = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
    open.push(store);
    expect(SCHEMA_VERSION).to.equal(3);
    expect(store.schemaVersion).to.equal(3);
    const indexes = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map(
      (r) => r.name,
    );
    expect(indexes).to.include.members(['oidc_consumed', 'challenges_consumed', 'rate_limits_expire']);
  });

  it('a large backlog is swept in short slices without pushing the WAL to the serving connection’s own checkpoint', async () => {
    const path = join(dir, 'backlog.sqlite');
    // the checkpointer's trigger at 256 KB; the serving connection checkpoints itself at 1000 pages (4 MB)
    const walMaxBytes = 512 * 1024;
    const store = openSqliteStore({ path, sweepIntervalMs: 0, walMaxBytes });
    open.push(store);
    const now = Date.now();
    const filler = 'x'.repeat(600);
    const insert = store.db.prepare('INSERT INTO oidc (model, id, payload, grant_id, account_id, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
    store.db.exec('BEGIN');
    for (let i = 0; i < 20_000; i += 1) insert.run('AccessToken', `old-${i}`, JSON.stringify({ filler }), `g-${i}`, 'acc-1', now - 1000);
    store.db.exec('COMMIT');
    store.db.pragma('wal_checkpoint(TRUNCATE)');

    const wal = () => {
      try {
        return statSync(`${path}-wal`).size;
      } catch {
        return 0;
      }
    };
    // Between slices (the sweep yields the event loop) the WAL's size is sampled.
    let largest = 0;
    const sampler = setInterval(() => (largest = Math.max(largest, wal())), 1);
    try {
      await store.sweep(now);
    } finally {
      clearInterval(sampler);
    }
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM oidc').get() as { n: number }).n).to.equal(0);
    // Without the hand-over the deletes grew the WAL to the connection's own bound (4 MB) before
    // each checkpoint; with it the WAL is handed to the checkpointer once past 256 KB.
    expect(largest, `largest WAL seen: ${largest} bytes`).to.be.below(2 * 1024 * 1024);
  });

  it('an audit query for a family of types reads at most a page per type, in the order one sort would give', async () => {
    const store = openSqliteStore({ path: join(dir, 'family.sqlite'), sweepIntervalMs: 0, backgroundCheckpoints: false });
    open.push(store);
    const base = Date.parse('2026-06-01T00:00:00.000Z');
    // three types of one family and one outside it, interleaved in time, several at the same instant
    const types = ['signin.password', 'signin.sms', 'signin.totp', 'account.created'];
    const events = Array.from({ length: 400 }, (_, i) =>
      fakeEvent(`acc-${i % 7}`, { type: types[i % 4]!, at: new Date(base + Math.floor(i / 3) * 1000).toISOString() }),
    );
    await store.transfer.importRecords(events.map((event) => ({ kind: 'audit' as const, event })));
    const expected = events
      .filter((e) => e.type.startsWith('signin.'))
      .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((e) => e.id);

    const seen: string[] = [];
    const prepared = await preparedDuring(async () => {
      let cursor: string | undefined;
      do {
        const page = await store.audit.query({ type: 'signin.*', limit: 25, ...(cursor ? { cursor } : {}) });
        seen.push(...page.events.map((e) => e.id));
        cursor = page.next;
      } while (cursor);
      await store.audit.query({ type: 'signin.*', accountId: 'acc-3', since: new Date(base).toISOString(), limit: 10 });
    });
    expect(seen).to.deep.equal(expected);
    expect(prepared.size, 'statements prepared for the queries').to.be.above(0);
    for (const sql of prepared) {
      // no sort of everything that matched, and no read of the whole trail
      expect(planOf(store.db, sql).join(' | '), sql).not.to.match(/USE TEMP B-TREE FOR ORDER BY|^SCAN audit(?! USING)/);
    }
  });
});
