/**
 * The MongoDB store's durability settings (issue 14), checked without a server: the connection
 * pins majority write (journaled) and read concern with retryable writes and reads, and a
 * revocation (a multi-document delete, which the driver never retries) is retried on the errors
 * of a failover — and only on those. With MONGODB_URI set, test/contract/store.test.ts checks the
 * live connection too.
 */
import { expect } from 'chai';
import { DURABLE_CONNECTION, isTransient, retried } from '../../adapters/mongo/durability.ts';

const labelled = (label: string) => Object.assign(new Error('x'), { hasErrorLabel: (l: string) => l === label });

describe('MongoDB store durability (issue 14)', () => {
  it('pins majority write concern (journaled), majority read concern, retryable writes and reads', () => {
    expect(DURABLE_CONNECTION).to.deep.equal({
      writeConcern: { w: 'majority', journal: true },
      readConcern: { level: 'majority' },
      retryWrites: true,
      retryReads: true,
    });
  });

  it('tells a failover from a real error', () => {
    expect(isTransient(labelled('RetryableWriteError'))).to.equal(true);
    expect(isTransient(Object.assign(new Error('not primary'), { code: 10107 }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('net'), { name: 'MongoNetworkError' }))).to.equal(true);
    expect(isTransient(Object.assign(new Error('dup'), { code: 11000 }))).to.equal(false);
    expect(isTransient(new Error('plain'))).to.equal(false);
  });

  it('retries a revocation through a failover, and gives up after five attempts', async () => {
    const pauses: number[] = [];
    const pause = async (ms: number) => void pauses.push(ms);
    let calls = 0;
    const result = await retried(async () => {
      calls += 1;
      if (calls < 3) throw labelled('RetryableWriteError');
      return 'deleted';
    }, pause);
    expect(result).to.equal('deleted');
    expect(pauses).to.deep.equal([50, 100]);

    calls = 0;
    const always = retried(async () => {
      calls += 1;
      throw Object.assign(new Error('stepped down'), { code: 189 });
    }, pause);
    let error: unknown;
    await always.catch((err) => (error = err));
    expect((error as Error).message).to.equal('stepped down');
    expect(calls).to.equal(5);
  });

  it('does not retry an error that is not a failover', async () => {
    let calls = 0;
    const failing = retried(async () => {
      calls += 1;
      throw new Error('bad filter');
    });
    let error: unknown;
    await failing.catch((err) => (error = err));
    expect((error as Error).message).to.equal('bad filter');
    expect(calls).to.equal(1);
  });
});
