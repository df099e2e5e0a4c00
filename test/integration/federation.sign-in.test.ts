/**
 * Sign-in through a bank, end to end against the development bank (a real node-oidc-provider;
 * openid-client on vkhod's side): a new customer gets an account made from the bank's data and an
 * accredited bank confirms it; the next time the link signs them in; a customer whose data matches
 * an existing account links it after the account's password; a non-accredited bank only signs in.
 */
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { Browser, type Page } from '../support/browser.ts';
import { defaultClients } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, passConsent, pkce, redeem } from '../support/flows.ts';
import { startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { auditOfType, countRows, createAccount, firstError, resetStore } from './fixtures.ts';

const CONFIRMED = 'urn:vkhod:loa:confirmed';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';
const IVAN_SNILS = '11223344595';

describe('federation: sign-in through a bank', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation({ clients: [{ ...(defaultClients()[0] as object), scope: 'openid profile snils id_doc phone email' }] });
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  /** Opens the relying party's authorization request; returns the sign-in page and the PKCE verifier. */
  async function login(browser: Browser, params: Record<string, string> = {}): Promise<{ page: Page; verifier: string }> {
    const { verifier, challenge } = pkce();
    const page = await browser.get(authorizePath({ scope: 'openid profile snils id_doc phone email', ...params }, challenge));
    expect(page.html, 'the sign-in page').to.include('name="identifier"');
    return { page, verifier };
  }

  it('shows a button per configured bank on the sign-in page, each a POST with the CSRF token', async () => {
    const { page } = await login(new Browser(f.h));
    for (const [id, name] of [
      ['demobank', 'Демо-банк'],
      ['otherbank', 'Другой банк'],
      ['downbank', 'Спящий банк'],
    ]) {
      expect(page.html).to.match(new RegExp(`<form method="post" action="/interaction/[^/"]+/bank/${id}">`));
      expect(page.html).to.include(`Войти через ${name}`);
    }
  });

  it("creates a confirmed account from an accredited bank's data for a new customer, with amr fed and acr confirmed", async () => {
    const browser = new Browser(f.h);
    const { page, verifier } = await login(browser);
    const back = await throughBank(browser, f.bank, page, { customer: 'cust-1001' });
    const done = await passConsent(browser, back);
    const { claims, body } = await redeem(f.h, done.location, verifier);
    expect(claims.amr).to.deep.equal(['fed']);
    expect(claims.acr).to.equal(CONFIRMED);

    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1001' }))!;
    expect(account, 'the account is linked to the bank subject').to.be.an('object');
    expect(claims.sub).to.equal(account.id);
    expect(account.level).to.equal('confirmed');
    expect(account.name).to.deep.equal({ family: 'Петров', given: 'Иван', middle: 'Сергеевич' });
    expect(account.snils).to.equal(IVAN_SNILS);
    expect(account.identity?.birthDate).to.equal('1985-03-14');
    expect(account.identity?.passport).to.deep.include({ series: '4510', number: '123456', departmentCode: '770-001' });
    expect(account.passwordHash, 'no password: the bank is the way in').to.equal(undefined);
    // Contacts the bank says are verified become the account's confirmed contacts.
    expect([account.phone, account.phoneVerified, account.email, account.emailVerified]).to.deep.equal([
      '+79161234567',
      true,
      'ivan.petrov@example.ru',
      true,
    ]);
    const [event] = account.verifications!;
    expect(event).to.deep.include({ method: 'bank', level: 'confirmed', actor: 'bank:demobank' });
    expect(event!.evidence).to.deep.include({ bank: 'demobank', subject: 'cust-1001' });
    expect(event!.evidence.claims).to.include.members(['family_name', 'snils', 'passport', 'birthdate']);
    expect(event!.items).to.include.members(['name', 'birthdate', 'snils', 'id_doc']);

    // The relying party gets the data as verified claims, with the bank as evidence.
    const userinfo = await browser.agent.get('/me').set('authorization', `Bearer ${body.access_token}`);
    expect(userinfo.status).to.equal(200);
    expect(userinfo.body.snils).to.equal('112-233-445 95');
    const verified = userinfo.body.verified_claims as Array<{
      verification: { evidence: Array<{ record?: { source?: { name?: string } } }> };
    }>;
    expect(verified[0]!.verification.evidence[0]!.record!.source!.name).to.equal('demobank');
    expect(auditOfType(f.h, 'account.registered')[0]!.details).to.deep.equal({ via: 'bank:demobank', level: 'simplified' });
  });

  it('signs a linked customer in again through the link, without a second account', async () => {
    const first = new Browser(f.h);
    await passConsent(first, await throughBank(first, f.bank, (await login(first)).page, { customer: 'cust-1001' }));
    const accounts = countRows(f.h, 'accounts');

    const again = new Browser(f.h);
    const { page, verifier } = await login(again);
    const done = await passConsent(again, await throughBank(again, f.bank, page, { customer: 'cust-1001' }));
    const { claims } = await redeem(f.h, done.location, verifier);
    expect(countRows(f.h, 'accounts')).to.equal(accounts);
    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1001' }))!;
    expect(claims.sub).to.equal(account.id);
    expect(account.verifications, 'the same data is not confirmed twice').to.have.length(1);
  });

  it('links an existing account whose SNILS matches only after its password, then confirms it', async () => {
    const existing = await createAccount(f.h, {
      phone: '+79120000001',
      snils: IVAN_SNILS,
      name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
    });
    const browser = new Browser(f.h);
    const { page, verifier } = await login(browser);
    const confirm = await throughBank(browser, f.bank, page, { customer: 'cust-1001' });
    expect(confirm.url).to.match(/\/bank-link$/);
    expect(confirm.html).to.include('Это ваша учётная запись?');
    expect(confirm.html).to.include('Петров И.');
    expect(confirm.html, 'no double stop after the initial').to.not.match(/И\.\./);
    expect(confirm.html).to.include('+7 912 ***-**-01');

    const wrong = await browser.submit(confirm, '/bank-link', { method: 'password', secret: 'Не-тот-пароль-1!' });
    expect(wrong.status).to.equal(400);
    expect(firstError(wrong.html)).to.equal('Неверный пароль. Проверьте раскладку клавиатуры и Caps Lock.');
    expect((await f.h.services.accounts.findActive(existing.id))!.federations, 'nothing linked yet').to.equal(undefined);

    const done = await passConsent(browser, await browser.submit(wrong, '/bank-link', { method: 'password', secret: GOOD_PASSWORD }));
    const { claims } = await redeem(f.h, done.location, verifier);
    expect(claims.sub).to.equal(existing.id);
    expect(claims.amr).to.deep.equal(['fed', 'pwd']);
    expect(claims.acr).to.equal(CONFIRMED);
    const account = (await f.h.services.accounts.findActive(existing.id))!;
    expect(account.federations?.map((l) => [l.provider, l.subject])).to.deep.equal([['demobank', 'cust-1001']]);
    expect(account.level).to.equal('confirmed');
    expect(account.identity?.passport?.number, "the bank's data is stored before it is confirmed").to.equal('123456');
    expect(account.phone, 'the account keeps its own contact').to.equal('+79120000001');
    expect(countRows(f.h, 'accounts')).to.equal(1);
    expect(auditOfType(f.h, 'federation.link').map((e) => e.outcome)).to.deep.equal(['failure']);
    expect(auditOfType(f.h, 'federation.linked').map((e) => e.accountId)).to.deep.equal([existing.id]);
    expect(f.h.gateway.last('+79120000001')?.text).to.include('привязан банк «Демо-банк»');
  });

  it('a bank whose person has another name is linked for signing in but does not confirm or rename the account (as the cabinet refuses it)', async () => {
    const existing = await createAccount(f.h, {
      phone: '+79120000002',
      snils: IVAN_SNILS,
      name: { family: 'Петров', given: 'Пётр', middle: 'Сергеевич' },
    });
    const browser = new Browser(f.h);
    const { page } = await login(browser);
    const confirm = await throughBank(browser, f.bank, page, { customer: 'cust-1001' });
    expect(confirm.url).to.match(/\/bank-link$/);
    await passConsent(browser, await browser.submit(confirm, '/bank-link', { method: 'password', secret: GOOD_PASSWORD }));
    const account = (await f.h.services.accounts.findActive(existing.id))!;
    expect(account.name, 'not renamed to the bank’s Ivan (it was before)').to.deep.equal({
      family: 'Петров',
      given: 'Пётр',
      middle: 'Сергеевич',
    });
    expect(account.level).to.equal('simplified');
    expect((account.verifications ?? []).map((v) => v.method)).to.not.include('bank');
    expect(account.federations?.map((l) => l.provider)).to.deep.equal(['demobank']);
  });

  it("an attacker who typed a customer's name and SNILS into their own account cannot capture the customer's bank sign-in", async () => {
    // The attacker registers and types the victim's name and SNILS (unverified: nobody checked them).
    const attacker = await createAccount(f.h, {
      phone: '+79120000066',
      snils: IVAN_SNILS,
      name: { family: 'Петров', given: 'Иван', middle: 'Сергеевич' },
      password: 'Чужой-Пароль-77!',
    });
    // The victim signs in through their bank, which knows their SNILS for certain.
    const victim = new Browser(f.h);
    const held = await throughBank(victim, f.bank, (await login(victim)).page, { customer: 'cust-1001' });
    expect(held.url, 'the bank alone does not sign in to the account with that SNILS').to.match(/\/bank-link$/);
    expect(held.location).to.equal(undefined);
    // Nothing the victim knows proves the attacker's account: their own password, a guessed code.
    const password = await victim.submit(held, '/bank-link', { method: 'password', secret: GOOD_PASSWORD });
    expect(password.status).to.equal(400);
    const sent = await victim.submit(password, '/bank-link/sms', {});
    expect(f.h.gateway.last('+79120000066'), "a code goes to the account's own phone, not to the victim").to.be.an('object');
    const guessed = await victim.submit(sent, '/bank-link', {
      method: 'sms',
      secret: f.h.gateway.code('+79120000066') === '000000' ? '111111' : '000000',
    });
    expect(guessed.status).to.equal(400);
    expect(guessed.location).to.equal(undefined);
    expect(
      (await victim.submit(guessed, '/bank-link', { method: 'totp', secret: '123456' })).status,
      'no authenticator app to try',
    ).to.equal(400);

    const account = (await f.h.services.accounts.findActive(attacker.id))!;
    expect(account.federations, "the bank is not linked to the attacker's account").to.equal(undefined);
    expect(account.level, "nor is it raised with the victim's identity").to.equal('simplified');
    expect(account.verifications ?? []).to.deep.equal([]);
    expect(account.identity?.passport).to.equal(undefined);
    expect(await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1001' })).to.equal(undefined);
    expect(
      auditOfType(f.h, 'signin').filter((e) => e.outcome === 'success'),
      'no sign-in',
    ).to.deep.equal([]);
    expect(auditOfType(f.h, 'federation.link').map((e) => e.outcome)).to.deep.equal(['failure', 'failure']);
    expect(countRows(f.h, 'accounts')).to.equal(1);
  });

  it('matches by passport, name and birth date when the bank gives no SNILS', async () => {
    const existing = await createAccount(f.h, {
      phone: '+79120000002',
      name: { family: 'Кузнецов', given: 'Алексей', middle: 'Викторович' },
    });
    await f.h.services.levels.saveIdentity(existing.id, {
      identity: {
        birthDate: '1978-11-02',
        passport: {
          series: '4003',
          number: '112233',
          issueDate: '2003-02-10',
          issuer: 'Отделом милиции № 12 г. Санкт-Петербурга',
          departmentCode: '780-012',
        },
      },
    });
    const browser = new Browser(f.h);
    const confirm = await throughBank(browser, f.bank, (await login(browser)).page, { customer: 'cust-1003' });
    expect(confirm.url).to.match(/\/bank-link$/);
    const done = await passConsent(browser, await browser.submit(confirm, '/bank-link', { method: 'password', secret: GOOD_PASSWORD }));
    expect(done.location).to.match(/code=/);
    expect((await f.h.services.accounts.findActive(existing.id))!.federations?.[0]?.subject).to.equal('cust-1003');
  });

  it('with a bank that is not accredited: signs in and makes an account, but confirms nothing', async () => {
    const browser = new Browser(f.h);
    const { page, verifier } = await login(browser);
    const done = await passConsent(browser, await throughBank(browser, f.bank, page, { bankId: 'otherbank', customer: 'cust-1002' }));
    const { claims } = await redeem(f.h, done.location, verifier);
    expect(claims.amr).to.deep.equal(['fed']);
    expect(claims.acr).to.equal(SIMPLIFIED);
    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:otherbank', value: 'cust-1002' }))!;
    expect(account.level).to.equal('simplified');
    expect(account.verifications ?? []).to.deep.equal([]);
    expect([account.phone, account.phoneVerified]).to.deep.equal(['+79031112233', true]);
    expect(account.email, 'an e-mail the bank has not verified is not taken').to.equal(undefined);
    // The same person through the accredited bank is the same account (SNILS), after confirmation.
    expect(decodeJwt((await redeemAgain())!).sub).to.equal(account.id);

    async function redeemAgain(): Promise<string | undefined> {
      const other = new Browser(f.h);
      const start = await login(other);
      const link = await throughBank(other, f.bank, start.page, { bankId: 'demobank', customer: 'cust-1002' });
      expect(link.url).to.match(/\/bank-link$/);
      expect(link.html, 'no password to confirm with: an SMS code to the verified phone').to.include('/bank-link/sms');
      const sent = await other.submit(link, '/bank-link/sms', {});
      const code = f.h.gateway.code('+79031112233');
      const finished = await passConsent(other, await other.submit(sent, '/bank-link', { method: 'sms', secret: code }));
      const { claims: c2, body } = await redeem(f.h, finished.location, start.verifier);
      // The bank and a code to the phone are two factors of different kinds.
      expect(c2.acr).to.equal(`${CONFIRMED}-mfa`);
      expect(c2.amr).to.deep.equal(['fed', 'sms', 'mfa']);
      return body.id_token as string;
    }
  });

  it('asks for the second factor after the bank when the account has sign-in with confirmation on', async () => {
    const first = new Browser(f.h);
    await passConsent(first, await throughBank(first, f.bank, (await login(first)).page, { customer: 'cust-1001' }));
    const account = (await f.h.services.accounts.findByKey({ kind: 'fed:demobank', value: 'cust-1001' }))!;
    await f.h.services.accounts.modify(account.id, (a) => ({ ...a, mfa: { enabled: true, preferred: 'sms' } }));
    const browser = new Browser(f.h);
    const next = await throughBank(browser, f.bank, (await login(browser)).page, { customer: 'cust-1001' });
    expect(next.url).to.match(/\/mfa$/);
  });
});
