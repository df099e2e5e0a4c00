/** Contract: `store.esia` — the ESIA profile's oids (allocated once, unique) and single-use states. */
import { expect } from 'chai';
import { ESIA_OID_BASE, type Store } from '../../src/store.ts';
import { uniq } from './fixtures.ts';

export function esiaContract(getStore: () => Store): void {
  describe('esia', () => {
    const esia = () => getStore().esia;

    it('oidOf allocates a number above the base once and returns it again', async () => {
      const account = uniq('acc');
      const oid = await esia().oidOf(account);
      expect(oid).to.be.a('number').and.greaterThan(ESIA_OID_BASE);
      expect(Number.isSafeInteger(oid)).to.equal(true);
      expect(await esia().oidOf(account)).to.equal(oid);
      expect(await esia().accountOfOid(oid)).to.equal(account);
      expect(await esia().accountOfOid(oid + 1_000_000)).to.equal(undefined);
    });

    it('different accounts get different oids', async () => {
      const oids = await Promise.all(Array.from({ length: 10 }, () => esia().oidOf(uniq('acc'))));
      expect(new Set(oids).size).to.equal(10);
    });

    it('parallel first calls for one account agree on one oid', async () => {
      const account = uniq('acc');
      const oids = await Promise.all(Array.from({ length: 8 }, () => esia().oidOf(account)));
      expect(new Set(oids).size, oids.join(',')).to.equal(1);
      expect(await esia().accountOfOid(oids[0]!)).to.equal(account);
    });

    it('useOnce: true for exactly one of parallel callers, false afterwards', async () => {
      const key = uniq('client.state');
      const until = new Date(Date.now() + 60_000).toISOString();
      const results = await Promise.all(Array.from({ length: 8 }, () => esia().useOnce(key, until)));
      expect(results.filter(Boolean)).to.have.length(1);
      expect(await esia().useOnce(key, until)).to.equal(false);
      expect(await esia().useOnce(uniq('client.state'), until)).to.equal(true);
    });

    it('useOnce: a key whose memory expired is fresh again', async () => {
      const key = uniq('client.state');
      expect(await esia().useOnce(key, new Date(Date.now() - 1000).toISOString())).to.equal(true);
      expect(await esia().useOnce(key, new Date(Date.now() + 60_000).toISOString())).to.equal(true);
      expect(await esia().useOnce(key, new Date(Date.now() + 60_000).toISOString())).to.equal(false);
    });
  });
}
