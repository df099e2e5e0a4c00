/**
 * Recovery codes: 10 single-use codes shown once and stored hashed; one stands in for a lost
 * second factor; a used code is refused; new codes make the old ones invalid.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, openCabinet, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import { auditOfType, createAccount, firstError, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';

function codesOn(page: Page): string[] {
  const list = page.html.match(/<ol class="recovery-codes" id="recovery-codes">([\s\S]*?)<\/ol>/);
  expect(list, 'the list of recovery codes').to.not.equal(null);
  return [...list![1]!.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
}

describe('second factor: recovery codes', function () {
  let h: Harness;
  let accountId: string;
  beforeEach(async () => {
    h = await startHarness();
    accountId = (await createAccount(h, { phone: PHONE })).id;
    // The app is there; sign-in with confirmation is turned on once the codes exist.
    await addTotp(h, accountId);
  });

  const confirmSignIns = () => h.services.accounts.modify(accountId, (a) => ({ ...a, mfa: { enabled: true, preferred: 'totp' } }));
  afterEach(() => h.close());

  /** Signs in to the cabinet and generates codes. */
  async function generate(browser: Browser): Promise<string[]> {
    const security = await openCabinet(browser, '/account/security', PHONE);
    expect(security.url).to.equal('/account/security');
    const shown = await browser.submit(security, '/account/security/recovery-codes', {});
    expect(shown.status, shown.html).to.equal(200);
    return codesOn(shown);
  }

  /** Password, then the recovery-code form of the second step. */
  async function recoveryForm(browser: Browser, authorize = authorizePath()): Promise<Page> {
    const mfa = await submitPassword(browser, PHONE, authorize);
    expect(mfa.html, 'the second step offers a recovery code').to.include('?method=recovery');
    const page = await browser.get(`${mfa.url}?method=recovery`);
    expect(page.html).to.include('Резервный код');
    return page;
  }

  it('shows 10 distinct codes once, keeps only their hashes, and tells the citizen', async () => {
    const browser = new Browser(h);
    const codes = await generate(browser);
    expect(codes).to.have.length(10);
    expect(new Set(codes).size).to.equal(10);
    for (const code of codes) expect(code).to.match(/^[a-z2-9]{5}-[a-z2-9]{5}$/);

    const row = sqlite(h).prepare('SELECT doc FROM accounts WHERE id = ?').get(accountId) as { doc: string };
    for (const code of codes) {
      expect(row.doc).to.not.include(code);
      expect(row.doc).to.not.include(code.replace('-', ''));
    }
    expect((await h.services.accounts.findActive(accountId))!.recoveryCodes?.hashes).to.have.length(10);

    const security = await browser.get('/account/security');
    expect(security.html).to.include('Осталось неиспользованных кодов: 10.');
    expect(security.html, 'shown once only').to.not.include(codes[0]!);
    expect(auditOfType(h, 'factor.recovery_codes_generated').map((e) => e.accountId)).to.deep.equal([accountId]);
    expect(h.gateway.last(PHONE)?.text).to.equal('vkhod: созданы новые резервные коды, прежние больше не действуют.');
  });

  it('stands in for the second factor once: the same code is refused the next time', async () => {
    const [code] = await generate(new Browser(h));
    await confirmSignIns();
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const form = await recoveryForm(browser, authorizePath({}, challenge));
    const rp = await passConsent(
      browser,
      await browser.submit(form, '/mfa/verify', { method: 'recovery', code: ` ${code!.toUpperCase().replace('-', ' ')} ` }),
    );
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    expect(claims.amr).to.include.members(['pwd', 'mfa']);
    expect((await h.services.accounts.findActive(accountId))!.recoveryCodes?.hashes).to.have.length(9);
    expect(auditOfType(h, 'factor.recovery_code_used')).to.have.length(1);

    const again = new Browser(h);
    const second = await recoveryForm(again);
    const refused = await again.submit(second, '/mfa/verify', { method: 'recovery', code: code! });
    expect(refused.status).to.equal(400);
    expect(refused.location).to.equal(undefined);
    expect(firstError(refused.html)).to.match(/^(Код не подошёл|Этот код уже использован)/);
    expect((await h.services.accounts.findActive(accountId))!.recoveryCodes?.hashes).to.have.length(9);
  });

  it('refuses a code that was never issued', async () => {
    await generate(new Browser(h));
    await confirmSignIns();
    const browser = new Browser(h);
    const form = await recoveryForm(browser);
    for (const code of ['abcde-fghjk', 'short', '']) {
      const refused = await browser.submit(form, '/mfa/verify', { method: 'recovery', code });
      expect(refused.status, code).to.equal(400);
      expect(refused.location).to.equal(undefined);
    }
    expect((await h.services.accounts.findActive(accountId))!.recoveryCodes?.hashes).to.have.length(10);
  });

  it('new codes replace the old ones: an old code no longer signs in, a new one does', async () => {
    const cabinet = new Browser(h);
    const old = await generate(cabinet);
    const security = await cabinet.get('/account/security');
    expect(security.html).to.include('Создать новые коды (старые перестанут работать)');
    const fresh = codesOn(await cabinet.submit(security, '/account/security/recovery-codes', {}));
    expect(fresh).to.have.length(10);
    expect(fresh.filter((c) => old.includes(c))).to.deep.equal([]);
    expect(auditOfType(h, 'factor.recovery_codes_generated')).to.have.length(2);
    await confirmSignIns();

    const browser = new Browser(h);
    const form = await recoveryForm(browser);
    const refused = await browser.submit(form, '/mfa/verify', { method: 'recovery', code: old[0]! });
    expect(refused.status).to.equal(400);
    const rp = await passConsent(browser, await browser.submit(form, '/mfa/verify', { method: 'recovery', code: fresh[0]! }));
    expect(rp.location).to.match(/[?&]code=/);
  });
});
