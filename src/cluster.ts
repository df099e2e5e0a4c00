/**
 * Every core (issue 15): with VKHOD_WORKERS=N > 1, main.ts's process becomes a small supervisor
 * (node:cluster primary) that holds the one listening socket and runs N worker processes, each a
 * whole vkhod on the shared store (the SQLite file or MongoDB: sessions, tokens, limits, clients
 * and signing keys all live there, so any worker can serve any request).
 *
 * - Worker index: each worker is started with VKHOD_WORKER_INDEX (0…N-1); worker 0 also runs the
 *   store's background work (sweeps, WAL checkpoints, erasure of deleted accounts), so N workers
 *   do not repeat it. A replacement takes over its predecessor's index.
 * - Health: the supervisor tells every worker how many workers are serving; /readyz answers 503
 *   ("starting") until all N are (main.ts), then the worker's own store check.
 * - Graceful restart, worker by worker, on SIGHUP: a fresh worker is started first and, once it
 *   listens, the old one is sent SIGTERM and drains (main.ts) — N workers serve throughout.
 * - A worker that dies is started again (after 1 s, doubling to 30 s while it keeps dying).
 * - SIGTERM/SIGINT: every worker drains; the supervisor exits when they are gone.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import type { Logger } from 'pino';

/** What the supervisor tells the workers. */
export interface ClusterState {
  type: 'vkhod:cluster';
  /** workers listening and not draining */
  ready: number;
  wanted: number;
}

export const WORKER_INDEX_ENV = 'VKHOD_WORKER_INDEX';

/** This process's worker index (0 in a single process). */
export function workerIndex(): number {
  return cluster.isWorker ? Number(process.env[WORKER_INDEX_ENV] ?? 0) : 0;
}

/** The latest state the supervisor sent (workers only; undefined before the first message). */
let state: ClusterState | undefined;
if (cluster.isWorker) {
  process.on('message', (message: unknown) => {
    if ((message as ClusterState)?.type === 'vkhod:cluster') state = message as ClusterState;
  });
}

/** In a worker: whether every wanted worker is serving (always true outside a cluster). */
export function clusterReady(): { ready: boolean; workers?: { ready: number; wanted: number } } {
  if (!cluster.isWorker) return { ready: true };
  if (!state) return { ready: false, workers: { ready: 0, wanted: 0 } };
  return { ready: state.ready >= state.wanted, workers: { ready: state.ready, wanted: state.wanted } };
}

export interface SupervisorOptions {
  workers: number;
  /**
   * The public port: a worker serves once it listens there (with VKHOD_ADMIN_PORT it listens on the
   * admin port first — that is not serving yet). 0: its first listener.
   */
  port: number;
  /** SIGTERM: how long workers get to drain before the supervisor stops waiting, in seconds. */
  drainSeconds: number;
  logger: Logger;
  /** The metrics listener: the supervisor serves it with every worker's metrics summed (cluster-metrics.ts). */
  metrics?: { port: number; host: string };
  /** A listener that cannot start: one line, exit 1 (main.ts). */
  refuse: (message: string) => never;
}

/**
 * Runs the supervisor. Never settles: the supervisor ends with process.exit once its workers are
 * gone after SIGTERM/SIGINT (so main.ts's top-level await keeps the rest of main.ts out of it).
 */
