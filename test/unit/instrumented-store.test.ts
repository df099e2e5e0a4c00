import { expect } from 'chai';
import { instrumentStore } from '../../src/observability/instrumented-store.ts';
import type { Store } from '../../src/store.ts';

describe('the timed store (metrics)', () => {
  it('calls and times a method replaced after it was first used (race tests hook the store this way)', async () => {
    const adapter = { find: async (id: string) => `old ${id}` };
    const store = { kind: 'sqlite', oidcAdapter: () => adapter } as unknown as Store;
    const timed: string[] = [];
    const wrapped = instrumentStore(store, (repository, operation) => timed.push(`${repository}.${operation}`));
    const seen = wrapped.oidcAdapter('Session') as unknown as typeof adapter;
    expect(await seen.find('a')).to.equal('old a');
    seen.find = async (id: string) => `new ${id}`;
    expect(await wrapped.oidcAdapter('Session').find('b')).to.equal('new b');
    expect(timed).to.deep.equal(['oidc.Session.find', 'oidc.Session.find']);
  });
});
