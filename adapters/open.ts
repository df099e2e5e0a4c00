/** Opens the store the configuration names: SQLite by default, MongoDB when MONGODB_URI is set. */
import type { Config } from '../config/load.ts';
import type { Store } from '../src/store.ts';

export interface OpenOptions {
  /**
   * Whether this process runs the store's background work (SQLite: sweeps and WAL checkpoints).
   * Default true; in a cluster only one worker does (src/cluster.ts).
   */
  backgroundWork?: boolean;
}

export async function openStore(
  store: Config['store'],
  warn?: (data: Record<string, unknown>, message: string) => void,
  options: OpenOptions = {},
): Promise<Store> {
  if (store.kind === 'mongo') {
    const { openMongoStore } = await import('./mongo/index.ts');
    return openMongoStore({ uri: store.uri, auditRetentionDays: store.auditRetentionDays });
  }
  const { openSqliteStore } = await import('./sqlite/index.ts');
  const { kind: _kind, ...settings } = store;
  return openSqliteStore({
    ...settings,
    warn,
    ...(options.backgroundWork === false ? { sweepIntervalMs: 0, backgroundCheckpoints: false } : {}),
  });
}
