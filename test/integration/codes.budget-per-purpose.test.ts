/**
 * Attack: flood /register and /recover with a citizen's phone number so that the per-recipient
 * send budget is spent and the citizen's own SMS second factor is refused ("too many codes").
 * Code budgets are per purpose and recipient (DESIGN §6): anonymous floods spend only their own.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { submitPassword } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

async function anonymousCode(h: Harness, start: '/register' | '/recover'): Promise<Page> {
  const browser = new Browser(h);
  const page = await browser.get(start);
  return browser.submit(page, start.slice(1), { contact: PHONE });
}

describe('code budgets per purpose', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    const account = await createAccount(h, { phone: PHONE });
    await h.services.accounts.modify(account.id, (a) => ({ ...a, mfa: { enabled: true, preferred: 'sms' } }));
  });
  afterEach(() => h.close());

  it('the account holder’s SMS second factor still works while someone floods /register and /recover with the number', async () => {
    const flood: number[] = [];
    for (let i = 0; i < 5; i += 1) flood.push((await anonymousCode(h, '/register')).status, (await anonymousCode(h, '/recover')).status);
    expect(
      flood.filter((s) => s === 429),
      'the floods themselves are limited',
    ).to.have.length.greaterThan(0);

    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    expect(mfa.url).to.match(/\/mfa$/);
    const sent = await browser.submit(mfa, '/mfa/sms/send', {});
    expect(sent.status, 'the second-factor code is sent').to.equal(200);
    expect(sent.html).to.include('name="code"');
    const done = await browser.submit(sent, '/mfa/verify', { code: h.gateway.code(PHONE) });
    expect(done.status).to.be.oneOf([200, 302, 303]);
    expect(done.html + (done.location ?? '')).to.not.include('name="code"');
  });

  it('each purpose keeps its own limit of 3 sends per 10 minutes for the recipient', async () => {
    const register: number[] = [];
    for (let i = 0; i < 4; i += 1) register.push((await anonymousCode(h, '/register')).status);
    expect(register).to.deep.equal([200, 200, 200, 429]);
    const recover: number[] = [];
    for (let i = 0; i < 4; i += 1) recover.push((await anonymousCode(h, '/recover')).status);
    expect(recover).to.deep.equal([200, 200, 200, 429]);
  });
});
