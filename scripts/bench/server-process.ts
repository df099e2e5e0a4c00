/**
 * The real vkhod process for the benchmark: started from a command (by default the sources under
 * tsx; `BENCH_VKHOD_COMMAND="node dist/src/main.js"` for the compiled build), timed from spawn to
 * the first 200 of /readyz ("start to ready"), and measured from outside: CPU time and RSS of the
 * process and all its descendants (cluster workers), read from /proc — the same counters as
 * process.cpuUsage() and process.memoryUsage().rss inside each of them, but also for a build the
 * benchmark cannot load code into.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface TreeStats {
  /** user + system CPU time of the process tree, µs */
  cpuUs: number;
  /** resident set of the process tree, bytes */
  rssBytes: number;
  /** how many processes were counted */
  processes: number;
  /**
   * user + system CPU time of the processes' main threads (the event loops), µs: the part of
   * `cpuUs` that serves requests, apart from libuv's pool (argon2id, fsync) and V8's helper threads.
   */
  mainThreadCpuUs: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux distribution). */
const TICKS = 100;
const PAGE = 4096;

function readStat(pid: number, file = `/proc/${pid}/stat`): { ppid: number; name: string; cpuUs: number; rssBytes: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    // The command name (field 2) may hold spaces: the fields after it start past the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid = field 4, utime = 14, stime = 15, rss (pages) = 24.
    return {
      ppid: Number(fields[1]),
      name,
      cpuUs: ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS,
      rssBytes: Number(fields[21]) * PAGE,
    };
  } catch {
    return undefined;
  }
}

/** CPU time of a process's main thread (its task whose id is the process id), µs. */
export function mainThreadCpuUs(pid: number): number {
  return readStat(pid, `/proc/${pid}/task/${pid}/stat`)?.cpuUs ?? 0;
}

/**
 * The process and all its descendants, by a scan of /proc; without tsx's esbuild service (a
 * transpiler the sources need and the compiled build has not).
 */
export function treeStats(root: number): TreeStats {
  const out: TreeStats = { cpuUs: 0, rssBytes: 0, processes: 0, mainThreadCpuUs: 0 };
  for (const pid of treePids(root)) {
    const stat = readStat(pid);
    if (!stat) continue;
    out.cpuUs += stat.cpuUs;
    out.rssBytes += stat.rssBytes;
    out.mainThreadCpuUs += mainThreadCpuUs(pid);
    out.processes += 1;
  }
  return out;
}

/** The process and its descendants (cluster workers), without tsx's esbuild service. */
export function treePids(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  const members = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  return [...members].filter((pid) => readStat(pid)?.name !== 'esbuild');
}

export class ServerProcess {
  private stderr = '';
  private exited = false;

  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
    /** ms from spawn to the first 200 from /readyz */
    public startToReadyMs = NaN,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Spawns `command` (argv; cwd = the repository) with `env` added to this process's environment
   * (`inheritEnv` false: to PATH alone, so nothing of the caller's VKHOD_* or MONGODB_URI applies)
   * and waits for `${url}/readyz` to answer 200, polling every 10 ms.
   */
  static async start(
    name: string,
    command: string[],
    env: Record<string, string>,
    url: string,
    timeoutMs = 180_000,
    inheritEnv = true,
  ): Promise<ServerProcess> {
    const started = performance.now();
    const child = spawn(command[0]!, command.slice(1), {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? 'inherit' : 'ignore', 'pipe'],
      env: { ...(inheritEnv ? process.env : { PATH: process.env.PATH ?? '' }), ...env },
    });
    const server = new ServerProcess(name, url, child);
    child.stderr!.on('data', (chunk: Buffer) => {
      server.stderr = (server.stderr + chunk.toString()).slice(-8000);
    });
    child.on('exit', () => {
      server.exited = true;
    });
    for (;;) {
      if (server.exited) throw new Error(`${name} exited before it was ready\n${server.stderr}`);
      if (performance.now() - started > timeoutMs) {
        server.kill();
        throw new Error(`${name} was not ready in ${timeoutMs} ms\n${server.stderr}`);
      }
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    server.startToReadyMs = performance.now() - started;
    return server;
  }

  stats(): TreeStats {
    return treeStats(this.pid);
  }

  get diagnostics(): string {
    return this.stderr;
  }

  /** SIGTERM (vkhod drains and exits), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
