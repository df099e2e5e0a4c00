/**
 * `npm run bench`: vkhod against a bare node-oidc-provider on POST /token, on 127.0.0.1.
 *
 * Each server runs in its own child process (serve-vkhod.ts, serve-bare.ts); this process only
 * generates load (autocannon). Scenarios: client_credentials, then refresh_token (rotating,
 * single-use tokens minted by the server's own models), each after a short warm-up; then the
 * server's RSS and CPU time. Prints a table and vkhod/bare ratios.
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (20),
 * BENCH_ROUNDS (1; with more, each row is the round with the median req/s),
 * BENCH_TIME_LIMIT_SECONDS (default: computed from the above; the run is killed past it),
 * BENCH_CPU_PROF=vkhod|bare (write a .cpuprofile of that child into BENCH_CPU_PROF_DIR,
 * default $TMPDIR/vkhod-bench-profiles; open it in Chrome DevTools or speedscope).
 */
import { cpus, loadavg } from 'node:os';
import { ServerChild } from './children.ts';
import { clientCredentials, probe, refreshTokens, type LoadOptions, type Measurement } from './load.ts';
import { printReport, type Row } from './report.ts';
import { measureStartup, printStartup } from './startup.ts';

const int = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: a positive integer, got ${process.env[name]}`);
  return value;
};
const seconds = int('BENCH_SECONDS', 10);
const warmup = int('BENCH_WARMUP_SECONDS', 2);
const connections = int('BENCH_CONNECTIONS', 20);
const roundCount = int('BENCH_ROUNDS', 1);
const poolSize = Math.max(100, connections * 5);

const SERVERS = [
  { name: 'vkhod', script: './serve-vkhod.ts' },
  { name: 'bare', script: './serve-bare.ts' },
] as const;

const children: ServerChild[] = [];
process.on('exit', () => children.forEach((child) => child.kill()));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping servers\n`);
    void Promise.allSettled(children.map((child) => child.stop(1_000))).then(() => process.exit(130));
  });
}

/** The start-to-ready measurement at the end (scripts/bench/startup.ts): six starts and a build at most. */
const STARTUP_BUDGET_SECONDS = 240;
// Hard bound: startup, every warm-up and measurement, plus slack for minting and shutdown.
// BENCH_TIME_LIMIT_SECONDS replaces the computed bound.
const budgetMs =
  (process.env.BENCH_TIME_LIMIT_SECONDS
    ? int('BENCH_TIME_LIMIT_SECONDS', 1)
    : 60 + STARTUP_BUDGET_SECONDS + SERVERS.length * 2 * (warmup + 10 + roundCount * (seconds + 5))) * 1000;
const deadline = setTimeout(() => {
  process.stderr.write(`bench: still running after ${budgetMs / 1000} s; killing the servers\n`);
  children.forEach((child) => child.kill());
  process.exit(2);
}, budgetMs);

function check(server: string, scenario: string, result: { status: number; body: Record<string, unknown> }, fields: string[]): void {
  const missing = fields.filter((field) => !(field in result.body));
  if (result.status !== 200 || missing.length) {
    throw new Error(
      `${server} ${scenario} probe: HTTP ${result.status}, missing ${missing.join(', ') || 'nothing'}: ${JSON.stringify(result.body)}`,
    );
  }
}

/** Runs one measured phase and records it with the server's CPU use over it and its RSS after. */
async function recorded(server: ServerChild, scenario: string, phase: () => Promise<Measurement>): Promise<Row> {
  const before = await server.stats();
  const ownBefore = process.cpuUsage();
  const wallStart = performance.now();
  const result = await phase();
  const wallUs = (performance.now() - wallStart) * 1000;
  const own = process.cpuUsage(ownBefore);
  const after = await server.stats();
  const serverCpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  process.stderr.write(`  ${server.name} ${scenario}: ${result.rps.toFixed(0)} req/s, ${result.errors} errors\n`);
  return {
    server: server.name,
    scenario,
    result,
    rssMb: after.memory.rss / 2 ** 20,
    serverCpuPct: (100 * serverCpuUs) / wallUs,
    cpuUsPerRequest: result.requests ? serverCpuUs / result.requests : NaN,
    loadgenCpuPct: (100 * (own.user + own.system)) / wallUs,
  };
}

interface Scenario {
  name: string;
  /** One request outside the load that must succeed with these fields before measuring. */
  probe(server: ServerChild): Promise<void>;
  /** Whatever a phase needs that must not be counted in it (refresh tokens to use). */
  prepare(server: ServerChild): Promise<string[]>;
  run(server: ServerChild, seconds: number, prepared: string[]): Promise<Measurement>;
}

const load = (server: ServerChild, s: number): LoadOptions => ({ url: server.url, seconds: s, connections });

const SCENARIOS: Scenario[] = [
  {
    name: 'client_credentials',
    probe: async (server) =>
      check(server.name, 'client_credentials', await probe(server.url, 'grant_type=client_credentials'), ['access_token']),
    prepare: async () => [],
    run: (server, s) => clientCredentials(load(server, s)),
  },
  {
    name: 'refresh_token',
    probe: async (server) => {
      const [token] = await server.mint(1);
      const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(token!)}`;
      check(server.name, 'refresh_token', await probe(server.url, body), ['access_token', 'refresh_token', 'id_token']);
    },
    // A fresh pool each phase: tokens in flight when a phase stops are consumed but never returned.
    prepare: (server) => server.mint(poolSize),
    run: (server, s, pool) => refreshTokens(load(server, s), pool),
  },
];

/** The round with the median req/s. */
const median = (rows: Row[]) => [...rows].sort((a, b) => a.result.rps - b.result.rps)[Math.floor(rows.length / 2)]!;

/**
 * Scenario by scenario, the servers take turns (vkhod, bare, vkhod, bare… for BENCH_ROUNDS
 * rounds) so that a noisy neighbour hurts both alike; each gets its warm-up first.
 */
async function measure(servers: ServerChild[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scenario of SCENARIOS) {
    const rounds = new Map<ServerChild, Row[]>(servers.map((server) => [server, []]));
    for (const server of servers) {
      await scenario.probe(server);
      await scenario.run(server, warmup, await scenario.prepare(server));
    }
    for (let round = 0; round < roundCount; round += 1) {
      for (const server of servers) {
        const prepared = await scenario.prepare(server);
        rounds.get(server)!.push(await recorded(server, scenario.name, () => scenario.run(server, seconds, prepared)));
      }
    }
    for (const server of servers) rows.push(median(rounds.get(server)!));
  }
  return rows;
}

async function main(): Promise<void> {
  const load1 = loadavg()[0]!;
  process.stderr.write(`bench: ${seconds} s per scenario × ${roundCount} round(s) after ${warmup} s warm-up, ${connections} connections\n`);
  const started = await Promise.allSettled(SERVERS.map(({ name, script }) => ServerChild.start(name, script)));
  for (const outcome of started) if (outcome.status === 'fulfilled') children.push(outcome.value);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  for (const child of children) process.stderr.write(`  ${child.name} at ${child.url}\n`);

  const rows = await measure(children);
  printReport(rows, {
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}`,
    seconds,
    warmup,
    connections,
    rounds: roundCount,
    loadAverage: load1,
  });
  // Issue 14: start to ready and idle RSS, compiled build against tsx (scripts/bench/startup.ts).
  await Promise.allSettled(children.map((child) => child.stop()));
  printStartup(await measureStartup());
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await Promise.allSettled(children.map((child) => child.stop()));
  clearTimeout(deadline);
}
