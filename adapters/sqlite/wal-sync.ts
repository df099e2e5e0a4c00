/**
 * Durable commits without stalling the event loop (issue 15). At `synchronous = FULL` SQLite
 * fsyncs the WAL inside COMMIT, on the thread that runs it: here the event loop, held for the
 * length of a disk sync (~8 ms on the CI disk) while every other request waits. Instead the
 * connection stays at NORMAL and the WAL file is fsynced on libuv's thread pool after the commit;
 * a durable write's caller is answered once that sync is done.
 *
 * Why it is as safe as FULL for the writer: in WAL mode a commit is frames appended to the -wal
 * file (its header was synced when the WAL was started, at every level above OFF); an fsync of that
 * file after the commit puts the commit — and every commit before it — on disk. A checkpoint that
 * moved the frames into the database first syncs the database at NORMAL before it resets the WAL.
 * What differs: between the commit and the sync, other requests can already read the row; a power
 * cut in those milliseconds loses it, as it does a token.
 *
 * Group sync: one fsync covers every commit made before it started. While one is running, later
 * commits wait for the next, which starts when it ends — at most one in flight, so under load a
 * sync is shared by all the durable writes of its few milliseconds.
 */
import { close, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

const openFile = promisify(open);
const syncFile = promisify(fsync);
const closeFile = promisify(close);

export class WalSync {
  private current?: Promise<void>;
  private next?: Promise<void>;
  /** fsyncs started so far. */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly dbPath: string,
  ) {}

  /** Resolves when everything committed before this call is on disk; rejects when the sync failed. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.current) return this.start();
    // The running sync may have begun before the caller's commit: wait for the one after it.
    this.next = this.current
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  /** Settles when no sync is running or waiting (the store is closing). */
  async idle(): Promise<void> {
    while (this.current || this.next) await (this.next ?? this.current)!.catch(() => undefined);
  }

  private start(): Promise<void> {
    this.syncs += 1;
    const running = this.fsync().finally(() => {
      if (this.current === running) this.current = undefined;
    });
    this.current = running;
    return running;
  }

  /**
   * The WAL stays open between syncs: while this process's connection is open SQLite never
   * removes or replaces the file (a checkpoint only truncates it), so the descriptor keeps naming
   * the live WAL. An error closes it; the next sync opens it again.
   */
  private walFd?: number;
  private closed = false;

  private async fsync(): Promise<void> {
    if (this.walFd === undefined) {
      let fd: number;
      try {
        fd = await openFile(this.walPath, 'r');
      } catch (err) {
        // No WAL (checkpointed and removed): the commits are in the database file.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        const db = await openFile(this.dbPath, 'r');
        try {
          await syncFile(db);
        } finally {
          await closeFile(db);
        }
        return;
      }
      // a close() that ran while this one was opening wins
      if (this.closed) {
        await closeFile(fd);
        throw new Error('the store is closed');
      }
      this.walFd = fd;
    }
    const fd = this.walFd;
    try {
      await syncFile(fd);
    } catch (err) {
      if (this.walFd === fd) this.walFd = undefined;
      await closeFile(fd).catch(() => undefined);
      throw err;
    }
  }

  /** Waits for the syncs in flight, then closes the WAL descriptor. */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    const fd = this.walFd;
    this.walFd = undefined;
    if (fd !== undefined) await closeFile(fd).catch(() => undefined);
  }
}
