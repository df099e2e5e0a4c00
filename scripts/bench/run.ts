/**
 * `npm run bench`: what citizens and services do, each against its floor, in one run on 127.0.0.1.
 *
 * - argon2id: password verifies per second with vkhod's own parameters, at the sign-in
 *   concurrency, in this process (the floor of a password sign-in), measured in BENCH_ROUNDS
 *   phases alternating with each vkhod run's sign-in phases (the targets are judged by the
 *   rounds' medians).
 * - vkhod, the real process (`src/main.ts` under tsx, or BENCH_VKHOD_COMMAND), with
 *   VKHOD_WORKERS=1 and then 2 (BENCH_WORKERS="1,2"): start to ready, RSS at idle; full password
 *   code flows with a fresh cookie jar each (consent remembered) with /healthz sampled alongside;
 *   client_credentials; refresh_token (rotating); userinfo; RSS after the load.
 * - bare: node-oidc-provider on its own (serve-bare.ts), started first and left running: each
 *   vkhod run's client_credentials, refresh_token and userinfo are measured in BENCH_ROUNDS
 *   alternating phases of vkhod and bare (the ratios are the median of the rounds'); then bare's
 *   own sign-in phase.
 * Server CPU time is read from /proc for the server's process tree (primary and workers) over
 * each measured phase, never the load generator's. Prints one table and the ratios; asserts
 * nothing about time.
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (20, autocannon
 * scenarios), BENCH_ROUNDS (5: rounds of BENCH_SECONDS / BENCH_ROUNDS each, vkhod alternating with its
 * floor), BENCH_SIGNIN_CONCURRENCY (8; also the argon2id concurrency), BENCH_WORKERS ("1,2"),
 * BENCH_VKHOD_COMMAND (the command that starts vkhod, split on spaces; default the production
 * command "node --max-semi-space-size=4 dist/src/main.js", after `npm run build` unless
 * BENCH_BUILD=0), BENCH_SCENARIOS (comma list to run a subset of sign-in,
 * client_credentials, refresh_token, userinfo), BENCH_TIME_LIMIT_SECONDS (default computed),
 * BENCH_STARTUP=0 / BENCH_SWEEP=0 (skip the start-up and the store's background-work tables printed
 * at the end; sweep.ts reads BENCH_SWEEP_LIVE and BENCH_SWEEP_BACKLOG),
 * BENCH_CPU_PROF and BENCH_PERF, each a comma list of vkhod, base (the BENCH_BASELINE_COMMAND
 * build), bare: BENCH_CPU_PROF writes a .cpuprofile of those servers into BENCH_CPU_PROF_DIR
 * (default $TMPDIR/vkhod-bench-profiles; with workers, one per process; open in Chrome DevTools or
 * speedscope); BENCH_PERF records each of their phases with Linux perf over all their threads and
 * processes and prints where the CPU went (perf-profile.ts; the perf.data files are kept in
 * BENCH_CPU_PROF_DIR for `perf report -i`).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerChild } from './children.ts';
import { clientCredentials, probe, refreshTokens, userinfo, type LoadOptions, type Measurement } from './load.ts';
import { mergeRows, printReport, type Pairing, type Row, type ServerInfo, type SignInPairing } from './report.ts';
import {
  attribute,
  checkPerfAvailable,
  formatAttribution,
  PerfRecording,
  perfWanted,
  PROFILE_DIR,
  profilerFlags,
  removeJitMaps,
} from './perf-profile.ts';
import { mainThreadCpuUs, ServerProcess, treePids } from './server-process.ts';
import { ensureBuild, measureStartup, printStartup, PRODUCTION_COMMAND } from './startup.ts';
import { measureSweep, printSweep, sweepSizes } from './sweep.ts';
import { argon2Load, BENCH_PASSWORD, benchPhone, healthSampler, passwordCodeFlow, percentile, signInLoad, type Closed } from './sign-in.ts';
import { benchServerEnv, commandOf, freePort, seedCitizens } from './local-server.ts';

const int = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: a positive integer, got ${process.env[name]}`);
  return value;
};
const seconds = int('BENCH_SECONDS', 10);
const warmup = int('BENCH_WARMUP_SECONDS', 2);
const connections = int('BENCH_CONNECTIONS', 20);
/** Each scenario is measured in this many rounds, vkhod alternating with its floor (inTurn). */
const rounds = int('BENCH_ROUNDS', 5);
if (rounds > seconds)
  throw new Error(`BENCH_ROUNDS: at most BENCH_SECONDS (${seconds}), so that each round lasts a second or more; got ${rounds}`);
