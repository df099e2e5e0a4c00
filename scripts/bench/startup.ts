/**
 * Start to ready and RSS at idle (issue 14): the compiled build (`node --max-semi-space-size=4
 * dist/src/main.js`, what `npm start` runs in production and the Docker image runs) against the sources through tsx
 * (`node --import tsx src/main.ts`, the development start). Each variant is started
 * BENCH_STARTUP_ROUNDS times (3) with production settings and the embedded store in a fresh temp
 * folder — the first start, which also makes the signing keys and the schema — and then once more on
 * the same folder: the restart of every deploy and of a rolling restart. "Ready" is the first 200 on
 * /readyz (polled every 10 ms); RSS is read from /proc/<pid>/status after
 * BENCH_STARTUP_IDLE_SECONDS (2) of idling once ready (the first start's). Medians are printed.
 *
 * Run alone with `npm run bench:startup`; `npm run bench` prints it after the throughput table.
 * Builds dist/ first when it is missing (BENCH_STARTUP_BUILD=1: always).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { productionStartEnv } from '../../test/support/production-start.ts';
import { freePort } from './local-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StartupRow {
  variant: string;
  command: string;
  readyMs: number;
  /** CPU time (user + system) the process spent until ready: the steadier figure on a busy machine. */
  readyCpuMs: number;
  /** The same for a restart on the store the first start left (keys and schema there). */
  restartMs: number;
  restartCpuMs: number;
  idleRssMb: number;
  rounds: number;
}

/** User + system CPU time of a Linux process so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The production command (`npm start` with NODE_ENV=production, the Docker image). */
export const PRODUCTION_COMMAND = 'node --max-semi-space-size=4 dist/src/main.js';

const VARIANTS = [
  { variant: 'dist', args: PRODUCTION_COMMAND.split(' ').slice(1), command: PRODUCTION_COMMAND },
  { variant: 'tsx', args: ['--import', 'tsx', 'src/main.ts'], command: 'node --import tsx src/main.ts' },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One start with `env` (its store's folder, its master key) on a free port: ms from spawn to the first 200 on /readyz, and the RSS after idling. */
async function startOnce(
  args: string[],
  env: Record<string, string>,
  idleMs: number,
): Promise<{ readyMs: number; cpuMs: number; rssMb: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--no-warnings', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
      if (performance.now() - started > 120_000) throw new Error(`${args.join(' ')}: not ready after 120 s`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(10);
    }
    const readyMs = performance.now() - started;
    const cpuMs = cpuMsOf(child.pid!);
    await sleep(idleMs);
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return { readyMs, cpuMs, rssMb: rssKb / 1024 };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** A first start on a fresh store, then a restart on what it left. */
async function startTwice(args: string[], idleMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-bench-startup-'));
  try {
    // One set of settings for both starts (the master key the store is encrypted under); each
    // start listens on a port of its own (startOnce sets PORT).
    const env = productionStartEnv(dir, 0, 'bench');
    const first = await startOnce(args, env, idleMs);
    const again = await startOnce(args, env, 0);
    return { ...first, restartMs: again.readyMs, restartCpuMs: again.cpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds dist/ when it is missing, or always with `always`. */
export function ensureBuild(always: boolean): void {
  if (!always && existsSync(join(ROOT, 'dist/src/main.js'))) return;
  process.stderr.write('bench: building dist/ (npm run build)\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function measureStartup(): Promise<StartupRow[]> {
  const rounds = Math.max(1, Number(process.env.BENCH_STARTUP_ROUNDS ?? 3) || 3);
  const idleMs = Math.max(0, Number(process.env.BENCH_STARTUP_IDLE_SECONDS ?? 2) || 0) * 1000;
  ensureBuild(process.env.BENCH_STARTUP_BUILD === '1');
  const results = new Map<string, Array<Awaited<ReturnType<typeof startTwice>>>>(VARIANTS.map((v) => [v.variant, []]));
  // Alternating, so a noisy neighbour hurts both alike.
  for (let round = 0; round < rounds; round += 1)
    for (const v of VARIANTS) {
      const result = await startTwice(v.args, idleMs);
      process.stderr.write(
        `  start ${v.variant}: ready in ${result.readyMs.toFixed(0)} ms (${result.cpuMs} ms CPU), RSS ${result.rssMb.toFixed(0)} MB; ` +
          `restart ${result.restartMs.toFixed(0)} ms (${result.restartCpuMs} ms CPU)\n`,
      );
      results.get(v.variant)!.push(result);
    }
  return VARIANTS.map((v) => {
    const runs = results.get(v.variant)!;
    return {
      variant: v.variant,
      command: v.command,
      readyMs: median(runs.map((r) => r.readyMs)),
      readyCpuMs: median(runs.map((r) => r.cpuMs)),
      idleRssMb: median(runs.map((r) => r.rssMb)),
      restartMs: median(runs.map((r) => r.restartMs)),
      restartCpuMs: median(runs.map((r) => r.restartCpuMs)),
      rounds,
    };
  });
}

export function printStartup(rows: StartupRow[]): void {
  const out = [
    '',
    `Start to ready (first 200 on /readyz) and RSS at idle — production settings, SQLite, median of ${rows[0]?.rounds ?? 0}`,
    '(first start: a fresh store, the signing keys made; restart: the same store again, as on every deploy)',
    '',
  ];
  out.push(
    `${'variant'.padEnd(8)}${'first start ms'.padStart(16)}${'CPU ms'.padStart(8)}${'restart ms'.padStart(12)}${'CPU ms'.padStart(8)}${'idle RSS MB'.padStart(13)}  command`,
  );
  for (const r of rows)
    out.push(
      `${r.variant.padEnd(8)}${r.readyMs.toFixed(0).padStart(16)}${String(r.readyCpuMs).padStart(8)}${r.restartMs.toFixed(0).padStart(12)}${String(r.restartCpuMs).padStart(8)}${r.idleRssMb.toFixed(0).padStart(13)}  ${r.command}`,
    );
  const dist = rows.find((r) => r.variant === 'dist');
  const tsx = rows.find((r) => r.variant === 'tsx');
  if (dist && tsx)
    out.push(
      '',
      `dist/tsx: ready ${(dist.readyMs / tsx.readyMs).toFixed(2)}×, CPU to ready ${(dist.readyCpuMs / tsx.readyCpuMs).toFixed(2)}×, idle RSS ${(dist.idleRssMb / tsx.idleRssMb).toFixed(2)}×`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printStartup(await measureStartup());
}
