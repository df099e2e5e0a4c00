/**
 * The cabinet's security page (/account/security): sign-in with confirmation and the preferred
 * factor, the authenticator app, passkeys (add, rename, remove), recovery codes. Every change
 * needs a sign-in within 5 minutes, carries a CSRF token, is audited and is notified.
 */
import { expect } from 'chai';
import { Browser, csrfOf, formAction, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, GOOD_PASSWORD, openCabinet, passConsent, postJson, submitPassword, totpCode, totpSecretOf } from '../support/flows.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount, firstError, sqlite } from './fixtures.ts';
import type { Account } from '../../src/store.ts';

const PHONE = '+79123456789';
const REAUTH = 'Для этого действия подтвердите вход: откройте настройки безопасности и нажмите «Подтвердить вход».';

/** Moves the sign-in time of the account's sessions `seconds` into the past. */
async function ageSessions(h: Harness, accountId: string, seconds: number): Promise<void> {
  const adapter = h.services.store.oidcAdapter('Session');
  const rows = sqlite(h).prepare("SELECT id FROM oidc WHERE model = 'Session' AND account_id = ?").all(accountId) as Array<{ id: string }>;
  expect(rows, 'a session of the account').to.not.be.empty;
  for (const { id } of rows) {
    const session = (await adapter.find(id))!;
    await adapter.upsert(id, { ...session, loginTs: (session.loginTs as number) - seconds }, 3600);
  }
}

async function addPasskey(browser: Browser, auth: SoftAuthenticator, name: string): Promise<string> {
  const security = await browser.get('/account/security');
  const _csrf = csrfOf(security.html);
  const started = await postJson(browser, '/account/security/passkeys/options', { _csrf });
  expect(started.status, started.text).to.equal(200);
  const response = auth.create(started.body.options);
  const done = await postJson(browser, '/account/security/passkeys', { _csrf, handle: started.body.handle, response, name });
  expect(done.status, done.text).to.equal(200);
  return response.id;
}

/** Sign-in with a discoverable passkey on a fresh authorization request; the JSON answer. */
async function passkeySignIn(h: Harness, auth: SoftAuthenticator) {
  const browser = new Browser(h);
  const login = await browser.get(
    '/auth?' +
      new URLSearchParams({
        client_id: 'vkhod-cabinet',
        response_type: 'none',
        redirect_uri: `${h.url}/account/callback`,
        scope: 'openid',
        state: 's',
      }),
  );
  const uid = login.url.match(/^\/interaction\/([^/?]+)/)![1]!;
  const _csrf = csrfOf(login.html);
  const started = await postJson(browser, `/interaction/${uid}/webauthn/options`, { _csrf });
  return postJson(browser, `/interaction/${uid}/webauthn`, {
    _csrf,
    handle: started.body.handle,
    response: auth.get(started.body.options),
  });
}

const passkeyForms = (page: Page) =>
  [...page.html.matchAll(/action="(\/account\/security\/passkeys\/[^"/]+\/(?:rename|remove))"/g)].map((m) => m[1]!);

/** An account with an e-mail and no mobile, the authenticator app its only factor and confirmation on, signed in to the security page. */
async function appOnlyAccountInCabinet(h: Harness, email: string): Promise<{ account: Account; browser: Browser; page: Page }> {
  const account = await createAccount(h, { email });
  const secret = await addTotp(h, account.id, { mfa: true });
  const browser = new Browser(h);
  const mfa = await openCabinet(browser, '/account/security', email);
  return { account, browser, page: await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }) };
}