const roundSeconds = seconds / rounds;
const signInConcurrency = int('BENCH_SIGNIN_CONCURRENCY', 8);
const workerCounts = (process.env.BENCH_WORKERS ?? '1,2').split(',').map((w) => Number(w.trim()));
if (workerCounts.some((w) => !Number.isInteger(w) || w <= 0))
  throw new Error(`BENCH_WORKERS: positive integers, got ${process.env.BENCH_WORKERS}`);
// What operators run (the compiled build, rebuilt from the sources first unless BENCH_BUILD=0), unless told otherwise.
if (!process.env.BENCH_VKHOD_COMMAND) ensureBuild(process.env.BENCH_BUILD !== '0');
const vkhodCommand = commandOf(process.env.BENCH_VKHOD_COMMAND ?? PRODUCTION_COMMAND);
/** Another build to compare with in the same run (e.g. the sources before a change), as `base ×1`. */
const baselineCommand = process.env.BENCH_BASELINE_COMMAND ? commandOf(process.env.BENCH_BASELINE_COMMAND) : undefined;
const ALL = ['sign-in', 'client_credentials', 'refresh_token', 'userinfo'] as const;
type ScenarioName = (typeof ALL)[number];
const wanted = new Set((process.env.BENCH_SCENARIOS ?? ALL.join(',')).split(',').map((s) => s.trim()) as ScenarioName[]);
const unknownScenarios = [...wanted].filter((name) => !ALL.includes(name));
if (unknownScenarios.length || !wanted.size)
  throw new Error(`BENCH_SCENARIOS: ${unknownScenarios.join(', ') || 'empty'}; name some of ${ALL.join(', ')} (a comma list)`);
const poolSize = Math.max(100, connections * 5);
checkPerfAvailable();
// Refused now rather than after every other phase.
const sweep = process.env.BENCH_SWEEP === '0' ? undefined : sweepSizes();

