import { expect } from 'chai';
import { median, mergeRows, printReport, type Row } from '../../scripts/bench/report.ts';

const row = (server: string, scenario: string, requests: number, cpuUs: number, wallUs: number, latencies: number[]): Row => ({
  server,
  scenario,
  result: {
    requests,
    rps: requests / (wallUs / 1e6),
    p50: NaN,
    p99: NaN,
    errors: 0,
    statuses: { '200': requests },
    samples: [],
    latencies: Float64Array.from(latencies).sort(),
  },
  rssMb: 100,
  serverCpuPct: (100 * cpuUs) / wallUs,
  cpuUsPerRequest: cpuUs / requests,
  mainThreadUsPerRequest: cpuUs / 2 / requests,
  totals: { cpuUs, mainThreadCpuUs: cpuUs / 2, wallUs },
});

/** What printReport writes, captured. */
function printed(rows: Row[], pairs: Parameters<typeof printReport>[3]): string {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    const info = {
      node: 'v0',
      cpu: 'cpu',
      seconds: 10,
      warmup: 2,
      connections: 20,
      signInConcurrency: 8,
      loadAverage: 0,
      command: 'node',
      rounds: 3,
    };
    const server = (name: string) => ({ server: name, workers: 1, startToReadyMs: 1, idleRssMb: 1, loadedRssMb: 1, processes: 1 }) as never;
    printReport(rows, [server('vkhod ×1'), server('bare')], info, pairs);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('bench: rounds of a scenario and their ratio', () => {
  it('sums the rounds: operations, CPU and time; per-op figures and percentiles over every operation', () => {
    const merged = mergeRows([
      row('vkhod ×1', 'client_credentials', 100, 40_000, 1_000_000, [1, 2, 3]),
      row('vkhod ×1', 'client_credentials', 300, 80_000, 1_000_000, [4, 5, 6, 7, 100]),
    ]);
    expect(merged.result.requests).to.equal(400);
    expect(merged.cpuUsPerRequest).to.equal(300);
    expect(merged.mainThreadUsPerRequest).to.equal(150);
    expect(merged.result.rps).to.equal(200);
    expect(merged.serverCpuPct).to.equal(6);
    expect(merged.result.p50).to.equal(4);
    expect(merged.result.p99).to.equal(100);
    expect(merged.result.statuses).to.deep.equal({ '200': 400 });
  });

  it('takes the middle of the rounds', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
  });

  it('judges the target by the median of the paired rounds, not by the summed rows', () => {
    // Summed, vkhod is 2× bare; round by round (a neighbour's load in one of bare's rounds) it is 1.05×.
    const rows = [row('vkhod ×1', 'client_credentials', 100, 20_000, 1e6, [1]), row('bare', 'client_credentials', 100, 10_000, 1e6, [1])];
    const out = printed(rows, [{ server: 'vkhod ×1', scenario: 'client_credentials', ratios: [1.05, 1.0, 1.9] }]);
    expect(out).to.include(
      "vkhod ×1/bare client_credentials: 1.05× bare's CPU per request (median of 3 alternating rounds, 1.00–1.90) (target ≤ 1.1: ok)",
    );
    expect(printed(rows, [])).to.include("vkhod ×1/bare client_credentials: 2.00× bare's CPU per request (target ≤ 1.1: MISSED)");
  });
});
