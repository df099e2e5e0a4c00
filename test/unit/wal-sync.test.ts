import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../../adapters/sqlite/wal-sync.ts';

/** A WalSync whose fsyncs are held until the test lets each one end. */
function heldSyncs(walSync: WalSync) {
  const pending: Array<{ release: () => void; fail: (err: Error) => void }> = [];
  (walSync as unknown as { fsync: () => Promise<void> }).fsync = () =>
    new Promise<void>((resolve, reject) => pending.push({ release: resolve, fail: reject }));
  return pending;
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WalSync (durable commits off the event loop)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-walsync-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a commit made while a sync runs only after the next sync, and shares that one among all of them', async () => {
    const walSync = new WalSync(join(dir, 'db-wal'), join(dir, 'db'));
    const held = heldSyncs(walSync);
    const settled: string[] = [];
    const first = walSync.sync().then(() => settled.push('first'));
    await turn();
    // three commits while the first sync runs: it may have begun before them
    const later = [1, 2, 3].map((i) => walSync.sync().then(() => settled.push(`later ${i}`)));
    await turn();
    expect(walSync.syncs).to.equal(1);
    held[0]!.release();
    await first;
    await turn();
    expect(settled).to.deep.equal(['first']);
    expect(walSync.syncs, 'one more sync for the three').to.equal(2);
    held[1]!.release();
    await Promise.all(later);
    expect(settled).to.deep.equal(['first', 'later 1', 'later 2', 'later 3']);
    expect(walSync.syncs).to.equal(2);
  });

  it('fails the commits that waited for a failed sync, and the next commit gets a sync of its own', async () => {
    const walSync = new WalSync(join(dir, 'db-wal'), join(dir, 'db'));
    const held = heldSyncs(walSync);
    const failed = walSync.sync().then(
      () => 'ok',
      (err: Error) => err.message,
    );
    await turn();
    held[0]!.fail(new Error('EIO'));
    expect(await failed).to.equal('EIO');
    const next = walSync.sync();
    await turn();
    held[1]!.release();
    await next;
    expect(walSync.syncs).to.equal(2);
  });

  it('syncs the real WAL file, or the database file when there is no WAL, and reports a missing database', async () => {
    writeFileSync(join(dir, 'db'), 'x');
    const noWal = new WalSync(join(dir, 'db-wal'), join(dir, 'db'));
    await noWal.sync();
    writeFileSync(join(dir, 'db-wal'), 'y');
    await noWal.sync();
    expect(noWal.syncs).to.equal(2);
    await noWal.close();
    const closed = await noWal.sync().then(
      () => 'synced',
      () => 'refused',
    );
    expect(closed, 'a closed WalSync opens nothing').to.equal('refused');
    const nothing = new WalSync(join(dir, 'none-wal'), join(dir, 'none'));
    const err = await nothing.sync().then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(err).to.equal('ENOENT');
    await nothing.idle();
  });
});