const stoppers: Array<() => void> = [];
process.on('exit', () => stoppers.forEach((stop) => stop()));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping servers\n`);
    stoppers.forEach((stop) => stop());
    process.exit(130);
  });
}
const vkhodRuns = workerCounts.length + (baselineCommand ? 1 : 0);
const apiCount = [...wanted].filter((name) => name !== 'sign-in').length;
// argon2id and bare's sign-in, each vkhod run's scenarios, and bare's phases paired with each run's API scenarios.
const phases = (wanted.has('sign-in') ? 2 : 0) + vkhodRuns * (wanted.size + apiCount);
const budgetMs =
  (process.env.BENCH_TIME_LIMIT_SECONDS
    ? int('BENCH_TIME_LIMIT_SECONDS', 1)
    : 120 +
      240 /* start-up table */ +
      120 /* background-work table */ +
      phases * (warmup + seconds + 25) +
      vkhodRuns * apiCount * rounds * 4) * 1000;
const deadline = setTimeout(() => {
  process.stderr.write(`bench: still running after ${budgetMs / 1000} s; killing the servers\n`);
  process.exit(2);
}, budgetMs);

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a phase cost the server: CPU of its process tree around `phase`, RSS after. */
interface Measured {
  /** `mainThreadCpuUs`: of `cpuUs`, the event loops' own (absent where the server is this process). */
  stats(): PhaseStats | Promise<PhaseStats>;
  /** The server's processes (for BENCH_PERF). */
  pids?(): number[];
}
type PhaseStats = { cpuUs: number; rssBytes: number; mainThreadCpuUs?: number };

function fromClosed(result: Closed): Measurement {
  return {
    requests: result.ops,
    rps: result.ops / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    errors: result.errors,
    statuses: {},
    samples: result.samples,
    latencies: result.latencies,
  };
}

/** One measured phase of `server`; `profile` false keeps BENCH_PERF out of it (the later rounds of a scenario). */
async function recorded(
  server: string,
  scenario: string,
  target: Measured,
  phase: () => Promise<Measurement>,
  profile = true,
): Promise<Row> {
  let perf: PerfRecording | undefined;
  const pids = target.pids?.() ?? [];
  if (profile && perfWanted(server) && pids.length) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    perf = PerfRecording.start(pids, join(PROFILE_DIR, `${server.replace(/\W+/g, '-')}-${scenario}.perf.data`));
  }
  const before = await target.stats();
  const wallStart = performance.now();
  const result = await phase();
  const wallUs = (performance.now() - wallStart) * 1000;
  const after = await target.stats();
  const serverCpuUs = after.cpuUs - before.cpuUs;
  if (perf) {
    const cpuPerOp = result.requests ? serverCpuUs / result.requests : NaN;
    process.stderr.write(`${formatAttribution(`${server} ${scenario}`, cpuPerOp, attribute(await perf.stop(), pids))}\n`);
  }
  const mainUs =
    after.mainThreadCpuUs !== undefined && before.mainThreadCpuUs !== undefined ? after.mainThreadCpuUs - before.mainThreadCpuUs : NaN;
  process.stderr.write(
    `  ${server} ${scenario}: ${result.rps.toFixed(1)}/s, ${result.errors} errors, ${(serverCpuUs / result.requests).toFixed(0)} µs CPU/op` +
      `${Number.isFinite(mainUs) ? ` (${(mainUs / result.requests).toFixed(0)} on the main thread)` : ''}\n`,
  );
  return {
    server,
    scenario,
    result,
    rssMb: after.rssBytes / 2 ** 20,
    serverCpuPct: (100 * serverCpuUs) / wallUs,
    cpuUsPerRequest: result.requests ? serverCpuUs / result.requests : NaN,
    mainThreadUsPerRequest: result.requests ? mainUs / result.requests : NaN,
    totals: { cpuUs: serverCpuUs, mainThreadCpuUs: mainUs, wallUs },
  };
}

/** argon2id in this process: its own CPU is the "server" of its phases. */
const argon2Self: Measured = {
  stats: () => {
    const cpu = process.cpuUsage();
    return { cpuUs: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss };
  },
};
/** argon2id's phases, every round of every run (its row in the table). */
const argon2Rounds: Row[] = [];
async function argon2Phase(s: number): Promise<Row> {
  const row = await recorded('argon2id', 'verify', argon2Self, async () => fromClosed(await argon2Load(s, signInConcurrency)));
  argon2Rounds.push(row);
  return row;
}

/**
 * One round of a phase of vkhod and one of its floor (bare, or argon2id): vkhod first in even
 * rounds and second in odd ones (vkhod, floor, floor, vkhod, …), so that neither always follows the
 * other's load.
 */
async function inTurn(round: number, ours: () => Promise<Row>, floor: () => Promise<Row>): Promise<[Row, Row]> {
  if (round % 2 === 0) {
    const mine = await ours();
    return [mine, await floor()];
  }
  const theirs = await floor();
  return [await ours(), theirs];
}

/** The larger of two figures, either of which may be missing (NaN). */
const larger = (a: number, b: number) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));

/** A fresh store with the citizens (one per concurrent sign-in), and vkhod started on it with `workers` processes. */
async function startVkhod(
  workers: number,
  label: string,
  vkhodCommand: string[],
): Promise<{ server: ServerProcess; metricsUrl: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-bench-'));
  const path = join(dir, 'vkhod.sqlite');
  await seedCitizens(
    path,
    Array.from({ length: signInConcurrency }, (_, i) => benchPhone(i)),
    BENCH_PASSWORD,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const metricsPort = await freePort();
  const profile = profilerFlags(label);
  const command = vkhodCommand[0] === process.execPath ? [vkhodCommand[0], ...profile, ...vkhodCommand.slice(1)] : vkhodCommand;
  const server = await ServerProcess.start(
    `${label} ×${workers}`,
    command,
    {
      ...benchServerEnv(port, path),
      // Each simulated browser has its own address behind this trusted proxy (sign-in.ts).
      VKHOD_TRUST_PROXY: '127.0.0.1',
      VKHOD_WORKERS: String(workers),
      // Its event-loop-lag metric, read around the sign-in phase.
      VKHOD_METRICS_PORT: String(metricsPort),
    },
    url,
  );
  const pids = perfWanted(label) ? treePids(server.pid) : [];
  const cleanup = () => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
    removeJitMaps(pids);
  };
  stoppers.push(cleanup);
  return { server, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, cleanup };
}

/** prom-client's monitorEventLoopDelay resolution (its default eventLoopMonitoringPrecision), ms. */
const LAG_RESOLUTION_MS = 10;

/**
 * The server's event-loop lag since the previous read, ms (prom-client resets its
 * monitorEventLoopDelay histogram on every scrape): p99 and max. The histogram records the time
 * between two of its 10 ms timer ticks (an idle loop reads 10 ms), so the tick is taken off.
 */
async function loopLag(metricsUrl: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const gauge = (name: string) =>
    Math.max(0, Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]) * 1000 - LAG_RESOLUTION_MS);
  return { p99: gauge('nodejs_eventloop_lag_p99_seconds'), max: gauge('nodejs_eventloop_lag_max_seconds') };
}

/** Tokens from real sign-ins (vkhod has no back door to mint them). */
async function tokensFromSignIns(url: string, n: number, kind: 'refresh' | 'access'): Promise<string[]> {
  const out: string[] = [];
  // node-oidc-provider issues refresh tokens for offline_access only with prompt=consent.
  const options = kind === 'refresh' ? { scope: 'openid offline_access', prompt: 'consent' } : { scope: 'openid' };
  while (out.length < n) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(signInConcurrency, n - out.length) }, (_, citizen) => passwordCodeFlow(url, { ...options, citizen })),
    );
    for (const flow of batch) {
      const token = kind === 'refresh' ? flow.refreshToken : flow.accessToken;
      if (!token) throw new Error(`minting ${kind} tokens by sign-in: ${flow.failure ?? 'no token'}`);
      out.push(token);
    }
  }
  return out;
}

const load = (url: string, s: number): LoadOptions => ({ url, seconds: s, connections });

function check(server: string, scenario: string, result: { status: number; body: Record<string, unknown> }, fields: string[]): void {
  const missing = fields.filter((field) => !(field in result.body));
  if (result.status !== 200 || missing.length) {
    throw new Error(
      `${server} ${scenario} probe: HTTP ${result.status}, missing ${missing.join(', ') || 'nothing'}: ${JSON.stringify(result.body)}`,
    );
  }
}

/** A server the token endpoint and userinfo scenarios run against, and how it gets tokens. */
interface ApiServer {
  name: string;
  url: string;
  target: Measured;
  mint: { refresh(n: number): Promise<string[]>; access(n: number): Promise<string[]> };
}
type ApiScenario = 'client_credentials' | 'refresh_token' | 'userinfo';
const API_SCENARIOS: ApiScenario[] = ['client_credentials', 'refresh_token', 'userinfo'];
interface Prepared {
  /** Outside the measurement: whatever the next phase needs (refresh tokens to rotate). */
  ready(): Promise<void>;
  phase(s: number): Promise<Measurement>;
}

/** Probes `server` on `scenario` (it must answer with the expected fields) and warms it up. */
async function prepare(server: ApiServer, scenario: ApiScenario): Promise<Prepared> {
  const { name, url, mint } = server;
  if (scenario === 'client_credentials') {
    check(name, scenario, await probe(url, 'grant_type=client_credentials'), ['access_token']);
    await clientCredentials(load(url, warmup));
    return { ready: async () => undefined, phase: (s) => clientCredentials(load(url, s)) };
  }
  if (scenario === 'refresh_token') {
    const pool = await mint.refresh(poolSize + 1);
    const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(pool.pop()!)}`;
    check(name, scenario, await probe(url, body), ['access_token', 'refresh_token', 'id_token']);
    // The same pool (changed in place) through warm-up and every phase: rotated tokens return to it.
    await refreshTokens(load(url, warmup), pool);
    return {
      ready: async () => {
        if (pool.length < connections) pool.push(...(await mint.refresh(poolSize)));
      },
      phase: (s) => refreshTokens(load(url, s), pool),
    };
  }
  const tokens = await mint.access(Math.max(20, connections));
  await userinfo(load(url, warmup), tokens);
  return { ready: async () => undefined, phase: (s) => userinfo(load(url, s), tokens) };
}

