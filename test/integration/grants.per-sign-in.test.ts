/**
 * One grant per sign-in, consent remembered as data on the account. Stops: revoking one
 * session's token killing another session's; a replayed code wiping the remembered consent;
 * signing out bringing the consent page back; prompt=none failing after a remembered consent.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, xsrfOf } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce } from '../support/flows.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const OFFLINE = { scope: 'openid profile offline_access', prompt: 'consent' };

const token = (h: Harness, form: Record<string, string>) =>
  request(h.url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send(form);
const active = async (h: Harness, value: string) =>
  (await request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token: value })).body
    .active as boolean;

interface SignedIn {
  browser: Browser;
  tokens: Record<string, string>;
  code: string;
  verifier: string;
}

/** Signs in on a fresh browser (consent page only if vkhod asks) and redeems the code. */
async function signInAndRedeem(
  h: Harness,
  params: Record<string, string> = OFFLINE,
  browser = new Browser(h),
): Promise<SignedIn & { askedConsent: boolean }> {
  const { verifier, challenge } = pkce();
  const login = await browser.get(authorizePath(params, challenge));
  let page = login.html.includes('name="identifier"')
    ? await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD })
    : login;
  const askedConsent = page.html.includes('consent-list');
  if (askedConsent) page = await browser.submit(page, '/consent', { decision: 'allow' });
  const code = codeFrom(page.location);
  const res = await token(h, { grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT, code_verifier: verifier });
  expect(res.status, res.text).to.equal(200);
  return { browser, tokens: res.body as Record<string, string>, code, verifier, askedConsent };
}

async function signOut(browser: Browser): Promise<void> {
  const confirm = await browser.get('/session/end');
  const done = await browser.post('/session/end/confirm', { xsrf: xsrfOf(confirm), logout: 'yes' });
  expect(done.status).to.be.below(400);
}

describe('grants: one per sign-in, consent remembered as data', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  it('keeps the consent on the account as data: client, scopes, claims, time', async () => {
    const before = Date.now();
    await signInAndRedeem(h, { scope: 'openid profile email' });
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: PHONE });
    const consent = (account!.extra!.consents as Record<string, { scopes: string[]; claims: string[]; at: string }>)['rp-basic']!;
    expect(consent.scopes).to.include.members(['openid', 'profile', 'email']);
    expect(consent.claims).to.be.an('array');
    expect(Date.parse(consent.at)).to.be.at.least(before - 1000);
  });

  it('revoking one sign-in’s refresh token leaves another sign-in of the same account alone', async () => {
    const first = await signInAndRedeem(h);
    const second = await signInAndRedeem(h);
    const revoked = await request(h.url)
      .post('/token/revocation')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ token: first.tokens.refresh_token, token_type_hint: 'refresh_token' });
    expect(revoked.status).to.equal(200);
    expect(await active(h, first.tokens.access_token!)).to.equal(false);
    expect(await active(h, second.tokens.access_token!), 'the other sign-in’s access token').to.equal(true);
    const refreshed = await token(h, { grant_type: 'refresh_token', refresh_token: second.tokens.refresh_token! });
    expect(refreshed.status, refreshed.text).to.equal(200);
  });

  it('a replayed code revokes only that sign-in, and the consent stays remembered', async () => {
    const other = await signInAndRedeem(h);
    const victim = await signInAndRedeem(h);
    const replay = await token(h, {
      grant_type: 'authorization_code',
      code: victim.code,
      redirect_uri: TEST_REDIRECT,
      code_verifier: victim.verifier,
    });
    expect(replay.body.error).to.equal('invalid_grant');
    expect(await active(h, victim.tokens.access_token!)).to.equal(false);
    expect(await active(h, other.tokens.access_token!), 'another sign-in is untouched').to.equal(true);
    // The same browser asks again: no consent page, a new grant from the remembered consent.
    const again = await signInAndRedeem(h, { scope: 'openid profile' }, victim.browser);
    expect(again.askedConsent).to.equal(false);
    expect(await active(h, again.tokens.access_token!)).to.equal(true);
  });

  it('signing out does not bring the consent page back', async () => {
    const first = await signInAndRedeem(h, { scope: 'openid profile' });
    expect(first.askedConsent).to.equal(true);
    await signOut(first.browser);
    const again = await signInAndRedeem(h, { scope: 'openid profile' }, first.browser);
    expect(again.askedConsent, 'consent is remembered across sign-out').to.equal(false);
  });

  it('a consent remembered the earlier way (a grant id on the account) still stands, and other clients’ entries survive a new consent', async () => {
    const account = (await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!;
    const { Grant } = h.services.provider;
    const legacy = new Grant({ accountId: account.id, clientId: 'rp-basic' });
    legacy.addOIDCScope('openid profile');
    const legacyId = await legacy.save();
    await h.services.accounts.modify(account.id, (a) => ({
      ...a,
      extra: { ...a.extra, consents: { 'rp-basic': legacyId, 'rp-other': 'grant-of-another-client' } },
    }));
    const again = await signInAndRedeem(h, { scope: 'openid profile' });
    expect(again.askedConsent).to.equal(false);
    await signInAndRedeem(h, { scope: 'openid profile email' });
    const consents = (await h.services.accounts.findActive(account.id))!.extra!.consents as Record<string, unknown>;
    expect(consents['rp-other']).to.equal('grant-of-another-client');
    expect(consents['rp-basic']).to.deep.include({ scopes: ['openid', 'profile', 'email'] });
  });

  it('prompt=none after a remembered consent yields a code, also once this sign-in’s grant was revoked', async () => {
    const first = await signInAndRedeem(h, { scope: 'openid profile' });
    const replay = await token(h, {
      grant_type: 'authorization_code',
      code: first.code,
      redirect_uri: TEST_REDIRECT,
      code_verifier: first.verifier,
    });
    expect(replay.body.error).to.equal('invalid_grant');
    const { challenge } = pkce();
    const silent = await first.browser.get(authorizePath({ scope: 'openid profile', prompt: 'none' }, challenge));
    expect(new URL(silent.location!).searchParams.get('error'), silent.location).to.equal(null);
    codeFrom(silent.location);
  });
});