export async function superviseWorkers({
  workers: wanted,
  port,
  drainSeconds,
  logger,
  metrics,
  refuse,
}: SupervisorOptions): Promise<never> {
  const isPublic = (address: { port: number }) => !port || address.port === port;
  const slots: Array<Worker | undefined> = new Array(wanted).fill(undefined);
  const indexOf = new Map<Worker, number>();
  const serving = new Set<Worker>();
  const backoff: number[] = new Array(wanted).fill(1000);
  /** Workers being replaced on purpose: their exit is expected. */
  const retiring = new Set<Worker>();
  let stopping = false;
  let restarting = false;

  const broadcast = () => {
    const message: ClusterState = { type: 'vkhod:cluster', ready: serving.size, wanted };
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send(message, () => undefined);
    }
  };

  const fork = (index: number): Worker => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    indexOf.set(worker, index);
    worker.on('listening', (address) => {
      if (!isPublic(address) || retiring.has(worker) || stopping) return;
      serving.add(worker);
      backoff[index] = 1000;
      logger.info({ worker: index, pid: worker.process.pid, serving: serving.size, wanted }, 'worker serving');
      broadcast();
    });
    // A fresh worker gets the state at once (it may have missed the broadcasts before it listened).
    worker.on('online', () => broadcast());
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const index = indexOf.get(worker);
    indexOf.delete(worker);
    serving.delete(worker);
    const expected = retiring.delete(worker) || stopping;
    broadcast();
    if (expected || index === undefined || slots[index] !== worker) return;
    const delay = backoff[index]!;
    backoff[index] = Math.min(30_000, delay * 2);
    // `exitCode`, not `code`: the logger redacts `code` (one-time codes) and the operator needs this one.
    logger.error({ worker: index, pid: worker.process.pid, exitCode: code, signal, restartInMs: delay }, 'worker died; starting another');
    setTimeout(() => {
      if (!stopping && slots[index] === worker) slots[index] = fork(index);
    }, delay).unref();
  });

  const exited = (worker: Worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve())));

  /** Starts a fresh worker for `index`, waits until it listens, then drains the old one. */
  async function replace(index: number): Promise<boolean> {
    const old = slots[index];
    const fresh = fork(index);
    const listening = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 120_000);
      const onListening = (address: { port: number }) => {
        if (!isPublic(address)) return;
        fresh.off('listening', onListening);
        clearTimeout(timer);
        resolve(true);
      };
      fresh.on('listening', onListening);
      fresh.once('exit', () => (clearTimeout(timer), resolve(false)));
    });
    if (!listening || stopping) {
      retiring.add(fresh);
      if (!fresh.isDead()) fresh.process.kill('SIGTERM');
      return false;
    }
    slots[index] = fresh;
    if (old && !old.isDead()) {
      retiring.add(old);
      serving.delete(old);
      broadcast();
      old.process.kill('SIGTERM');
      await exited(old);
    }
    return true;
  }

  process.on('SIGHUP', () => {
    if (restarting || stopping) return;
    restarting = true;
    logger.info({ workers: wanted }, 'SIGHUP: restarting the workers one by one');
    void (async () => {
      for (let index = 0; index < wanted; index += 1) {
        if (!(await replace(index))) {
          logger.error({ worker: index }, 'the new worker did not start; restart stopped, the old workers keep serving');
          break;
        }
      }
      restarting = false;
      logger.info('workers restarted');
    })();
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the workers');
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    for (const worker of all) if (!worker.isDead()) worker.process.kill('SIGTERM');
    const force = setTimeout(
      () => {
        logger.warn('workers still running at the end of the drain time; ending them');
        for (const worker of all) if (!worker.isDead()) worker.process.kill('SIGKILL');
        process.exit(0);
      },
      (drainSeconds + 2) * 1000,
    );
    force.unref();
    void Promise.all(all.map(exited)).then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (metrics) {
    const { clusterMetricsRequestHandler } = await import('./observability/cluster-metrics.ts');
    const listener = createServer(clusterMetricsRequestHandler());
    listener.on('error', (err: NodeJS.ErrnoException) => {
      if (!listener.listening) refuse(`cannot listen (${err.code ?? err.message}): check VKHOD_METRICS_PORT`);
      logger.error({ err: { message: err.message } }, 'metrics listener error');
    });
    listener.listen(metrics.port, metrics.host, () =>
      logger.info({ ...metrics, workers: wanted }, 'metrics listener (/metrics, all workers)'),
    );
    listener.unref();
  }
  for (let index = 0; index < wanted; index += 1) slots[index] = fork(index);
  logger.info({ workers: wanted, pid: process.pid }, 'vkhod supervisor started');
  return new Promise<never>(() => undefined);
}
