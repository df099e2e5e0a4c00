import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
// Every module that declares a kind is reachable from the app.
import '../../src/app.ts';
import { declaredFlowKinds, FlowRecords } from '../../src/web/flow-records.ts';
import type { OidcAdapter, OidcPayload, Store } from '../../src/store.ts';

/** The rows of the "Flow records" table in docs/ARCHITECTURE.md: kind → lifetime in seconds. */
function documentedKinds(): Map<string, number> {
  const doc = readFileSync(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
  const section = doc.split('### Flow records')[1]?.split(/\n#{2,3} /)[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| kind') && !l.startsWith('| ---'));
  return new Map(
    rows.map((row) => {
      const cells = row.split(/(?<!\\)\|/).map((c) => c.trim());
      const kind = /^`([^`]+)`/.exec(cells[1])?.[1] ?? '';
      return [kind, Number(/(\d+) s/.exec(cells[4])?.[1])];
    }),
  );
}

/** An in-memory OIDC adapter with the store's conditional consume. */
function memoryStore(): Pick<Store, 'oidcAdapter'> {
  const rows = new Map<string, OidcPayload>();
  const adapter: Partial<OidcAdapter> = {
    async upsert(id, payload) {
      rows.set(id, { ...payload });
    },
    async find(id) {
      const p = rows.get(id);
      return p && { ...p };
    },
    async consume(id) {
      await Promise.resolve();
      const p = rows.get(id);
      if (!p || p.consumed) return false;
      p.consumed = 1;
      return true;
    },
    async destroy(id) {
      rows.delete(id);
    },
  };
  return { oidcAdapter: () => adapter as OidcAdapter };
}

describe('flow records', () => {
  it('docs/ARCHITECTURE.md lists exactly the declared kinds, with their lifetimes', () => {
    const declared = new Map(
      declaredFlowKinds()
        .filter((k) => !k.kind.startsWith('test-'))
        .map((k) => [k.kind, k.ttlSeconds]),
    );
    expect(Object.fromEntries(documentedKinds())).to.deep.equal(Object.fromEntries(declared));
  });

  it('loads what was saved under the kind’s prefix, and nothing once discarded', async () => {
    const store = memoryStore();
    const records = new FlowRecords<{ n: number }>('test-a', 60).in(store);
    await records.save('k', { n: 1 });
    expect(await records.load('k')).to.deep.equal({ n: 1 });
    expect(await store.oidcAdapter('VkhodFlow').find('test-a.k')).to.deep.equal({ n: 1 });
    await records.discard('k');
    expect(await records.load('k')).to.equal(undefined);
  });

  it('gives a single-use record to one of two racing takers only, and it is gone after', async () => {
    const records = new FlowRecords<{ n: number }>('test-b', 60).in(memoryStore());
    await records.save('k', { n: 2 });
    const [a, b] = await Promise.all([records.take('k'), records.take('k')]);
    expect([a, b].filter(Boolean)).to.deep.equal([{ n: 2 }]);
    expect(await records.load('k')).to.equal(undefined);
    expect(await records.consume('k')).to.equal(false);
  });

  it('takes race-free on the real SQLite store too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-flow-'));
    const store = openSqliteStore({ path: join(dir, 'db.sqlite'), sweepIntervalMs: 0 });
    try {
      const records = new FlowRecords<{ n: number }>('test-c', 60).in(store);
      await records.save('k', { n: 3 });
      const taken = await Promise.all(Array.from({ length: 5 }, () => records.take('k')));
      expect(taken.filter(Boolean)).to.have.length(1);
    } finally {
      await (store as { close?: () => Promise<void> }).close?.();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
