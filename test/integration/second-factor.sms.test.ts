/**
 * An SMS code to the confirmed mobile as the second factor, with the limits of every one-time
 * code (DESIGN §6): 6 digits, 5 minutes, 3 wrong tries per code, 3 sends per 10 minutes.
 */
import { expect } from 'chai';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import { auditOfType, createAccount, expireChallenge, firstError } from './fixtures.ts';

const PHONE = '+79123456789';

/** The pending second step behind an /interaction/:uid/mfa page. */
async function pendingOf(h: Harness, page: Page): Promise<{ challengeId?: string }> {
  const uid = page.url.match(/^\/interaction\/([^/?]+)\/mfa/)![1]!;
  const pending = await h.services.store.oidcAdapter('VkhodFlow').find(`mfa.${uid}`);
  expect(pending, 'the pending sign-in').to.be.an('object');
  return pending as { challengeId?: string };
}

describe('second factor: SMS code', function () {
  let h: Harness;
  let accountId: string;
  beforeEach(async () => {
    h = await startHarness();
    const account = await createAccount(h, { phone: PHONE });
    accountId = account.id;
    await h.services.accounts.modify(account.id, (a) => ({ ...a, mfa: { enabled: true, preferred: 'sms' } }));
  });
  afterEach(() => h.close());

  /** Password, then "send the code": the page with the code form. */
  async function untilCode(browser: Browser, authorize = authorizePath()): Promise<Page> {
    const mfa = await submitPassword(browser, PHONE, authorize);
    expect(mfa.url).to.match(/\/mfa$/);
    expect(mfa.html).to.include('Отправить код на');
    expect(mfa.html, 'the number is masked').to.not.include('345-67');
    expect(mfa.html, 'no code is sent before the citizen asks').to.not.include('name="code"');
    const before = h.gateway.sent.length;
    const page = await browser.submit(mfa, '/mfa/sms/send', {});
    expect(page.status, page.html).to.equal(200);
    expect(h.gateway.sent.length).to.equal(before + 1);
    expect(page.html).to.include('name="code"');
    return page;
  }

  it('sends a 6-digit code to the confirmed mobile; the right code signs in with amr pwd + sms', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const page = await untilCode(browser, authorizePath({}, challenge));
    const message = h.gateway.last(PHONE)!;
    expect(message.text).to.match(/^vkhod: код подтверждения входа \d{6}\. Никому не сообщайте его\.$/);
    const rp = await passConsent(browser, await browser.submit(page, '/mfa/verify', { code: h.gateway.code(PHONE) }));
    const { claims } = await redeem(h, rp.location, verifier);
    expect(claims.sub).to.equal(accountId);
    expect(claims.amr).to.have.members(['pwd', 'sms', 'mfa']);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
  });

  it('refuses a wrong code; after 3 wrong tries the code is dead, a new one works', async () => {
    const browser = new Browser(h);
    const page = await untilCode(browser);
    const good = h.gateway.code(PHONE);
    const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
    const first = await browser.submit(page, '/mfa/verify', { code: wrong });
    expect(first.status).to.equal(400);
    expect(firstError(first.html)).to.equal('Код не подошёл. Проверьте и введите ещё раз.');
    await browser.submit(page, '/mfa/verify', { code: wrong });
    const third = await browser.submit(page, '/mfa/verify', { code: wrong });
    expect(firstError(third.html)).to.equal('Код введён неверно слишком много раз. Запросите новый код.');
    const late = await browser.submit(page, '/mfa/verify', { code: good });
    expect(late.status, 'the right code of an exhausted challenge').to.equal(400);
    expect(late.location).to.equal(undefined);

    const resent = await browser.submit(late, '/mfa/sms/send', {});
    const fresh = h.gateway.code(PHONE);
    const rp = await passConsent(browser, await browser.submit(resent, '/mfa/verify', { code: fresh }));
    expect(rp.location).to.match(/[?&]code=/);
    expect(auditOfType(h, 'signin.second_factor').filter((e) => e.accountId === accountId)).to.have.length(4);
  });

  it('refuses an expired code', async () => {
    const browser = new Browser(h);
    const page = await untilCode(browser);
    const { challengeId } = await pendingOf(h, page);
    expireChallenge(h, challengeId!);
    const refused = await browser.submit(page, '/mfa/verify', { code: h.gateway.code(PHONE) });
    expect(refused.status).to.equal(400);
    expect(refused.location).to.equal(undefined);
    expect(firstError(refused.html)).to.equal('Срок действия кода истёк. Запросите новый код.');
  });

  it('a code answers only its own sign-in: a code sent to another pending sign-in is refused here', async () => {
    const mine = new Browser(h);
    const page = await untilCode(mine);
    const other = new Browser(h);
    await untilCode(other);
    // The newest SMS belongs to the other browser's sign-in.
    const refused = await mine.submit(page, '/mfa/verify', { code: h.gateway.code(PHONE) });
    expect(refused.status).to.equal(400);
    expect(refused.location).to.equal(undefined);
  });

  it('sends at most 3 codes per 10 minutes to a number', async () => {
    const browser = new Browser(h);
    let page = await untilCode(browser);
    page = await browser.submit(page, '/mfa/sms/send', {});
    page = await browser.submit(page, '/mfa/sms/send', {});
    expect(h.gateway.sent.filter((m) => m.to === PHONE)).to.have.length(3);
    const limited = await browser.submit(page, '/mfa/sms/send', {});
    expect(limited.status).to.equal(429);
    expect(firstError(limited.html)).to.match(/^Коды отправлялись слишком часто\. Следующий можно запросить через \d+ мин\.$/);
    expect(h.gateway.sent.filter((m) => m.to === PHONE)).to.have.length(3);
    // The last code sent still works.
    const rp = await passConsent(browser, await browser.submit(page, '/mfa/verify', { code: h.gateway.code(PHONE) }));
    expect(rp.location).to.match(/[?&]code=/);
  });

  it('says so when the SMS gateway is down, and lets the citizen try again', async () => {
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE);
    h.gateway.failing = true;
    const failed = await browser.submit(mfa, '/mfa/sms/send', {});
    expect(failed.status).to.equal(503);
    expect(firstError(failed.html)).to.equal('Не удалось отправить сообщение. Попробуйте ещё раз через несколько минут.');
    h.gateway.failing = false;
    const page = await browser.submit(failed, '/mfa/sms/send', {});
    const rp = await passConsent(browser, await browser.submit(page, '/mfa/verify', { code: h.gateway.code(PHONE) }));
    expect(rp.location).to.match(/[?&]code=/);
  });
});
