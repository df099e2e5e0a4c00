/**
 * Soak run of the embedded store (issue 17) — a script, not a test.
 *
 *   node --import tsx scripts/bench/soak.ts [--minutes 10] [--report-seconds 60] [--sign-ins 5]
 *        [--tokens 100] [--wal-max-mb 64]
 *
 * Starts the real process (`src/main.ts`) on a temp SQLite file and a free port, then:
 *  1. calibrates: what a sign-in (authorization code + PKCE through the hosted pages, code →
 *     tokens, one refresh rotation) and a client_credentials token leave in the store, in bytes
 *     of table and index payload (dbstat), per table;
 *  2. soaks: sign-ins at --sign-ins per second, client_credentials at --tokens per second,
 *     /healthz every 50 ms; every --report-seconds prints the server's RSS, the WAL size, row
 *     counts and bytes per table and the p99 of each kind of request;
 *     --hold-lock-seconds into the soak, another connection holds the write lock that long
 *     (the report names the window): writes answer 503 + Retry-After, /healthz keeps answering;
 *  3. stops the server with SIGTERM under load and prints how long the drain took and whether a
 *     WAL was left behind.
 * Table sizes are read through a second, read-only connection (WAL readers never block).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'libsql';
import { Browser } from '../../test/support/browser.ts';
import type { Harness } from '../../test/support/harness.ts';
import { BASIC_AUTH, BENCH_CLIENT } from './shared.ts';
import { benchServerEnv, freePort, seedCitizens } from './local-server.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'report-seconds': { type: 'string', default: '60' },
    'sign-ins': { type: 'string', default: '5' },
    tokens: { type: 'string', default: '100' },
    'wal-max-mb': { type: 'string', default: '64' },
    'hold-lock-seconds': { type: 'string', default: '5' },
  },
});
const minutes = Number(args.minutes);
const reportMs = Number(args['report-seconds']) * 1000;
const signInRate = Number(args['sign-ins']);
const tokenRate = Number(args.tokens);

const PHONE = '+79990001122';
const PASSWORD = 'bench-password-Aa1!';
const dir = mkdtempSync(join(tmpdir(), 'vkhod-soak-'));
const path = join(dir, 'vkhod.sqlite');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// The citizen who signs in, seeded before the server starts.
await seedCitizens(path, [PHONE], PASSWORD);

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', 'src/main.ts'], {
  env: {
    ...process.env,
    ...benchServerEnv(port, path),
    VKHOD_SQLITE_WAL_MAX_MB: args['wal-max-mb'],
    VKHOD_LOGIN_MAX_PER_IP: '100000',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
for (let i = 0; ; i++) {
  if (i > 600) throw new Error('vkhod did not start');
  if (
    await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await new Promise((r) => setTimeout(r, 100));
}

const reader = new Database(path, { readonly: true });
reader.pragma('busy_timeout = 100');

/** Bytes of payload (tables and their indexes) per table, from dbstat. */
function tableBytes(): Record<string, { rows: number; bytes: number }> {
  const out: Record<string, { rows: number; bytes: number }> = {};
  const indexes = new Map(
    (
      reader.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'").all() as Array<{ name: string; tbl_name: string }>
    ).map((r) => [r.name, r.tbl_name]),
  );
  for (const row of reader.prepare('SELECT name, SUM(pgsize - unused) AS bytes FROM dbstat GROUP BY name').all() as Array<{
    name: string;
    bytes: number;
  }>) {
    const table = indexes.get(row.name) ?? row.name;
    if (table.startsWith('sqlite_')) continue;
    out[table] ??= { rows: 0, bytes: 0 };
    out[table].bytes += row.bytes;
  }
  for (const table of Object.keys(out))
    out[table]!.rows = (reader.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
  return out;
}
const totalBytes = (t: Record<string, { bytes: number }>) => Object.values(t).reduce((s, x) => s + x.bytes, 0);
const walBytes = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function post(path: string, body: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, string> };
}

/** One citizen sign-in as a relying party sees it: code → tokens → one refresh rotation. */
async function signIn(): Promise<number> {
  const browser = new Browser({ url } as Harness);
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: BENCH_CLIENT.client_id,
    response_type: 'code',
    redirect_uri: BENCH_CLIENT.redirect_uris[0],
    scope: 'openid offline_access',
    prompt: 'consent',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const login = await browser.get(`/auth?${q}`);
  if (login.status !== 200) return login.status;
  let page = await browser.submit(login, '/login', { identifier: PHONE, password: PASSWORD });
  if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
  const code = page.location ? new URL(page.location).searchParams.get('code') : null;
  if (!code) return page.status === 200 ? 599 : page.status;
  const tokens = await post('/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: BENCH_CLIENT.redirect_uris[0],
    code_verifier: verifier,
  });
  if (tokens.status !== 200) return tokens.status;
  const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token! });
  return refreshed.status;
}
const token = async () => (await post('/token', { grant_type: 'client_credentials' })).status;

