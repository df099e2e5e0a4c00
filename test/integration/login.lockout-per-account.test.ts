/**
 * Attack: after five wrong passwords through one identifier (the phone), go on guessing through
 * another identifier of the same account (SNILS, e-mail). The lockout covers the account,
 * whichever identifier was typed, and tells the account's contacts once (DESIGN §6); unknown
 * identifiers get exactly the same answers.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, submitPassword } from '../support/flows.ts';
import { auditOfType, createAccount, firstError, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const EMAIL = 'maria.ivanova@example.ru';
const SNILS = '11223344595';
const LOCKED = /^Слишком много неудачных попыток\. Вход временно заблокирован/;

async function attempt(h: Harness, identifier: string, password: string): Promise<Page> {
  const browser = new Browser(h);
  const login = await browser.get(authorizePath());
  return browser.submit(login, '/login', { identifier, password });
}

describe('lockout per account, not per identifier', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '5', VKHOD_LOGIN_LOCKOUT_SECONDS: '600' } });
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  async function accountWithThreeLogins() {
    const account = await createAccount(h, { phone: PHONE, snils: SNILS, snilsVerified: true });
    return h.services.accounts.modify(account.id, (a) => {
      const updated = { ...a, email: EMAIL, emailVerified: true };
      return updated;
    });
  }

  it('five wrong passwords through the phone lock the account: the SNILS and the e-mail are refused too', async () => {
    await accountWithThreeLogins();
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i += 1) statuses.push((await attempt(h, PHONE, `Не-тот-пароль-${i}!`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 429]);

    for (const other of [SNILS, '112-233-445 95', EMAIL]) {
      const page = await attempt(h, other, GOOD_PASSWORD);
      expect(page.status, `the right password through ${other}`).to.equal(429);
      expect(firstError(page.html)).to.match(LOCKED);
    }
    expect(auditOfType(h, 'signin').filter((e) => e.outcome === 'success')).to.have.length(0);
  });

  it('wrong passwords spread over the identifiers add up to one lockout', async () => {
    await accountWithThreeLogins();
    const ids = [PHONE, SNILS, EMAIL, PHONE, SNILS];
    const statuses: number[] = [];
    for (const [i, id] of ids.entries()) statuses.push((await attempt(h, id, `Не-тот-пароль-${i}!`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 429]);
    expect((await submitPassword(new Browser(h), EMAIL)).status).to.equal(429);
  });

  it('tells the account’s confirmed contacts about the lockout, once per lockout', async () => {
    await accountWithThreeLogins();
    for (let i = 1; i <= 8; i += 1) await attempt(h, i % 2 ? PHONE : SNILS, `Не-тот-пароль-${i}!`);
    const notices = h.gateway.sent.filter((m) => /вход в вашу учётную запись временно заблокирован/.test(m.text));
    expect(notices.map((m) => m.to).sort()).to.deep.equal([EMAIL, PHONE].sort());
  });

  it('unknown identifiers get the same statuses and texts, also once locked', async () => {
    await accountWithThreeLogins();
    const known: Page[] = [];
    const unknown: Page[] = [];
    for (let i = 1; i <= 7; i += 1) {
      known.push(await attempt(h, i % 2 ? PHONE : SNILS, `Не-тот-пароль-${i}!`));
      unknown.push(await attempt(h, 'nobody@example.ru', `Не-тот-пароль-${i}!`));
    }
    expect(unknown.map((p) => p.status)).to.deep.equal(known.map((p) => p.status));
    expect(unknown.map((p) => firstError(p.html))).to.deep.equal(known.map((p) => firstError(p.html)));
    expect(h.gateway.sent.filter((m) => m.to === 'nobody@example.ru')).to.have.length(0);
  });

  it('a right password through another identifier before the limit still signs in and clears the count', async () => {
    await accountWithThreeLogins();
    for (let i = 1; i <= 4; i += 1) await attempt(h, PHONE, `Не-тот-пароль-${i}!`);
    const ok = await submitPassword(new Browser(h), SNILS);
    expect(ok.status).to.be.oneOf([200, 302, 303]);
    expect(ok.html + (ok.location ?? '')).to.not.match(LOCKED);
    expect((await attempt(h, EMAIL, 'Не-тот-пароль-9!')).status).to.equal(401);
  });
});
