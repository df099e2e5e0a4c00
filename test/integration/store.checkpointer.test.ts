/**
 * Issue 15: the checkpointer's thread (a V8 isolate: 9–14 MB resident) runs only while the WAL
 * has something to copy. It used to start with the store and wake every second for the life of
 * the process, however idle.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Database from 'libsql';
import { Checkpointer } from '../../adapters/sqlite/checkpointer.ts';

const threadIds = () => new Set(readdirSync('/proc/self/task'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; !what() && waited < ms; waited += 20) await sleep(20);
}

describe('the WAL checkpointer runs only while there is something to copy', function () {
  this.timeout(30_000);
  let dir: string;
  let path: string;
  let writer: InstanceType<typeof Database>;
  let other: InstanceType<typeof Database>;
  let checkpointer: Checkpointer | undefined;
  const wal = () => statSync(`${path}-wal`).size;
  /** About `kb` KB of rows, through `db` (this process's connection, or another worker's). */
  const write = (db: InstanceType<typeof Database>, kb: number) => {
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < kb; i += 1) insert.run('x'.repeat(1000));
  };
  const rows = () => (new Database(path).prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-checkpointer-'));
    path = join(dir, 'vkhod.sqlite');
    writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    // as the serving connection: its own checkpoint only at the WAL's bound
    writer.pragma('wal_autocheckpoint = 100000');
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    other = new Database(path);
    other.pragma('wal_autocheckpoint = 100000');
  });
  afterEach(async () => {
    await checkpointer?.stop();
    checkpointer = undefined;
    writer.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () =>
    new Checkpointer(path, createRequire(import.meta.url).resolve('libsql'), 8 * 1024 * 1024, {
      intervalMs: 50,
      idleMs: 300,
      startBytes: 64 * 1024,
    });

  it('no thread while the WAL holds little; one once it grows; gone again, with the WAL cut to zero, when all is copied', async () => {
    const before = threadIds();
    checkpointer = open();
    await sleep(200);
    expect(checkpointer.starts, 'a few pages in the WAL start nothing').to.equal(0);
    expect(
      [...threadIds()].filter((tid) => !before.has(tid)),
      'no thread of its own',
    ).to.deep.equal([]);

    write(writer, 200);
    await until(() => checkpointer!.running);
    expect(checkpointer.starts).to.equal(1);
    const started = [...threadIds()].filter((tid) => !before.has(tid));
    expect(started, 'its thread').to.not.be.empty;

    await until(() => !checkpointer!.running && wal() === 0);
    expect(checkpointer.running, 'ended once all was copied').to.equal(false);
    expect(wal(), 'the WAL cut to zero').to.equal(0);
    await until(() => started.every((tid) => !threadIds().has(tid)));
    expect(
      started.filter((tid) => threadIds().has(tid)),
      'its threads gone',
    ).to.deep.equal([]);
    expect(rows()).to.equal(200);
  });

  it('starts again for writes of another process (a cluster worker without a checkpointer), and keeps the data', async () => {
    checkpointer = open();
    write(writer, 200);
    await until(() => checkpointer!.running);
    await until(() => !checkpointer!.running && wal() === 0);
    expect(checkpointer.starts).to.equal(1);

    write(other, 200);
    await until(() => checkpointer!.running);
    expect(checkpointer.starts, 'started again for the other connection’s writes').to.equal(2);
    await until(() => !checkpointer!.running && wal() === 0);
    expect(wal()).to.equal(0);
    expect(rows()).to.equal(400);
  });

  it('stays while writes go on, and a checkpoint asked for now starts it', async () => {
    checkpointer = open();
    checkpointer.now();
    expect(checkpointer.running, 'now() starts it').to.equal(true);
    for (let i = 0; i < 10; i += 1) {
      write(writer, 20);
      await sleep(100);
      expect(checkpointer.running, `still running while written to (${i})`).to.equal(true);
    }
    expect(checkpointer.starts).to.equal(1);
  });

  it('a reader holding an old snapshot (an online backup) never makes its ending hold writers off', async () => {
    checkpointer = open();
    write(writer, 200);
    await until(() => checkpointer!.running);
    // A read transaction on the WAL's content, left open: everything can be copied, but the final
    // TRUNCATE cannot finish while the reader is on the WAL.
    const reader = new Database(path);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    try {
      writer.pragma('busy_timeout = 0');
      let refused = 0;
      // Past several idle periods: each time the thread tries to end, a write must still get the lock.
      for (let i = 0; i < 60; i += 1) {
        try {
          writer.exec('BEGIN IMMEDIATE');
          writer.exec('COMMIT');
        } catch (err) {
          if (/SQLITE_BUSY|locked/i.test(String((err as Error).message) + String((err as { code?: string }).code))) refused += 1;
          else throw err;
        }
        await sleep(25);
      }
      expect(refused, 'writes refused for a lock held by the ending checkpoint').to.equal(0);
      expect(checkpointer.running, 'still there while the reader holds the WAL').to.equal(true);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      writer.pragma('busy_timeout = 5000');
    }
    await until(() => !checkpointer!.running && wal() === 0);
    expect(wal(), 'it ends once the reader has gone').to.equal(0);
  });
});
