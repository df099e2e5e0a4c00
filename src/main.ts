/**
 * The process: configuration → store → app → listen → graceful stop on SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import net from 'node:net';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { buildApp } from './app.ts';
import { createLogger } from './logger.ts';
import { openStore } from '../adapters/open.ts';
import { StoreVersionError } from './store.ts';

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
const store = await openStore(config.store, (data, message) => logger.warn(data, message)).catch((err: Error) => {
  // A store written by a newer vkhod: one plain line, like a configuration error (issue 14).
  if (err instanceof StoreVersionError) {
    process.stderr.write(`vkhod: ${err.message}\n`);
    process.exit(1);
  }
  logger.fatal({ err: { message: err.message } }, 'cannot open the store');
  process.exit(1);
});
const { app, services } = await buildApp(config, store, logger);
const handle = app.callback();
/** Set on SIGTERM: /readyz answers 503 at once and every response closes its connection. */
let draining = false;
const server = createServer((req, res) => {
  if (draining) {
    res.setHeader('connection', 'close');
    if (req.url === '/readyz' || req.url?.startsWith('/readyz?')) {
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
  services.accountDeletion.eraseDue().then(
    (erased) => erased && logger.info({ erased }, 'deleted accounts erased'),
    (err: Error) => logger.error({ err: { message: err.message } }, 'erasing deleted accounts failed'),
  );
}, ERASURE_INTERVAL_MS);
erasure.unref();
server.listen(config.port, config.host, () => {
  logger.info({ issuer: config.issuer, store: store.kind, port: config.port }, 'vkhod is listening');
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
