/** The benchmark's printed result: one table of phases, one of processes, then the ratios against the targets of issue 15. */
import type { Measurement } from './load.ts';
import { percentile } from './sign-in.ts';

export interface Row {
  /** `vkhod ×1`, `vkhod ×2`, `bare`, `argon2id` */
  server: string;
  scenario: string;
  result: Measurement;
  rssMb: number;
  /** The server's CPU time over the measured phase, as % of one core (all its processes). */
  serverCpuPct: number;
  /** Server CPU time per successful operation, in µs. */
  cpuUsPerRequest: number;
  /** Of that, the main threads' (the event loops'), in µs; NaN for the argon2id row (this process). */
  mainThreadUsPerRequest: number;
  /** What the figures above were computed from (rows measured in rounds are summed from these). */
  totals: { cpuUs: number; mainThreadCpuUs: number; wallUs: number };
}

/**
 * A vkhod server and bare node-oidc-provider measured on one scenario in alternating rounds
 * (run.ts): each round's ratio of CPU per request compares two phases a few seconds apart, so a
 * neighbour's load on the machine weighs on both.
 */
export interface Pairing {
  server: string;
  scenario: string;
  /** vkhod's CPU per request ÷ bare's, one per round */
  ratios: number[];
}

/** A vkhod server's sign-in phases and argon2id's in alternating rounds (run.ts), one figure per round. */
export interface SignInPairing {
  server: string;
  /** sign-ins/s ÷ argon2id verifies/s */
  throughput: number[];
  /** CPU per sign-in − CPU per argon2id verify, µs */
  beyondUs: number[];
  /** CPU per sign-in ÷ CPU per argon2id verify (how the machine ran in that round, factored out) */
  cpuRatio: number[];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface ServerInfo {
  server: string;
  workers: number;
  startToReadyMs: number;
  idleRssMb: number;
  loadedRssMb: number;
  processes: number;
  /** /healthz latencies sampled during the sign-in load, ms */
  healthP50: number;
  healthP99: number;
  healthMax: number;
  healthSamples: number;
  /**
   * The server's own event-loop lag over the sign-in phase (prom-client's monitorEventLoopDelay,
   * read from its metrics listener), ms: how long the loop itself was held, apart from the time
   * /healthz waited for a core. NaN for bare (no metrics).
   */
  loopLagP99: number;
  loopLagMax: number;
}

export interface RunInfo {
  node: string;
  cpu: string;
  seconds: number;
  warmup: number;
  connections: number;
  signInConcurrency: number;
  /** 1-minute load average when the run started. */
  loadAverage: number;
  command: string;
  /** Rounds in which each scenario was measured, alternating with its floor. */
  rounds: number;
}

/** The rounds of one server and scenario as one row: sums of operations and CPU, percentiles over every operation. */
export function mergeRows(rounds: Row[]): Row {
  const last = rounds[rounds.length - 1]!;
  const sum = (pick: (row: Row) => number) => rounds.reduce((total, row) => total + pick(row), 0);
  const requests = sum((row) => row.result.requests);
  const cpuUs = sum((row) => row.totals.cpuUs);
  const mainThreadCpuUs = sum((row) => row.totals.mainThreadCpuUs);
  const wallUs = sum((row) => row.totals.wallUs);
  const latencies = Float64Array.from(rounds.flatMap((row) => [...row.result.latencies])).sort();
  const statuses: Record<string, number> = {};
  for (const row of rounds) for (const [code, n] of Object.entries(row.result.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  // Each round's own rate is over the load alone (no set-up around it): their durations add up.
  const loadSeconds = sum((row) => (row.result.rps > 0 ? row.result.requests / row.result.rps : 0));
  return {
    server: last.server,
    scenario: last.scenario,
    result: {
      requests,
      rps: loadSeconds > 0 ? requests / loadSeconds : 0,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors: sum((row) => row.result.errors),
      statuses,
      samples: rounds.flatMap((row) => row.result.samples).slice(0, 3),
      latencies,
    },
    rssMb: last.rssMb,
    serverCpuPct: (100 * cpuUs) / wallUs,
    cpuUsPerRequest: requests ? cpuUs / requests : NaN,
    mainThreadUsPerRequest: requests ? mainThreadCpuUs / requests : NaN,
    totals: { cpuUs, mainThreadCpuUs, wallUs },
  };
}

function table(header: string[], lines: string[][], textColumns = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
/** `min–max` of the rounds' figures. */
const range = (values: number[], digits: number) => `${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)}`;
const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');

export function printReport(
  rows: Row[],
  servers: ServerInfo[],
  info: RunInfo,
  pairs: Pairing[] = [],
  signInPairs: SignInPairing[] = [],
): void {
  const out: string[] = [];
  out.push(
    '',
    `vkhod benchmark — ${info.seconds} s per phase after ${info.warmup} s warm-up; ${info.connections} connections (API), ${info.signInConcurrency} concurrent sign-ins and argon2id verifies`,
    `each phase in ${info.rounds} rounds of ${fixed(info.seconds / info.rounds, 1)} s, vkhod alternating with its floor (sign-ins with argon2id, API scenarios with bare): the table sums the rounds; the ratios are the rounds' medians`,
    `node ${info.node}, ${info.cpu}, load average ${info.loadAverage.toFixed(1)} at start; vkhod started as: ${info.command}`,
    "server CPU = user+system time of all the server's processes over the phase (100% = one core); CPU µs/op is the steady figure on a busy machine",
    '',
  );
  out.push(
    table(
      ['server', 'scenario', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'RSS MB', 'srv CPU%', 'CPU µs/op', 'main µs/op'],
      rows.map(({ server, scenario, result, rssMb, serverCpuPct, cpuUsPerRequest, mainThreadUsPerRequest }) => [
        server,
        scenario,
        fixed(result.rps, 1),
        fixed(result.p50, 2),
        fixed(result.p99, 2),
        String(result.errors),
        fixed(rssMb),
        fixed(serverCpuPct),
        fixed(cpuUsPerRequest),
        fixed(mainThreadUsPerRequest),
      ]),
    ),
  );
  out.push(
    "(main µs/op: the event loops' share of the CPU — requests, templates, the store's statements; the rest is libuv's pool (argon2id, fsync) and V8's helper threads (GC, compiler))",
  );
  out.push('');
  out.push(
    table(
      [
        'server',
        'start→ready ms',
        'RSS idle MB',
        'RSS after MB',
        'processes',
        '/healthz p50 ms',
        'p99 ms',
        'max ms',
        'samples',
        'loop lag p99 ms',
        'max ms',
      ],
      servers.map((s) => [
        s.server,
        fixed(s.startToReadyMs),
        fixed(s.idleRssMb),
        fixed(s.loadedRssMb),
        String(s.processes),
        fixed(s.healthP50, 1),
        fixed(s.healthP99, 1),
        fixed(s.healthMax, 1),
        String(s.healthSamples),
        fixed(s.loopLagP99, 1),
        fixed(s.loopLagMax, 1),
      ]),
      1,
    ),
  );
  out.push(
    "(/healthz is sampled every 50 ms during the sign-in load, from a thread of the load generator, which shares the cores; loop lag: the server's own event-loop delay over the same phase, from its event-loop-lag metric less its 10 ms sampling tick (the workers' average with 2); RSS and processes are the sum over the server's process tree)",
  );

  const failing = rows.filter((row) => row.result.errors > 0);
  for (const { server, scenario, result } of failing) {
    out.push('', `${server} ${scenario}: ${result.errors} errors; status codes ${JSON.stringify(result.statuses)}`);
    for (const sample of result.samples) out.push(`  ${sample}`);
  }

  out.push('', 'ratios and targets (issue 15):');
  const find = (server: string, scenario: string) => rows.find((row) => row.server === server && row.scenario === scenario);
  const argon = find('argon2id', 'verify');
  const vkhods = servers.filter((s) => s.server.startsWith('vkhod') || s.server.startsWith('base'));
  const bareSignIn = find('bare', 'sign-in');
  if (bareSignIn && argon) {
    out.push(
      `  bare: sign-ins/s ÷ argon2id verifies/s = ${fixed(bareSignIn.result.rps / argon.result.rps, 2)}; ` +
        `CPU per sign-in ${fixed(bareSignIn.cpuUsPerRequest)} µs − argon2id verify = ${fixed(bareSignIn.cpuUsPerRequest - argon.cpuUsPerRequest)} µs (node-oidc-provider's floor for the same five requests)`,
    );
  }
  for (const { server } of vkhods) {
    const signIn = find(server, 'sign-in');
    if (signIn && argon) {
      // Rounds beside argon2id when there are some: the medians of their figures.
      const paired = signInPairs.find((p) => p.server === server);
      const ratio = paired ? median(paired.throughput) : signIn.result.rps / argon.result.rps;
      const beyond = paired ? median(paired.beyondUs) : signIn.cpuUsPerRequest - argon.cpuUsPerRequest;
      const floor = bareSignIn ? `; ${fixed(beyond / (bareSignIn.cpuUsPerRequest - argon.cpuUsPerRequest), 1)}× bare's` : '';
      const how = paired
        ? ` (medians of ${paired.throughput.length} alternating rounds with argon2id: ${range(paired.throughput, 2)}, ${range(paired.beyondUs, 0)} µs)`
        : ` (CPU per sign-in ${fixed(signIn.cpuUsPerRequest)} µs − argon2id verify ${fixed(argon.cpuUsPerRequest)} µs)`;
      out.push(
        `  ${server}: sign-ins/s ÷ argon2id verifies/s = ${fixed(ratio, 2)} (target ≥ 0.75: ${mark(ratio >= 0.75)}); ` +
          `CPU per sign-in beyond the verify ${fixed(beyond)} µs (target ≤ 3000: ${mark(beyond <= 3000)}${floor})${how}`,
      );
      if (bareSignIn)
        out.push(
          `  ${server}: main-thread CPU per sign-in ${fixed(signIn.mainThreadUsPerRequest)} µs, bare's ${fixed(bareSignIn.mainThreadUsPerRequest)} µs ` +
            `(${fixed(signIn.mainThreadUsPerRequest / bareSignIn.mainThreadUsPerRequest, 2)}×; measured per thread, without subtracting another process's figure)`,
        );
    }
    for (const scenario of ['client_credentials', 'refresh_token', 'userinfo']) {
      const [mine, bare] = [find(server, scenario), find('bare', scenario)];
      if (!mine || !bare) continue;
      // Paired rounds when there are some: the median of their ratios, not the ratio of two phases minutes apart.
      const ratios = pairs.find((p) => p.server === server && p.scenario === scenario)?.ratios.filter(Number.isFinite) ?? [];
      const cpu = ratios.length ? median(ratios) : mine.cpuUsPerRequest / bare.cpuUsPerRequest;
      const how = ratios.length ? ` (median of ${ratios.length} alternating rounds, ${range(ratios, 2)})` : '';
      const target = scenario === 'userinfo' ? '' : ` (target ≤ 1.1: ${mark(cpu <= 1.1)})`;
      out.push(
        `  ${server}/bare ${scenario}: ${fixed(cpu, 2)}× bare's CPU per request${how}${target}; ${fixed((100 * mine.result.rps) / bare.result.rps)}% of bare's req/s`,
      );
    }
  }
  const [one, two] = [vkhods.find((s) => s.server === 'vkhod ×1'), vkhods.find((s) => s.server === 'vkhod ×2')];
  if (one && two) {
    for (const scenario of ['sign-in', 'client_credentials', 'refresh_token', 'userinfo']) {
      const [a, b] = [find(one.server, scenario), find(two.server, scenario)];
      if (!a || !b) continue;
      // The runs are minutes apart: where each was measured in rounds beside a floor (argon2id for
      // sign-ins, bare for the rest), the growth is that of the median ratios to the floor.
      const floorRatios = (server: string) =>
        scenario === 'sign-in'
          ? signInPairs.find((p) => p.server === server)?.cpuRatio
          : pairs.find((p) => p.server === server && p.scenario === scenario)?.ratios;
      const [ra, rb] = [floorRatios(one.server), floorRatios(two.server)];
      const normalized = ra?.length && rb?.length;
      const growth = normalized ? median(rb) / median(ra) : b.cpuUsPerRequest / a.cpuUsPerRequest;
      const how = normalized ? `, each against its rounds' ${scenario === 'sign-in' ? 'argon2id' : 'bare'}` : '';
      out.push(
        `  2 workers vs 1, ${scenario}: CPU per op ${fixed(a.cpuUsPerRequest)} → ${fixed(b.cpuUsPerRequest)} µs (${fixed(growth, 2)}×${how}, target ≤ 1.10: ${mark(growth <= 1.1)}); ops/s ${fixed(a.result.rps, 1)} → ${fixed(b.result.rps, 1)}`,
      );
    }
  }
  for (const s of vkhods) {
    out.push(
      `  ${s.server}: RSS idle ${fixed(s.idleRssMb)} MB (target ≤ 110 per process: ${mark(s.idleRssMb / s.processes <= 110)}), after load ${fixed(s.loadedRssMb)} MB (≤ 160: ${mark(s.loadedRssMb / s.processes <= 160)}); ` +
        `start→ready ${fixed(s.startToReadyMs)} ms (≤ 1000 for the compiled build: ${mark(s.startToReadyMs <= 1000)}); /healthz p99 under sign-in load ${fixed(s.healthP99, 1)} ms (< 20: ${mark(s.healthP99 < 20)}; the event loop's own lag p99 ${fixed(s.loopLagP99, 1)} ms, max ${fixed(s.loopLagMax, 1)} ms)`,
    );
  }
  if (failing.length) out.push('WARNING: some phases had errors; their figures are not meaningful.');
  process.stdout.write(`${out.join('\n')}\n`);
}
