import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Browser } from '../support/browser.ts';
import { defaultClients, startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';

const run = promisify(execFile);

describe('unknown scopes', function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it('an authorization request with a scope vkhod does not know fails with invalid_scope at the relying party', async () => {
    for (const scope of ['openid frobnicate', 'openid profile admin', 'openid PROFILE']) {
      const page = await new Browser(h).get(authorizePath({ scope, state: 'st-9' }));
      expect(page.location, scope).to.be.a('string');
      const back = new URL(page.location!);
      expect(back.origin + back.pathname).to.equal(TEST_REDIRECT);
      expect(back.searchParams.get('error'), scope).to.equal('invalid_scope');
      expect(back.searchParams.get('state')).to.equal('st-9');
    }
  });

  it('PAR refuses it too, in JSON', async () => {
    const res = await request(h.url)
      .post('/request')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send(Object.fromEntries(new URL(`http://x${authorizePath({ scope: 'openid frobnicate' })}`).searchParams));
    expect(res.status).to.equal(400);
    expect(res.body.error).to.equal('invalid_scope');
  });

  it('known scopes still start a sign-in', async () => {
    const page = await new Browser(h).get(authorizePath({ scope: 'openid profile phone email' }));
    expect(page.html).to.include('name="identifier"');
  });

  it('a client registered with an unknown scope is refused at start with a clear message', async () => {
    const clients = [
      ...defaultClients(),
      { client_id: 'rp-typo', client_secret: TEST_SECRET, redirect_uris: [TEST_REDIRECT], scope: 'openid profil' },
    ];
    let error: Error | undefined;
    try {
      const broken = await startHarness({ clients });
      await broken.close();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.include('rp-typo').and.include('profil');
  });

  describe('the CLI', function () {
    // Each run starts a Node process that compiles the CLI (which builds the services): slow on a loaded machine.
    this.timeout(180_000);
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'vkhod-cli-scope-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('VKHOD_') && k !== 'MONGODB_URI' && k !== 'NODE_ENV' && k !== 'NODE_OPTIONS',
      ),
    );
    const cli = (file: string, ...args: string[]) =>
      run('npx', ['tsx', 'scripts/vkhod.ts', 'clients', ...args], {
        env: {
          ...inherited,
          NODE_ENV: 'test',
          LOG_LEVEL: 'silent',
          VKHOD_CLIENTS_FILE: file,
          VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
          VKHOD_DEV_SECRET_FILE: join(dir, 'dev-secret.key'),
        },
      }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );

    it('refuses a scope vkhod does not know, and a citizen scope as a machine scope', async () => {
      const file = join(dir, 'clients.json');
      writeFileSync(file, '[]');
      const typo = await cli(file, 'add', '--id', 'rp-new', '--redirect-uri', 'https://rp.example.test/cb', '--scope', 'openid fulname');
      expect(typo.code).to.not.equal(0);
      expect(typo.out).to.include('fulname');
      const machine = await cli(file, 'add', '--id', 'svc-new', '--grant', 'client_credentials', '--machine-scope', 'openid');
      expect(machine.code).to.not.equal(0);
      expect(machine.out).to.include('openid');
      const ok = await cli(file, 'add', '--id', 'svc-ok', '--grant', 'client_credentials', '--machine-scope', 'notifications:send');
      expect(ok.code, ok.out).to.equal(0);
      // clients live in the store (issue 14): the file is only read to seed it
      expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal([]);
      const store = openSqliteStore({ path: join(dir, 'vkhod.sqlite'), sweepIntervalMs: 0 });
      try {
        expect(await store.clients.find('rp-new'), 'nothing stored for a refused client').to.equal(undefined);
        expect(await store.clients.find('svc-new')).to.equal(undefined);
        expect((await store.clients.find('svc-ok'))!.metadata).to.include({
          client_id: 'svc-ok',
          vkhod_machine_scope: 'notifications:send',
        });
      } finally {
        await store.close();
      }
    });
  });
});
