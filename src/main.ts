/**
 * The process: configuration → store → app → listen → graceful stop on SIGTERM/SIGINT.
 * With VKHOD_WORKERS > 1 this process supervises that many workers (src/cluster.ts), each of
 * which runs the rest of this file.
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { noClientRefusal, startupChecks } from '../config/startup-checks.ts';
import type { VkhodApp } from './app.ts';
import { createLogger } from './logger.ts';
import { StoreVersionError } from './store.ts';
import { clusterReady, superviseWorkers, workerIndex } from './cluster.ts';
import { routedPathOf } from './web/routed-path.ts';

// After each full collection V8 lets the old generation grow to about twice what survived, and
// keeps that memory until its memory reducer runs some seconds after the load has gone: after a
// burst of sign-ins the old generation held 70 MB of which 24 MB was live (190–230 MB resident).
// Growing by 30% instead keeps the process at ~150 MB for the same CPU per request (docs/operations.md, Memory). An operator's own
// `node --heap-growing-percent=N` wins; the flag is read at each collection, so setting it here works.
if (!process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent')))
  v8.setFlagsFromString('--heap-growing-percent=30');

/** A start that cannot go on: one line on stderr, exit code 1 (docs/configuration.md). */
function refuse(message: string): never {
  process.stderr.write(`vkhod: configuration error: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) refuse(err.message);
  throw err;
}
const checks = startupChecks(config);
if (checks.refusal) refuse(checks.refusal);

const logger = createLogger(config.logLevel);
for (const warning of checks.warnings) logger.warn({ setting: warning.setting }, warning.message);
// The supervisor never gets past this line (it exits by itself after its workers) and never loads the app.
if (config.workers > 1 && cluster.isPrimary)
  await superviseWorkers({
    workers: config.workers,
    port: config.port,
    drainSeconds: config.drainSeconds,
    logger,
    metrics: config.metrics,
    refuse,
  });
/** In a cluster, worker 0 alone runs the background work (sweeps, WAL checkpoints, erasure). */
const inCluster = cluster.isWorker;
const backgroundWork = workerIndex() === 0;

// The application is loaded only once the configuration passed: a refusal is immediate.
const [
  { buildApp },
  { openStore },
  { metricsRequestHandler },
  { masterKeyCheck, sealMasterKeyCheck },
  { SecretBox },
  { adminListenerHandler },
  { shareHashingCores },
] = await Promise.all([
  import('./app.ts'),
  import('../adapters/open.ts'),
  import('./observability/metrics.ts'),
  import('./security/master-key-check.ts'),
  import('./security/secret-box.ts'),
  import('./web/admin-listener.ts'),
  import('./accounts/password-hash.ts'),
]);
// One argon2id hash per core for the whole cluster, whatever VKHOD_WORKERS is (src/accounts/hash-threads.ts).
shareHashingCores(config.workers);
const store = await openStore(config.store, (data, message) => logger.warn(data, message), { backgroundWork }).catch((err: Error) => {
  // A store written by a newer vkhod: one plain line, like a configuration error (issue 14).
  if (err instanceof StoreVersionError) {
    process.stderr.write(`vkhod: ${err.message}\n`);
    process.exit(1);
  }
  logger.fatal({ err: { message: err.message } }, 'cannot open the store');
  process.exit(1);
});
// Production without any relying party, in the clients file or in the store (issue 14: clients live in the store).
const noClient = noClientRefusal(config, (await store.clients.list()).filter((c) => c.status === 'active').length);
if (noClient) {
  await store.close().catch(() => undefined);
  refuse(noClient);
}
const box = new SecretBox(config.secretKey);
if ((await masterKeyCheck(store.settings, box)) === 'other-key') {
  await store.close().catch(() => undefined);
  refuse('VKHOD_SECRET_KEY: the data in the store was encrypted under another master key (use the key it was created with)');
}
const { app, services } = await buildApp(config, store, logger).catch(async (err: Error): Promise<VkhodApp> => {
  await store.close().catch(() => undefined);
  refuse(err.message.replace(/\s+/g, ' '));
});
// The key opened the store's signing keys (or made them): from now on a start checks the marker.
await sealMasterKeyCheck(store.settings, box);
const handle = app.callback();
/** Set on SIGTERM: /readyz answers 503 at once and every response closes its connection. */
let draining = false;
const serve = (handler: (req: IncomingMessage, res: ServerResponse) => unknown) => (req: IncomingMessage, res: ServerResponse) => {
  // As the router matches it (any case, a trailing slash): `/READYZ` must not say ready while draining.
  // (an absolute-form target, `GET http://host/readyz`, is a path too: as koa reads it)
  // Parsed only for a target that names it at all (a URL parse on every request was measurable, issue 15).
  const readyz =
    /readyz/i.test(req.url ?? '') &&
    routedPathOf(URL.canParse(req.url!, 'http://x') ? new URL(req.url!, 'http://x').pathname : '') === '/readyz';
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
  void handler(req, res);
};
const server = createServer(serve(handle));
server.keepAliveTimeout = 65_000;
/** Issue 14: the admin listener (only /admin and /operator) and the metrics listener, when set. */
const extraServers: Server[] = [];
if (config.adminListener) {
  const { port, host } = config.adminListener;
  const admin = createServer(serve(adminListenerHandler(handle)));
  admin.keepAliveTimeout = 65_000;
  admin.listen(port, host, () => logger.info({ port, host }, 'admin listener (/admin, /operator)'));
  extraServers.push(admin);
}
if (config.metrics && inCluster) {
  // The supervisor listens and sums every worker's metrics (src/observability/cluster-metrics.ts).
  const { shareWithSupervisor } = await import('./observability/cluster-metrics.ts');
  shareWithSupervisor(services.metrics.registry);
} else if (config.metrics) {
  const { port, host } = config.metrics;
  const metrics = createServer(metricsRequestHandler(services.metrics));
  metrics.listen(port, host, () => logger.info({ port, host }, 'metrics listener (/metrics)'));
  extraServers.push(metrics);
}
for (const listener of [server, ...extraServers])
  listener.on('error', (err: NodeJS.ErrnoException) => {
    // EADDRINUSE, EACCES, a HOST that is no address of this machine: one line, exit 1.
    if (!listener.listening) refuse(`cannot listen (${err.code ?? err.message}): check HOST, PORT, VKHOD_ADMIN_PORT, VKHOD_METRICS_PORT`);
    logger.error({ err: { message: err.message } }, 'listener error');
  });

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
  // The admin and metrics listeners take no part in the drain: they just close.
  for (const extra of extraServers) {
    extra.close();
    extra.closeIdleConnections();
  }
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