/** Bare's phases over every pairing (its rows in the table) and each pairing's ratios. */
const bareRounds = new Map<ApiScenario, Row[]>();
const pairs: Pairing[] = [];
/** Each vkhod run's sign-in rounds against argon2id's. */
const signInPairs: SignInPairing[] = [];

/**
 * The token endpoint and userinfo scenarios on a vkhod server. With `bare` (running beside it),
 * each scenario is measured in `rounds` alternating phases of both — vkhod, bare, bare, vkhod, … —
 * of `seconds / rounds` each: a neighbour's load or a change of clock speed on a shared machine
 * then weighs on both, where phases minutes apart gave bare's CPU per request anywhere from 145
 * to 290 µs in different runs. vkhod's rows sum its rounds; the ratio is the median of the rounds'.
 */
async function apiScenarios(vkhod: ApiServer, bare?: ApiServer): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scenario of API_SCENARIOS.filter((name) => wanted.has(name))) {
    const mine = await prepare(vkhod, scenario);
    if (!bare) {
      await mine.ready();
      rows.push(await recorded(vkhod.name, scenario, vkhod.target, () => mine.phase(seconds)));
      continue;
    }
    const theirs = await prepare(bare, scenario);
    const profileBare = !bareRounds.has(scenario);
    const theirRounds = bareRounds.get(scenario) ?? [];
    bareRounds.set(scenario, theirRounds);
    const ours: Row[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      await mine.ready();
      await theirs.ready();
      const [a, b] = await inTurn(
        round,
        () => recorded(vkhod.name, scenario, vkhod.target, () => mine.phase(roundSeconds), round === 0),
        () => recorded('bare', scenario, bare.target, () => theirs.phase(roundSeconds), round === 0 && profileBare),
      );
      ours.push(a);
      theirRounds.push(b);
      ratios.push(a.cpuUsPerRequest / b.cpuUsPerRequest);
    }
    rows.push(mergeRows(ours));
    pairs.push({ server: vkhod.name, scenario, ratios });
  }
  return rows;
}

