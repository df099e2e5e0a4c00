/**
 * Before/after on a busy machine: two vkhod builds side by side, measured in alternating rounds
 * (A, B, A, B…) so that a noisy neighbour hurts both alike; each round runs `BENCH_FLOWS`
 * password code flows one after another (no contention inside the server) and reads each
 * server's CPU time over it. Prints the median server CPU per flow of each, and the difference.
 *
 *   node --import tsx scripts/bench/compare.ts "node --import tsx /tmp/before/src/main.ts" "node --import tsx src/main.ts"
 *
 * Environment: BENCH_ROUNDS (9), BENCH_FLOWS (20 per round), BENCH_OP (sign-in | client_credentials).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess } from './server-process.ts';
import { BASIC_AUTH } from './shared.ts';
import { BENCH_PASSWORD, benchPhone, passwordCodeFlow } from './sign-in.ts';
import { benchServerEnv, commandOf, freePort, seedCitizens } from './local-server.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const flows = Number(process.env.BENCH_FLOWS ?? 20);
const op = process.env.BENCH_OP ?? 'sign-in';
const commands = process.argv.slice(2, 4);
if (commands.length !== 2) throw new Error('usage: compare.ts "<command A>" "<command B>"');

async function start(label: string, text: string): Promise<{ server: ServerProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-compare-'));
  const path = join(dir, 'vkhod.sqlite');
  await seedCitizens(path, [benchPhone(0)], BENCH_PASSWORD);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await ServerProcess.start(label, commandOf(text), { ...benchServerEnv(port, path), VKHOD_TRUST_PROXY: '127.0.0.1' }, url);
  return { server, dir };
}

async function once(url: string): Promise<void> {
  if (op === 'sign-in') {
    const flow = await passwordCodeFlow(url);
    if (!flow.ok) throw new Error(flow.failure);
    return;
  }
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { authorization: BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (res.status !== 200) throw new Error(`client_credentials: ${res.status}`);
  await res.arrayBuffer();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const servers = [await start('A', commands[0]!), await start('B', commands[1]!)];
try {
  const perFlow: number[][] = [[], []];
  for (const { server } of servers) for (let i = 0; i < flows; i += 1) await once(server.url); // warm-up
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, { server }] of servers.entries()) {
      const before = server.stats().cpuUs;
      for (let n = 0; n < flows; n += 1) await once(server.url);
      perFlow[i]!.push((server.stats().cpuUs - before) / flows);
    }
  }
  const [a, b] = perFlow.map(median) as [number, number];
  process.stdout.write(
    `${op}, server CPU per op, median of ${rounds} alternating rounds of ${flows}:\n` +
      `  A ${a.toFixed(0)} µs  (${commands[0]})\n  B ${b.toFixed(0)} µs  (${commands[1]})\n` +
      `  B − A = ${(b - a).toFixed(0)} µs (${((100 * (b - a)) / a).toFixed(1)}%)\n` +
      `  rounds A: ${perFlow[0]!.map((v) => v.toFixed(0)).join(' ')}\n  rounds B: ${perFlow[1]!.map((v) => v.toFixed(0)).join(' ')}\n`,
  );
} finally {
  for (const { server, dir } of servers) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
