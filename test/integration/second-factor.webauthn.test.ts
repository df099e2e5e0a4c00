/**
 * Passkeys and security keys (WebAuthn) driven by a software authenticator over HTTP: added in
 * the cabinet with names; sign-in with a discoverable passkey and no identifier; a passkey as the
 * second factor; user verification in amr; counter, challenge and credential checks.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, openCabinet, passConsent, pkce, postJson, redeem, submitPassword, totpCode } from '../support/flows.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { auditOfType, createAccount, expireChallenge } from './fixtures.ts';

const PHONE = '+79123456789';
const OTHER_PHONE = '+79161112233';
const MFA = 'urn:vkhod:loa:simplified-mfa';

const uidOf = (page: Page) => page.url.match(/^\/interaction\/([^/?]+)/)![1]!;

/** Adds a passkey on /account/security the way views/static/webauthn.js does. */
async function addPasskey(browser: Browser, auth: SoftAuthenticator, name: string, phone = PHONE): Promise<string> {
  const security = await openCabinet(browser, '/account/security', phone);
  expect(security.url).to.equal('/account/security');
  const _csrf = csrfOf(security.html);
  const started = await postJson(browser, '/account/security/passkeys/options', { _csrf });
  expect(started.status, started.text).to.equal(200);
  expect(started.body.options.rp.id).to.equal('127.0.0.1');
  expect(started.body.options.authenticatorSelection.residentKey).to.equal('required');
  const response = auth.create(started.body.options);
  const done = await postJson(browser, '/account/security/passkeys', { _csrf, handle: started.body.handle, response, name });
  expect(done.status, done.text).to.equal(200);
  expect(done.body.redirect).to.equal('/account/security?notice=passkey_added');
  return response.id;
}