async function benchVkhod(workers: number, label: string, command: string[], bare?: ApiServer): Promise<{ rows: Row[]; info: ServerInfo }> {
  const { server, metricsUrl, cleanup } = await startVkhod(workers, label, command);
  const name = server.name;
  process.stderr.write(`  ${name} at ${server.url}: ready in ${server.startToReadyMs.toFixed(0)} ms\n`);
  try {
    await settle(2000);
    const idle = server.stats();
    const rows: Row[] = [];
    let health: Float64Array = new Float64Array();
    let lag = { p99: NaN, max: NaN };
    if (wanted.has('sign-in')) {
      // Each citizen's first sign-in: the consent is remembered from then on.
      for (let citizen = 0; citizen < signInConcurrency; citizen += 1) {
        const first = await passwordCodeFlow(server.url, { citizen });
        if (!first.ok) throw new Error(`${name} sign-in probe: ${first.failure}`);
      }
      await signInLoad(server.url, warmup, signInConcurrency);
      // In rounds beside argon2id (sign-in, argon2id, argon2id, sign-in, …), as the API scenarios beside bare.
      const ours: Row[] = [];
      const healths: Float64Array[] = [];
      const pairing: SignInPairing = { server: name, throughput: [], beyondUs: [], cpuRatio: [] };
      for (let round = 0; round < rounds; round += 1) {
        const measureSignIn = () =>
          recorded(
            name,
            'sign-in',
            measuredTree(server),
            async () => {
              await loopLag(metricsUrl);
              const sampler = healthSampler(server.url);
              const result = fromClosed(await signInLoad(server.url, roundSeconds, signInConcurrency));
              healths.push(await sampler.stop());
              const roundLag = await loopLag(metricsUrl);
              lag = { p99: larger(lag.p99, roundLag.p99), max: larger(lag.max, roundLag.max) };
              return result;
            },
            round === 0,
          );
        const [signIn, argon] = await inTurn(round, measureSignIn, () => argon2Phase(roundSeconds));
        ours.push(signIn);
        pairing.throughput.push(signIn.result.rps / argon.result.rps);
        pairing.beyondUs.push(signIn.cpuUsPerRequest - argon.cpuUsPerRequest);
        pairing.cpuRatio.push(signIn.cpuUsPerRequest / argon.cpuUsPerRequest);
      }
      rows.push(mergeRows(ours));
      signInPairs.push(pairing);
      health = Float64Array.from(healths.flatMap((h) => [...h])).sort();
    }
    rows.push(
      ...(await apiScenarios(
        {
          name,
          url: server.url,
          target: measuredTree(server),
          mint: { refresh: (n) => tokensFromSignIns(server.url, n, 'refresh'), access: (n) => tokensFromSignIns(server.url, n, 'access') },
        },
        bare,
      )),
    );
    const loaded = server.stats();
    return {
      rows,
      info: {
        server: name,
        workers,
        startToReadyMs: server.startToReadyMs,
        idleRssMb: idle.rssBytes / 2 ** 20,
        loadedRssMb: loaded.rssBytes / 2 ** 20,
        processes: loaded.processes,
        healthP50: percentile(health, 50),
        healthP99: percentile(health, 99),
        healthMax: health.length ? health[health.length - 1]! : NaN,
        healthSamples: health.length,
        loopLagP99: lag.p99,
        loopLagMax: lag.max,
      },
    };
  } catch (err) {
    process.stderr.write(`${name} stderr:\n${server.diagnostics}\n`);
    throw err;
  } finally {
    await server.stop();
    cleanup();
  }
}

