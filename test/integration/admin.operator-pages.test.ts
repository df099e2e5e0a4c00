/**
 * The operator's workplace (/operator) through a browser without JavaScript: sign in, find a
 * citizen, confirm their identity, work the letter queue, sign out — and the refusals: forged
 * or foreign CSRF tokens, wrong passwords and lockout, missing roles, ended sessions.
 * 3 failures per login lock it in this file.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addOperator, auditBy, CITIZEN, levelOf, snilsFrom, standardCitizen, type TestOperator } from './admin-fixtures.ts';
import { errorsOn, expectNoLeak, resetStore, setCookies } from './fixtures.ts';

const CSRF_RU = 'Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите действие.';

describe('operator pages (/operator), no JavaScript', () => {
  let h: Harness;
  let desk: TestOperator;
  let postman: TestOperator;

  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3' } });
    desk = await addOperator(h, 'desk', ['service_centre'], 'Светлана Окошкина');
    postman = await addOperator(h, 'postman', ['post'], 'Игорь Печкин');
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  async function signIn(browser: Browser, as: TestOperator): Promise<Page> {
    const login = await browser.get('/operator');
    expect(login.url).to.equal('/operator/login');
    expect(login.html).to.include('name="login"');
    return browser.submit(login, '/operator/login', { login: as.login, password: as.password });
  }

  it('a notice the pages do not have is no notice (not a member of Object.prototype either)', async () => {
    const browser = new Browser(h);
    for (const name of ['constructor', 'toString', '__proto__', 'no_such']) {
      const page = await browser.get(`/operator/login?notice=${name}`);
      expect(page.status, name).to.equal(200);
      expect(page.html, name).to.not.match(/\[object|function |native code/);
      expect(page.html, name).to.not.include('alert-success');
    }
    expect((await browser.get('/operator/login?notice=signed_out')).html).to.include('Вы вышли из рабочего места.');
  });

  it('signs in, finds a citizen by SNILS, confirms their identity after re-typing the passport, and signs out', async () => {
    const citizen = await standardCitizen(h);
    const browser = new Browser(h);

    const search = await signIn(browser, desk);
    expect(search.status, search.html).to.equal(200);
    expect(search.url).to.equal('/operator/search');
    expect(search.html).to.include('Оператор: Светлана Окошкина (desk)');
    expect(search.html).to.not.include('/operator/letters"', 'no letters link without the post role');

    const card = await browser.submit(search, '/operator/search', { snils: snilsFrom(CITIZEN.nine), passport: '' });
    expect(card.status, card.html).to.equal(200);
    expect(card.url).to.equal(`/operator/accounts/${citizen.id}`);
    expect(card.html).to.match(/id="citizen-name">Иванова Мария Петровна</);
    expect(card.html).to.match(/id="citizen-birth-date">14 марта 1985/);
    expect(card.html).to.match(/id="citizen-level">стандартная</);
    expect(card.html).to.match(/id="citizen-passport">45 \*\* \*\*\*\*56</);
    expect(card.html).to.not.include(CITIZEN.number);
    expect(card.html).to.include('Паспорт проверен — подтвердить личность');

    const result = await browser.submit(card, '/confirm', {
      passport_series: CITIZEN.series,
      passport_number: CITIZEN.number,
      office: 'МФЦ на Тверской',
    });
    expect(result.status, result.html).to.equal(200);
    expect(result.url).to.equal(`/operator/accounts/${citizen.id}?notice=confirmed`);
    expect(result.html).to.include('Личность подтверждена');
    expect(result.html).to.match(/id="citizen-level">подтверждённая</);
    expect(result.html).to.not.include('name="passport_series"');

    const stored = (await h.services.store.accounts.findById(citizen.id))!;
    expect(stored.level).to.equal('confirmed');
    expect(stored.verifications!.at(-1)).to.deep.include({
      method: 'service_centre',
      actor: 'operator:desk',
      evidence: { document: 'passport', checkedInPerson: true, office: 'МФЦ на Тверской' },
    });
    expect(auditBy(h, 'level.verified', 'operator:desk')).to.have.length(1);
    expect(auditBy(h, 'admin.signed_in', 'operator:desk')).to.have.length(1);

    const out = await browser.submit(result, '/operator/logout', {});
    expect(out.url).to.equal('/operator/login?notice=signed_out');
    expect(out.html).to.include('Вы вышли из рабочего места.');
    expect((await browser.get('/operator/search')).url, 'signed out for good').to.equal('/operator/login');
    expect(auditBy(h, 'admin.signed_out', 'operator:desk')).to.have.length(1);
  });

  it('keeps the session in a signed, httpOnly, SameSite=Strict cookie for 8 hours, scoped to /operator', async () => {
    const browser = new Browser(h);
    const login = await browser.get('/operator/login');
    const res = await browser.agent
      .post('/operator/login')
      .type('form')
      .send({ _csrf: csrfOf(login.html), login: desk.login, password: desk.password });
    expect(res.status).to.equal(303);
    const cookies = setCookies(res).filter((c) => c.startsWith('vkhod.operator'));
    const session = cookies.find((c) => c.startsWith('vkhod.operator='))!;
    expect(session).to.be.a('string');
    expect(session.toLowerCase()).to.include('httponly').and.include('samesite=strict').and.include('path=/operator');
    expect(session.toLowerCase(), 'Secure only in production').to.not.include('secure');
    expect(
      cookies.some((c) => c.startsWith('vkhod.operator.sig=')),
      'signed',
    ).to.equal(true);
    const expires = Date.parse(/expires=([^;]+)/i.exec(session)![1]!);
    const hours = (expires - Date.now()) / 3_600_000;
    expect(hours).to.be.within(7.9, 8.01);

    // A cookie changed by hand is no session.
    const tampered = new Browser(h);
    const value = /vkhod\.operator=([^;]+)/.exec(session)![1]!;
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(value, 'base64url').toString()), login: 'boss' })).toString(
      'base64url',
    );
    const sig = /vkhod\.operator\.sig=([^;]+)/.exec(cookies.join('\n'))![1]!;
    const page = await tampered.agent.get('/operator/search').set('cookie', `vkhod.operator=${forged}; vkhod.operator.sig=${sig}`);
    expect(page.status).to.equal(302);
    expect(page.headers.location).to.equal('/operator/login');
  });

  it('refuses a forged CSRF token on the sign-in form and one bound to something else on the confirmation form', async () => {
    const citizen = await standardCitizen(h);
    const browser = new Browser(h);
    const forged = await browser.post('/operator/login', { _csrf: 'forged-token', login: desk.login, password: desk.password });
    expect(forged.status).to.equal(403);
    expect(errorsOn(forged.html)).to.include(CSRF_RU);
    expect((await browser.get('/operator/search')).url, 'not signed in').to.equal('/operator/login');

    // A token this very browser got for the sign-in form: right browser, wrong binding.
    const loginToken = csrfOf((await browser.get('/operator/login')).html);
    const search = await signIn(browser, desk);
    const card = await browser.submit(search, '/operator/search', { snils: '', passport: `${CITIZEN.series} ${CITIZEN.number}` });
    expect(card.url).to.equal(`/operator/accounts/${citizen.id}`);
    for (const token of [undefined, loginToken, 'x'.repeat(43)]) {
      const res = await browser.post(`/operator/accounts/${citizen.id}/confirm`, {
        ...(token ? { _csrf: token } : {}),
        passport_series: CITIZEN.series,
        passport_number: CITIZEN.number,
      });
      expect(res.status).to.equal(403);
      expect(errorsOn(res.html)).to.include(CSRF_RU);
    }
    // Another browser signed in as the same operator has its own tokens.
    const other = new Browser(h);
    const otherSearch = await signIn(other, desk);
    const foreign = await browser.post(`/operator/accounts/${citizen.id}/confirm`, {
      _csrf: csrfOf(otherSearch.html),
      passport_series: CITIZEN.series,
      passport_number: CITIZEN.number,
    });
    expect(foreign.status).to.equal(403);
    expect(await levelOf(h, citizen.id)).to.equal('standard');
  });

  it('tells a wrong password, then locks the login after 3 and says for how long', async () => {
    const browser = new Browser(h);
    let page = await browser.get('/operator/login');
    const answers: Array<[number, string]> = [];
    for (let i = 0; i < 3; i += 1) {
      page = await browser.submit(page, '/operator/login', { login: desk.login, password: `wrong-${i}` });
      answers.push([page.status, errorsOn(page.html)[0]!]);
    }
    expect(answers[0]).to.deep.equal([401, 'Неверный логин или пароль.']);
    expect(answers[2]![0]).to.equal(429);
    expect(answers[2]![1]).to.match(/^Слишком много неудачных попыток\. Вход заблокирован — попробуйте снова через \d+ мин\.$/);
    const right = await browser.submit(page, '/operator/login', { login: desk.login, password: desk.password });
    expect(right.status, 'even the right password while locked').to.equal(429);
    expect(page.html).to.include(`value="${desk.login}"`);
    const empty = await browser.submit(page, '/operator/login', { login: '', password: '' });
    expect(empty.status).to.equal(400);
    expect(errorsOn(empty.html)).to.deep.equal(['Введите логин и пароль.']);
  });

  it('shows a mismatch and a search that finds nobody on the page, without confirming', async () => {
    const citizen = await standardCitizen(h);
    const browser = new Browser(h);
    const search = await signIn(browser, desk);
    const nobody = await browser.submit(search, '/operator/search', { snils: snilsFrom('223344556'), passport: '' });
    expect(nobody.status).to.equal(200);
    expect(nobody.html).to.include('id="not-found"');
    const invalid = await browser.submit(search, '/operator/search', { snils: '11223344500', passport: '' });
    expect(invalid.status).to.equal(400);
    expect(errorsOn(invalid.html)[0]).to.include('СНИЛС указан неверно');
    expect(invalid.html).to.include('value="11223344500"');

    const card = await browser.submit(search, '/operator/search', { snils: '', passport: CITIZEN.series + CITIZEN.number });
    const mismatch = await browser.submit(card, '/confirm', { passport_series: CITIZEN.series, passport_number: '654321', office: '' });
    expect(mismatch.status).to.equal(409);
    expect(errorsOn(mismatch.html)[0]).to.include('Паспорт не совпадает');
    expect(mismatch.html).to.include('value="654321"');
    const malformed = await browser.submit(card, '/confirm', { passport_series: '45', passport_number: CITIZEN.number });
    expect(malformed.status).to.equal(400);
    expect(errorsOn(malformed.html)[0]).to.include('Серия паспорта — 4 цифры');
    expect(await levelOf(h, citizen.id)).to.equal('standard');
    expectNoLeak(mismatch.html);
  });

  it('works the letter queue: address and code shown, "marked sent" removes the letter', async () => {
    const citizen = await standardCitizen(h);
    const { postalConfirmation } = await h.services.postal.request(citizen);
    const browser = new Browser(h);
    const letters = await signIn(browser, postman);
    expect(letters.url, 'the post room lands on the letters').to.equal('/operator/letters');
    expect(letters.html).to.include(`id="letter-${postalConfirmation!.letterId}"`);
    expect(letters.html).to.include('Иванова Мария Петровна');
    expect(letters.html).to.include(`125009, ${CITIZEN.address.formatted}`);
    const code = /class="letter-code">(\d{6})</.exec(letters.html)?.[1];
    expect(code, 'the code to print').to.match(/^\d{6}$/);
    expect(letters.html).to.include('Отмечено отправленным');

    const after = await browser.submit(letters, `/operator/letters/${postalConfirmation!.letterId}/sent`, {});
    expect(after.url).to.equal('/operator/letters?notice=sent');
    expect(after.html).to.include('Письмо отмечено отправленным.');
    expect(after.html).to.include('id="no-letters"');
    expect(after.html).to.not.include(code!);
    expect((await h.services.store.letters.find(postalConfirmation!.letterId))!).to.include({ status: 'sent', sentBy: 'operator:postman' });

    const twice = await browser.submit(letters, `/operator/letters/${postalConfirmation!.letterId}/sent`, {});
    expect(twice.status).to.equal(409);
    expect(errorsOn(twice.html)).to.include('Это письмо уже отмечено отправленным.');
  });

  it('keeps each role to its own pages and asks a signed-out browser to sign in', async () => {
    const citizen = await standardCitizen(h);
    const post = new Browser(h);
    await signIn(post, postman);
    const forbidden = await post.get('/operator/search');
    expect(forbidden.status).to.equal(403);
    expect(errorsOn(forbidden.html)).to.include('У вашей учётной записи оператора нет доступа к этому разделу.');
    expect((await post.get(`/operator/accounts/${citizen.id}`)).status).to.equal(403);

    const centre = new Browser(h);
    await signIn(centre, desk);
    expect((await centre.get('/operator/letters')).status).to.equal(403);

    const anonymous = new Browser(h);
    const page = await anonymous.get('/operator/login');
    const post401 = await anonymous.post(`/operator/accounts/${citizen.id}/confirm`, {
      _csrf: csrfOf(page.html),
      passport_series: CITIZEN.series,
      passport_number: CITIZEN.number,
    });
    expect(post401.status).to.equal(401);
    expect(errorsOn(post401.html)).to.include('Сеанс оператора завершён или истёк. Войдите снова.');
    expect(await levelOf(h, citizen.id)).to.equal('standard');
  });

  it('ends open sessions when the operator’s password is reset or the operator is removed', async () => {
    const temp = await addOperator(h, 'temp.desk', ['service_centre']);
    const browser = new Browser(h);
    expect((await signIn(browser, temp)).url).to.equal('/operator/search');
    await h.services.operators.resetPassword('temp.desk', 'test');
    expect((await browser.get('/operator/search')).url).to.equal('/operator/login');

    const again = await addOperator(h, 'temp.desk', ['service_centre']);
    expect((await signIn(browser, again)).url).to.equal('/operator/search');
    await h.services.operators.remove('temp.desk', 'test');
    expect((await browser.get('/operator/search')).url).to.equal('/operator/login');
  });
});
