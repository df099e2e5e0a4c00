/**
 * WAL checkpoints off the request path: a worker thread with its own connection copies the WAL
 * into the database file every second (PASSIVE: it never blocks writers). Under steady writes a
 * PASSIVE checkpoint never catches up with the end of the WAL, so the WAL would never restart and
 * grows without end; once the WAL file passes its bound the worker runs a TRUNCATE checkpoint,
 * which waits for the writer in between two transactions, copies everything, and cuts the file
 * to zero. Writers on the main thread meet SQLITE_BUSY for that moment and retry on timers (see
 * group-commit.ts), so the event loop never waits for it.
 *
 * The thread runs only while there is something to copy (issue 15): it holds a V8 isolate — 9 MB
 * resident on Node 20, 14 MB on Node 24 — and woke every second on a process that was doing
 * nothing. Once nothing has been written and everything in the WAL copied for `idleMs`, it cuts
 * the WAL to zero (TRUNCATE: nothing writes then) and ends. From then on the main thread looks at
 * the WAL file's size every second (one `stat`) — with no checkpoint running it only grows,
 * whichever process writes, this one or another worker of the cluster — and starts the thread
 * again once the WAL holds `startBytes` (also at open: a WAL a crash left behind). Until then those few pages stay in the WAL, where they are as durable as
 * in the database file and cost readers nothing to speak of.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 2000');
const walSize = () => { try { return statSync(workerData.path + '-wal').size; } catch { return 0; } };
let truncations = 0;
let quietTicks = 0;
let lastVersion;
let timer;
const end = () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.postMessage('ending');
  parentPort.close();
};
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (walSize() > workerData.walMaxBytes / 2) {
      db.pragma('wal_checkpoint(TRUNCATE)');
      truncations++;
      parentPort.postMessage({ truncations, walBytes: walSize() });
    }
    // Nothing written since the last tick and everything copied: a quiet tick. Enough of them in a
    // row, and the WAL is cut and the thread ends.
    // (data_version: changes when any other connection, of any process, has committed since.)
    const [{ data_version: version }] = db.pragma('data_version');
    const quiet = result && result.busy === 0 && result.log === result.checkpointed && version === lastVersion;
    lastVersion = version;
    quietTicks = quiet ? quietTicks + 1 : 0;
    if (quietTicks >= workerData.idleTicks) {
      // Optional, so it waits for nothing: a TRUNCATE takes the write lock and then waits for
      // readers still on the WAL (an online backup) — with a busy timeout it would hold writers
      // off for that long, again at every attempt. A reader in the way: try again later.
      db.pragma('busy_timeout = 0');
      let cut;
      try { [cut] = db.pragma('wal_checkpoint(TRUNCATE)'); } finally { db.pragma('busy_timeout = 2000'); }
      if (cut && cut.busy === 0 && walSize() === 0) end();
      else quietTicks = 0;
    }
  } catch {
    quietTicks = 0;
  }
};
timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'now') checkpoint();
  if (m === 'stop') {
    clearInterval(timer);
    try { db.pragma('wal_checkpoint(PASSIVE)'); db.close(); } catch {}
    parentPort.postMessage('stopped');
  }
});
`;

export interface CheckpointerOptions {
  /** How often the thread checkpoints, and the main thread looks at the WAL while it is not running. */
  intervalMs?: number;
  /** How long nothing may be written, with everything copied, before the thread ends. */
  idleMs?: number;
  /** The WAL size at which a stopped thread starts again. */
  startBytes?: number;
}

/**
 * The defaults: a checkpoint a second; the thread ends after 10 s with nothing to copy and starts
 * (also at open) once the WAL holds 256 KB — a quarter of the WAL's bound, if that is less.
 */
const DEFAULTS = { intervalMs: 1000, idleMs: 10_000, startBytes: 256 * 1024 } as const;

export class Checkpointer {
  private worker?: Worker;
  /** The thread said it is ending (between its 'ending' and its exit). */
  private ending = false;
  /** Asked for while the thread was ending: started again at its exit. */
  private wanted = false;
  private stopped = false;
  private readonly watch: NodeJS.Timeout;
  private readonly options: Required<CheckpointerOptions>;
  /** Times the thread started (tests, diagnostics). */
  starts = 0;

  constructor(
    private readonly path: string,
    private readonly libsqlPath: string,
    private readonly walMaxBytes: number,
    options: CheckpointerOptions = {},
  ) {
    this.options = { ...DEFAULTS, startBytes: Math.min(DEFAULTS.startBytes, walMaxBytes / 4), ...options };
    const look = () => {
      if (!this.running && this.walBytes() >= this.options.startBytes) this.wake();
    };
    look();
    this.watch = setInterval(look, this.options.intervalMs).unref();
  }

  /** The thread is running and not ending. */
  get running(): boolean {
    return this.worker !== undefined && !this.ending;
  }

  /** Starts the thread if it is not running (or again once it has ended). */
  wake(): void {
    if (this.stopped || this.running) return;
    if (this.worker) this.wanted = true;
    else this.start();
  }

  /** A checkpoint now rather than at the next tick (the sweep, when its deletes have grown the WAL past the trigger). */
  now(): void {
    this.wake();
    if (this.running) this.worker!.postMessage('now');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watch);
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.on('message', (m) => m === 'stopped' && done());
      worker.once('exit', done);
      worker.postMessage('stop');
      setTimeout(done, 2000).unref();
    });
    await worker.terminate();
  }

  private start(): void {
    const idleTicks = Math.max(1, Math.ceil(this.options.idleMs / this.options.intervalMs));
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        path: this.path,
        libsql: this.libsqlPath,
        intervalMs: this.options.intervalMs,
        walMaxBytes: this.walMaxBytes,
        idleTicks,
      },
    });
    this.worker = worker;
    this.ending = false;
    this.starts += 1;
    worker.unref();
    worker.on('error', () => undefined);
    worker.on('message', (m) => {
      if (m === 'ending' && this.worker === worker) this.ending = true;
    });
    worker.once('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.ending = false;
      if (this.wanted && !this.stopped) {
        this.wanted = false;
        this.start();
      }
    });
  }

  private walBytes(): number {
    try {
      return statSync(`${this.path}-wal`).size;
    } catch {
      return 0;
    }
  }
}
