/**
 * Password hashing on threads of its own, at a lower CPU priority than the event loop.
 *
 * argon2id is deliberately expensive (≈ 20 ms of CPU per hash here). Run on libuv's pool, as
 * @node-rs/argon2's async calls do, four hashes compete for the cores with the event loop as
 * equals: under a burst of sign-ins — or of password guesses — every other request, token
 * endpoint and health probe included, waits behind them, and so does each durable write's fsync
 * (queued on the same pool). Here instead:
 * - at most one hash per core runs at a time (`os.availableParallelism()`); more wait their turn;
 * - each hashing thread lowers its own priority (`nice` +10 on Linux, per thread): when the event
 *   loop has work it gets the core first, and the hashes take what is left;
 * - libuv's pool stays free for the file system (the WAL's fsync).
 * Threads start on the first hash, not with the process, and never keep it alive; a thread idle
 * for `IDLE_THREAD_MS` ends (issue 15): each holds a V8 isolate and its heap — 9 MB resident on
 * Node 20, 14 MB on Node 24 — which a process that signed citizens in during the morning would
 * otherwise keep all day. The next hash after that starts a thread again (tens of milliseconds, on
 * that thread, not the event loop).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface HashParams {
  algorithm: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

type Job = { op: 'hash'; password: string; params: HashParams } | { op: 'verify'; hash: string; password: string };

interface Pending {
  job: Job;
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
}

/**
 * A hash that could not be computed because its thread stopped (out of memory, terminated): not an
 * answer about the password, so a caller must not count it as a wrong one.
 */
export class HashThreadError extends Error {
  constructor() {
    super('the hashing thread stopped');
    this.name = 'HashThreadError';
  }
}

/** How long a hashing thread may stay without a job before it ends. */
export const IDLE_THREAD_MS = 10_000;

/** Niceness of a hashing thread: the event loop (0) wins the core about nine times in ten. */
const HASH_NICENESS = 10;

/**
 * The thread's body (CommonJS, evaluated): lowers its own priority — /proc/thread-self names this
 * thread's id, and on Linux setpriority() on a thread id applies to that thread alone — then hashes
 * with the synchronous calls, one message at a time.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, workerData.niceness);
} catch {
  // not Linux, or not allowed: the thread runs at the process's priority
}
const { hashSync, verifySync } = require(workerData.argon2);
parentPort.on('message', (job) => {
  try {
    const value = job.op === 'hash' ? hashSync(job.password, job.params) : verifySync(job.hash, job.password);
    parentPort.postMessage({ ok: true, value });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String((err && err.message) || err) });
  }
});
`;

class HashThread {
  private readonly worker: Worker;
  current?: Pending;
  /** While idle: the timer that ends it. */
  retirement?: NodeJS.Timeout;

  constructor(argon2: string, onIdle: (thread: HashThread) => void, onGone: (thread: HashThread) => void) {
    // Plain CommonJS: none of the process's flags (a loader such as tsx, --input-type) apply to it.
    this.worker = new Worker(THREAD, { eval: true, execArgv: [], workerData: { argon2, niceness: HASH_NICENESS } });
    // Alive only while it hashes: an idle thread never keeps the process from exiting, a busy one does.
    this.worker.unref();
    this.worker.on('message', (reply: { ok: true; value: string | boolean } | { ok: false; message: string }) => {
      const pending = this.current;
      this.current = undefined;
      this.worker.unref();
      if (pending) {
        if (reply.ok) pending.resolve(reply.value);
        else pending.reject(new Error(reply.message));
      }
      onIdle(this);
    });
    const gone = () => {
      const pending = this.current;
      this.current = undefined;
      pending?.reject(new HashThreadError());
      onGone(this);
    };
    this.worker.on('error', gone);
    this.worker.on('exit', gone);
  }

  run(pending: Pending): void {
    clearTimeout(this.retirement);
    this.current = pending;
    this.worker.ref();
    this.worker.postMessage(pending.job);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class HashThreads {
  private readonly idle: HashThread[] = [];
  private readonly all = new Set<HashThread>();
  private readonly queue: Pending[] = [];
  private readonly argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');

  constructor(
    public size = Math.max(1, availableParallelism()),
    private readonly idleMs = IDLE_THREAD_MS,
  ) {}

  hash(password: string, params: HashParams): Promise<string> {
    return this.submit({ op: 'hash', password, params }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.submit({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  /** Hashing threads running now (started lazily, at most `size`). */
  get threads(): number {
    return this.all.size;
  }

  /** Stops the threads; a job still running or waiting for a thread fails, later jobs start new ones. */
  async close(): Promise<void> {
    for (const waiting of this.queue.splice(0)) waiting.reject(new HashThreadError());
    const threads = [...this.all];
    for (const thread of threads) clearTimeout(thread.retirement);
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private submit(job: Job): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const thread = this.idle.pop() ?? (this.all.size < this.size ? this.start() : undefined);
      if (!thread) return;
      thread.run(this.queue.shift()!);
    }
  }

  /** Ends a thread that stayed idle; a job that comes meanwhile has taken it off the idle list. */
  private retire(thread: HashThread): void {
    const at = this.idle.indexOf(thread);
    if (at < 0) return;
    this.idle.splice(at, 1);
    this.all.delete(thread);
    void thread.terminate();
  }

  private start(): HashThread {
    const thread = new HashThread(
      this.argon2,
      (idle) => {
        if (!this.all.has(idle)) return;
        this.idle.push(idle);
        idle.retirement = setTimeout(() => this.retire(idle), this.idleMs).unref();
        this.dispatch();
      },
      (gone) => {
        if (!this.all.delete(gone)) return;
        const at = this.idle.indexOf(gone);
        if (at >= 0) this.idle.splice(at, 1);
        this.dispatch();
      },
    );
    this.all.add(thread);
    return thread;
  }
}