describe('cabinet: security settings', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;
  let security: Page;
  beforeEach(async () => {
    h = await startHarness();
    accountId = (await createAccount(h, { phone: PHONE })).id;
    browser = new Browser(h);
    security = await openCabinet(browser, '/account/security', PHONE);
    expect(security.url).to.equal('/account/security');
  });
  afterEach(() => h.close());

  const account = async () => (await h.services.accounts.findActive(accountId))!;

  it('lists the factors: the app, the confirmed mobile, passkeys with their names, recovery codes', async () => {
    expect(security.html).to.include('Безопасность входа');
    expect(security.html).to.include('Коды приходят на');
    expect(security.html).to.include('Ключей доступа пока нет.');
    expect(security.html).to.include('id="add-totp"');
    await addTotp(h, accountId);
    await addPasskey(browser, new SoftAuthenticator(h.url), 'Рабочий ноутбук');
    const page = await browser.get('/account/security');
    expect(page.html).to.include('Приложение-аутентификатор подключено.');
    expect(page.html).to.include('Рабочий ноутбук');
    expect(page.html).to.match(/<option value="totp"[^>]*>Приложение-аутентификатор<\/option>/);
    expect(page.html).to.match(/<option value="sms"[^>]*>Код по SMS<\/option>/);
    expect(page.html).to.match(/<option value="webauthn"[^>]*>Ключ доступа<\/option>/);
  });

  it('turning on sign-in with confirmation makes the next password sign-in ask for the chosen factor; turning it off stops that', async () => {
    const secret = await addTotp(h, accountId);
    const fresh = await browser.get('/account/security');
    const on = await browser.submit(fresh, '/account/security/mfa', { enabled: 'on', preferred: 'totp' });
    expect(on.url).to.equal('/account/security?notice=mfa_enabled');
    expect(on.html).to.include('Вход с подтверждением включён.');
    expect(on.html).to.match(/id="mfa-enabled" checked/);
    expect((await account()).mfa).to.deep.equal({ enabled: true, preferred: 'totp' });
    expect((await browser.get('/account')).html).to.match(/id="account-mfa">включён</);

    const rp = new Browser(h);
    const mfa = await submitPassword(rp, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    expect(mfa.html).to.include('Код из приложения-аутентификатора');
    expect((await passConsent(rp, await rp.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }))).location).to.match(/[?&]code=/);

    // Choosing SMS as the main factor: the second step offers SMS first.
    const sms = await browser.submit(on, '/account/security/mfa', { enabled: 'on', preferred: 'sms' });
    expect((await account()).mfa).to.deep.equal({ enabled: true, preferred: 'sms' });
    const smsStep = await submitPassword(new Browser(h), PHONE);
    expect(smsStep.html).to.include('/mfa/sms/send');

    // A repeated or nested field is not "unchecked": refused, nothing changes (it turned confirmation off before).
    for (const odd of ['enabled[]', 'enabled[a]']) {
      const refused = await browser.agent
        .post('/account/security/mfa')
        .type('form')
        .set('accept-language', 'ru')
        .send(`_csrf=${encodeURIComponent(csrfOf(sms.html))}&${encodeURIComponent(odd)}=on&preferred=sms`);
      expect(refused.status, odd).to.equal(400);
      expect((await account()).mfa, odd).to.deep.equal({ enabled: true, preferred: 'sms' });
    }
    const off = await browser.submit(sms, '/account/security/mfa', {});
    expect(off.url).to.equal('/account/security?notice=mfa_disabled');
    expect((await account()).mfa).to.deep.equal({ enabled: false });
    const plain = await passConsent(new Browser(h), await submitPassword(new Browser(h), PHONE));
    expect(plain.location ?? plain.html).to.not.match(/\/mfa/);

    expect(auditOfType(h, 'factor.mfa_enabled')).to.have.length(2);
    expect(auditOfType(h, 'factor.mfa_disabled')).to.have.length(1);
    const texts = h.gateway.sent.filter((m) => m.to === PHONE).map((m) => m.text);
    expect(texts).to.include('vkhod: включён вход с подтверждением.');
    expect(texts).to.include('vkhod: вход с подтверждением выключен. Если это были не вы, срочно восстановите доступ.');
  });

  it('the last factor of an account with confirmation on is not removed silently: refused until confirmation is off', async () => {
    const { account, browser, page } = await appOnlyAccountInCabinet(h, 'only.app@example.ru');
    const remove = await browser.post('/account/security/totp/remove', { _csrf: csrfOf(page.html) }, false);
    expect(remove.status).to.equal(409);
    expect(firstError(remove.html)).to.include('Сначала выключите вход с подтверждением');
    const after = (await h.services.accounts.findActive(account.id))!;
    expect(after.totp, 'the app stays').to.not.equal(undefined);
    expect(after.mfa?.enabled, 'and confirmation stays on (it was turned off unannounced before)').to.equal(true);
  });

  it('the last two factors removed in parallel: one goes, the other is refused (409), and confirmation stays on', async () => {
    const { account, browser, page } = await appOnlyAccountInCabinet(h, 'two.factors@example.ru');
    const id = await addPasskey(browser, new SoftAuthenticator(h.url), 'Ноутбук');
    const fresh = await browser.get('/account/security');
    const _csrf = csrfOf(fresh.html);
    expect(page.url).to.equal('/account/security');
    // Both requests read the account before either writes (held at the write until both are there).
    const changes = h.services.factorChanges;
    const apply = changes.apply.bind(changes);
    let arrived = 0;
    let release!: () => void;
    const bothThere = new Promise<void>((resolve) => (release = resolve));
    changes.apply = async (params) => {
      if (++arrived === 2) release();
      await bothThere;
      return apply(params);
    };
    const answers = await Promise.all([
      browser.post('/account/security/totp/remove', { _csrf }, false),
      browser.post(`/account/security/passkeys/${id}/remove`, { _csrf }, false),
    ]).finally(() => (changes.apply = apply));
    expect(answers.map((r) => r.status).sort()).to.deep.equal([303, 409]);
    const after = (await h.services.accounts.findActive(account.id))!;
    expect(Boolean(after.totp) || Boolean(after.passkeys?.length), 'one factor is left').to.equal(true);
    expect(after.mfa?.enabled, 'confirmation stays on').to.equal(true);
  });

  it('the app is connected once: parallel confirmations make one, and a second app is refused while one is connected', async () => {
    const totpPage = await browser.get('/account/security/totp');
    const code = await totpCode(totpSecretOf(totpPage.html));
    const results = await Promise.all(
      Array.from({ length: 6 }, () => browser.post('/account/security/totp', { _csrf: csrfOf(totpPage.html), code }, false)),
    );
    expect(
      results.filter((r) => r.location === '/account/security?notice=totp_added'),
      'one connection',
    ).to.have.length(1);
    expect(auditOfType(h, 'factor.totp_added')).to.have.length(1);
    const again = await browser.agent.get('/account/security/totp').set('accept-language', 'ru');
    expect(again.status).to.equal(409);
    expect(again.text).to.include('уже подключено');
  });

  it('every change is an audit event factor.* and a message to the citizen', async () => {
    const auth = new SoftAuthenticator(h.url);
    // The app.
    const totpPage = await browser.get('/account/security/totp');
    const secret = totpSecretOf(totpPage.html);
    await browser.submit(totpPage, '/account/security/totp', { code: await totpCode(secret) });
    // Sign-in with confirmation.
    let page = await browser.get('/account/security');
    page = await browser.submit(page, '/account/security/mfa', { enabled: 'on', preferred: 'totp' });
    // A passkey: added, renamed, removed.
    const id = await addPasskey(browser, auth, 'Телефон');
    page = await browser.get('/account/security');
    page = await browser.submit(page, `/passkeys/${id}/rename`, { name: 'Старый телефон' });
    page = await browser.submit(page, `/passkeys/${id}/remove`, {});
    // Recovery codes; the app removed; sign-in with confirmation off.
    await browser.submit(page, '/account/security/recovery-codes', {});
    page = await browser.get('/account/security');
    page = await browser.submit(page, '/account/security/totp/remove', {});
    expect(page.url).to.equal('/account/security?notice=totp_removed');
    expect((await account()).totp).to.equal(undefined);
    expect((await account()).mfa?.preferred, 'sign-in with confirmation follows the factors left').to.equal('sms');
    page = await browser.submit(page, '/account/security/mfa', {});

    const changes = [
      'totp_added',
      'mfa_enabled',
      'passkey_added',
      'passkey_renamed',
      'passkey_removed',
      'recovery_codes_generated',
      'totp_removed',
      'mfa_disabled',
    ];
    const events = (await h.services.store.audit.listForAccount(accountId)).filter((e) => e.type.startsWith('factor.')).reverse();
    expect(events.map((e) => e.type)).to.deep.equal(changes.map((c) => `factor.${c}`));
    for (const e of events) expect(e).to.deep.include({ actor: 'self', outcome: 'success', accountId });
    expect(events.find((e) => e.type === 'factor.passkey_renamed')?.details).to.deep.equal({ name: 'Старый телефон' });

    const notices = h.gateway.sent.filter((m) => m.to === PHONE && !m.text.startsWith('vkhod: код')).map((m) => m.text);
    expect(notices).to.deep.equal([
      'vkhod: к учётной записи подключено приложение-аутентификатор. Если это были не вы, срочно восстановите доступ.',
      'vkhod: включён вход с подтверждением.',
      'vkhod: добавлен ключ доступа. Если это были не вы, срочно восстановите доступ.',
      'vkhod: ключ доступа переименован.',
      'vkhod: ключ доступа удалён. Если это были не вы, срочно восстановите доступ.',
      'vkhod: созданы новые резервные коды, прежние больше не действуют.',
      'vkhod: приложение-аутентификатор отключено. Если это были не вы, срочно восстановите доступ.',
      'vkhod: вход с подтверждением выключен. Если это были не вы, срочно восстановите доступ.',
    ]);
  });

  it('renames and removes a passkey; a removed passkey no longer signs in', async () => {
    const auth = new SoftAuthenticator(h.url);
    const kept = new SoftAuthenticator(h.url);
    const id = await addPasskey(browser, auth, 'Телефон');
    await addPasskey(browser, kept, 'Ключ');
    expect((await passkeySignIn(h, auth)).status, 'signs in before removal').to.equal(200);

    let page = await browser.get('/account/security');
    expect(passkeyForms(page)).to.have.length(4);
    page = await browser.submit(page, `/passkeys/${id}/rename`, { name: '  Старый телефон  ' });
    expect(page.url).to.equal('/account/security?notice=passkey_renamed');
    expect((await account()).passkeys!.map((p) => p.name)).to.deep.equal(['Старый телефон', 'Ключ']);
    for (const name of ['', '   ', 'x'.repeat(61)]) {
      const bad = await browser.post(`/account/security/passkeys/${id}/rename`, { _csrf: csrfOf(page.html), name });
      expect(bad.status, JSON.stringify(name)).to.equal(400);
      expect(firstError(bad.html)).to.equal('Название ключа: от 1 до 60 символов.');
    }
    const unknown = await browser.post('/account/security/passkeys/no-such-key/rename', { _csrf: csrfOf(page.html), name: 'x' });
    expect(unknown.status).to.equal(404);

    page = await browser.submit(page, `/passkeys/${id}/remove`, {});
    expect(page.url).to.equal('/account/security?notice=passkey_removed');
    expect(page.html).to.not.include('Старый телефон');
    expect((await account()).passkeys!.map((p) => p.name)).to.deep.equal(['Ключ']);

    const removed = await passkeySignIn(h, auth);
    expect(removed.status).to.equal(400);
    expect(removed.body.error).to.equal('Этот ключ доступа не привязан к учётной записи vkhod. Войдите по паролю.');
    expect((await passkeySignIn(h, kept)).status, 'the other passkey still works').to.equal(200);
    const again = await browser.post(`/account/security/passkeys/${id}/remove`, { _csrf: csrfOf(page.html) });
    expect(again.status).to.equal(404);
  });

  describe('a sign-in within the last 5 minutes', () => {
    it('is needed for every change: an older session is refused (403) and nothing changes', async () => {
      const auth = new SoftAuthenticator(h.url);
      const id = await addPasskey(browser, auth, 'Телефон');
      await addTotp(h, accountId);
      const before = await account();
      const page = await browser.get('/account/security');
      const _csrf = csrfOf(page.html);
      await ageSessions(h, accountId, 301);

      const stale = await browser.get('/account/security');
      expect(stale.status, 'the page itself still opens').to.equal(200);
      expect(stale.html).to.include('Чтобы изменить настройки, подтвердите вход (не ранее 5 минут назад).');
      expect(stale.html).to.include('href="/account/reauth?return=/account/security"');

      const posts: Array<[string, Record<string, string>]> = [
        ['/account/security/mfa', { enabled: 'on', preferred: 'totp' }],
        ['/account/security/totp', { code: '123456' }],
        ['/account/security/totp/remove', {}],
        [`/account/security/passkeys/${id}/rename`, { name: 'Другое' }],
        [`/account/security/passkeys/${id}/remove`, {}],
        ['/account/security/recovery-codes', {}],
      ];
      for (const [path, fields] of posts) {
        const res = await browser.post(path, { _csrf, ...fields }, false);
        expect(res.status, path).to.equal(403);
        expect(firstError(res.html), path).to.equal(REAUTH);
      }
      const json = await postJson(browser, '/account/security/passkeys/options', { _csrf });
      expect(json.status).to.equal(403);
      expect(json.body.error_description).to.equal(REAUTH);
      const after = await account();
      expect(after.version).to.equal(before.version);
      expect(auditOfType(h, 'factor.mfa_enabled')).to.have.length(0);
    });

    it('a page that changes settings asks for a fresh sign-in and comes back to it', async () => {
      await ageSessions(h, accountId, 301);
      const login = await browser.get('/account/security/totp');
      expect(login.html, 'the password again').to.include('name="password"');
      expect(login.html).to.include('Сервис просит подтвердить вход ещё раз.');
      const page = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(page.url).to.equal('/account/security/totp');
      expect(totpSecretOf(page.html)).to.have.length(32);
    });

    it('the reauth link refreshes the session; changes work again', async () => {
      await ageSessions(h, accountId, 301);
      const login = await browser.get('/account/reauth?return=/account/security');
      const page = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(page.url).to.equal('/account/security');
      expect(page.html).to.not.include('Чтобы изменить настройки');
      const done = await browser.submit(page, '/account/security/mfa', { enabled: 'on', preferred: 'sms' });
      expect(done.url).to.equal('/account/security?notice=mfa_enabled');
    });

    it('with sign-in with confirmation on, the fresh sign-in asks for the second factor too', async () => {
      const secret = await addTotp(h, accountId, { mfa: true });
      await ageSessions(h, accountId, 301);
      const login = await browser.get('/account/reauth?return=/account/security');
      const mfa = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(mfa.url).to.match(/\/mfa$/);
      const page = await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) });
      expect(page.url).to.equal('/account/security');
      const off = await browser.submit(page, '/account/security/mfa', {});
      expect(off.url).to.equal('/account/security?notice=mfa_disabled');
    });
  });

  it('refuses cabinet POSTs without this browser’s CSRF token for this session', async () => {
    const id = await addPasskey(browser, new SoftAuthenticator(h.url), 'Телефон');
    const page = await browser.get('/account/security');
    const good = csrfOf(page.html);
    // Another browser's token for its own cabinet session.
    const other = new Browser(h);
    await createAccount(h, { phone: '+79161112233' });
    const otherToken = csrfOf((await openCabinet(other, '/account/security', '+79161112233')).html);
    const before = await account();
    const posts: Array<[string, Record<string, string>]> = [
      ['/account/security/mfa', { enabled: 'on', preferred: 'sms' }],
      ['/account/security/totp/remove', {}],
      [`/account/security/passkeys/${id}/rename`, { name: 'Чужое' }],
      [`/account/security/passkeys/${id}/remove`, {}],
      ['/account/security/recovery-codes', {}],
    ];
    for (const [path, fields] of posts) {
      for (const token of [undefined, '', 'forged', otherToken]) {
        const res = await browser.post(path, token === undefined ? fields : { ...fields, _csrf: token }, false);
        expect(res.status, `${path} with ${token}`).to.equal(403);
        expect(firstError(res.html)).to.equal(
          'Страница устарела или форма отправлена не с нашего сайта. Обновите страницу и повторите действие.',
        );
      }
    }
    expect((await postJson(browser, '/account/security/passkeys/options', { _csrf: 'forged' })).status).to.equal(403);
    expect((await postJson(browser, '/account/security/passkeys', { _csrf: 'forged', handle: 'x', response: {} })).status).to.equal(403);
    expect((await account()).version).to.equal(before.version);
    // The genuine token works: the refusals were about the token.
    const ok = await browser.post(formAction(page.html, '/account/security/mfa'), { _csrf: good, enabled: 'on', preferred: 'sms' });
    expect(ok.url).to.equal('/account/security?notice=mfa_enabled');
  });

  it('answers a signed-out POST with 401 and a signed-out page with the sign-in', async () => {
    const stranger = new Browser(h);
    const res = await stranger.post('/account/security/mfa', { _csrf: 'x', enabled: 'on' }, false);
    expect(res.status).to.equal(401);
    expect(firstError(res.html)).to.equal('Вы не вошли. Откройте личный кабинет и войдите.');
    const page = await stranger.get('/account/security');
    expect(page.html).to.include('name="identifier"');
  });

  it('cannot turn on sign-in with confirmation without a factor', async () => {
    const emailOnly = new Browser(h);
    const other = await createAccount(h, { email: 'no.phone@example.ru' });
    const page = await openCabinet(emailOnly, '/account/security', 'no.phone@example.ru');
    expect(page.html).to.include('Сначала подключите приложение-аутентификатор или ключ доступа.');
    const res = await emailOnly.post('/account/security/mfa', { _csrf: csrfOf(page.html), enabled: 'on' }, false);
    expect(res.status).to.equal(400);
    expect(firstError(res.html)).to.equal('Сначала подключите способ подтверждения.');
    expect((await h.services.accounts.findActive(other.id))!.mfa).to.equal(undefined);
  });
});

describe('cabinet: security settings when the deployment requires a second factor', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { VKHOD_REQUIRE_SECOND_FACTOR: 'true' } });
  });
  afterEach(() => h.close());

  it('does not let the citizen turn confirmation off or remove the last factor', async () => {
    const { account, browser, page } = await appOnlyAccountInCabinet(h, 'no.phone@example.ru');
    expect(page.url).to.equal('/account/security');
    const off = await browser.post('/account/security/mfa', { _csrf: csrfOf(page.html) }, false);
    expect(off.status).to.equal(409);
    expect(firstError(off.html)).to.equal('Вход с подтверждением обязателен и не может быть отключён.');
    // The app is the only factor of an account without a mobile.
    const remove = await browser.post('/account/security/totp/remove', { _csrf: csrfOf(page.html) }, false);
    expect(remove.status).to.equal(409);
    expect(firstError(remove.html)).to.equal('Это последний способ подтверждения, а он обязателен. Сначала добавьте другой.');
    expect((await h.services.accounts.findActive(account.id))!.totp).to.not.equal(undefined);
  });
});
