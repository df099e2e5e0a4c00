/**
 * `urn:esia:sbj` rides on `openid`: its `nam` must not hand an ESIA-compatible client the
 * citizen's name without the consent to the name (`fullname`). Without it, `nam` is a pseudonym.
 */
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce } from '../support/flows.ts';
import { defaultClients, startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const SBJ = 'urn:esia:sbj';

describe('urn:esia:sbj: the name only with the fullname consent', function () {
  let h: Harness;
  let accountId: string;
  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        {
          client_id: 'rp-esia',
          client_name: 'Сервис ЕСИА',
          client_secret: TEST_SECRET,
          redirect_uris: [TEST_REDIRECT],
          scope: 'openid fullname snils',
          vkhod_esia_compat: true,
        },
      ],
    });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } })).id;
  });

  async function sbj(scope: string): Promise<{ idToken: Record<string, unknown>; userinfo: Record<string, unknown> }> {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    let page = await browser.get(authorizePath({ client_id: 'rp-esia', scope }, challenge));
    page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    if (!page.location && page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
    const res = await request(h.url)
      .post('/token')
      .auth('rp-esia', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code: codeFrom(page.location), redirect_uri: TEST_REDIRECT, code_verifier: verifier });
    expect(res.status, res.text).to.equal(200);
    const userinfo = await request(h.url).get('/me').set('authorization', `Bearer ${res.body.access_token}`);
    return {
      idToken: (decodeJwt(res.body.id_token as string) as Record<string, unknown>)[SBJ] as Record<string, unknown>,
      userinfo: userinfo.body[SBJ],
    };
  }

  it('without the fullname consent nam is a pseudonym, in the ID token and at userinfo', async () => {
    for (const scope of ['openid', 'openid snils']) {
      const { idToken, userinfo } = await sbj(scope);
      expect(idToken, scope).to.include({ typ: 'P', oid: accountId, lvl: 'S' });
      expect(String(idToken.nam), scope).to.not.include('Иванова').and.not.include('Мария');
      expect(idToken.nam, scope).to.match(/^user-[0-9a-f]+$/);
      expect(userinfo, scope).to.deep.equal(idToken);
    }
  });

  it('the pseudonym is stable for the account', async () => {
    expect((await sbj('openid')).idToken.nam).to.equal((await sbj('openid')).idToken.nam);
  });

  it('with the fullname consent nam is the full name', async () => {
    const { idToken, userinfo } = await sbj('openid fullname');
    expect(idToken).to.deep.equal({ typ: 'P', oid: accountId, nam: 'Иванова Мария', lvl: 'S' });
    expect(userinfo).to.deep.equal(idToken);
  });
});
