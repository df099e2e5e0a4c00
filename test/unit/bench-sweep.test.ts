import { expect } from 'chai';
import { sweepSizes } from '../../scripts/bench/sweep.ts';

describe('bench: the sizes of the store bench:sweep fills', () => {
  it('defaults to 200 000 live rows and 50 000 due, and takes positive integers', () => {
    expect(sweepSizes({})).to.deep.equal({ live: 200_000, backlog: 50_000 });
    expect(sweepSizes({ BENCH_SWEEP_LIVE: '1000', BENCH_SWEEP_BACKLOG: '10' })).to.deep.equal({ live: 1000, backlog: 10 });
  });

  it('refuses anything else, naming the variable and the value', () => {
    expect(() => sweepSizes({ BENCH_SWEEP_LIVE: 'lots' })).to.throw('BENCH_SWEEP_LIVE: a positive integer (rows), got "lots"');
    expect(() => sweepSizes({ BENCH_SWEEP_BACKLOG: '0' })).to.throw(/BENCH_SWEEP_BACKLOG/);
    expect(() => sweepSizes({ BENCH_SWEEP_BACKLOG: '2.5' })).to.throw(/BENCH_SWEEP_BACKLOG/);
  });
});
