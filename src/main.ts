/**
 * The process: configuration → store → app → listen → graceful stop on SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { buildApp } from './app.ts';
import { createLogger } from './logger.ts';
import { openStore } from '../adapters/open.ts';

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
const store = await openStore(config.store).catch((err: Error) => {
  logger.fatal({ err: { message: err.message } }, 'cannot open the store');
  process.exit(1);
});
const { app, services } = await buildApp(config, store, logger);
const server = createServer(app.callback());
server.keepAliveTimeout = 65_000;
server.listen(config.port, config.host, () => {
  logger.info({ issuer: config.issuer, store: store.kind, port: config.port }, 'vkhod is listening');
  if (config.demoRp) logger.info(`demo relying party: ${config.issuer}/demo`);
  if (services.outbox) logger.info(`dev outbox (SMS and e-mail): ${config.issuer}/dev/outbox`);
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: no new connections, finishing requests');
  const force = setTimeout(() => {
    logger.warn('requests still open after 10 s; closing anyway');
    server.closeAllConnections();
  }, 10_000);
  force.unref();
  server.close(async () => {
    await store.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
