/**
 * WAL checkpoints off the request path: a worker thread with its own connection copies the WAL
 * into the database file every second (PASSIVE: it never blocks writers). Under steady writes a
 * PASSIVE checkpoint never catches up with the end of the WAL, so the WAL would never restart and
 * grows without end; once the WAL file passes its bound the worker runs a TRUNCATE checkpoint,
 * which waits for the writer in between two transactions, copies everything, and cuts the file
 * to zero. Writers on the main thread meet SQLITE_BUSY for that moment and retry on timers (see
 * group-commit.ts), so the event loop never waits for it.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 2000');
const walSize = () => { try { return statSync(workerData.path + '-wal').size; } catch { return 0; } };
let truncations = 0;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (walSize() > workerData.walMaxBytes / 2) {
      db.pragma('wal_checkpoint(TRUNCATE)');
      truncations++;
      parentPort.postMessage({ truncations, walBytes: walSize() });
    }
  } catch {}
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') checkpoint();
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); db.close(); } catch {}
    parentPort.postMessage('stopped');
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(path: string, libsqlPath: string, walMaxBytes: number, intervalMs = 1000) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, libsql: libsqlPath, intervalMs, walMaxBytes } });
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /** A checkpoint now rather than at the next tick (the sweep, when its deletes have grown the WAL past the trigger). */
  now(): void {
    this.worker.postMessage('now');
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.on('message', (m) => m === 'stopped' && done());
      this.worker.once('exit', done);
      this.worker.postMessage('stop');
      setTimeout(done, 2000).unref();
    });
    await this.worker.terminate();
  }
}
