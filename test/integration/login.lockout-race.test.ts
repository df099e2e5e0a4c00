/**
 * Attack: fire many wrong passwords (or second-factor codes) in parallel so that all of them are
 * checked before any is counted. The attempt is reserved against the lockout before the secret
 * is checked (DESIGN §6), so at most the limit are ever checked, however many arrive at once.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, GOOD_PASSWORD, submitPassword, totpCode } from '../support/flows.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const LIMIT = 5;

describe('lockout without a race: parallel guesses are reserved before they are checked', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: String(LIMIT), VKHOD_LOGIN_LOCKOUT_SECONDS: '600' } });
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  it('50 parallel wrong passwords: at most 5 are checked, the rest are refused as locked', async () => {
    await createAccount(h, { phone: PHONE });
    const pages: Array<{ browser: Browser; page: Page }> = [];
    for (let i = 0; i < 50; i += 1) {
      const browser = new Browser(h);
      pages.push({ browser, page: await browser.get(authorizePath()) });
    }
    const answers = await Promise.all(
      pages.map(({ browser, page }, i) => browser.submit(page, '/login', { identifier: PHONE, password: `Не-тот-пароль-${i}!` })),
    );

    const checked = auditOfType(h, 'signin.password').filter((e) => e.details?.reason === 'wrong_password');
    expect(checked, 'passwords checked against the hash').to.have.length(LIMIT);
    expect(
      answers.filter((p) => p.status === 401),
      '"wrong password" answers',
    ).to.have.length(LIMIT - 1);
    expect(
      answers.filter((p) => p.status === 429),
      '"locked" answers',
    ).to.have.length(50 - (LIMIT - 1));

    const right = await submitPassword(new Browser(h), PHONE);
    expect(right.status, 'the right password after the lockout').to.equal(429);
  });

  it('8 parallel right passwords (a form sent again and again): all sign in, none is refused as locked', async () => {
    await createAccount(h, { phone: PHONE });
    const pages: Array<{ browser: Browser; page: Page }> = [];
    for (let i = 0; i < 8; i += 1) {
      const browser = new Browser(h);
      pages.push({ browser, page: await browser.get(authorizePath()) });
    }
    const answers = await Promise.all(
      pages.map(({ browser, page }) => browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD })),
    );
    expect(answers.map((p) => p.status)).to.not.include(429);
    expect(answers.filter((p) => p.location?.includes('code=') || p.html.includes('/consent'))).to.have.length(8);
  });

  it('30 parallel wrong app codes at the second step: at most 5 are checked', async () => {
    const account = await createAccount(h, { phone: PHONE });
    const secret = await addTotp(h, account.id, { mfa: true });
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    const good = Number(await totpCode(secret));
    const wrong = (i: number) => String((good + 1000 + i * 7919) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => browser.submit(mfa, '/mfa/verify', { code: wrong(i) })));

    const checked = auditOfType(h, 'signin.second_factor').filter((e) => e.outcome === 'failure');
    expect(checked, 'codes checked').to.have.length(LIMIT);
    expect(answers.filter((p) => p.status === 429)).to.have.length(30 - (LIMIT - 1));
    const notices = h.gateway.sent.filter((m) => m.to === PHONE && /временно заблокирован/.test(m.text));
    expect(notices, 'the lockout is told to the account’s phone once').to.have.length(1);
  });
});
