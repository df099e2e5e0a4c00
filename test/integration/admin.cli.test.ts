/**
 * `vkhod operators …` run as an operator runs it (`npm run cli`, i.e. tsx on scripts/vkhod.ts), against a
 * SQLite file in a temp folder: the printed password is the one that signs in, list shows what
 * is there, remove takes the operator away, mistakes exit with code 2 and a usage line.
 */
import { expect } from 'chai';
import { cliSandbox, type CliSandbox } from '../support/cli.ts';
import { loadConfig } from '../../config/load.ts';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Operators } from '../../src/admin/operators.ts';
import { auditEvent } from '../../src/security/audit.ts';
import { Limits } from '../../src/security/limits.ts';

describe('CLI: vkhod operators', function () {
  // Each run starts a Node process that compiles the CLI: slow on a loaded machine.
  this.timeout(180_000);
  let cli: CliSandbox;
  let env: NodeJS.ProcessEnv;
  before(() => {
    cli = cliSandbox();
    env = cli.env;
  });
  after(() => cli.close());

  const vkhod = (...args: string[]) => cli.run(...args);

  /** Checks a password against the same SQLite file, the way the admin API does. */
  async function signsIn(login: string, password: string): Promise<boolean> {
    const config = loadConfig(env);
    const store = openSqliteStore({ path: (config.store as { path: string }).path, sweepIntervalMs: 0 });
    try {
      const operators = new Operators(store.settings, new Limits(store, config.limits), {
        record: (e) => store.audit.append(auditEvent(e)),
      });
      return (await operators.verify(login, password, '127.0.0.1')).ok;
    } finally {
      await store.close();
    }
  }

  it('adds an operator with several roles and prints a password once; list shows it; reset and remove work', async () => {
    const empty = await vkhod('operators', 'list');
    expect(empty.code, empty.stderr).to.equal(0);
    expect(empty.stdout).to.include('no operators yet');

    const added = await vkhod(
      'operators',
      'add',
      '--login',
      'Anna.Petrova',
      '--name',
      'Анна Петрова',
      '--role',
      'service_centre',
      '--role',
      'post',
    );
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stdout).to.include('operator anna.petrova added (service_centre, post)');
    const password = /^password: (\S+)$/m.exec(added.stdout)?.[1];
    expect(password, added.stdout).to.be.a('string').with.length.of.at.least(24);
    expect(await signsIn('anna.petrova', password!)).to.equal(true);

    const listed = await vkhod('operators', 'list');
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.match(/^anna\.petrova\tservice_centre,post\tАнна Петрова\tcreated \d{4}-\d\d-\d\dT/m);
    expect(listed.stdout, 'list never shows a password or hash').to.not.include(password!).and.not.include('argon2');

    const duplicate = await vkhod('operators', 'add', '--login', 'anna.petrova', '--name', 'Другая', '--role', 'admin');
    expect(duplicate.code).to.equal(2);
    expect(duplicate.stderr).to.include('already exists');

    const reset = await vkhod('operators', 'reset-password', 'anna.petrova');
    expect(reset.code, reset.stderr).to.equal(0);
    const fresh = /^new password for anna\.petrova: (\S+)$/m.exec(reset.stdout)?.[1];
    expect(fresh).to.be.a('string').and.not.equal(password);
    expect(await signsIn('anna.petrova', password!), 'the old password').to.equal(false);
    expect(await signsIn('anna.petrova', fresh!)).to.equal(true);

    const removed = await vkhod('operators', 'remove', 'anna.petrova');
    expect(removed.code, removed.stderr).to.equal(0);
    expect((await vkhod('operators', 'list')).stdout).to.include('no operators yet');
    expect(await signsIn('anna.petrova', fresh!)).to.equal(false);

    const again = await vkhod('operators', 'remove', 'anna.petrova');
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include('no such operator');
  });

  it('explains a missing role, an unknown role and a bad login with exit code 2', async () => {
    const noRole = await vkhod('operators', 'add', '--login', 'ivan', '--name', 'Иван');
    expect(noRole.code).to.equal(2);
    expect(noRole.stderr).to.include('at least one --role').and.include('usage:');
    const badRole = await vkhod('operators', 'add', '--login', 'ivan', '--name', 'Иван', '--role', 'root');
    expect(badRole.code).to.equal(2);
    expect(badRole.stderr).to.include('--role: one or more of service_centre, post, admin');
    const badLogin = await vkhod('operators', 'add', '--login', 'иван', '--name', 'Иван', '--role', 'post');
    expect(badLogin.code).to.equal(2);
    expect(badLogin.stderr).to.include('login: 2-64 characters');
    expect((await vkhod('operators', 'list')).stdout).to.include('no operators yet');
  });
});
