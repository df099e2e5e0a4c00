/**
 * The production bundle (scripts/build.ts) serves what the sources serve. The rest of the suite
 * builds the app from the sources in-process; production runs `dist/src/main.js`, one esbuild
 * bundle. Here that bundle is built (into node_modules/.cache, inside the package, so it finds
 * `views/` and the packages left to Node as dist/ does), started as its own process, and used as
 * relying parties use it: a citizen signs in with a password from a fresh browser (the pages,
 * CSRF, argon2id on its threads, the SQLite store), then openid-client discovers the issuer,
 * validates the ID token of a refresh, reads userinfo and introspects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { build } from 'esbuild';
import * as oidc from 'openid-client';
import { buildOptions } from '../../scripts/build.ts';
import { benchServerEnv, freePort, seedCitizens } from '../../scripts/bench/local-server.ts';
import { BENCH_CLIENT, BENCH_PASSWORD } from '../../scripts/bench/shared.ts';
import { benchPhone, passwordCodeFlow } from '../../scripts/bench/sign-in.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'node_modules', '.cache', `vkhod-test-bundle-${process.pid}`);

describe('the production bundle as a relying party sees it (openid-client)', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let url: string;
  let output = '';

  before(async () => {
    const result = await build({ ...buildOptions(OUT), logLevel: 'silent' });
    expect(result.errors).to.deep.equal([]);
    dir = mkdtempSync(join(tmpdir(), 'vkhod-bundle-'));
    const path = join(dir, 'vkhod.sqlite');
    await seedCitizens(path, [benchPhone(0)], BENCH_PASSWORD);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--no-warnings', join(OUT, 'src/main.js')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...benchServerEnv(port, path), VKHOD_TRUST_PROXY: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output = (output + chunk).slice(-20_000)));
    const end = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the bundle exited (${child.exitCode ?? child.signalCode}):\n${output}`);
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (Date.now() > end) throw new Error(`the bundle was not ready in time:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(OUT, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs a citizen in, and its tokens refresh, validate, introspect and read userinfo', async () => {
    const flow = await passwordCodeFlow(url, { scope: 'openid offline_access', prompt: 'consent' });
    expect(flow.failure, output).to.equal(undefined);
    expect(flow.refreshToken).to.be.a('string');

    const config = await oidc.discovery(new URL(url), BENCH_CLIENT.client_id, BENCH_CLIENT.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    expect(config.serverMetadata().issuer).to.equal(url);

    const refreshed = await oidc.refreshTokenGrant(config, flow.refreshToken!);
    const claims = refreshed.claims()!;
    expect(claims.iss).to.equal(url);
    expect(claims.aud).to.equal(BENCH_CLIENT.client_id);
    expect(refreshed.refresh_token, 'rotated').to.be.a('string').and.not.equal(flow.refreshToken);

    const userinfo = await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub);
    expect(userinfo.sub).to.equal(claims.sub);

    const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(introspected.active).to.equal(true);
    expect(introspected.sub).to.equal(claims.sub);
    // the rotated-out refresh token is dead
    expect((await oidc.tokenIntrospection(config, flow.refreshToken!)).active).to.equal(false);
  });

  it('answers a hostile request with a 4xx page, as the sources do', async () => {
    const res = await fetch(`${url}/interaction/${'x'.repeat(5000)}`, { headers: { 'accept-language': 'ru' } });
    expect(res.status).to.be.within(400, 499);
    expect(await res.text(), 'no stack trace').to.not.match(/\bat \S+ \(?file:/);
  });
});
