/**
 * `BENCH_PERF=vkhod,bare` (either or both): where a phase's CPU goes, by Linux `perf`, for every thread of the
 * server (the event loop, libuv's pool with argon2id, signing and fsync, V8's GC threads, the kernel
 * on their behalf). V8's own sampler (`BENCH_CPU_PROF`) sees only the main thread and, on this
 * machine, charged native calls several times their cost (libsql's `get` at 28% of the event loop
 * during userinfo, where perf measures the store at 8% of the whole process).
 *
 * The server runs with `--perf-basic-prof --interpreted-frames-native-stack`, so its JavaScript
 * frames have names in /tmp/perf-<pid>.map; frames of the compiled build are mapped back through
 * `dist`'s source maps to vkhod's files and the packages bundled into it. Each sample is put in one
 * category, the first that matches: password hashing, token signing, the store, garbage collection,
 * then the innermost JavaScript frame's owner (a vkhod file or a package), then Node's own code, the
 * kernel, anything else.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The servers the bench can profile: vkhod, the BENCH_BASELINE_COMMAND build, bare node-oidc-provider. */
const SERVERS = ['vkhod', 'base', 'bare'];

/** BENCH_CPU_PROF / BENCH_PERF: a comma list of SERVERS (empty: none); anything else is refused before a server starts. */
export function profiledServers(variable: string, value = process.env[variable]): Set<string> {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !SERVERS.includes(name));
  if (unknown.length)
    throw new Error(`${variable}: ${unknown.join(', ')} is not a server of the bench; name ${SERVERS.join(', ')} (a comma list)`);
  return new Set(names);
}

/** Where .cpuprofile and perf.data files go. */
export const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR ?? join(tmpdir(), 'vkhod-bench-profiles');
const cpuProfiled = profiledServers('BENCH_CPU_PROF');
const perfRecorded = profiledServers('BENCH_PERF');

/** Whether BENCH_PERF names this server ("vkhod ×2" is vkhod). */
export const perfWanted = (server: string): boolean => perfRecorded.has(server.split(' ')[0]!);

/**
 * Node's flags for the server's profilers, right after `node` (NODE_OPTIONS refuses them; cluster
 * workers inherit them): V8's sampler for BENCH_CPU_PROF; for BENCH_PERF, JIT frames named for
 * perf (and interpreted ones visible at all).
 */