describe('passkeys (WebAuthn)', function () {
  let h: Harness;
  let accountId: string;
  let auth: SoftAuthenticator;
  beforeEach(async () => {
    h = await startHarness();
    accountId = (await createAccount(h, { phone: PHONE })).id;
    auth = new SoftAuthenticator(h.url);
  });
  afterEach(() => h.close());

  /** "Войти с ключом доступа" on the sign-in page of `authorize`: options, assertion, verification. */
  async function passkeySignIn(
    browser: Browser,
    authenticator: SoftAuthenticator,
    authorize = authorizePath(),
    assertion?: (options: never) => unknown,
  ) {
    const login = await browser.get(authorize);
    expect(login.html).to.include('data-webauthn="authenticate"');
    const uid = uidOf(login);
    const _csrf = csrfOf(login.html);
    const started = await postJson(browser, `/interaction/${uid}/webauthn/options`, { _csrf });
    expect(started.status, started.text).to.equal(200);
    expect(started.body.options.allowCredentials ?? [], 'discoverable: no identifier, no credential list').to.deep.equal([]);
    const response = assertion ? assertion(started.body.options as never) : authenticator.get(started.body.options);
    const res = await postJson(browser, `/interaction/${uid}/webauthn`, { _csrf, handle: started.body.handle, response });
    return { res, uid, _csrf, handle: started.body.handle as string, response, options: started.body.options };
  }

  /** Follows a `{ redirect }` answer like the page script, through consent, to the relying party. */
  async function follow(browser: Browser, redirect: string): Promise<Page> {
    return passConsent(browser, await browser.get(redirect));
  }

  describe('in the cabinet', () => {
    it('adds several named authenticators, lists them, and records and notifies each addition', async () => {
      const browser = new Browser(h);
      const first = await addPasskey(browser, auth, 'Телефон');
      const second = await addPasskey(browser, new SoftAuthenticator(h.url, { synced: true }), 'Ноутбук');
      const account = (await h.services.accounts.findActive(accountId))!;
      expect(account.passkeys!.map((p) => [p.id, p.name, p.deviceType])).to.deep.equal([
        [first, 'Телефон', 'singleDevice'],
        [second, 'Ноутбук', 'multiDevice'],
      ]);
      const page = await browser.get('/account/security?notice=passkey_added');
      expect(page.html).to.include('Ключ доступа добавлен.');
      expect([...page.html.matchAll(/class="passkey-name">([^<]+)</g)].map((m) => m[1])).to.deep.equal(['Телефон', 'Ноутбук']);
      expect(page.html).to.include('на устройстве').and.include('синхронизируемый');
      expect(auditOfType(h, 'factor.passkey_added').map((e) => e.details?.name)).to.deep.equal(['Телефон', 'Ноутбук']);
      expect(h.gateway.sent.filter((m) => m.to === PHONE && m.text.includes('добавлен ключ доступа'))).to.have.length(2);
    });

    it('refuses to register the same authenticator twice and a registration answered with another challenge', async () => {
      const browser = new Browser(h);
      await addPasskey(browser, auth, 'Телефон');
      const _csrf = csrfOf((await browser.get('/account/security')).html);
      const started = await postJson(browser, '/account/security/passkeys/options', { _csrf });
      expect(started.body.options.excludeCredentials.map((c: { id: string }) => c.id)).to.deep.equal([
        auth.credentials[0]!.id.toString('base64url'),
      ]);

      const other = new SoftAuthenticator(h.url);
      const response = other.create({ ...started.body.options, challenge: Buffer.from('not the challenge').toString('base64url') });
      const refused = await postJson(browser, '/account/security/passkeys', {
        _csrf,
        handle: started.body.handle,
        response,
        name: 'Чужой',
      });
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.equal('Не удалось добавить ключ доступа. Попробуйте ещё раз.');
      expect((await h.services.accounts.findActive(accountId))!.passkeys).to.have.length(1);
    });

    it('refuses a credential id that is already registered, to this account or another, with a 400 (not a 500)', async () => {
      const browser = new Browser(h);
      await addPasskey(browser, auth, 'Телефон');
      const taken = auth.credentials[0]!.id;
      // Another account tries to claim the same credential id with its own key.
      await createAccount(h, { phone: OTHER_PHONE });
      const intruder = new Browser(h);
      const security = await openCabinet(intruder, '/account/security', OTHER_PHONE);
      for (const [b, page] of [
        [intruder, security],
        [browser, await browser.get('/account/security')],
      ] as const) {
        const _csrf = csrfOf(page.html);
        const started = await postJson(b, '/account/security/passkeys/options', { _csrf });
        const response = new SoftAuthenticator(h.url).create(started.body.options, { id: taken });
        const res = await postJson(b, '/account/security/passkeys', { _csrf, handle: started.body.handle, response, name: 'Копия' });
        expect(res.status, res.text).to.equal(400);
        expect(res.body.error).to.equal('Не удалось добавить ключ доступа. Попробуйте ещё раз.');
      }
      expect((await h.services.accounts.findActive(accountId))!.passkeys!.map((p) => p.name)).to.deep.equal(['Телефон']);
      // The genuine authenticator still signs in to its own account.
      const { res } = await passkeySignIn(new Browser(h), auth);
      expect(res.status).to.equal(200);
    });
  });

  describe('sign-in with a passkey and no identifier', () => {
    it('with user verification: amr hwk + user + mfa and an -mfa acr, counter stored', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const { res } = await passkeySignIn(browser, auth, authorizePath({}, challenge));
      expect(res.status, res.text).to.equal(200);
      expect(res.body.redirect).to.be.a('string');
      const rp = await follow(browser, res.body.redirect);
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.sub).to.equal(accountId);
      expect(claims.amr).to.have.members(['hwk', 'user', 'mfa']);
      expect(claims.acr).to.equal(MFA);
      const stored = (await h.services.accounts.findActive(accountId))!.passkeys![0]!;
      expect(stored.counter).to.equal(auth.credentials[0]!.signCount);
      expect(stored.lastUsedAt).to.be.a('string');
    });

    it('a synced passkey is a software key (swk)', async () => {
      const synced = new SoftAuthenticator(h.url, { synced: true });
      await addPasskey(new Browser(h), synced, 'Облачный');
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const { res } = await passkeySignIn(browser, synced, authorizePath({}, challenge));
      const { claims } = await redeem(h, (await follow(browser, res.body.redirect)).location, verifier);
      expect(claims.amr).to.have.members(['swk', 'user', 'mfa']);
      expect(claims.acr).to.equal(MFA);
    });

    it('without user verification it is one factor: amr hwk only, no -mfa acr', async () => {
      const presenceOnly = new SoftAuthenticator(h.url, { userVerified: false });
      await addPasskey(new Browser(h), presenceOnly, 'Ключ');
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const { res } = await passkeySignIn(browser, presenceOnly, authorizePath({}, challenge));
      const { claims } = await redeem(h, (await follow(browser, res.body.redirect)).location, verifier);
      expect(claims.amr).to.deep.equal(['hwk']);
      expect(claims.acr).to.equal('urn:vkhod:loa:simplified');
    });

    it('refuses an assertion whose signature counter went back (a cloned authenticator)', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      const ok = await passkeySignIn(new Browser(h), auth);
      expect(ok.res.status).to.equal(200);
      const count = auth.credentials[0]!.signCount;
      for (const signCount of [count, count - 1]) {
        const { res } = await passkeySignIn(new Browser(h), auth, authorizePath(), (options) => auth.get(options, { signCount }));
        expect(res.status, `counter ${signCount}`).to.equal(400);
        expect(res.body.error).to.equal(
          'Ключ доступа отклонён: возможно, это копия ключа. Войдите другим способом и проверьте ключи в личном кабинете.',
        );
        expect(res.body.redirect).to.equal(undefined);
      }
      expect((await h.services.accounts.findActive(accountId))!.passkeys![0]!.counter).to.equal(count);
      expect(
        auditOfType(h, 'signin.passkey')
          .filter((e) => e.outcome === 'failure')
          .map((e) => e.details?.reason),
      ).to.deep.equal(['counter', 'counter']);
    });

    it('uses a challenge once: the same assertion replayed is refused', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      const browser = new Browser(h);
      const first = await passkeySignIn(browser, auth);
      expect(first.res.status).to.equal(200);
      // The very same request again (an attacker who captured it, or a double submit).
      const again = await postJson(browser, `/interaction/${first.uid}/webauthn`, {
        _csrf: first._csrf,
        handle: first.handle,
        response: first.response,
      });
      expect(again.status).to.equal(400);
      expect(again.body.error).to.equal('Запрос устарел. Обновите страницу и попробуйте ещё раз.');
      expect(again.body.redirect).to.equal(undefined);
      // A fresh challenge on another interaction cannot be answered with the old assertion either.
      const other = new Browser(h);
      const otherLogin = await other.get(authorizePath());
      const otherCsrf = csrfOf(otherLogin.html);
      const started = await postJson(other, `/interaction/${uidOf(otherLogin)}/webauthn/options`, { _csrf: otherCsrf });
      const replay = await postJson(other, `/interaction/${uidOf(otherLogin)}/webauthn`, {
        _csrf: otherCsrf,
        handle: started.body.handle,
        response: first.response,
      });
      expect(replay.status).to.equal(400);
      expect(replay.body.redirect).to.equal(undefined);
    });

    it('refuses a challenge issued to another sign-in, and an expired one', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      // A handle from someone else's sign-in page.
      const victim = new Browser(h);
      const victimLogin = await victim.get(authorizePath());
      const stolen = await postJson(victim, `/interaction/${uidOf(victimLogin)}/webauthn/options`, { _csrf: csrfOf(victimLogin.html) });
      const attacker = new Browser(h);
      const login = await attacker.get(authorizePath());
      const res = await postJson(attacker, `/interaction/${uidOf(login)}/webauthn`, {
        _csrf: csrfOf(login.html),
        handle: stolen.body.handle,
        response: auth.get(stolen.body.options),
      });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('Запрос устарел. Обновите страницу и попробуйте ещё раз.');

      // Two minutes later the challenge is gone.
      const started = await postJson(victim, `/interaction/${uidOf(victimLogin)}/webauthn/options`, { _csrf: csrfOf(victimLogin.html) });
      const record = await h.services.store.challenges.find(started.body.handle);
      expect(Date.parse(record!.expiresAt) - Date.parse(record!.createdAt)).to.equal(120_000);
      expireChallenge(h, started.body.handle);
      const expired = await postJson(victim, `/interaction/${uidOf(victimLogin)}/webauthn`, {
        _csrf: csrfOf(victimLogin.html),
        handle: started.body.handle,
        response: auth.get(started.body.options),
      });
      expect(expired.status).to.equal(400);
      expect(expired.body.error).to.equal('Запрос устарел. Обновите страницу и попробуйте ещё раз.');
    });

    it('refuses an authenticator vkhod does not know', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      const stranger = new SoftAuthenticator(h.url);
      stranger.create({ challenge: 'x', rp: { id: '127.0.0.1', name: 'vkhod' }, user: { id: 'someone', name: 'x', displayName: 'x' } });
      const { res } = await passkeySignIn(new Browser(h), stranger);
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('Этот ключ доступа не привязан к учётной записи vkhod. Войдите по паролю.');
    });

    it('refuses an assertion made for another site (origin) or signed by another key', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      const phishing = await passkeySignIn(new Browser(h), auth, authorizePath(), (options) =>
        auth.get(options, { origin: 'https://vkhod.example.evil' }),
      );
      expect(phishing.res.status).to.equal(400);
      expect(phishing.res.body.error).to.equal('Не удалось проверить ключ доступа. Попробуйте ещё раз.');
      const forged = await passkeySignIn(new Browser(h), auth, authorizePath(), (options) => {
        const response = auth.get(options);
        const other = new SoftAuthenticator(h.url);
        other.create({ challenge: 'x', rp: { id: '127.0.0.1', name: 'vkhod' }, user: { id: 'u', name: 'x', displayName: 'x' } });
        return { ...response, response: { ...response.response, signature: other.get(options).response.signature } };
      });
      expect(forged.res.status).to.equal(400);
      expect(forged.res.body.redirect).to.equal(undefined);
    });
  });

  describe('as the second factor', () => {
    it('after the password, with the passkey preferred: amr pwd + hwk + user + mfa', async () => {
      await addPasskey(new Browser(h), auth, 'Телефон');
      await h.services.accounts.modify(accountId, (a) => ({ ...a, mfa: { enabled: true, preferred: 'webauthn' } }));
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const mfa = await submitPassword(browser, PHONE, authorizePath({}, challenge));
      expect(mfa.url).to.match(/\/mfa$/);
      expect(mfa.html).to.include('data-webauthn="authenticate"');
      const _csrf = csrfOf(mfa.html);
      const started = await postJson(browser, `${mfa.url}/webauthn/options`, { _csrf });
      expect(started.body.options.allowCredentials.map((c: { id: string }) => c.id)).to.deep.equal([
        auth.credentials[0]!.id.toString('base64url'),
      ]);
      const res = await postJson(browser, `${mfa.url}/webauthn`, {
        _csrf,
        handle: started.body.handle,
        response: auth.get(started.body.options),
      });
      expect(res.status, res.text).to.equal(200);
      const { claims } = await redeem(h, (await follow(browser, res.body.redirect)).location, verifier);
      expect(claims.amr).to.have.members(['pwd', 'hwk', 'user', 'mfa']);
      expect(claims.acr).to.equal(MFA);
    });

    it('a passkey without user verification is followed by the second factor, and the token claims no more than two possession factors', async () => {
      const presenceOnly = new SoftAuthenticator(h.url, { userVerified: false });
      await addPasskey(new Browser(h), presenceOnly, 'Ключ');
      const secret = await addTotp(h, accountId, { mfa: true });
      const browser = new Browser(h);
      const { verifier, challenge } = pkce();
      const { res } = await passkeySignIn(browser, presenceOnly, authorizePath({}, challenge));
      expect(res.status, res.text).to.equal(200);
      const mfa = await browser.get(res.body.redirect);
      expect(mfa.url).to.match(/\/mfa$/);
      const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
      const { claims } = await redeem(h, rp.location, verifier);
      expect(claims.amr).to.have.members(['hwk', 'otp']);
      expect(claims.acr).to.equal('urn:vkhod:loa:simplified');
    });

    it('refuses another account’s passkey as this account’s second factor', async () => {
      const other = new SoftAuthenticator(h.url);
      await createAccount(h, { phone: OTHER_PHONE });
      await addPasskey(new Browser(h), other, 'Чужой', OTHER_PHONE);
      await addPasskey(new Browser(h), auth, 'Мой');
      await h.services.accounts.modify(accountId, (a) => ({ ...a, mfa: { enabled: true, preferred: 'webauthn' } }));
      const browser = new Browser(h);
      const mfa = await submitPassword(browser, PHONE);
      const _csrf = csrfOf(mfa.html);
      const started = await postJson(browser, `${mfa.url}/webauthn/options`, { _csrf });
      const res = await postJson(browser, `${mfa.url}/webauthn`, {
        _csrf,
        handle: started.body.handle,
        response: other.get({ ...started.body.options, allowCredentials: [] }),
      });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('Этот ключ доступа принадлежит другой учётной записи.');
      expect(auditOfType(h, 'signin.second_factor').map((e) => e.accountId)).to.deep.equal([accountId]);
    });
  });
});
