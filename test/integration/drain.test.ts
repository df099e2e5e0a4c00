/**
 * SIGTERM under load (issue 17): the real process (`src/main.ts`) on a temp SQLite file and a free
 * port, keep-alive clients requesting tokens in a loop. On SIGTERM /readyz answers 503 at once,
 * keep-alive connections are told `Connection: close`, nothing in flight is reset, and the
 * process exits by itself with code 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { TEST_SECRET, defaultClients } from '../support/harness.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Answer {
  status: number;
  connection?: string;
}

function call(port: number, agent: Agent, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('graceful drain on SIGTERM', function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;
  let dir: string;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns not ready at once, closes keep-alive connections after their response, resets nothing, exits 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-drain-'));
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', 'src/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
        VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
        VKHOD_CLIENTS: JSON.stringify(defaultClients()),
        VKHOD_DEMO_RP: 'false',
        VKHOD_DEV_OUTBOX: 'false',
        VKHOD_DRAIN_SECONDS: '8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!output.includes('vkhod is listening')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vkhod did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc-backend', client_secret: TEST_SECRET }).toString();
    const counts = { ok: 0, refused: 0, resets: 0, other: 0, closeHeaders: 0 };
    const errors: string[] = [];
    let signalled = false;
    const loops = Array.from({ length: 6 }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (;;) {
          try {
            const res = await call(port, agent, 'POST', '/token', body);
            if (res.status === 200) counts.ok++;
            else counts.other++;
            if (res.connection === 'close') counts.closeHeaders++;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === 'ECONNREFUSED') {
              counts.refused++;
              return; // the listener is closed: this client moves to another instance
            }
            counts.resets++;
            errors.push(`${code}: ${(err as Error).message}`);
            return;
          }
          if (signalled && counts.refused > 20) return;
        }
      } finally {
        agent.destroy();
      }
    });
    const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await call(port, probeAgent, 'GET', '/readyz')).status).to.equal(200);
    while (counts.ok < 50) await new Promise((r) => setTimeout(r, 20));

    child.kill('SIGTERM');
    signalled = true;
    while (!output.includes('stopping')) await new Promise((r) => setTimeout(r, 5));
    // On the connection that was already open: not ready at once, and told to close — also asked
    // as `/Readyz/`, which the router takes for /readyz.
    const ready = await call(port, probeAgent, 'GET', '/Readyz/');
    expect(ready.status).to.equal(503);
    expect(ready.connection).to.equal('close');
    probeAgent.destroy();

    await Promise.all(loops);
    const code = await exited;
    if (process.env.DRAIN_DEBUG)
      console.log(
        counts,
        output.split('\n').filter((l) => /stop/.test(l)),
      );
    expect(errors, 'requests reset by the server').to.deep.equal([]);
    expect(counts.resets).to.equal(0);
    expect(counts.closeHeaders, 'keep-alive connections were told to close').to.be.greaterThan(0);
    expect(counts.other, 'every answered token request succeeded').to.equal(0);
    expect(code, output).to.equal(0);
    expect(output).to.include('stopped');
  });
});
