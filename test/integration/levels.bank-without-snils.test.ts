/**
 * The attack: a bank customer for whom the bank holds no SNILS types someone else's SNILS into their
 * account, links the bank, and the account became `confirmed` — acr confirmed, is_tru, that SNILS in
 * userinfo as verified. A bank vouches only for what it returned: the SNILS stays unverified, the
 * level does not rise, and the citizen is told which item the bank could not confirm.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, type Page } from '../support/browser.ts';
import { defaultClients } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, openCabinet, passConsent, pkce, redeem } from '../support/flows.ts';
import { atBank, startFederation, throughBank, type FederationSetup } from '../support/federation.ts';
import { auditOfType, createAccount, resetStore } from './fixtures.ts';

const SCOPE = 'openid profile snils id_doc phone email';
/** Иван Петров's SNILS (a customer of the bank, and a certificate holder): the one typed in. */
const SOMEONE_ELSES_SNILS = '11223344595';
/** Кузнецов: the development bank's customer without a SNILS (cust-1003). */
const KUZNETSOV = { family: 'Кузнецов', given: 'Алексей', middle: 'Викторович' };
const KUZNETSOV_DATA = {
  birthDate: '1978-11-02',
  gender: 'male' as const,
  birthPlace: 'гор. Ленинград',
  passport: {
    series: '4003',
    number: '112233',
    issueDate: '2003-02-10',
    issuer: 'Отделом милиции № 12 г. Санкт-Петербурга',
    departmentCode: '780-012',
  },
};

describe('levels: a bank that returns no SNILS does not confirm a SNILS typed in', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation({ clients: [{ ...(defaultClients()[0] as object), scope: SCOPE, vkhod_esia_compat: true }] });
  });
  after(() => f.close());
  beforeEach(() => resetStore(f.h));

  async function squatter() {
    const account = await createAccount(f.h, { phone: '+79120000081', name: KUZNETSOV });
    return f.h.services.levels.saveIdentity(account.id, { snils: SOMEONE_ELSES_SNILS, identity: KUZNETSOV_DATA });
  }

  it('sign-in: bank link after the password — acr not confirmed, no is_tru, the SNILS not among verified_claims', async () => {
    const account = await squatter();
    const browser = new Browser(f.h);
    const { verifier, challenge } = pkce();
    const login: Page = await browser.get(authorizePath({ scope: SCOPE }, challenge));
    const held = await throughBank(browser, f.bank, login, { customer: 'cust-1003' });
    expect(held.url).to.match(/\/bank-link$/);
    const done = await passConsent(browser, await browser.submit(held, '/bank-link', { method: 'password', secret: GOOD_PASSWORD }));
    const { claims, body } = await redeem(f.h, done.location, verifier);
    expect(claims.sub).to.equal(account.id);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified');
    expect(claims.account_level).to.equal('simplified');

    const userinfo = (await request(f.h.url).get('/me').set('authorization', `Bearer ${body.access_token}`)).body as Record<
      string,
      unknown
    >;
    expect(userinfo.account_level).to.equal('simplified');
    expect(userinfo['urn:esia:sbj']).to.be.an('object').and.not.have.property('urn:esia:sbj:is_tru');
    const verified = (userinfo.verified_claims ?? []) as Array<{ claims: Record<string, unknown> }>;
    expect(
      verified.flatMap((v) => Object.keys(v.claims)),
      'the bank vouched for the name, birth date and passport it returned',
    ).to.include.members(['family_name', 'birthdate', 'id_document']);
    expect(
      verified.some((v) => 'snils' in v.claims),
      'the SNILS typed in is not presented as verified',
    ).to.equal(false);

    const stored = (await f.h.services.accounts.findActive(account.id))!;
    expect(stored.level).to.equal('simplified');
    expect(await f.h.services.accounts.findByKey({ kind: 'snils', value: SOMEONE_ELSES_SNILS }), 'not a verified (unique) SNILS').to.equal(
      undefined,
    );
    expect(auditOfType(f.h, 'level.not_confirmed').at(-1)!.details).to.deep.include({ method: 'bank', missing: ['snils'] });
  });

  it('cabinet: linking the bank says the SNILS could not be confirmed, and the level stays', async () => {
    const account = await squatter();
    const browser = new Browser(f.h);
    const page = await openCabinet(browser, '/account/federation', '+79120000081');
    const started = await browser.submit(page, '/account/federation/banks/demobank/link', {});
    const result = await browser.get(await atBank(f.bank.url, started.location!, { customer: 'cust-1003' }));
    expect(result.html).to.include('Учётная запись пока не подтверждена');
    expect(result.html).to.match(/id="unconfirmed">[^<]*не может подтвердить: СНИЛС\./);
    expect((await f.h.services.accounts.findActive(account.id))!.level).to.equal('simplified');
  });

  it("the same bank confirms once the registry has checked the SNILS (the citizen's own)", async () => {
    const account = await createAccount(f.h, { phone: '+79120000082', name: KUZNETSOV });
    await f.h.services.levels.saveIdentity(account.id, { snils: '15678901211', identity: KUZNETSOV_DATA });
    expect((await f.h.services.levels.requestStandard(account.id)).level).to.equal('standard');
    const browser = new Browser(f.h);
    const { verifier, challenge } = pkce();
    const held = await throughBank(browser, f.bank, await browser.get(authorizePath({ scope: SCOPE }, challenge)), {
      customer: 'cust-1003',
    });
    const done = await passConsent(browser, await browser.submit(held, '/bank-link', { method: 'password', secret: GOOD_PASSWORD }));
    expect((await redeem(f.h, done.location, verifier)).claims.acr).to.equal('urn:vkhod:loa:confirmed');
  });
});
