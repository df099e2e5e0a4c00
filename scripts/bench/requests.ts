/**
 * `npm run bench:requests`: where a password sign-in's event-loop time goes, request by request,
 * vkhod beside bare node-oidc-provider (serve-bare.ts). One flow at a time (a fresh browser each,
 * consent remembered), so that while a request is served the server does nothing else: the
 * main thread's on-CPU time (/proc/<pid>/task/<pid>/schedstat, in ns) around each request, a few
 * milliseconds after its answer included (the commit and fsync callbacks that follow it), is
 * that request's cost. Prints the median per request; asserts nothing about time.
 *
 * Environment: BENCH_FLOWS (100 measured, after 20 to warm up), BENCH_VKHOD_COMMAND (as in run.ts;
 * default the compiled build, `node dist/src/main.js`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerChild } from './children.ts';
import { benchServerEnv, commandOf, freePort, seedCitizens } from './local-server.ts';
import { ServerProcess } from './server-process.ts';
import { BENCH_PASSWORD, benchPhone, passwordCodeFlow } from './sign-in.ts';

const flows = Number(process.env.BENCH_FLOWS ?? 100);
if (!Number.isInteger(flows) || flows <= 0) throw new Error(`BENCH_FLOWS: a positive integer, got ${process.env.BENCH_FLOWS}`);
const command = commandOf(process.env.BENCH_VKHOD_COMMAND ?? 'node dist/src/main.js');
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request's name: its method and path with the interaction id left out. */
const nameOf = (url: URL, method = 'GET') =>
  `${method} ${url.pathname.replace(/\/interaction\/[^/]+/, '/interaction/:uid').replace(/^\/auth\/[^/]+/, '/auth/:uid')}`;

/**
 * Runs the flows against `url` and returns, per request name, the main thread's CPU µs of each.
 * The flow's own fetch calls are wrapped for the measurement (sign-in.ts is the same client as `npm run bench`).
 */
async function measure(url: string, pid: number): Promise<Map<string, number[]>> {
  const onCpuNs = () => Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
  const costs = new Map<string, number[]>();
  let recording = false;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    await settle(3);
    const before = onCpuNs();
    const response = await realFetch(input, init);
    const body = await response.arrayBuffer();
    await settle(5);
    const cost = (onCpuNs() - before) / 1000;
    if (recording) {
      const name = nameOf(target, init?.method);
      costs.set(name, [...(costs.get(name) ?? []), cost]);
    }
    return new Response([101, 204, 205, 304].includes(response.status) ? null : body, {
      status: response.status,
      headers: response.headers,
    });
  }) as typeof fetch;
  try {
    for (let i = 0; i < flows + 20; i += 1) {
      recording = i >= 20;
      const flow = await passwordCodeFlow(url);
      if (!flow.ok) throw new Error(`sign-in at ${url}: ${flow.failure}`);
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  return costs;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-bench-requests-'));
  const path = join(dir, 'vkhod.sqlite');
  await seedCitizens(path, [benchPhone(0)], BENCH_PASSWORD);
  const port = await freePort();
  const vkhod = await ServerProcess.start(
    'vkhod',
    command,
    { ...benchServerEnv(port, path), VKHOD_TRUST_PROXY: '127.0.0.1', VKHOD_WORKERS: '1' },
    `http://127.0.0.1:${port}`,
  );
  let mine: Map<string, number[]>;
  try {
    mine = await measure(vkhod.url, vkhod.pid);
  } finally {
    await vkhod.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const bare = await ServerChild.start('bare', './serve-bare.ts');
  let floor: Map<string, number[]>;
  try {
    floor = await measure(bare.url, bare.pid);
  } finally {
    await bare.stop();
  }
  const names = [...new Set([...mine.keys(), ...floor.keys()])];
  const rows = names.map((name) => [name, median(mine.get(name) ?? []), median(floor.get(name) ?? [])] as const);
  const sum = (i: 1 | 2) => rows.reduce((total, row) => total + (Number.isFinite(row[i]) ? row[i] : 0), 0);
  const width = Math.max(...names.map((n) => n.length), 'request'.length);
  const line = (cells: [string, string, string, string]) =>
    `${cells[0].padEnd(width)}  ${cells[1].padStart(9)}  ${cells[2].padStart(9)}  ${cells[3].padStart(9)}`;
  const us = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '—');
  const out = [
    '',
    `main-thread CPU per request of a password sign-in, µs (median of ${flows} flows, one at a time, node ${process.version})`,
    '',
    line(['request', 'vkhod', 'bare', 'vkhod−bare']),
    line(['-'.repeat(width), '-'.repeat(9), '-'.repeat(9), '-'.repeat(9)]),
    ...rows.map(([name, a, b]) => line([name, us(a), us(b), us(a - b)])),
    line(['the whole sign-in', us(sum(1)), us(sum(2)), us(sum(1) - sum(2))]),
    '',
    "(one flow at a time: caches are colder than under load, so the figures are higher than `npm run bench`'s main µs/op; the split is what this shows)",
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
}
