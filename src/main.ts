/**
 * The process: configuration → store → app → listen → graceful stop on SIGTERM/SIGINT.
 * With VKHOD_WORKERS > 1 this process supervises that many workers (src/cluster.ts), each of
 * which runs the rest of this file.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import net from 'node:net';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { createLogger } from './logger.ts';
import { openStore } from '../adapters/open.ts';
import { clusterReady, superviseWorkers, workerIndex } from './cluster.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`vkhod: configuration error: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger(config.logLevel);
// The supervisor never gets past this line (it exits by itself after its workers).
if (config.workers > 1 && cluster.isPrimary) await superviseWorkers({ workers: config.workers, drainSeconds: config.drainSeconds, logger });
/** In a cluster, worker 0 alone runs the background work (sweeps, WAL checkpoints, erasure). */
const inCluster = cluster.isWorker;
const backgroundWork = workerIndex() === 0;
const store = await openStore(config.store, (data, message) => logger.warn(data, message), { backgroundWork }).catch((err: Error) => {
  logger.fatal({ err: { message: err.message } }, 'cannot open the store');
  process.exit(1);
});
// Imported here, not at the top: the supervisor of a cluster never loads the app (it stays small).
const { buildApp } = await import('./app.ts');
const { app, services } = await buildApp(config, store, logger);
const handle = app.callback();
/** Set on SIGTERM: /readyz answers 503 at once and every response closes its connection. */
let draining = false;
const server = createServer((req, res) => {
  const readyz = req.url === '/readyz' || req.url?.startsWith('/readyz?');
  if (inCluster) {
    // Which worker answered (operators and the cluster test tell them apart by it).
    res.setHeader('vkhod-worker', String(workerIndex()));
    const workers = clusterReady();
    if (readyz && !workers.ready && !draining) {
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: 'starting', store: store.kind, workers: workers.workers }));
      return;
    }
  }
  if (draining) {
    res.setHeader('connection', 'close');
    if (readyz) {
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: 'draining', store: store.kind }));
      return;
    }
  }
  void handle(req, res);
});
server.keepAliveTimeout = 65_000;

/**
 * Erasure of deleted accounts whose grace has ended: a job of the app (not the store's sweep,
 * which knows rows, not accounts) so it runs the same on SQLite and MongoDB and writes its audit
 * event; every process runs it, each step is a no-op on an account already erased.
 */
const ERASURE_INTERVAL_MS = 10 * 60_000;
const erasure = setInterval(() => {
  if (!backgroundWork) return;
  services.accountDeletion.eraseDue().then(
    (erased) => erased && logger.info({ erased }, 'deleted accounts erased'),
    (err: Error) => logger.error({ err: { message: err.message } }, 'erasing deleted accounts failed'),
  );
}, ERASURE_INTERVAL_MS);
erasure.unref();
server.listen(config.port, config.host, () => {
  logger.info(
    { issuer: config.issuer, store: store.kind, port: config.port, ...(inCluster ? { worker: workerIndex() } : {}) },
    'vkhod is listening',
  );
  if (config.demoRp) logger.info(`demo relying party: ${config.issuer}/demo`);
  if (services.outbox) logger.info(`dev outbox (SMS and e-mail): ${config.issuer}/dev/outbox`);
});

/**
 * Graceful drain (issue 17): not ready at once; no new connections; every response from now on
 * says `Connection: close`, so keep-alive clients move on after the request they are sending;
 * connections that stay idle are closed after a short grace (a client that was about to send
 * gets its response first); in-flight requests finish; the process exits when the last
 * connection is gone, or at VKHOD_DRAIN_SECONDS (default 8 s, below Docker's 10 s) whatever is left.
 */
let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  draining = true;
  const started = Date.now();
  const drainMs = config.drainSeconds * 1000;
  logger.info({ signal, drainSeconds: config.drainSeconds }, 'stopping: not ready, finishing requests');
  let exited = false;
  const exit = async (code: number) => {
    if (exited) return;
    exited = true;
    await store.close().catch((err: Error) => logger.error({ err: { message: err.message } }, 'closing the store failed'));
    logger.info({ ms: Date.now() - started }, 'stopped');
    process.exit(code);
  };
  // Stop listening, but do not yet cut idle keep-alive connections (net.Server#close: http.Server's
  // own close would close them at once, racing a request a client is sending right now).
  net.Server.prototype.close.call(server, () => void exit(0));
  const idle = setTimeout(
    () => {
      server.closeIdleConnections();
      // Then keep closing connections as they turn idle (each response already said Connection: close).
      setInterval(() => server.closeIdleConnections(), 250).unref();
    },
    Math.min(1000, drainMs / 4),
  );
  idle.unref();
  const force = setTimeout(
    () => {
      logger.warn({ drainSeconds: config.drainSeconds }, 'requests still open at the end of the drain time; closing them');
      server.closeAllConnections();
      void exit(0);
    },
    Math.max(0, drainMs - 500),
  );
  force.unref();
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
