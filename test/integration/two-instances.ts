/**
 * Two vkhod processes behind one load balancer, as far as a test can have them: two apps on one
 * SQLite file with one master key, each with its own caches and its own node-oidc-provider
 * (issue 14). Not a spec file.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startHarness, type Harness } from '../support/harness.ts';
import { addOperator, type TestOperator } from './admin-fixtures.ts';

export interface TwoInstances {
  a: Harness;
  b: Harness;
  admin: TestOperator;
  close(): Promise<void>;
}

export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const shared = {
    VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
    VKHOD_CLIENT_CACHE_SECONDS: '1',
    VKHOD_KEY_REFRESH_SECONDS: '1',
    ...env,
  };
  const a = await startHarness({ env: shared });
  const path = a.config.store.kind === 'sqlite' ? a.config.store.path : '';
  const b = await startHarness({ env: { ...shared, VKHOD_SQLITE_PATH: path } });
  const admin = await addOperator(a, 'registry.admin', ['admin'], 'Администратор Реестра');
  return {
    a,
    b,
    admin,
    async close() {
      await b.close();
      await a.close();
    },
  };
}

/** The admin API as this operator: `call('post', '/clients', body)`. */
export function adminCall(h: Harness, admin: TestOperator) {
  return (method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: unknown) => {
    const req = request(h.url)[method](`/admin/api${path}`).auth(admin.login, admin.password);
    return method === 'get' || method === 'delete' ? req : req.set('content-type', 'application/json').send(JSON.stringify(body ?? {}));
  };
}

/**
 * Polls `check` until it passes (a change made on the other instance reaches this one within its
 * cache time); rethrows its last failure after `attempts` tries.
 */
export async function eventually(check: () => Promise<unknown>, attempts = 60, stepMs = 100): Promise<void> {
  for (let i = 1; ; i += 1) {
    try {
      await check();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, stepMs));
    }
  }
}
