/**
 * The service-centre desk through the admin API: find a citizen, confirm their identity after
 * seeing the passport, and every way that must be refused (wrong passport, account not standard,
 * wrong role, bad input) — with a JSON answer in Russian and the account left as it was.
 */
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.ts';
import { api, auditBy, CITIZEN, citizenWithData, levelOf, snilsFrom, standardCitizen, type TestOperator } from './admin-fixtures.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

describe('admin API: service-centre confirmation', () => {
  let h: Harness;
  let desk: TestOperator;
  let postman: TestOperator;
  let boss: TestOperator;

  before(async () => {
    h = await startHarness();
    desk = await h.services.operators
      .add({ login: 'desk', name: 'Светлана Окошкина', roles: ['service_centre'] }, 'test')
      .then((r) => ({ login: 'desk', password: r.password }));
    postman = await h.services.operators
      .add({ login: 'postman', name: 'Печкин', roles: ['post'] }, 'test')
      .then((r) => ({ login: 'postman', password: r.password }));
    boss = await h.services.operators
      .add({ login: 'boss', name: 'Главный', roles: ['admin'] }, 'test')
      .then((r) => ({ login: 'boss', password: r.password }));
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  const confirmPath = (id: string) => `/admin/api/accounts/${id}/confirm`;
  const passport = { passport_series: CITIZEN.series, passport_number: CITIZEN.number };

  describe('search', () => {
    it('finds a citizen by SNILS or by passport, with the passport masked', async () => {
      const citizen = await standardCitizen(h);
      const snils = snilsFrom(CITIZEN.nine);
      const bySnils = await api(h, desk).get(
        `/admin/api/accounts?snils=${encodeURIComponent(`${snils.slice(0, 3)}-${snils.slice(3, 6)}-${snils.slice(6, 9)} ${snils.slice(9)}`)}`,
      );
      expect(bySnils.status, bySnils.text).to.equal(200);
      expect(bySnils.headers['cache-control']).to.equal('no-store');
      expect(bySnils.body.accounts).to.have.length(1);
      const card = bySnils.body.accounts[0];
      expect(card).to.include({
        id: citizen.id,
        full_name: 'Иванова Мария Петровна',
        birth_date: CITIZEN.birthDate,
        level: 'standard',
        passport: '45 ** ****56',
      });
      expect(card.verification).to.deep.include({ registry_check: 'approved', can_confirm: true });
      expect(card.verification.verified_by.map((v: { method: string }) => v.method)).to.deep.equal(['registry']);
      expect(bySnils.text, 'the full passport number is not disclosed').to.not.include(CITIZEN.number);

      const byPassport = await api(h, desk).get(`/admin/api/accounts?passport=${encodeURIComponent('45 06 123456')}`);
      expect(byPassport.status).to.equal(200);
      expect(byPassport.body.accounts.map((a: { id: string }) => a.id)).to.deep.equal([citizen.id]);
      expect(auditBy(h, 'admin.account_search', 'operator:desk')).to.have.length(2);
    });

    it('answers an empty list when nobody has that SNILS or passport', async () => {
      await standardCitizen(h);
      const res = await api(h, desk).get(`/admin/api/accounts?snils=${snilsFrom('223344556')}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ accounts: [] });
      const other = await api(h, desk).get('/admin/api/accounts?passport=4506654321');
      expect(other.body).to.deep.equal({ accounts: [] });
    });

    for (const [name, query, error, text] of [
      ['no search key', '', 'search_one', 'что-то одно'],
      ['both keys', `?snils=${snilsFrom('112233445')}&passport=4506123456`, 'search_one', 'что-то одно'],
      ['a SNILS with wrong check digits', '?snils=11223344500', 'snils', 'контрольными'],
      ['a SNILS with letters', '?snils=abc', 'snils', 'СНИЛС указан неверно'],
      ['a passport of 9 digits', '?passport=450612345', 'passport', 'серия (4) и номер (6)'],
      ['a repeated parameter', '?snils=1&snils=2', 'search_one', 'что-то одно'],
    ] as const) {
      it(`refuses a search with ${name}: 400 in Russian`, async () => {
        const res = await api(h, desk).get(`/admin/api/accounts${query}`);
        expect(res.status, res.text).to.equal(400);
        expect(res.body.error).to.equal(error);
        expect(res.body.error_description).to.include(text);
      });
    }
  });

  describe('confirmation', () => {
    it('raises a standard account to confirmed, with the operator as actor and the passport as evidence', async () => {
      const citizen = await standardCitizen(h);
      const res = await api(h, desk)
        .post(confirmPath(citizen.id))
        .send({ passport_series: '45 06', passport_number: ' 123456 ', office: 'МФЦ «Мои документы», Тверская' });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.account).to.include({ id: citizen.id, level: 'confirmed' });
      expect(res.body.account.verification.can_confirm).to.equal(false);

      const stored = (await h.services.store.accounts.findById(citizen.id))!;
      expect(stored.level).to.equal('confirmed');
      const event = stored.verifications!.at(-1)!;
      expect(event).to.include({ method: 'service_centre', level: 'confirmed', actor: 'operator:desk' });
      expect(event.evidence).to.deep.equal({ document: 'passport', checkedInPerson: true, office: 'МФЦ «Мои документы», Тверская' });

      const verified = auditBy(h, 'level.verified', 'operator:desk');
      expect(verified, 'level.verified by the operator').to.have.length(1);
      expect(verified[0]!.accountId).to.equal(citizen.id);
      expect(auditBy(h, 'level.changed', 'operator:desk')[0]!.details).to.include({ from: 'standard', to: 'confirmed' });
      const confirmed = auditBy(h, 'admin.account_confirmed', 'operator:desk');
      expect(confirmed).to.have.length(1);
      expect(confirmed[0]).to.include({ accountId: citizen.id, outcome: 'success' });
      expect(h.gateway.last(CITIZEN.phone)?.text, 'the citizen is told').to.equal(
        'vkhod: личность подтверждена — учётная запись подтверждённая.',
      );
    });

    it('needs no office and lets an administrator confirm too', async () => {
      const citizen = await standardCitizen(h);
      const res = await api(h, boss).post(confirmPath(citizen.id)).send(passport);
      expect(res.status, res.text).to.equal(200);
      const stored = (await h.services.store.accounts.findById(citizen.id))!;
      expect(stored.verifications!.at(-1)!.evidence).to.deep.equal({ document: 'passport', checkedInPerson: true });
      expect(stored.verifications!.at(-1)!.actor).to.equal('operator:boss');
    });

    it('refuses a passport that differs from the account: 409, the account stays standard', async () => {
      const citizen = await standardCitizen(h);
      for (const typed of [
        { passport_series: '4506', passport_number: '123457' },
        { passport_series: '4507', passport_number: '123456' },
      ]) {
        const res = await api(h, desk).post(confirmPath(citizen.id)).send(typed);
        expect(res.status, res.text).to.equal(409);
        expect(res.body.error).to.equal('passport_mismatch');
        expect(res.body.error_description).to.include('Паспорт не совпадает');
      }
      expect(await levelOf(h, citizen.id)).to.equal('standard');
      const refusals = auditBy(h, 'admin.account_confirm', 'operator:desk');
      expect(refusals.map((e) => e.details?.reason)).to.deep.equal(['passport_mismatch', 'passport_mismatch']);
      expect(auditOfType(h, 'level.verified').filter((e) => e.details?.method === 'service_centre')).to.be.empty;
    });

    it('refuses an account that has not passed the registry check yet: 409 that says so', async () => {
      const simplified = await createAccount(h, { phone: '+79001112233' });
      const withData = await citizenWithData(h);
      for (const account of [simplified, withData]) {
        const res = await api(h, desk).post(confirmPath(account.id)).send(passport);
        expect(res.status, res.text).to.equal(409);
        expect(res.body.error).to.equal('not_standard');
        expect(res.body.error_description).to.include('дождаться их проверки').and.include('ещё не стандартная');
        expect(await levelOf(h, account.id)).to.equal('simplified');
      }
    });

    it('refuses to confirm twice', async () => {
      const citizen = await standardCitizen(h);
      expect((await api(h, desk).post(confirmPath(citizen.id)).send(passport)).status).to.equal(200);
      const again = await api(h, desk).post(confirmPath(citizen.id)).send(passport);
      expect(again.status).to.equal(409);
      expect(again.body.error).to.equal('already_confirmed');
      expect(
        (await h.services.store.accounts.findById(citizen.id))!.verifications!.filter((v) => v.method === 'service_centre'),
      ).to.have.length(1);
    });

    it('answers 404 for an unknown account', async () => {
      const res = await api(h, desk).post(confirmPath('00000000-0000-4000-8000-000000000000')).send(passport);
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ error: 'account_not_found', error_description: 'Учётная запись не найдена.' });
    });

    it('refuses a post-room operator: 403 naming the role, nothing changes', async () => {
      const citizen = await standardCitizen(h);
      const search = await api(h, postman).get(`/admin/api/accounts?snils=${snilsFrom(CITIZEN.nine)}`);
      expect(search.status).to.equal(403);
      expect(search.body.error).to.equal('forbidden_role');
      expect(search.body.error_description).to.include('«центр обслуживания»');
      const confirm = await api(h, postman).post(confirmPath(citizen.id)).send(passport);
      expect(confirm.status).to.equal(403);
      expect(await levelOf(h, citizen.id)).to.equal('standard');
      expect(auditBy(h, 'admin.forbidden', 'operator:postman')).to.have.length(2);
    });

    it('speaks English when asked', async () => {
      const citizen = await standardCitizen(h);
      const res = await api(h, desk, 'en').post(confirmPath(citizen.id)).send({ passport_series: '4506', passport_number: '000000' });
      expect(res.status).to.equal(409);
      expect(res.body.error_description).to.include('does not match');
    });
  });

  describe('bad input never gets a 500 and never changes the account', () => {
    const cases: Array<{
      name: string;
      send: (t: ReturnType<ReturnType<typeof api>['post']>) => ReturnType<ReturnType<typeof api>['post']>;
      status: number;
      error: string;
      text: string;
    }> = [
      {
        name: 'malformed JSON',
        send: (t) => t.set('content-type', 'application/json').send('{"passport_series": "4506",'),
        status: 400,
        error: 'malformed_json',
        text: 'некорректный JSON',
      },
      {
        name: 'a compressed body (here one that claims gzip but is not)',
        send: (t) => t.set('content-type', 'application/json').set('content-encoding', 'gzip').send(JSON.stringify(passport)),
        status: 415,
        error: 'encoding',
        text: 'Content-Encoding',
      },
      {
        name: 'a compressed body over the size limit (used to crash the process)',
        send: (t) => t.set('content-type', 'application/json').set('content-encoding', 'br').send('{"office":"'.padEnd(70_000, 'x')),
        status: 415,
        error: 'encoding',
        text: 'Content-Encoding',
      },
      {
        name: 'an oversized body',
        send: (t) => t.send({ ...passport, office: 'х'.repeat(20_000) }),
        status: 413,
        error: 'too_large',
        text: 'не более 16 КБ',
      },
      {
        name: 'a form instead of JSON',
        send: (t) => t.type('form').send(passport),
        status: 415,
        error: 'json_only',
        text: 'Content-Type: application/json',
      },
      { name: 'no body at all', send: (t) => t, status: 415, error: 'json_only', text: 'в формате JSON' },
      { name: 'a JSON array', send: (t) => t.send([passport]), status: 400, error: 'body_object', text: 'JSON-объектом' },
      {
        name: 'a JSON string',
        send: (t) => t.set('content-type', 'application/json').send('"4506 123456"'),
        status: 400,
        error: 'body_object',
        text: 'JSON-объектом',
      },
      {
        name: 'a missing passport number',
        send: (t) => t.send({ passport_series: '4506' }),
        status: 400,
        error: 'passport_number',
        text: 'Номер паспорта — 6 цифр',
      },
      {
        name: 'a series with letters',
        send: (t) => t.send({ ...passport, passport_series: '45АБ' }),
        status: 400,
        error: 'passport_series',
        text: 'Серия паспорта — 4 цифры',
      },
      {
        name: 'a number given as a JSON number',
        send: (t) => t.send({ ...passport, passport_number: 123456 }),
        status: 400,
        error: 'passport_number',
        text: 'Номер паспорта',
      },
      {
        name: 'an unknown field',
        send: (t) => t.send({ ...passport, level: 'confirmed' }),
        status: 400,
        error: 'unknown_fields',
        text: 'Неизвестные поля: level',
      },
      {
        name: 'an office of 201 characters',
        send: (t) => t.send({ ...passport, office: 'о'.repeat(201) }),
        status: 400,
        error: 'office',
        text: 'не длиннее 200',
      },
      {
        name: 'an office that is not a string',
        send: (t) => t.send({ ...passport, office: { name: 'МФЦ' } }),
        status: 400,
        error: 'office',
        text: 'Название офиса',
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.error}`, async () => {
        const citizen = await standardCitizen(h);
        const res = await c.send(api(h, desk).post(confirmPath(citizen.id)));
        expect(res.status, res.text).to.equal(c.status);
        expect(res.type).to.equal('application/json');
        expect(res.body.error).to.equal(c.error);
        expect(res.body.error_description).to.include(c.text);
        expect(res.text).to.not.match(/\bat .+:\d+:\d+|node_modules|Error:/);
        expect(await levelOf(h, citizen.id)).to.equal('standard');
      });
    }

    it('answers unknown paths and methods in JSON', async () => {
      const unknown = await api(h, desk).get('/admin/api/nothing-here');
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error).to.equal('not_found');
      const method = await api(h, desk).delete('/admin/api/accounts');
      expect(method.status).to.equal(405);
      expect(method.headers.allow).to.include('GET');
      expect(method.body.error).to.equal('method');
    });
  });
});