/** vkhod's process tree as a measured target (its workers included). */
const measuredTree = (server: ServerProcess): Measured => ({ stats: () => server.stats(), pids: () => treePids(server.pid) });

/** Bare node-oidc-provider, started before the vkhod runs and left running beside them (their API phases pair with it). */
interface Bare {
  child: ServerChild;
  server: ApiServer;
  startToReadyMs: number;
  idleRssBytes: number;
  stats(): Promise<PhaseStats>;
}

async function startBare(): Promise<Bare> {
  const started = performance.now();
  const child = await ServerChild.start('bare', './serve-bare.ts');
  const startToReadyMs = performance.now() - started;
  stoppers.push(() => child.kill());
  await settle(2000);
  const stats = async () => {
    const s = await child.stats();
    return { cpuUs: s.cpu.user + s.cpu.system, rssBytes: s.memory.rss, mainThreadCpuUs: mainThreadCpuUs(child.pid) };
  };
  const idle = await stats();
  const server: ApiServer = {
    name: 'bare',
    url: child.url,
    target: { stats, pids: () => [child.pid] },
    mint: { refresh: (n) => child.mint(n), access: (n) => child.mintAccess(n) },
  };
  return { child, server, startToReadyMs, idleRssBytes: idle.rssBytes, stats };
}

