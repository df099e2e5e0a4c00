/**
 * WAL checkpoints off the request path: a worker thread with its own connection copies the WAL
 * into the database file every second (PASSIVE: it never blocks writers). The serving
 * connection's automatic checkpoint is raised to a high safety net, so requests no longer stall
 * on the fsync a checkpoint makes.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); db.close(); } catch {}
    parentPort.postMessage('stopped');
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(path: string, libsqlPath: string, intervalMs = 1000) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, libsql: libsqlPath, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once('message', done);
      this.worker.once('exit', done);
      this.worker.postMessage('stop');
      setTimeout(done, 2000).unref();
    });
    await this.worker.terminate();
  }
}
