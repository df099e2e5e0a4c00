/**
 * `vkhod clients …` and `vkhod keys …` (issue 14) against the store of a running vkhod: what the
 * CLI changes, the running process serves within seconds, with no restart.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { cliSandbox, type CliSandbox } from '../support/cli.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { eventually } from './two-instances.ts';

describe('CLI: clients and keys reach a running vkhod', function () {
  // Each run starts a Node process that compiles the CLI: slow on a loaded machine.
  this.timeout(240_000);
  let h: Harness;
  let cli: CliSandbox;
  before(async () => {
    const secret = randomBytes(32).toString('base64');
    h = await startHarness({ env: { VKHOD_SECRET_KEY: secret, VKHOD_CLIENT_CACHE_SECONDS: '1', VKHOD_KEY_REFRESH_SECONDS: '1' } });
    cli = cliSandbox({ VKHOD_SQLITE_PATH: h.config.store.kind === 'sqlite' ? h.config.store.path : '', VKHOD_SECRET_KEY: secret });
  });
  after(async () => {
    cli.close();
    await h.close();
  });

  const token = (id: string, secret: string) =>
    request(h.url).post('/token').auth(id, secret).type('form').send({ grant_type: 'client_credentials' });

  it('a client added, rotated and disabled with the CLI', async () => {
    const added = await cli.run('clients', 'add', '--id', 'svc-cli', '--grant', 'client_credentials', '--name', 'Из консоли');
    expect(added.code, added.stderr).to.equal(0);
    const first = /client_secret: (\S+)/.exec(added.stdout)![1]!;
    await eventually(async () => expect((await token('svc-cli', first)).status).to.equal(200));

    const rotated = await cli.run('clients', 'rotate-secret', 'svc-cli', '--overlap', '0');
    expect(rotated.code, rotated.stderr).to.equal(0);
    expect(rotated.stdout).to.include('the previous secret no longer works');
    const second = /client_secret: (\S+)/.exec(rotated.stdout)![1]!;
    await eventually(async () => expect((await token('svc-cli', first)).status).to.equal(401));
    expect((await token('svc-cli', second)).status).to.equal(200);

    const disabled = await cli.run('clients', 'disable', 'svc-cli');
    expect(disabled.code, disabled.stderr).to.equal(0);
    await eventually(async () => expect((await token('svc-cli', second)).status).to.equal(401));

    const bad = await cli.run('clients', 'rotate-secret', 'no-such-client');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('no such client');
  });

  it('keys rotated and withdrawn with the CLI', async () => {
    const kids = async () => ((await request(h.url).get('/jwks')).body.keys as Array<{ kid: string }>).map((k) => k.kid);
    const rotated = await cli.run('keys', 'rotate', '--delay', '3600');
    expect(rotated.code, rotated.stderr).to.equal(0);
    const fresh = /published now: (\S+),/.exec(rotated.stdout)![1]!;
    await eventually(async () => expect(await kids()).to.include(fresh));

    const withdrawn = await cli.run('keys', 'withdraw', fresh);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    await eventually(async () => expect(await kids()).to.not.include(fresh));
    const listed = await cli.run('keys', 'list');
    expect(listed.stdout).to.match(new RegExp(`${fresh}\\tRS256\\twithdrawn`));
    // the active key is untouched, still the first RS256 key in the JWKS (the one that signs)
    const active = /^(\S+)\tRS256\tactive/m.exec(listed.stdout)![1]!;
    const keys = (await request(h.url).get('/jwks')).body.keys as Array<{ kid: string; alg: string }>;
    expect(keys.find((k) => k.alg === 'RS256')!.kid).to.equal(active);
  });
});
