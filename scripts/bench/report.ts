/** The benchmark's printed result: one row per server and scenario, then vkhod/bare ratios. */
import type { Measurement } from './load.ts';

export interface Row {
  server: string;
  scenario: string;
  result: Measurement;
  rssMb: number;
  /** The server process's CPU time over the measured phase, as % of one core. */
  serverCpuPct: number;
  /** Server CPU time per successful request, in µs. */
  cpuUsPerRequest: number;
  /** This process's (the load generator's) CPU, as % of one core. */
  loadgenCpuPct: number;
}

export interface RunInfo {
  node: string;
  cpu: string;
  seconds: number;
  warmup: number;
  connections: number;
  rounds: number;
  /** 1-minute load average when the run started. */
  loadAverage: number;
}

const TARGET = 0.7;

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

export function printReport(rows: Row[], info: RunInfo): void {
  const out: string[] = [];
  const rounds = info.rounds > 1 ? `, median of ${info.rounds} alternating rounds` : '';
  out.push(
    '',
    `POST /token, client_secret_basic — ${info.connections} connections, ${info.seconds} s after ${info.warmup} s warm-up${rounds}`,
  );
  out.push(
    `node ${info.node}, ${info.cpu}, load average ${info.loadAverage.toFixed(1)} at start; 127.0.0.1, each server in its own process`,
  );
  out.push('srv CPU% is the server process over the phase (100 = one core); CPU µs/req is the steadier figure on a busy machine', '');
  out.push(
    table(
      ['server', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'RSS MB', 'srv CPU%', 'CPU µs/req', 'loadgen CPU%'],
      rows.map(({ server, scenario, result, rssMb, serverCpuPct, cpuUsPerRequest, loadgenCpuPct }) => [
        server,
        scenario,
        result.rps.toFixed(0),
        result.p50.toFixed(2),
        result.p99.toFixed(2),
        String(result.errors),
        rssMb.toFixed(0),
        serverCpuPct.toFixed(0),
        cpuUsPerRequest.toFixed(0),
        loadgenCpuPct.toFixed(0),
      ]),
    ),
  );

  const failing = rows.filter((row) => row.result.errors > 0);
  for (const { server, scenario, result } of failing) {
    out.push('', `${server} ${scenario}: ${result.errors} errors; status codes ${JSON.stringify(result.statuses)}`);
    for (const sample of result.samples) out.push(`  ${sample}`);
  }

  out.push('');
  for (const scenario of [...new Set(rows.map((row) => row.scenario))]) {
    const find = (server: string) => rows.find((row) => row.server === server && row.scenario === scenario);
    const [vkhod, bare] = [find('vkhod'), find('bare')];
    if (!vkhod || !bare || bare.result.rps === 0) continue;
    const ratio = vkhod.result.rps / bare.result.rps;
    const verdict = scenario === 'client_credentials' ? (ratio >= TARGET ? ' (meets the aim)' : ' (BELOW the aim)') : '';
    const cpu = vkhod.cpuUsPerRequest / bare.cpuUsPerRequest;
    out.push(
      `vkhod/bare ${scenario}: ${(ratio * 100).toFixed(0)}% of bare req/s${verdict}; ${cpu.toFixed(1)}× bare's server CPU per request`,
    );
  }
  out.push(`aim: vkhod ≥ ${TARGET * 100}% of bare on client_credentials`);
  if (failing.length) out.push('WARNING: some scenarios had errors; their figures are not meaningful.');
  process.stdout.write(`${out.join('\n')}\n`);
}
