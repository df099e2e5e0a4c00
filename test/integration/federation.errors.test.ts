/**
 * When a bank sign-in goes wrong the citizen gets a page that says what happened in Russian (4xx,
 * or 502 for a bank that does not answer), never a 500 and never a sign-in: the citizen says no at
 * the bank, the bank is down (before or during the round trip), or the response fails a check —
 * another state, a forged nonce, another issuer, another browser, the same response twice.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { authorizePath } from '../support/flows.ts';
import { atBank, pressBank, startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { startDevBank, type DevBank } from '../../scripts/dev-bank.ts';
import { DEV_BANK } from '../../config/federation.ts';
import { holdReads } from '../support/races.ts';
import { auditOfType, countRows, expectNoLeak, firstError, resetStore } from './fixtures.ts';

describe('federation: a bank sign-in that goes wrong', function () {
  let f: FederationSetup;
  let flaky: DevBank;
  before(async () => {
    flaky = await startDevBank({ port: 0 });
    f = await startFederation({
      extraBanks: [
        {
          id: 'flakybank',
          name: 'Нестабильный банк',
          issuer: flaky.url,
          client_id: DEV_BANK.client_id,
          client_secret: DEV_BANK.client_secret,
          accredited: true,
          timeout_seconds: 2,
        },
      ],
    });
  });
  after(async () => {
    await f.close();
    await flaky.close();
  });
  beforeEach(() => resetStore(f.h));

  async function loginPage(browser: Browser): Promise<Page> {
    const page = await browser.get(authorizePath());
    expect(page.html).to.include('name="identifier"');
    return page;
  }

  /** A refusal page: the status, the message, a way back to the sign-in, nothing leaked, nobody signed in. */
  function expectRefused(page: Page, status: number, message: string): void {
    expect(page.status, page.html.slice(0, 500)).to.equal(status);
    expect(page.location, 'no redirect to the relying party').to.equal(undefined);
    expect(firstError(page.html)).to.equal(message);
    expectNoLeak(page.html);
    expect(countRows(f.h, 'accounts'), 'no account made').to.equal(0);
  }

  it('says so when the citizen refuses at the bank, with the way back to the sign-in page', async () => {
    const browser = new Browser(f.h);
    const page = await throughBank(browser, f.bank, await loginPage(browser), { refuse: true });
    expectRefused(page, 400, 'Вход через банк «Демо-банк» отменён. Выберите другой способ входа или попробуйте ещё раз.');
    expect(page.html).to.match(/<a href="\/interaction\/[^"]+">Вернуться ко входу<\/a>/);
    // The way back works: the sign-in page of the same interaction.
    const again = await browser.get(page.html.match(/<a href="(\/interaction\/[^"]+)">Вернуться ко входу/)![1]!);
    expect(again.html).to.include('name="identifier"');
  });

  it('answers 502 with a Russian message when the bank does not answer at all', async () => {
    const browser = new Browser(f.h);
    const page = await pressBank(browser, await loginPage(browser), 'downbank');
    expectRefused(page, 502, 'Банк «Спящий банк» сейчас не отвечает. Попробуйте позже или выберите другой способ входа.');
    expect(auditOfType(f.h, 'federation.signin').map((e) => e.details?.reason)).to.deep.equal(['unavailable']);
  });

  it('answers 502 when the bank stops answering while the citizen is there (the code cannot be redeemed)', async () => {
    const browser = new Browser(f.h);
    const started = await pressBank(browser, await loginPage(browser), 'flakybank');
    const callback = await atBank(flaky.url, started.location!, { customer: 'cust-1001' });
    await flaky.close();
    const page = await browser.get(callback);
    expectRefused(page, 502, 'Банк «Нестабильный банк» сейчас не отвечает. Попробуйте позже или выберите другой способ входа.');
  });

  it("refuses a response whose state is not the one sent (and so not this browser's)", async () => {
    const browser = new Browser(f.h);
    const page = await throughBank(browser, f.bank, await loginPage(browser), {
      tamperCallback: (u) => u.searchParams.set('state', 'forged-state-value'),
    });
    expectRefused(
      page,
      400,
      'Ответ банка не удалось связать с этим окном браузера: вход начат в другом окне или устарел. Начните вход заново.',
    );
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const browser = new Browser(f.h);
    const started = await pressBank(browser, await loginPage(browser), 'demobank');
    const callback = await atBank(f.bank.url, started.location!, {
      customer: 'cust-1001',
      tamper: (u) => u.searchParams.set('nonce', 'forged-nonce'),
    });
    const page = await browser.get(callback);
    expectRefused(page, 400, 'Ответ банка «Демо-банк» не прошёл проверку безопасности, вход прерван. Начните вход заново.');
    expect(auditOfType(f.h, 'federation.signin').map((e) => e.details?.detail)).to.deep.equal(['OAUTH_JWT_CLAIM_COMPARISON_FAILED']);
  });

  it('refuses a response that names another issuer', async () => {
    const browser = new Browser(f.h);
    const page = await throughBank(browser, f.bank, await loginPage(browser), {
      tamperCallback: (u) => u.searchParams.set('iss', 'https://evil.example.test'),
    });
    expectRefused(page, 400, 'Ответ банка «Демо-банк» не прошёл проверку безопасности, вход прерван. Начните вход заново.');
    expect(auditOfType(f.h, 'federation.signin').map((e) => e.details?.detail)).to.deep.equal(['OAUTH_INVALID_RESPONSE']);
  });

  it('refuses a response brought to another browser (an intercepted or planted callback)', async () => {
    const victim = new Browser(f.h);
    const started = await pressBank(victim, await loginPage(victim), 'demobank');
    const callback = await atBank(f.bank.url, started.location!, { customer: 'cust-1001' });
    const attacker = new Browser(f.h);
    await loginPage(attacker);
    expectRefused(
      await attacker.get(callback),
      400,
      'Ответ банка не удалось связать с этим окном браузера: вход начат в другом окне или устарел. Начните вход заново.',
    );
  });

  it('accepts a response once: the same callback again is refused', async () => {
    const browser = new Browser(f.h);
    const started = await pressBank(browser, await loginPage(browser), 'demobank');
    const callback = await atBank(f.bank.url, started.location!, { customer: 'cust-1001' });
    const first = await browser.get(callback);
    expect(first.status).to.equal(200);
    expect(first.html, 'signed in: the consent page').to.include('/consent');
    const second = await browser.get(callback);
    expect(second.status).to.equal(400);
    expect(firstError(second.html)).to.include('Ответ банка не удалось связать с этим окном браузера');
  });

  it('accepts a response once even when it comes back twice at the same moment: one goes to the bank, the other is refused', async () => {
    const browser = new Browser(f.h);
    const login = await loginPage(browser);
    const uid = login.url.split('/')[2];
    const started = await pressBank(browser, login, 'demobank');
    const callback = new URL(await atBank(f.bank.url, started.location!, { customer: 'cust-1001' }));
    // Both returns read the round trip before either ends it (as two parallel retries might).
    const release = holdReads(f.h, 'VkhodFlow', 2);
    try {
      const both = await Promise.all([0, 1].map(() => browser.get(`/interaction/${uid}/bank-return${callback.search}`)));
      const refused = both.filter((p) => p.html.includes('Ответ банка не удалось связать с этим окном браузера'));
      expect(refused, both.map((p) => `${p.status} ${p.html.slice(0, 200)}`).join(' | ')).to.have.length(1);
      expect(refused[0].status).to.equal(400);
      expect(
        auditOfType(f.h, 'federation.signin').filter((e) => e.details?.reason && e.details.reason !== 'state'),
        'the bank was asked once: no failed redemption',
      ).to.have.length(0);
    } finally {
      release();
    }
  });

  it("refuses to start a bank sign-in without the form's CSRF token, and for a bank that is not configured", async () => {
    const browser = new Browser(f.h);
    const page = await loginPage(browser);
    const uid = page.url.split('/')[2];
    const noCsrf = await browser.post(`/interaction/${uid}/bank/demobank`, {});
    expect(noCsrf.status).to.equal(403);
    const unknown = await browser.post(`/interaction/${uid}/bank/nobank`, { _csrf: csrfOf(page.html) });
    expect(unknown.status).to.equal(404);
    expect(firstError(unknown.html)).to.equal('Такой банк не подключён к vkhod.');
  });
});
