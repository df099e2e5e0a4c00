/** The Store's relying parties (issue 14): find, list, create once, compare-and-set updates. */
import { expect } from 'chai';
import type { Store, StoredClient } from '../../src/store.ts';
import { uniq } from './fixtures.ts';

function storedClient(overrides: Partial<StoredClient> = {}): StoredClient {
  const at = new Date().toISOString();
  return {
    clientId: uniq('rp'),
    status: 'active',
    metadata: {
      client_name: 'Налоговая служба',
      redirect_uris: ['https://rp.example.test/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      // a profile's own block travels untouched (e.g. the ESIA profile's)
      esia: { certificate: 'MIIB…', scopes: ['fullname', 'snils'], nested: { flag: true, n: null } },
    },
    secrets: [{ hash: 'v1.salt.digest', createdAt: at }],
    source: 'store',
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

export function clientsContract(getStore: () => Store): void {
  describe('clients', () => {
    const clients = () => getStore().clients;

    it('create stores the client as given with version 1; find returns it', async () => {
      const client = storedClient({ version: 9, fileDigest: 'digest', source: 'file' });
      expect(await clients().create(client)).to.equal(true);
      expect(await clients().find(client.clientId)).to.deep.equal({ ...client, version: 1 });
      expect(await clients().find(uniq('rp'))).to.equal(undefined);
    });

    it('create refuses an id that is taken', async () => {
      const client = storedClient();
      expect(await clients().create(client)).to.equal(true);
      expect(await clients().create({ ...client, status: 'disabled', metadata: {} })).to.equal(false);
      expect((await clients().find(client.clientId))!.status).to.equal('active');
    });

    it('update compares and sets by version', async () => {
      const client = storedClient();
      await clients().create(client);
      const disabled = { ...client, status: 'disabled' as const, updatedAt: new Date().toISOString() };
      expect(await clients().update(disabled, 1)).to.equal(true);
      expect(await clients().find(client.clientId)).to.deep.equal({ ...disabled, version: 2 });
      expect(await clients().update({ ...client, status: 'active' }, 1), 'stale version').to.equal(false);
      expect(await clients().update({ ...client, status: 'active' }, 5), 'future version').to.equal(false);
      expect(await clients().update(storedClient(), 1), 'no such client').to.equal(false);
      expect((await clients().find(client.clientId))!.status).to.equal('disabled');
    });

    it('concurrent creates and updates: exactly one of each wins', async () => {
      const clientId = uniq('rp');
      const creates = await Promise.all([0, 1, 2, 3].map((i) => clients().create(storedClient({ clientId, metadata: { n: i } }))));
      expect(creates.filter(Boolean)).to.have.length(1);
      const base = (await clients().find(clientId))!;
      const updates = await Promise.all(
        [0, 1, 2, 3].map((i) => clients().update({ ...base, secrets: [{ hash: `h-${i}`, createdAt: base.createdAt }] }, 1)),
      );
      expect(updates.filter(Boolean)).to.have.length(1);
      const stored = (await clients().find(clientId))!;
      expect(stored.version).to.equal(2);
      expect(stored.secrets).to.deep.equal([{ hash: `h-${updates.indexOf(true)}`, createdAt: base.createdAt }]);
    });

    it('list returns every client (tombstones too) in client id order', async () => {
      const prefix = uniq('list');
      const ids = [`${prefix}-b`, `${prefix}-a`, `${prefix}-c`];
      for (const clientId of ids) await clients().create(storedClient({ clientId }));
      const tomb = (await clients().find(ids[2]!))!;
      await clients().update({ ...tomb, status: 'deleted', metadata: {}, secrets: [] }, 1);
      const listed = (await clients().list()).filter((c) => c.clientId.startsWith(prefix));
      expect(listed.map((c) => c.clientId)).to.deep.equal([...ids].sort());
      expect(listed.map((c) => c.status)).to.deep.equal(['active', 'active', 'deleted']);
      expect(listed[2]!.version).to.equal(2);
    });
  });
}