export function profilerFlags(server: string): string[] {
  const name = server.split(' ')[0]!;
  return [
    ...(cpuProfiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    ...(perfRecorded.has(name) ? ['--perf-basic-prof', '--interpreted-frames-native-stack'] : []),
  ];
}

/** With BENCH_PERF set: refuses at once, before any server starts, where perf cannot record. */
export function checkPerfAvailable(): void {
  if (!perfRecorded.size) return;
  const probe = spawnSync('perf', ['record', '-q', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    throw new Error(
      `BENCH_PERF needs Linux perf (Debian: apt-get install linux-perf) allowed to record (root, or kernel.perf_event_paranoid ≤ 1): ${
        probe.error?.message ?? probe.stderr.trim().split('\n')[0]
      }`,
    );
}

/** `perf record` of the given processes until `stop`. */
export class PerfRecording {
  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
    private readonly exited: Promise<number | null>,
  ) {}

  static start(pids: number[], file: string, frequency = 999): PerfRecording {
    const child = spawn('perf', ['record', '-F', String(frequency), '-g', '-o', file, '-p', pids.join(',')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`perf record: ${err.message}`)));
      child.on('exit', (code) =>
        code && code !== 130 && code !== 143 ? reject(new Error(`perf record: exit ${code}\n${stderr}`)) : resolve(code),
      );
    });
    // A perf that fails mid-phase is reported by stop(), not as an unhandled rejection meanwhile.
    exited.catch(() => undefined);
    return new PerfRecording(child, file, exited);
  }

  /** Stops recording and returns `perf script`'s text of the samples. */
  async stop(): Promise<string> {
    this.child.kill('SIGINT');
    await this.exited;
    return await new Promise<string>((resolve, reject) => {
      const script = spawn('perf', ['script', '-i', this.file], { stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      script.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
      script.on('error', reject);
      script.on('exit', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }
}

/** Removes the JIT maps the server's processes wrote (they grow with the code V8 compiled). */
export function removeJitMaps(pids: number[]): void {
  for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true });
}

/** Fixed categories, by what the sample's stack holds (first match wins). */
const CATEGORIES: Array<[string, RegExp]> = [
  ['argon2id (password hashing)', /argon2/],
  ['token signing (RSA/EC)', /\b(rsa_|RSA_sign|ecdsa_|ECDSA_|ossl_ec|EVP_DigestSign)/],
  ['the store (libsql, WAL writes, fsync)', /libsql|\bpwrite|fdatasync|\bfsync/],
  ['garbage collection', /v8::internal::(Heap::|Scavenge|MarkCompact|ConcurrentMarking|MinorMarkCompact|Sweeper|GCTracer|MemoryAllocator)/],
  ["V8's compiler", /v8::internal::(compiler::|maglev::|baseline::|OptimizedCompilationJob|Compiler::)/],
];

const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (maps.has(url)) return maps.get(url)!;
  let map: SourceMap | null = null;
  try {
    const file = fileURLToPath(url);
    if (existsSync(`${file}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
  } catch {
    // An unreadable map: the frame keeps its bundle's name.
  }
  maps.set(url, map);
  return map;
}

/** A vkhod file (`src/…`, `adapters/…`), a package (`pkg:name`), `node:` for Node's own code, or undefined. */
export function ownerOf(frame: string): string | undefined {
  // ES modules are named by URL, CommonJS ones by path.
  const js = /JS:[*~^]?\S* ((?:file:\/\/)?\/\S+?\.[cm]?[jt]s):(\d+):(\d+)/.exec(frame);
  if (!js) return /JS:[*~^]?\S* node:/.test(frame) ? 'node:' : undefined;
  let source = js[1]!;
  const map = source.startsWith('file:') && source.endsWith('.js') ? sourceMapOf(source) : null;
  const entry = map?.findEntry(Number(js[2]) - 1, Number(js[3]) - 1) as { originalSource?: string } | undefined;
  if (entry?.originalSource) source = entry.originalSource;
  // Bundled code with no source behind it: esbuild's runtime (__require, __commonJS, __esm…).
  else if (map) return "esbuild's helpers in the bundle (__require, __commonJS)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
  if (pkg) return `pkg:${pkg[1]}`;
  const own = /\/((?:src|adapters|config|scripts)\/.+)$/.exec(source) ?? /^(?:\.\.\/)*((?:src|adapters|config|scripts)\/.+)$/.exec(source);
  return own ? own[1] : source;
}

export interface Attribution {
  samples: number;
  /** share of the samples taken on the servers' main threads (their event loops) */
  eventLoop: number;
  /** category or owner → share of the samples */
  shares: Map<string, number>;
}

/**
 * Splits `perf script` text into samples and puts each in one category (see the file comment).
 * `mainThreads`: the servers' process ids (a main thread's id is its process's).
 */
export function attribute(perfScript: string, mainThreads: number[] = []): Attribution {
  const counts = new Map<string, number>();
  let samples = 0;
  let onLoop = 0;
  for (const block of perfScript.split(/\n\s*\n/)) {
    const lines = block
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const frames = lines.slice(1);
    if (!frames.length) continue;
    samples += 1;
    // The header: command, thread id, time, event.
    const loop = mainThreads.includes(Number(/^\S+\s+(\d+)/.exec(lines[0]!)?.[1]));
    if (loop) onLoop += 1;
    const stack = frames.join('\n');
    let key = CATEGORIES.find(([, pattern]) => pattern.test(stack))?.[0];
    if (!key) {
      let sawNode = false;
      for (const frame of frames) {
        const owner = ownerOf(frame);
        if (owner === 'node:') sawNode = true;
        else if (owner) {
          key = owner;
          break;
        }
      }
      key ??= sawNode
        ? "Node's own code (http, streams, timers…)"
        : /\[kernel\.kallsyms\]/.test(frames[0]!)
          ? 'kernel (network, memory)'
          : loop
            ? 'other native code on the event loop'
            : 'other native code on helper threads (perf cannot unwind it: mostly memset and malloc, e.g. argon2id filling its memory)';
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const shares = new Map([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / Math.max(1, samples)] as [string, number]));
  return { samples, shares, eventLoop: onLoop / Math.max(1, samples) };
}

/** The attribution as lines: categories and the largest owners, then all vkhod files summed. */
export function formatAttribution(title: string, cpuUsPerOp: number, { samples, shares, eventLoop }: Attribution, top = 24): string {
  const ownCode = [...shares].filter(([k]) => /^(src|adapters|config)\//.test(k)).reduce((sum, [, s]) => sum + s, 0);
  // Sign-ins cost milliseconds, API requests hundreds of microseconds: each in the unit that shows it.
  const perOp = (share: number) =>
    !Number.isFinite(cpuUsPerOp)
      ? ''
      : cpuUsPerOp >= 5000
        ? `${((share * cpuUsPerOp) / 1000).toFixed(2).padStart(7)} ms/op`
        : `${(share * cpuUsPerOp).toFixed(1).padStart(7)} µs/op`;
  const line = (name: string, share: number) => `    ${(100 * share).toFixed(1).padStart(5)}%  ${perOp(share)}  ${name}`;
  return [
    `  ${title}: where the CPU goes (perf, ${samples} samples over all the server's threads)`,
    ...[...shares].slice(0, top).map(([name, share]) => line(name, share)),
    line("vkhod's own code, all files (the lines above starting src/, adapters/, config/)", ownCode),
    line('on the event loop(s), of all the above', eventLoop),
  ].join('\n');
}
