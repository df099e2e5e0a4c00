/**
 * The production bundle (scripts/build.ts) serves what the sources serve. The rest of the suite
 * builds the app from the sources in-process; production runs `dist/src/main.js`, one esbuild
 * bundle. Here that bundle is built (into node_modules/.cache, inside the package, so it finds
 * `views/` and the packages left to Node as dist/ does), started as its own process, and used as
 * relying parties use it: a citizen signs in with a password from a fresh browser (the pages,
 * CSRF, argon2id on its threads, the SQLite store), then openid-client discovers the issuer,
 * validates the ID token of a refresh, reads userinfo and introspects.
 */
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
import { ServerProcess } from '../../scripts/bench/server-process.ts';
import { Browser, xsrfOf } from '../support/browser.ts';
import { errorsOn } from '../integration/fixtures.ts';
import type { Harness } from '../support/harness.ts';
import { benchPhone, passwordCodeFlow } from '../../scripts/bench/sign-in.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'node_modules', '.cache', `vkhod-test-bundle-${process.pid}`);

describe('the production bundle as a relying party sees it (openid-client)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: ServerProcess | undefined;
  let url: string;

  before(async () => {
    const result = await build({ ...buildOptions(OUT), logLevel: 'silent' });
    expect(result.errors).to.deep.equal([]);
    dir = mkdtempSync(join(tmpdir(), 'vkhod-bundle-'));
    const path = join(dir, 'vkhod.sqlite');
    await seedCitizens(path, [benchPhone(0)], BENCH_PASSWORD);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Only this start's settings: none of the runner's VKHOD_* or MONGODB_URI.
    const env = { ...benchServerEnv(port, path), VKHOD_TRUST_PROXY: '127.0.0.1' };
    server = await ServerProcess.start('bundle', [process.execPath, '--no-warnings', join(OUT, 'src/main.js')], env, url, 60_000, false);
  });

  after(async () => {
    await server?.stop();
    rmSync(OUT, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs a citizen in, and its tokens refresh, validate, introspect and read userinfo', async () => {
    const flow = await passwordCodeFlow(url, { scope: 'openid offline_access', prompt: 'consent' });
    expect(flow.failure, server?.diagnostics).to.equal(undefined);
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

  it("tells a wrong device code from the others by node-oidc-provider's error class names, which the bundle keeps", async () => {
    const browser = new Browser({ url } as Harness);
    for (const [code, alert] of [
      ['000-000-000', 'Такого кода нет. Проверьте цифры на экране устройства.'],
      ['', 'Введите код с экрана устройства.'],
    ]) {
      const input = await browser.get('/device');
      expect(input.status).to.equal(200);
      const page = await browser.post('/device', { xsrf: xsrfOf(input), user_code: code });
      expect(page.status, code).to.equal(400);
      expect(errorsOn(page.html), code).to.deep.equal([alert]);
    }
  });

  it('answers a hostile request with a 4xx page, as the sources do', async () => {
    const res = await fetch(`${url}/interaction/${'x'.repeat(5000)}`, { headers: { 'accept-language': 'ru' } });
    expect(res.status).to.be.within(400, 499);
    expect(await res.text(), 'no stack trace').to.not.match(/\bat \S+ \(?file:/);
  });
});