/** Bare's own sign-in phase, then its rows (its API rounds of every pairing summed) and its figures; stops it. */
async function finishBare(bare: Bare): Promise<{ rows: Row[]; info: ServerInfo }> {
  const { child, server } = bare;
  try {
    const rows: Row[] = [];
    if (wanted.has('sign-in')) {
      // The floor of a password code flow in node-oidc-provider: its login page is the least one (serve-bare.ts).
      const first = await passwordCodeFlow(child.url);
      if (!first.ok) throw new Error(`bare sign-in probe: ${first.failure}`);
      await signInLoad(child.url, warmup, signInConcurrency);
      rows.push(
        await recorded('bare', 'sign-in', server.target, async () => fromClosed(await signInLoad(child.url, seconds, signInConcurrency))),
      );
    }
    for (const rounds of bareRounds.values()) rows.push(mergeRows(rounds));
    const loaded = await bare.stats();
    return {
      rows,
      info: {
        server: 'bare',
        workers: 1,
        startToReadyMs: bare.startToReadyMs,
        idleRssMb: bare.idleRssBytes / 2 ** 20,
        loadedRssMb: loaded.rssBytes / 2 ** 20,
        processes: 1,
        healthP50: NaN,
        healthP99: NaN,
        healthMax: NaN,
        healthSamples: 0,
        loopLagP99: NaN,
        loopLagMax: NaN,
      },
    };
  } finally {
    await child.stop();
    if (perfWanted('bare')) removeJitMaps([child.pid]);
  }
}

async function main(): Promise<void> {
  const load1 = loadavg()[0]!;
  process.stderr.write(
    `bench: ${seconds} s per phase after ${warmup} s warm-up; ${connections} connections, sign-in concurrency ${signInConcurrency}; workers ${workerCounts.join(', ')}\n`,
  );
  const rows: Row[] = [];
  const infos: ServerInfo[] = [];
  if (wanted.has('sign-in')) await argon2Load(Math.min(warmup, 2), signInConcurrency);
  const runs: Array<[number, string, string[]]> = workerCounts.map((w) => [w, 'vkhod', vkhodCommand]);
  if (baselineCommand) runs.unshift([1, 'base', baselineCommand]);
  const apiWanted = API_SCENARIOS.some((name) => wanted.has(name));
  const bare = wanted.has('sign-in') || apiWanted ? await startBare() : undefined;
  for (const [workers, label, command] of runs) {
    const { rows: r, info } = await benchVkhod(workers, label, command, bare?.server);
    rows.push(...r);
    infos.push(info);
  }
  if (bare) {
    const { rows: r, info } = await finishBare(bare);
    rows.push(...r);
    infos.push(info);
  }
  if (argon2Rounds.length) rows.unshift(mergeRows(argon2Rounds));
  printReport(
    rows,
    infos,
    {
      node: process.version,
      cpu: `${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}`,
      seconds,
      warmup,
      connections,
      signInConcurrency,
      loadAverage: load1,
      command: vkhodCommand.join(' ').replace(process.execPath, 'node'),
      rounds,
    },
    pairs,
    signInPairs,
  );
  // Issue 14: start to ready and idle RSS, the compiled build against tsx (scripts/bench/startup.ts; BENCH_STARTUP=0 skips it).
  if (process.env.BENCH_STARTUP !== '0') printStartup(await measureStartup());
  // Issue 15: how long the store's sweeps and checkpoints hold the event loop (scripts/bench/sweep.ts; BENCH_SWEEP=0 skips it).
  if (sweep) printSweep(await measureSweep(sweep));
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
}