// 1. Calibration.
const CAL_SIGN_INS = 50;
const CAL_TOKENS = 2000;
const t0 = tableBytes();
for (let i = 0; i < CAL_SIGN_INS; i++) {
  const status = await signIn();
  if (status !== 200) throw new Error(`calibration sign-in answered ${status}`);
}
const t1 = tableBytes();
for (let i = 0; i < CAL_TOKENS; i += 20) await Promise.all(Array.from({ length: 20 }, token));
const t2 = tableBytes();
const perTable = (a: typeof t0, b: typeof t0, n: number) =>
  Object.fromEntries(
    Object.keys(b)
      .map((k) => [k, Math.round(((b[k]?.bytes ?? 0) - (a[k]?.bytes ?? 0)) / n)])
      .filter(([, v]) => v !== 0),
  );
const perSignIn = (totalBytes(t1) - totalBytes(t0)) / CAL_SIGN_INS;
const perToken = (totalBytes(t2) - totalBytes(t1)) / CAL_TOKENS;
console.log(`calibration: ${CAL_SIGN_INS} sign-ins (code + tokens + one refresh rotation), ${CAL_TOKENS} client_credentials tokens`);
console.log(`  bytes per sign-in: ${Math.round(perSignIn)}  by table: ${JSON.stringify(perTable(t0, t1, CAL_SIGN_INS))}`);
console.log(`  bytes per client_credentials token: ${Math.round(perToken)}  by table: ${JSON.stringify(perTable(t1, t2, CAL_TOKENS))}`);
console.log(
  `  per million sign-ins: ${mb(perSignIn * 1e6)} while all their tokens live; audit alone: ${mb((((t1.audit?.bytes ?? 0) - (t0.audit?.bytes ?? 0)) / CAL_SIGN_INS) * 1e6)}`,
);

// 2. Soak.
type Kind = 'healthz' | 'token' | 'sign-in';
let window: Record<Kind, number[]> = { healthz: [], token: [], 'sign-in': [] };
let statuses: Record<string, number> = {};
let stopping = false;
const timed = async (kind: Kind, fn: () => Promise<number>) => {
  const started = performance.now();
  let status: number | string;
  try {
    status = await fn();
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    status = e.code ?? e.cause?.code ?? `error (${e.message.slice(0, 60)})`;
  }
  window[kind].push(performance.now() - started);
  const key = `${kind}:${status}`;
  statuses[key] = (statuses[key] ?? 0) + 1;
};
const paced = async (ratePerSecond: number, concurrency: number, kind: Kind, fn: () => Promise<number>) => {
  if (ratePerSecond <= 0) return;
  const gap = (1000 * concurrency) / ratePerSecond;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stopping) {
        const started = Date.now();
        await timed(kind, fn);
        await new Promise((r) => setTimeout(r, Math.max(0, gap - (Date.now() - started))));
      }
    }),
  );
};
const p = (values: number[], q: number) => {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
let maxWal = 0;
const walWatch = setInterval(() => (maxWal = Math.max(maxWal, walBytes())), 200);
const report = (label: string) => {
  const tables = tableBytes();
  const sizes = Object.entries(tables)
    .map(([k, v]) => `${k} ${v.rows} rows/${mb(v.bytes)}`)
    .join(', ');
  const lat = (k: Kind) => `${k} p99 ${p(window[k], 0.99).toFixed(1)} ms (n=${window[k].length})`;
  console.log(
    `[${label}] RSS ${mb(rss())}, WAL ${mb(walBytes())} (max ${mb(maxWal)}), db ${mb(statSync(path).size)}; ${lat('healthz')}, ${lat('token')}, ${lat('sign-in')}`,
  );
  console.log(`         tables: ${sizes}`);
  console.log(`         answers: ${JSON.stringify(statuses)}`);
  window = { healthz: [], token: [], 'sign-in': [] };
  statuses = {};
};
console.log(`soak: ${minutes} min, ${signInRate} sign-ins/s, ${tokenRate} tokens/s, WAL bound ${args['wal-max-mb']} MB`);
const started = Date.now();
const reporter = setInterval(() => report(`${((Date.now() - started) / 60000).toFixed(1)} min`), reportMs);
const load = Promise.all([
  paced(signInRate, Math.max(1, Math.ceil(signInRate / 2)), 'sign-in', signIn),
  paced(tokenRate, Math.max(1, Math.ceil(tokenRate / 25)), 'token', token),
  paced(20, 1, 'healthz', async () => (await fetch(`${url}/healthz`)).status),
]);
const lockSeconds = Number(args['hold-lock-seconds']);
if (lockSeconds > 0) {
  // A write lock held by another process, in the middle of the load: its own report window.
  await new Promise((r) => setTimeout(r, Math.min(10_000, (minutes * 60_000) / 4)));
  report('before the held lock');
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  await new Promise((r) => setTimeout(r, lockSeconds * 1000));
  other.exec('COMMIT');
  other.close();
  report(`write lock held ${lockSeconds} s`);
  const after = await token();
  console.log(`         first token request after the release: ${after}`);
}
await new Promise((r) => setTimeout(r, Math.max(0, minutes * 60_000 - (Date.now() - started))));
clearInterval(reporter);
report('end');

// 3. Drain under load.
const killedAt = Date.now();
child.kill('SIGTERM');
const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
const drainMs = Date.now() - killedAt;
stopping = true;
await load;
clearInterval(walWatch);
console.log(
  `drain: SIGTERM → exit ${code} in ${drainMs} ms; answers during the drain: ${JSON.stringify(statuses)}; WAL left: ${walBytes()} bytes; max WAL seen: ${mb(maxWal)}`,
);
reader.close();
process.exit(0);
