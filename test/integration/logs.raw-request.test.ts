/**
 * Nothing secret in the logs (DESIGN §6), also when a client sends bytes that are not HTTP: a
 * request whose body runs past its Content-Length makes Node's parser fail on the rest, and the
 * error it raises carries the raw bytes it read — the request's Authorization header and cookies
 * with them. Such an error is the client's: logged as a warning, without the bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { loadConfig } from '../../config/load.ts';
import { buildApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { logCapture } from '../support/logs.ts';

const SECRET = 'rp-secret-that-must-not-be-logged-0123456789';

/** Writes `raw` on a fresh connection and resolves with what came back when the server closes it. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(raw));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('logs and raw bytes a client sends', function () {
  this.timeout(30_000);
  let dir: string;
  let server: Server;
  let close: () => Promise<void>;
  const { lines, sink } = logCapture();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-rawlog-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      VKHOD_ISSUER: 'http://127.0.0.1:1',
      VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
      VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
      VKHOD_CLIENTS: JSON.stringify([
        {
          client_id: 'rp-raw',
          client_secret: SECRET,
          redirect_uris: ['https://rp.example/cb'],
          grant_types: ['client_credentials'],
          response_types: [],
        },
      ]),
      VKHOD_DEMO_RP: 'false',
      VKHOD_DEV_OUTBOX: 'false',
    });
    const store = openSqliteStore({ path: join(dir, 'vkhod.sqlite'), sweepIntervalMs: 0 });
    const { app } = await buildApp(config, store, createLogger('info', sink));
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = async () => {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    };
  });
  after(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a body longer than its Content-Length: a 4xx, and neither the Authorization header nor the cookie in any log line', async () => {
    const basic = Buffer.from(`rp-raw:${SECRET}`).toString('base64');
    const body = 'grant_type=client_credentials';
    const raw =
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1:1\r\n' +
      `Authorization: Basic ${basic}\r\nCookie: vkhod.session=session-cookie-value\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nConnection: close\r\n\r\n${body}`;
    lines.length = 0;
    const answer = await exchange((server.address() as AddressInfo).port, raw);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answer.slice(0, 12), answer.slice(0, 200)).to.match(/^HTTP\/1\.1 4\d\d/);
    const all = JSON.stringify(lines);
    for (const secret of [basic, SECRET, 'session-cookie-value'])
      expect(all, 'the logs hold no secret of the request').to.not.include(secret);
    // Nor as bytes (a Buffer is written as its numbers): the start of "Basic " never appears.
    expect(all).to.not.match(/66,97,115,105,99,32/);
    for (const line of lines) {
      expect(line.level, `${String(line.msg)}: the client's bad bytes are no server error`).to.be.below(50);
    }
  });
});
