/**
 * VKHOD_WORKERS=2 (issue 15): the real process (src/main.ts) as a child, a supervisor and two
 * workers behind one listener on a fresh SQLite file. A citizen signs in through it, wrong
 * passwords count across the workers, both workers publish the same signing keys (they raced to
 * create them at first start), /readyz waits for both, SIGHUP replaces them one by one.
 * Each response names its worker (`vkhod-worker`); requests are sent with `Connection: close`
 * so that the listener deals them out to both workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Accounts } from '../../src/accounts/accounts.ts';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { SigningKeys } from '../../src/oidc/keys.ts';
import { SecretBox } from '../../src/security/secret-box.ts';
import { Browser } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD, pkce, redeem, signIn } from '../support/flows.ts';
import { defaultClients, type Harness } from '../support/harness.ts';

const PHONE = '+79123456789';
const OTHER_PHONE = '+79123450000';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One request on its own connection: status, the answering worker and the body. */
function get(url: string): Promise<{ status: number; worker?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, worker: res.headers['vkhod-worker'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 150_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('VKHOD_WORKERS=2: two workers behind one listener', function () {
  this.timeout(300_000);
  let dir: string;
  let child: ChildProcess;
  let url: string;
  let metricsUrl: string;
  let output = '';
  const harness = () => ({ url }) as Harness;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-cluster-'));
    const path = join(dir, 'vkhod.sqlite');
    // The citizens, seeded before the workers start (another process on the same file).
    const seed = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
    const accounts = new Accounts(seed);
    for (const phone of [PHONE, OTHER_PHONE]) {
      await accounts.register({
        name: { family: 'Иванова', given: 'Мария' },
        contact: { kind: 'phone', value: phone },
        passwordHash: await hashPassword(GOOD_PASSWORD),
      });
    }
    await seed.close();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${await freePort()}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        VKHOD_ISSUER: url,
        VKHOD_SQLITE_PATH: path,
        VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
        VKHOD_CLIENTS: JSON.stringify(defaultClients()),
        VKHOD_DEMO_RP: 'false',
        VKHOD_DEV_OUTBOX: 'false',
        VKHOD_LOGIN_MAX_PER_IP: '3',
        VKHOD_WORKERS: '2',
        VKHOD_METRICS_PORT: new URL(metricsUrl).port,
        // Each worker listens here first: that is not serving yet (the public port is).
        VKHOD_ADMIN_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output = (output + chunk).slice(-20_000)));
    // Ready only once both workers serve: /readyz says "starting" until then.
    await until('both workers ready', async () => {
      const res = await get(`${url}/readyz`);
      if (res.status === 503) expect(JSON.parse(res.body).status).to.be.oneOf(['starting', 'unavailable']);
      return res.status === 200 ? true : undefined;
    });
    expect(output).to.match(/"serving":2,"wanted":2/);
    expect(output.match(/"msg":"worker serving"/g), 'one "serving" per worker, on the public port').to.have.length(2);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Requests `path` on fresh connections until both workers have answered; their bodies by worker. */
  async function fromBothWorkers(path: string): Promise<Map<string, string>> {
    const bodies = new Map<string, string>();
    for (let i = 0; i < 40 && bodies.size < 2; i += 1) {
      const res = await get(`${url}${path}`);
      expect(res.status).to.equal(200);
      bodies.set(res.worker!, res.body);
    }
    expect([...bodies.keys()].sort(), 'workers that answered').to.deep.equal(['0', '1']);
    return bodies;
  }

  it('publishes one key set from both workers (they raced to create it on the fresh store)', async () => {
    const bodies = await fromBothWorkers('/jwks');
    const [first, second] = [...bodies.values()].map((body) => JSON.parse(body) as { keys: Array<{ kid: string }> });
    expect(first!.keys.length).to.be.greaterThan(0);
    expect(second).to.deep.equal(first);
  });

  it('answers a metrics scrape with both workers summed: every request counted once, whichever worker served it', async () => {
    /** HTTP requests counted so far, over every route and status. */
    const counted = async () => {
      const scrape = await get(`${metricsUrl}/metrics`);
      expect(scrape.status).to.equal(200);
      expect(scrape.worker, 'answered by the supervisor').to.equal(undefined);
      return [...scrape.body.matchAll(/^vkhod_http_request_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    const before = await counted();
    const workers = new Set<string>();
    for (let i = 0; i < 12; i += 1) {
      const res = await get(`${url}/.well-known/openid-configuration`);
      expect(res.status).to.equal(200);
      workers.add(res.worker!);
    }
    expect([...workers].sort(), 'workers that answered').to.deep.equal(['0', '1']);
    expect((await counted()) - before).to.equal(12);
    // and the process metrics of both (resident memory summed over the workers)
    const body = (await get(`${metricsUrl}/metrics`)).body;
    expect(body).to.match(/^process_resident_memory_bytes \d+/m);
    expect((await get(`${metricsUrl}/other`)).status).to.equal(404);
  });

  it('signs a citizen in through both workers: sign-in page, password, consent, code, tokens', async () => {
    const browser = new Browser(harness(), { connection: 'close' });
    const { verifier, challenge } = pkce();
    const page = await signIn(browser, PHONE, GOOD_PASSWORD, authorizePath({}, challenge));
    const { body, claims } = await redeem(harness(), page.location, verifier);
    expect(body.access_token).to.be.a('string');
    expect(claims.sub).to.be.a('string');
    // The ID token verifies with the key set both workers publish.
    const header = JSON.parse(Buffer.from(String(body.id_token).split('.')[0]!, 'base64url').toString()) as { kid: string };
    for (const jwks of (await fromBothWorkers('/jwks')).values()) {
      expect((JSON.parse(jwks) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)).to.include(header.kid);
    }
  });

  it('counts wrong passwords per IP across the workers: the limit of 3 holds whichever worker answers', async () => {
    const workers = new Set<string>();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const browser = new Browser(harness(), { connection: 'close' });
      const login = await browser.get(authorizePath());
      const res = await browser.agent
        .post(login.html.match(/action="([^"]*\/login)"/)![1]!)
        .type('form')
        .set({ connection: 'close', 'accept-language': 'ru' })
        .send({ _csrf: login.html.match(/name="_csrf" value="([^"]+)"/)![1]!, identifier: OTHER_PHONE, password: 'Неверный-пароль-1!' });
      statuses.push(res.status);
      workers.add(String(res.headers['vkhod-worker']));
    }
    // As in one process: the attempt that uses the last point is answered with the lockout.
    expect(statuses).to.deep.equal([401, 401, 429, 429, 429]);
    expect([...workers].sort(), 'the attempts reached both workers').to.deep.equal(['0', '1']);
  });

  it('restarts the workers one by one on SIGHUP, answering throughout, with the same keys after', async () => {
    const before = [...(await fromBothWorkers('/jwks')).values()][0];
    const marker = output.length;
    child.kill('SIGHUP');
    const failures: number[] = [];
    let polls = 0;
    await until(
      'the restart',
      async () => {
        const res = await get(`${url}/healthz`);
        polls += 1;
        if (res.status !== 200) failures.push(res.status);
        return output.slice(marker).includes('workers restarted') ? true : undefined;
      },
      240_000,
    );
    expect(polls).to.be.greaterThan(0);
    expect(failures, 'answers other than 200 during the restart').to.deep.equal([]);
    expect(output.slice(marker).match(/"msg":"worker serving"/g)?.length).to.equal(2);
    expect((await get(`${url}/readyz`)).status).to.equal(200);
    expect([...(await fromBothWorkers('/jwks')).values()][0]).to.equal(before);
  });

  it('a worker killed is replaced, and the log says how it ended (its exit code not hidden as a secret)', async () => {
    const served = [...output.matchAll(/"worker":(\d),"pid":(\d+),"serving"/g)].map((m) => Number(m[2]));
    const marker = output.length;
    process.kill(served.at(-1)!, 'SIGKILL');
    await until('the replacement', async () => (/"msg":"worker serving"/.test(output.slice(marker)) ? true : undefined), 60_000);
    const died = output
      .slice(marker)
      .split('\n')
      .find((line) => line.includes('worker died'))!;
    expect(JSON.parse(died)).to.include({ signal: 'SIGKILL', exitCode: null });
    expect(died).to.not.include('[redacted]');
    expect((await get(`${url}/readyz`)).status).to.equal(200);
  });
});

describe('signing keys at first start', () => {
  it('two processes creating them at once end with one key set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-keys-'));
    const path = join(dir, 'vkhod.sqlite');
    const box = new SecretBox(randomBytes(32));
    // Two connections to one file, as two workers have; each finds no keys and makes its own.
    const stores = [0, 1].map(() => openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false }));
    try {
      const sets = await Promise.all(stores.map((store) => new SigningKeys(store.settings, box).load(3600)));
      expect(sets[0]!.keys.length).to.equal(2);
      expect(sets[1]).to.deep.equal(sets[0]);
      const listed = await Promise.all(stores.map((store) => new SigningKeys(store.settings, box).list(3600)));
      expect(listed[1]).to.deep.equal(listed[0]);
      expect(listed[0]!.map((k) => k.kid)).to.deep.equal(sets[0]!.keys.map((k) => k.kid));
    } finally {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
