/**
 * The cabinet's account pages (issue 11, items 1–5): changing the password, sessions and
 * devices, sign-in history, connected services, sign-in alerts. Each form carries CSRF; the
 * pages say what happened in words.
 */
import { expect } from 'chai';
import { Browser, csrfOf } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, signIn } from '../support/flows.ts';
import { auditOfType, createAccount, firstError } from './fixtures.ts';
import { parseUserAgent } from '../../src/cabinet/user-agent.ts';
import { checkPassword } from '../../src/accounts/password-policy.ts';
import { DevOutbox, OUTBOX_KEEP_MS } from '../../src/notify/notifier.ts';
import { readdirSync, readFileSync } from 'node:fs';

const PHONE = '+79123456789';
const CHROME_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_ANDROID = 'Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0';
const NEW_PASSWORD = 'Синий-Слон-77?';

describe('cabinet: account life (password, sessions, history, services, alerts)', function () {
  let h: Harness;
  let accountId: string;
  beforeEach(async () => {
    h = await startHarness();
    accountId = (await createAccount(h, { phone: PHONE })).id;
  });
  afterEach(() => h.close());

  const account = async () => (await h.services.accounts.findActive(accountId))!;

  describe('password', () => {
    it('changes the password with the current one: other sessions end, the contact is told, the old password no longer works', async () => {
      const other = new Browser(h, { 'user-agent': FIREFOX_ANDROID });
      expect((await openCabinet(other, '/account', PHONE)).url).to.equal('/account');
      const me = new Browser(h, { 'user-agent': CHROME_WIN });
      const page = await openCabinet(me, '/account/password', PHONE);
      expect(page.html).to.include('Сменить пароль');
      const done = await me.submit(page, '/account/password', {
        current: GOOD_PASSWORD,
        password: NEW_PASSWORD,
        password_confirm: NEW_PASSWORD,
      });
      expect(done.url).to.equal('/account/password?notice=changed');
      expect(done.html).to.include('Пароль изменён. Другие входы завершены.');
      expect(h.gateway.last(PHONE)!.text).to.include('пароль вашей учётной записи изменён');
      // this device stays signed in; the other one is asked to sign in again
      expect((await me.get('/account')).url).to.equal('/account');
      expect((await other.get('/account')).html).to.include('name="identifier"');
      expect(auditOfType(h, 'account.password_changed').map((e) => e.outcome)).to.deep.equal(['success']);
      const again = new Browser(h);
      const old = await openCabinet(again, '/account', PHONE, GOOD_PASSWORD);
      expect(old.url).to.not.equal('/account');
      expect((await openCabinet(new Browser(h), '/account', PHONE, NEW_PASSWORD)).url).to.equal('/account');
    });

    it('refuses a wrong current password, the same password, a weak one and the name in Latin letters', async () => {
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/password', PHONE);
      const wrong = await me.submit(page, '/account/password', {
        current: 'Не-Тот-Пароль-1!',
        password: NEW_PASSWORD,
        password_confirm: NEW_PASSWORD,
      });
      expect(wrong.status).to.equal(400);
      expect(firstError(wrong.html)).to.equal('Текущий пароль введён неверно.');
      const same = await me.submit(page, '/account/password', {
        current: GOOD_PASSWORD,
        password: GOOD_PASSWORD,
        password_confirm: GOOD_PASSWORD,
      });
      expect(same.status).to.equal(400);
      expect(firstError(same.html)).to.equal('Новый пароль совпадает с текущим — придумайте другой.');
      const latin = await me.submit(page, '/account/password', {
        current: GOOD_PASSWORD,
        password: 'Ivanova-Kit-42!',
        password_confirm: 'Ivanova-Kit-42!',
      });
      expect(latin.status).to.equal(400);
      expect(firstError(latin.html)).to.equal('Пароль не должен содержать ваш телефон, почту или имя.');
      const weak = await me.submit(page, '/account/password', { current: GOOD_PASSWORD, password: '123', password_confirm: '123' });
      expect(weak.status).to.equal(400);
      expect(await h.services.accounts.findActive(accountId)).to.have.property('passwordHash', (await account()).passwordHash);
    });

    it('20 parallel wrong current passwords: at most the lockout limit are checked, then the account is locked', async () => {
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/password', PHONE);
      const _csrf = csrfOf(page.html);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          me.post(
            '/account/password',
            { _csrf, current: `Не-Тот-Пароль-${i}!`, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
            false,
          ),
        ),
      );
      const checked = auditOfType(h, 'account.password_changed').filter((e) => e.details?.reason === 'wrong_current');
      expect(checked.length, 'wrong current passwords checked').to.be.at.most(h.config.limits.loginMaxFailures);
      expect(answers.filter((r) => r.status === 429).length, 'the rest answered "locked"').to.be.at.least(
        20 - h.config.limits.loginMaxFailures,
      );
      const right = await me.post(
        '/account/password',
        { _csrf, current: GOOD_PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
        false,
      );
      expect(right.status, 'even the right password once locked').to.equal(429);
    });

    it('a form without its CSRF token or without a session is refused', async () => {
      const me = new Browser(h);
      await openCabinet(me, '/account/password', PHONE);
      const forged = await me.post(
        '/account/password',
        { current: GOOD_PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
        false,
      );
      expect(forged.status).to.equal(403);
      const stranger = await new Browser(h).post(
        '/account/password',
        { current: GOOD_PASSWORD, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
        false,
      );
      expect(stranger.status).to.equal(401);
    });

    it('an account without a password (bank, e-signature) sets a first one after a code to its confirmed contact', async () => {
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/password', PHONE);
      const _csrf = csrfOf(page.html);
      await h.services.accounts.modify(accountId, (a) => ({ ...a, passwordHash: undefined }));
      const first = await me.get('/account/password');
      expect(first.html).to.include('Задать пароль');
      expect(first.html).to.not.include('name="current"');
      expect(first.html).to.include('пришлём код на');
      const noCode = await me.post('/account/password', { _csrf, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD }, false);
      expect(noCode.status).to.equal(400);
      expect(firstError(noCode.html)).to.equal('Сначала получите код подтверждения.');
      const sent = await me.post('/account/password/code', { _csrf });
      expect(sent.html).to.include('Код отправлен на');
      const code = h.gateway.code(PHONE);
      const wrong = await me.post(
        '/account/password',
        { _csrf, code: code === '000000' ? '111111' : '000000', password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
        false,
      );
      expect(wrong.status).to.equal(400);
      expect(firstError(wrong.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      const weak = await me.post('/account/password', { _csrf, code, password: 'Ivanova-2024!', password_confirm: 'Ivanova-2024!' }, false);
      expect(weak.status, 'the policy is checked before the code is spent').to.equal(400);
      const done = await me.post('/account/password', {
        _csrf,
        code: `${code.slice(0, 3)} ${code.slice(3)}`,
        password: NEW_PASSWORD,
        password_confirm: NEW_PASSWORD,
      });
      expect(done.url).to.equal('/account/password?notice=set');
      expect(auditOfType(h, 'account.password_set')).to.have.length(1);
      expect((await openCabinet(new Browser(h), '/account', PHONE, NEW_PASSWORD)).url).to.equal('/account');
    });

    it('the policy refuses the name and contact in Latin transliteration', () => {
      const policy = { minLength: 8, classes: [] };
      expect(checkPassword('Ivanova-2024!', undefined, policy, ['Иванова'])).to.include('contains_personal');
      expect(checkPassword('SergeyZ-2024!', undefined, policy, ['Сергей'])).to.include('contains_personal');
      expect(checkPassword('Sergei-2024!', undefined, policy, ['Сергей'])).to.include('contains_personal');
      expect(checkPassword('Zelenyi-Kit-2024!', undefined, policy, ['Сергей'])).to.not.include('contains_personal');
    });
  });

  describe('sessions and devices', () => {
    it('lists the sessions with device, IP, method and "this device"; ends another one and its refresh tokens', async () => {
      const other = new Browser(h, { 'user-agent': FIREFOX_ANDROID });
      await openCabinet(other, '/account', PHONE);
      const me = new Browser(h, { 'user-agent': CHROME_WIN });
      const page = await openCabinet(me, '/account/sessions', PHONE);
      expect(page.html).to.include('Chrome 120, Windows');
      expect(page.html).to.include('Firefox 121, Android');
      expect(page.html).to.include('это устройство');
      expect(page.html).to.include('пароль');
      const uids = [...page.html.matchAll(/action="\/account\/sessions\/([^/"]+)\/end"/g)].map((m) => m[1]!);
      expect(uids).to.have.length(2);
      const otherUid = [...page.html.matchAll(/data-uid="([^"]+)">\s*<strong>Firefox/g)][0]![1]!;
      const ended = await me.post(`/account/sessions/${otherUid}/end`, { _csrf: csrfOf(page.html) });
      expect(ended.html).to.include('Сеанс завершён.');
      expect(ended.html).to.not.include('Firefox 121');
      expect((await other.get('/account')).html).to.include('name="identifier"');
      const missing = await me.post(`/account/sessions/${otherUid}/end`, { _csrf: csrfOf(page.html) }, false);
      expect(missing.status).to.equal(404);
      const forged = await me.post('/account/sessions/end-others', {}, false);
      expect(forged.status).to.equal(403);
    });

    it('ending a session revokes the refresh tokens issued in it', async () => {
      const rp = new Browser(h);
      await signIn(rp, PHONE, GOOD_PASSWORD, authorizePath({ scope: 'openid offline_access', prompt: 'consent' }));
      const grantsBefore = await h.services.store.listOidcByAccountId('Grant', accountId);
      expect(grantsBefore).to.not.be.empty;
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/sessions', PHONE);
      const done = await me.submit(page, '/account/sessions/end-others', {});
      expect(done.html).to.include('Все другие сеансы завершены.');
      expect(await h.services.store.listOidcByAccountId('RefreshToken', accountId)).to.deep.equal([]);
      for (const g of grantsBefore) expect(await h.services.store.oidcAdapter('Grant').find(g.id)).to.equal(undefined);
    });

    it('an ended session stays ended: a request in flight on it when it ends does not bring it back', async () => {
      // node-oidc-provider saves the session at the end of every request it serves: a request that
      // loaded it before "end all other sessions" wrote it back after (the probe got codes and tokens).
      // Here that request is held just before its save until the session has been ended.
      const thief = new Browser(h);
      await signIn(thief, PHONE, GOOD_PASSWORD);
      const silent = authorizePath({ prompt: 'none' });
      expect((await thief.get(silent)).location, 'the session works before').to.match(/[?&]code=/);
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/sessions', PHONE);

      const sessions = h.services.store.oidcAdapter('Session');
      const save = sessions.upsert;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let reached!: () => void;
      const held = new Promise<void>((resolve) => (reached = resolve));
      let armed = true;
      sessions.upsert = async (...args) => {
        if (armed) {
          armed = false;
          reached();
          await released;
        }
        return save.apply(sessions, args);
      };
      try {
        const inFlight = thief.get(silent);
        await held;
        const done = await me.submit(page, '/account/sessions/end-others', {});
        expect(done.html).to.include('Все другие сеансы завершены.');
        release();
        await inFlight;
      } finally {
        release();
        sessions.upsert = save;
      }
      expect((await thief.get(silent)).location, 'a sign-in after the session was ended').to.include('error=login_required');
      expect((await thief.get('/account')).html, 'the cabinet').to.include('name="identifier"');
    });

    it('parses the common browsers and systems into words', () => {
      expect(parseUserAgent(CHROME_WIN)).to.deep.equal({ browser: 'Chrome 120', os: 'Windows' });
      expect(
        parseUserAgent(
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
        ),
      ).to.deep.equal({ browser: 'Safari 17', os: 'iOS' });
      expect(
        parseUserAgent(
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 YaBrowser/24.1.0.0 Safari/537.36',
        ),
      ).to.deep.equal({ browser: 'Яндекс Браузер 24', os: 'Windows' });
      expect(parseUserAgent('curl/8')).to.deep.equal({});
    });
  });

  describe('sign-in alerts', () => {
    it('a sign-in from a device not seen before alerts the confirmed phone with a link to end the session; a known device does not', async () => {
      await openCabinet(new Browser(h, { 'user-agent': CHROME_WIN }), '/account', PHONE);
      const known = new Browser(h, { 'user-agent': CHROME_WIN });
      await openCabinet(known, '/account', PHONE);
      const sent = h.gateway.sent.length;
      await known.get('/account/logout');
      await openCabinet(known, '/account', PHONE);
      expect(h.gateway.sent.slice(sent).filter((m) => m.text.includes('завершите сеанс'))).to.deep.equal([]);
      expect(auditOfType(h, 'signin.new_device')).to.have.length(1);
      const alert = h.gateway.sent.find((m) => m.text.includes('устройство: Chrome 120, Windows'))!;
      expect(alert.text).to.include('Если это были не вы — завершите сеанс');
      expect(alert.text).to.include(`${h.url}/account/sessions`);
      expect(alert.text).to.include('Личный кабинет vkhod');
    });

    it('the settings turn SMS alerts off', async () => {
      const me = new Browser(h);
      const page = await openCabinet(me, '/account/sessions', PHONE);
      const saved = await me.submit(page, '/account/sessions/alerts', {});
      expect(saved.html).to.include('Настройки уведомлений сохранены.');
      const sent = h.gateway.sent.length;
      await openCabinet(new Browser(h), '/account', PHONE);
      expect(auditOfType(h, 'signin.new_device')).to.have.length(1);
      expect(h.gateway.sent.slice(sent).some((m) => m.text.includes('нового устройства') || m.text.includes('завершите сеанс'))).to.equal(
        false,
      );
    });
  });

  describe('history', () => {
    it('shows sign-ins, failures and password changes with device and IP, paged', async () => {
      const bad = new Browser(h);
      await openCabinet(bad, '/account', PHONE, 'Неверный-Пароль-1!');
      const me = new Browser(h, { 'user-agent': CHROME_WIN });
      const page = await openCabinet(me, '/account/history', PHONE);
      expect(page.html).to.include('История входов');
      expect(page.html).to.match(/<td>Вход<\/td><td>Chrome 120, Windows<\/td>/);
      expect(page.html).to.include('Личный кабинет vkhod');
      for (let i = 0; i < 25; i++) await h.services.audit.record({ type: 'signin', accountId, outcome: 'failure', ip: '10.0.0.1' });
      const first = await me.get('/account/history');
      expect(first.html).to.include('href="/account/history?page=2"');
      const second = await me.get('/account/history?page=2');
      expect(second.html).to.include('href="/account/history?page=1"');
      expect((await me.get('/account/history?page=zzz')).status).to.equal(200);
    });
  });

  describe('connected services', () => {
    it('lists a service with its data and withdraws the consent: tokens revoked, the next sign-in asks again', async () => {
      const rp = new Browser(h);
      const first = await rp.get(authorizePath({ scope: 'openid profile offline_access' }));
      let page = await rp.submit(first, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(page.html).to.include('/consent');
      page = await rp.submit(page, '/consent', { decision: 'allow' });
      const me = new Browser(h);
      const services = await openCabinet(me, '/account/services', PHONE);
      expect(services.html).to.include('фамилию, имя, отчество, дату рождения и пол');
      expect(services.html).to.include('Последний вход');
      const clientId = services.html.match(/action="\/account\/services\/([^/"]+)\/withdraw"/)![1]!;
      const forged = await me.post(`/account/services/${clientId}/withdraw`, {}, false);
      expect(forged.status).to.equal(403);
      const done = await me.submit(services, `/account/services/${clientId}/withdraw`, {});
      expect(done.html).to.include('Доступ отозван.');
      expect(done.html).to.include('Вы ещё не давали доступ ни одному сервису.');
      expect(
        await h.services.store.listOidcByAccountId('Grant', accountId).then((g) => g.filter((x) => x.payload.clientId === clientId)),
      ).to.deep.equal([]);
      expect(auditOfType(h, 'consent.withdrawn')).to.have.length(1);
      const again = await rp.get(authorizePath({ scope: 'openid profile' }));
      expect(again.html).to.include('Разрешить доступ к данным?');
      const gone = await me.post(`/account/services/${clientId}/withdraw`, { _csrf: csrfOf(services.html) }, false);
      expect(gone.status).to.equal(404);
    });
  });

  describe('services entered by single sign-on', () => {
    it('a service entered on the strength of the session (no password asked) counts as used: last use, history, the audit — once an hour', async () => {
      const me = new Browser(h);
      await openCabinet(me, '/account', PHONE);
      // First visit: only the consent is asked (the session signs in), then the service.
      const consent = await me.get(authorizePath({ scope: 'openid profile' }));
      expect(consent.html).to.include('/consent');
      expect(consent.html).to.not.include('name="password"');
      const back = await me.submit(consent, '/consent', { decision: 'allow' });
      expect(back.location).to.match(/[?&]code=/);
      // Later: straight back to the service, nothing asked — within the hour, not recorded again.
      for (let i = 0; i < 3; i++) expect((await me.get(authorizePath({ scope: 'openid profile' }))).location).to.match(/[?&]code=/);
      expect(auditOfType(h, 'signin.sso').map((e) => [e.clientId, e.outcome])).to.deep.equal([['rp-basic', 'success']]);
      expect(
        auditOfType(h, 'signin').filter((e) => e.clientId === 'rp-basic'),
        'not counted as a sign-in with a password',
      ).to.deep.equal([]);
      const services = await me.get('/account/services');
      const entry = services.html.match(/<li data-client="rp-basic">[\s\S]*?<\/li>\s*<\/ul>[\s\S]*?<\/p>/)![0];
      expect(entry).to.include('Последний вход');
      expect(entry).to.not.include('Входов пока не было.');
      const history = await me.get('/account/history');
      expect(history.html).to.include('Вход в сервис по действующему сеансу');
    });

    it('a password sign-in is its own record, and the cabinet entered with the same session is not a service entered', async () => {
      const me = new Browser(h);
      const signedIn = await signIn(me, PHONE, GOOD_PASSWORD);
      expect(signedIn.location).to.match(/[?&]code=/);
      // the cabinet, and its own authorization request, with the session the relying party's sign-in left
      const cabinet = await me.get('/account');
      expect(cabinet.html).to.include('id="account-name"');
      const own = new URLSearchParams({
        client_id: 'vkhod-cabinet',
        response_type: 'none',
        redirect_uri: `${h.url}/account/callback`,
        scope: 'openid',
        state: 's',
      });
      const entered = await me.get(`/auth?${own}`);
      // answered from the session, back at the cabinet's callback (which refuses this made-up state)
      expect(entered.url).to.match(/^\/account\/callback\?state=s&/);
      expect(auditOfType(h, 'signin').filter((e) => e.clientId === 'rp-basic')).to.have.length(1);
      expect(auditOfType(h, 'signin.sso')).to.deep.equal([]);
      // prompt=none for a service with no consent yet: refused, nothing recorded
      const none = await me.get(authorizePath({ client_id: 'rp-basic', scope: 'openid profile phone email address', prompt: 'none' }));
      expect(none.location ?? '').to.match(/error=/);
      expect(auditOfType(h, 'signin.sso')).to.deep.equal([]);
    });
  });

  describe('small things', () => {
    it('the dev outbox survives a restart: kept in the store for an hour', async () => {
      const before = new DevOutbox(100, h.services.store.settings);
      before.add({ at: new Date().toISOString(), channel: 'sms', to: PHONE, text: 'vkhod: код 123456' });
      before.add({ at: new Date(Date.now() - OUTBOX_KEEP_MS - 60_000).toISOString(), channel: 'sms', to: '+79990000000', text: 'старое' });
      await before.flushed();
      const after = new DevOutbox(100, h.services.store.settings);
      await after.restore();
      expect(after.list().map((e) => e.text)).to.deep.equal(['vkhod: код 123456']);
    });

    it('no code field cuts a pasted code with spaces ("123 456") short', () => {
      const dir = new URL('../../views/pages/', import.meta.url);
      for (const file of readdirSync(dir)) {
        const html = readFileSync(new URL(file, dir), 'utf8');
        for (const input of html.match(/<input[^>]*autocomplete="one-time-code"[^>]*>/g) ?? [])
          expect(input, file).to.not.match(/maxlength="[1-6]"/);
      }
    });

    it('a confirmed e-mail is "подтверждена", a confirmed phone "подтверждён" on the cabinet home', async () => {
      await h.services.accounts.modify(accountId, (a) => ({ ...a, email: 'maria@example.test', emailVerified: true }));
      const home = await openCabinet(new Browser(h), '/account', PHONE);
      expect(home.html).to.match(/maria@example\.test <span class="badge">подтверждена<\/span>/);
      expect(home.html).to.match(/<span class="badge">подтверждён<\/span>/);
    });
  });
});
