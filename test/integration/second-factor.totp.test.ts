/**
 * The authenticator app (TOTP) as a second factor: enrolment in the cabinet with a QR image and
 * the secret as text, confirmed by a first valid code; the seed sealed at rest; sign-in with
 * confirmation asks for a code after the password; ±1 step; a code is accepted only once.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import {
  addTotp,
  authorizePath,
  GOOD_PASSWORD,
  passConsent,
  pkce,
  redeem,
  submitPassword,
  totpCode,
  totpSecretOf,
} from '../support/flows.ts';
import { auditOfType, createAccount, firstError, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';
const MFA = 'urn:vkhod:loa:simplified-mfa';

describe('second factor: authenticator app (TOTP)', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('is enrolled in the cabinet from a server-drawn QR code or the secret as text, confirmed by a first valid code, and stored sealed', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const browser = new Browser(h);
    // The cabinet signs in through vkhod itself and comes back to the page asked for.
    const login = await browser.get('/account/security/totp');
    expect(login.html).to.include('name="identifier"');
    const page = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(page.status, page.html).to.equal(200);
    expect(page.url).to.equal('/account/security/totp');
    expect(page.html).to.match(/<img class="qr" src="data:image\/png;base64,[A-Za-z0-9+/]{200,}/);
    const shown = page.html.match(/id="totp-secret">([^<]+)</)![1]!;
    expect(shown, 'grouped by four for reading aloud').to.match(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const secret = totpSecretOf(page.html);
    expect(secret).to.have.length(32);

    // Reloading the page keeps the same secret (the citizen may already have scanned it).
    expect(totpSecretOf((await browser.get('/account/security/totp')).html)).to.equal(secret);

    // A wrong code: nothing stored, the page says so.
    const wrong = await browser.submit(page, '/account/security/totp', {
      code: '000000' === (await totpCode(secret)) ? '111111' : '000000',
    });
    expect(wrong.url).to.match(/\/account\/security\/totp\?error=code$/);
    expect(firstError(wrong.html)).to.equal('Код не подошёл. Проверьте и введите ещё раз.');
    expect((await h.services.accounts.findActive(account.id))!.totp).to.equal(undefined);

    const first = await totpCode(secret);
    const done = await browser.submit(wrong, '/account/security/totp', { code: first });
    expect(done.url).to.equal('/account/security?notice=totp_added');
    expect(done.html).to.include('Приложение-аутентификатор подключено.');

    const stored = (await h.services.accounts.findActive(account.id))!;
    expect(stored.totp?.sealedSecret).to.match(/^v1\./);
    expect(stored.totp?.sealedSecret).to.not.include(secret);
    const row = sqlite(h).prepare('SELECT doc FROM accounts WHERE id = ?').get(account.id) as { doc: string };
    expect(row.doc, 'the seed never lies in the store in clear').to.not.include(secret);
    // Sealed for this account: moved to another account it does not open.
    expect(() => h.services.box.decrypt(stored.totp!.sealedSecret, 'totp-seed:someone-else')).to.throw();
    expect(h.services.box.decrypt(stored.totp!.sealedSecret, `totp-seed:${account.id}`)).to.equal(secret);

    expect(auditOfType(h, 'factor.totp_added').map((e) => e.accountId)).to.deep.equal([account.id]);
    expect(h.gateway.last(PHONE)?.text).to.include('подключено приложение-аутентификатор');

    // The code that confirmed the enrolment is spent: it does not pass a sign-in afterwards.
    await h.services.accounts.modify(account.id, (a) => ({ ...a, mfa: { enabled: true, preferred: 'totp' } }));
    const signIn = new Browser(h);
    const mfa = await submitPassword(signIn, PHONE);
    const replay = await signIn.submit(mfa, '/mfa/verify', { code: first });
    expect(replay.status).to.equal(400);
    expect(replay.location).to.equal(undefined);
  });

  it('once sign-in with confirmation is on, a password sign-in asks for the app code and the ID token says pwd + otp', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const mfa = await submitPassword(browser, PHONE, authorizePath({}, challenge));
    expect(mfa.status).to.equal(200);
    expect(mfa.url).to.match(/^\/interaction\/[^/]+\/mfa$/);
    expect(mfa.html).to.include('Подтвердите вход');
    expect(mfa.html).to.include('Код из приложения-аутентификатора');
    expect(mfa.html).to.not.include('name="password"');
    expect(mfa.location, 'no code before the second factor').to.equal(undefined);

    const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.sub).to.equal(account.id);
    expect(claims.acr).to.equal(MFA);
    expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);

    const success = auditOfType(h, 'signin').filter((e) => e.outcome === 'success');
    expect(success.at(-1)?.details).to.deep.include({ method: 'password+totp', acr: MFA });
  });

  it('refuses a wrong code and shows the form again; the right code then signs in', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    const good = await totpCode(secret);
    for (const code of [String((Number(good) + 1) % 1_000_000).padStart(6, '0'), '12345', 'abcdef', '']) {
      const refused = await browser.submit(mfa, '/mfa/verify', { code });
      expect(refused.status, code).to.equal(400);
      expect(refused.location, code).to.equal(undefined);
      expect(firstError(refused.html)).to.equal('Код не подошёл. Проверьте и введите ещё раз.');
      expect(refused.html).to.include('name="code"');
    }
    const failures = auditOfType(h, 'signin.second_factor');
    expect(failures).to.have.length(4);
    expect(failures[0]).to.deep.include({ accountId: account.id, outcome: 'failure' });
    const rp = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: good }));
    expect(rp.location).to.match(/[?&]code=/);
  });

  it('accepts a code only once: the same code at the next sign-in is refused, the next step’s code works', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const code = await totpCode(secret);

    const first = new Browser(h);
    const mfa1 = await submitPassword(first, PHONE);
    const ok = await passConsent(first, await first.submit(mfa1, '/mfa/verify', { code }));
    expect(ok.location).to.match(/[?&]code=/);

    const second = new Browser(h);
    const mfa2 = await submitPassword(second, PHONE);
    const replay = await second.submit(mfa2, '/mfa/verify', { code });
    expect(replay.status).to.equal(400);
    expect(replay.location).to.equal(undefined);
    expect(firstError(replay.html)).to.equal(
      'Этот код уже использован. Введите новый: следующий код из приложения, код из нового SMS или другой резервный код.',
    );

    // An older code (the previous step) is refused too once a newer one was used.
    const older = await second.submit(mfa2, '/mfa/verify', { code: await totpCode(secret, -1) });
    expect(older.status).to.equal(400);

    const next = await passConsent(second, await second.submit(mfa2, '/mfa/verify', { code: await totpCode(secret, 1) }));
    expect(next.location).to.match(/[?&]code=/);
  });

  it('a reused code says it was already used and does not count towards the lockout', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const code = await totpCode(secret);
    const first = new Browser(h);
    await passConsent(first, await first.submit(await submitPassword(first, PHONE), '/mfa/verify', { code }));
    const second = new Browser(h);
    const mfa = await submitPassword(second, PHONE);
    for (let i = 0; i < h.services.config.limits.loginMaxFailures + 2; i++) {
      const replay = await second.submit(mfa, '/mfa/verify', { code: ` ${code.slice(0, 3)} ${code.slice(3)} ` });
      expect(replay.status, `replay ${i}`).to.equal(400);
      expect(firstError(replay.html)).to.equal(
        'Этот код уже использован. Введите новый: следующий код из приложения, код из нового SMS или другой резервный код.',
      );
    }
    const next = await passConsent(second, await second.submit(mfa, '/mfa/verify', { code: await totpCode(secret, 1) }));
    expect(next.location, 'not locked: the next code signs in').to.match(/[?&]code=/);
  });

  it('accepts the codes of the neighbouring 30-second steps, not those two steps away', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    for (const steps of [-2, 2]) {
      const far = await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret, steps) });
      expect(far.status, `${steps} steps`).to.equal(400);
    }
    const previous = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret, -1) }));
    expect(previous.location, 'the previous step’s code').to.match(/[?&]code=/);

    const again = new Browser(h);
    const mfa2 = await submitPassword(again, PHONE);
    const following = await passConsent(again, await again.submit(mfa2, '/mfa/verify', { code: await totpCode(secret, 1) }));
    expect(following.location, 'the next step’s code').to.match(/[?&]code=/);
  });
});
