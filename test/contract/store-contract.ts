/**
 * The Store contract suite (DESIGN §5): every adapter of `src/store.ts` must pass it.
 * `open` is called once for the shared store and again for the lifecycle tests, so it must
 * return a working store each time (the same database is fine: tests use unique ids).
 */
import { expect } from 'chai';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Store } from '../../src/store.ts';
import { accountsContract } from './accounts-contract.ts';
import { clientsContract } from './clients-contract.ts';
import { uniq } from './fixtures.ts';
import { oidcContract } from './oidc-contract.ts';
import { esiaContract } from './esia-contract.ts';
import { auditContract, challengesContract, lettersContract, settingsContract } from './records-contract.ts';
import { auditQueryContract } from './audit-query-contract.ts';

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, function () {
    let store: Store | undefined;
    const getStore = (): Store => {
      if (!store) throw new Error('store not open');
      return store;
    };

    before(async function () {
      store = await open();
    });

    after(async function () {
      await store?.close();
    });

    it('reports its kind', () => {
      expect(['sqlite', 'mongo']).to.include(getStore().kind);
    });

    oidcContract(getStore);
    accountsContract(getStore);
    challengesContract(getStore);
    auditContract(getStore);
    settingsContract(getStore);
    lettersContract(getStore);
    clientsContract(getStore);
    rateLimiterContract(getStore);
    auditQueryContract(getStore);
    esiaContract(getStore);

    describe('lifecycle', () => {
      it('ping resolves on an open store', async () => {
        await getStore().ping();
      });

      it('after close, ping rejects', async () => {
        const other = await open();
        await other.ping();
        await other.close();
        let rejected = false;
        try {
          await other.ping();
        } catch {
          rejected = true;
        }
        expect(rejected, 'ping after close').to.equal(true);
      });
    });
  });
}

function rateLimiterContract(getStore: () => Store): void {
  describe('rateLimiter', () => {
    async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
      try {
        await promise;
      } catch (err) {
        return err;
      }
      return expect.fail('expected the limiter to reject');
    }

    it('allows `points` consumptions per key, then rejects with a RateLimiterRes', async () => {
      const limiter = getStore().rateLimiter({ keyPrefix: uniq('rl'), points: 3, duration: 60 });
      const key = uniq('ip');
      const remaining: number[] = [];
      for (let i = 0; i < 3; i++) remaining.push((await limiter.consume(key)).remainingPoints);
      expect(remaining).to.deep.equal([2, 1, 0]);
      const res = await rejectionOf(limiter.consume(key));
      expect(res).to.be.instanceOf(RateLimiterRes);
      expect((res as RateLimiterRes).remainingPoints).to.equal(0);
      expect((res as RateLimiterRes).msBeforeNext).to.be.greaterThan(0);
      expect((res as RateLimiterRes).msBeforeNext).to.be.at.most(60_000);
    });

    it('blockDuration blocks the key for longer than the window', async () => {
      const limiter = getStore().rateLimiter({ keyPrefix: uniq('rl'), points: 1, duration: 2, blockDuration: 600 });
      const key = uniq('ip');
      await limiter.consume(key);
      const res = await rejectionOf(limiter.consume(key));
      expect(res).to.be.instanceOf(RateLimiterRes);
      expect((res as RateLimiterRes).msBeforeNext).to.be.greaterThan(60_000);
    });

    it('keys are independent', async () => {
      const limiter = getStore().rateLimiter({ keyPrefix: uniq('rl'), points: 1, duration: 60 });
      const [a, b] = [uniq('ip'), uniq('ip')];
      await limiter.consume(a);
      expect(await rejectionOf(limiter.consume(a))).to.be.instanceOf(RateLimiterRes);
      expect((await limiter.consume(b)).remainingPoints).to.equal(0);
    });

    it('key prefixes are independent', async () => {
      const first = getStore().rateLimiter({ keyPrefix: uniq('rl'), points: 2, duration: 60 });
      const second = getStore().rateLimiter({ keyPrefix: uniq('rl'), points: 2, duration: 60 });
      const key = uniq('ip');
      await first.consume(key, 2);
      expect(await rejectionOf(first.consume(key))).to.be.instanceOf(RateLimiterRes);
      expect((await second.consume(key)).remainingPoints).to.equal(1);
    });

    it('counters live in the store: a second limiter with the same prefix sees them', async () => {
      const keyPrefix = uniq('rl');
      const key = uniq('ip');
      await getStore().rateLimiter({ keyPrefix, points: 2, duration: 60 }).consume(key, 2);
      const again = getStore().rateLimiter({ keyPrefix, points: 2, duration: 60 });
      expect(await rejectionOf(again.consume(key))).to.be.instanceOf(RateLimiterRes);
    });
  });
}
