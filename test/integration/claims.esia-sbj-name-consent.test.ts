/**
 * `urn:esia:sbj` rides on `openid`: it must not hand an ESIA-compatible client the citizen's name
 * at all — ESIA's `urn:esia:sbj:nam` is the pseudonym "OID.<oid>", the name comes only with the
 * `fullname` consent, as its own claims. (Before issue 13 `nam` was the full name with `fullname`
 * and a `user-…` pseudonym otherwise, in a shape ESIA does not use.)
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

describe('urn:esia:sbj: ESIA’s shape, a pseudonym, never the name', function () {
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

  async function sbj(
    scope: string,
  ): Promise<{ idToken: Record<string, unknown>; userinfo: Record<string, unknown>; id: Record<string, unknown> }> {
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
    const id = decodeJwt(res.body.id_token as string) as Record<string, unknown>;
    return { idToken: id[SBJ] as Record<string, unknown>, userinfo: userinfo.body[SBJ], id };
  }

  it('without or with the fullname consent, nam is the pseudonym OID.<oid>, in the ID token and at userinfo', async () => {
    const oid = await h.services.store.esia.oidOf(accountId);
    for (const scope of ['openid', 'openid snils', 'openid fullname']) {
      const { idToken, userinfo } = await sbj(scope);
      expect(idToken, scope).to.deep.equal({ 'urn:esia:sbj:typ': 'P', 'urn:esia:sbj:oid': oid, 'urn:esia:sbj:nam': `OID.${oid}` });
      expect(JSON.stringify(idToken), scope).to.not.include('Иванова').and.not.include('Мария');
      expect(userinfo, scope).to.deep.equal(idToken);
    }
  });

  it('the oid is numeric and stable for the account, and sub stays the account id', async () => {
    const first = await sbj('openid');
    const second = await sbj('openid');
    expect(first.idToken['urn:esia:sbj:oid']).to.be.a('number').and.equal(second.idToken['urn:esia:sbj:oid']);
    expect(first.id.sub).to.equal(accountId);
  });

  it('the name itself comes with the fullname consent, as its own claims', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    let page = await browser.get(authorizePath({ client_id: 'rp-esia', scope: 'openid fullname' }, challenge));
    page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    if (!page.location && page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
    const res = await request(h.url)
      .post('/token')
      .auth('rp-esia', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code: codeFrom(page.location), redirect_uri: TEST_REDIRECT, code_verifier: verifier });
    const me = await request(h.url).get('/me').set('authorization', `Bearer ${res.body.access_token}`);
    expect(me.body).to.include({ family_name: 'Иванова', given_name: 'Мария' });
  });
});
