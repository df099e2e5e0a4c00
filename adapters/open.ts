/** Opens the store the configuration names: SQLite by default, MongoDB when MONGODB_URI is set. */
import type { Config } from '../config/load.ts';
import type { Store } from '../src/store.ts';

export async function openStore(store: Config['store'], warn?: (data: Record<string, unknown>, message: string) => void): Promise<Store> {
  if (store.kind === 'mongo') {
    const { openMongoStore } = await import('./mongo/index.ts');
    return openMongoStore({ uri: store.uri, auditRetentionDays: store.auditRetentionDays });
  }
  const { openSqliteStore } = await import('./sqlite/index.ts');
  const { kind: _kind, ...options } = store;
  return openSqliteStore({ ...options, warn });
}
