/**
 * Operator authentication: HTTP Basic on the admin API, the same answer for an unknown login and
 * a wrong password, lockout per login and per IP, and the operator list itself (argon2id hashes
 * only, compare-and-set under concurrent writes, removal and password reset take effect at once).
 * Limits are lowered for this file: 3 failures per login, 8 per IP.
 */
import { expect } from 'chai';
import { OperatorError, OPERATORS_SETTING } from '../../src/admin/operators.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addOperator, api, type TestOperator } from './admin-fixtures.ts';
import { auditOfType, resetStore } from './fixtures.ts';

const SEARCH = '/admin/api/accounts?passport=4506123456';

describe('admin API: operator authentication and lockout', () => {
  let h: Harness;
  let desk: TestOperator;
  let other: TestOperator;

  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3', VKHOD_LOGIN_MAX_PER_IP: '8' } });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    desk = await addOperator(h, 'desk', ['service_centre']);
    other = await addOperator(h, 'other.desk', ['service_centre']);
  });

  function expectChallenge(res: { status: number; headers: Record<string, string>; body: { error?: string } }, error: string) {
    expect(res.status).to.equal(401);
    expect(res.headers['www-authenticate']).to.equal('Basic realm="vkhod admin", charset="UTF-8"');
    expect(res.body.error).to.equal(error);
  }

  it('asks for credentials when none (or unusable ones) are sent', async () => {
    const none = await api(h).get(SEARCH);
    expectChallenge(none, 'auth_required');
    expect(none.body.error_description).to.include('логин и пароль');
    for (const header of [
      'Bearer abc',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':password-only').toString('base64')}`,
    ]) {
      const res = await api(h).get(SEARCH).set('authorization', header);
      expectChallenge(res, 'auth_required');
    }
    expect(auditOfType(h, 'admin.account_search')).to.be.empty;
  });

  it('gives the same answer for a wrong password and an unknown login, and audits both', async () => {
    const wrong = await api(h, { login: 'desk', password: 'wrong-password' }).get(SEARCH);
    const unknown = await api(h, { login: 'nobody', password: 'wrong-password' }).get(SEARCH);
    expectChallenge(wrong, 'auth_failed');
    expectChallenge(unknown, 'auth_failed');
    expect(unknown.body).to.deep.equal(wrong.body);
    expect(wrong.body.error_description).to.equal('Неверный логин или пароль оператора.');
    const failures = auditOfType(h, 'admin.signin');
    expect(failures.map((e) => [e.outcome, e.details?.reason])).to.deep.equal([
      ['failure', 'wrong_password'],
      ['failure', 'unknown_login'],
    ]);
    expect(JSON.stringify(failures), 'no password in the audit trail').to.not.include('wrong-password');
  });

  it('lets the right operator in (login case-insensitive)', async () => {
    const res = await api(h, { login: 'DESK', password: desk.password }).get(SEARCH);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ accounts: [] });
  });

  it('locks a login after 3 wrong passwords — even the right one is refused — while other operators carry on', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 3; i += 1) answers.push((await api(h, { login: 'desk', password: `wrong-${i}` }).get(SEARCH)).status);
    expect(answers).to.deep.equal([401, 401, 429]);
    const locked = await api(h, desk).get(SEARCH);
    expect(locked.status).to.equal(429);
    expect(locked.body.error).to.equal('locked');
    expect(locked.body.error_description).to.match(/Вход заблокирован — попробуйте снова через \d+ мин\./);
    expect(Number(locked.headers['retry-after'])).to.be.greaterThan(0);
    expect((await api(h, other).get(SEARCH)).status, 'another operator from the same address').to.equal(200);
    expect(auditOfType(h, 'admin.signin').filter((e) => e.details?.reason === 'locked')).to.have.length(1);
  });

  it('20 parallel wrong passwords: at most 3 are checked before the lock (the attempt is reserved first)', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => api(h, { login: 'desk', password: `race-${i}` }).get(SEARCH)));
    const checked = auditOfType(h, 'admin.signin').filter((e) => e.details?.reason === 'wrong_password');
    expect(checked.length, 'password checks made').to.be.at.most(3);
    expect(answers.filter((r) => r.status === 401)).to.have.length.at.most(2);
    expect(answers.every((r) => r.status === 401 || r.status === 429)).to.equal(true);
    expect((await api(h, desk).get(SEARCH)).status, 'the right password once locked').to.equal(429);
  });

  it('10 parallel calls with the right password all get in: none is refused as locked or audited as a failure', async () => {
    // Software at a service centre calls the API in parallel; the in-flight reservations of right
    // passwords locked the login (5 of 10 refused with Retry-After 900, "failed" sign-ins audited).
    const answers = await Promise.all(Array.from({ length: 10 }, () => api(h, desk).get(SEARCH)));
    expect(answers.map((r) => r.status)).to.deep.equal(new Array(10).fill(200));
    expect(auditOfType(h, 'admin.signin').filter((e) => e.outcome === 'failure')).to.deep.equal([]);
    expect((await api(h, desk).get(SEARCH)).status).to.equal(200);
  });

  it('an unknown login locks the same way (no hint whether it exists)', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 4; i += 1) answers.push((await api(h, { login: 'ghost', password: `wrong-${i}` }).get(SEARCH)).status);
    expect(answers).to.deep.equal([401, 401, 429, 429]);
  });

  it('a successful sign-in clears the login’s failures', async () => {
    for (let i = 0; i < 2; i += 1) await api(h, { login: 'desk', password: 'wrong' }).get(SEARCH);
    expect((await api(h, desk).get(SEARCH)).status).to.equal(200);
    for (let i = 0; i < 2; i += 1) expect((await api(h, { login: 'desk', password: 'wrong' }).get(SEARCH)).status).to.equal(401);
    expect((await api(h, desk).get(SEARCH)).status).to.equal(200);
  });

  it('locks an IP address after 8 failures across logins', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 8; i += 1) answers.push((await api(h, { login: `guess-${i}`, password: 'wrong' }).get(SEARCH)).status);
    expect(answers.slice(0, 7)).to.deep.equal(Array(7).fill(401));
    expect(answers[7]).to.equal(429);
    const res = await api(h, other).get(SEARCH);
    expect(res.status, 'the right password from a locked address').to.equal(429);
    expect(res.body.error).to.equal('locked');
  });

  it('a removed operator and an old password stop working at once', async () => {
    const old = desk.password;
    const fresh = await h.services.operators.resetPassword('desk', 'test');
    expectChallenge(await api(h, { login: 'desk', password: old }).get(SEARCH), 'auth_failed');
    expect((await api(h, { login: 'desk', password: fresh }).get(SEARCH)).status).to.equal(200);
    await h.services.operators.remove('other.desk', 'test');
    expectChallenge(await api(h, other).get(SEARCH), 'auth_failed');
  });

  describe('the operator list', () => {
    it('keeps only argon2id hashes, never a password', async () => {
      const stored = await h.services.store.settings.get(OPERATORS_SETTING);
      expect(stored).to.be.an('object');
      const doc = JSON.parse(stored!.value) as { operators: Array<{ login: string; passwordHash: string }> };
      expect(doc.operators.map((o) => o.login)).to.include.members(['desk', 'other.desk']);
      for (const o of doc.operators) expect(o.passwordHash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(stored!.value).to.not.include(desk.password).and.not.include(other.password);
      expect(desk.password).to.have.length.of.at.least(24);
    });

    it('loses no write when several operators are added at once (compare-and-set)', async () => {
      const logins = ['race-1', 'race-2', 'race-3'];
      await Promise.all(
        logins.map((login) => h.services.operators.find(login).then((o) => (o ? h.services.operators.remove(login, 'test') : undefined))),
      );
      await Promise.all(logins.map((login) => h.services.operators.add({ login, name: login, roles: ['post'] }, 'test')));
      const listed = (await h.services.operators.list()).map((o) => o.login);
      expect(listed).to.include.members([...logins, 'desk', 'other.desk']);
    });

    it('refuses a duplicate login, a bad login, no role, and a weak chosen password', async () => {
      const refused = async (action: Promise<unknown>) => {
        try {
          await action;
        } catch (err) {
          expect(err).to.be.instanceOf(OperatorError);
          return (err as OperatorError).code;
        }
        throw new Error('expected a refusal');
      };
      const ops = h.services.operators;
      expect(await refused(ops.add({ login: 'Desk', name: 'Дубль', roles: ['post'] }, 'test'))).to.equal('exists');
      expect(await refused(ops.add({ login: 'не латиница', name: 'X', roles: ['post'] }, 'test'))).to.equal('invalid_login');
      expect(await refused(ops.add({ login: 'norole', name: 'X', roles: [] }, 'test'))).to.equal('invalid_roles');
      expect(await refused(ops.add({ login: 'badrole', name: 'X', roles: ['root'] }, 'test'))).to.equal('invalid_roles');
      expect(await refused(ops.setPassword('desk', 'short', 'test'))).to.equal('weak_password');
      expect(await refused(ops.remove('nobody', 'test'))).to.equal('not_found');
      await ops.setPassword('desk', 'Длинная-фраза оператора 2024', 'test');
      expect(
        (await api(h, { login: 'desk', password: 'Длинная-фраза оператора 2024' }).get(SEARCH)).status,
        'a UTF-8 password over Basic',
      ).to.equal(200);
    });
  });
});
