import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, redeem, signIn } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

/** The authorization request's parameters as a relying party's auto-submitting form posts them. */
function authorizeForm(challenge: string): Record<string, string> {
  return Object.fromEntries(new URL(`http://x${authorizePath({}, challenge)}`).searchParams);
}

describe('POST at the authorization and end-session endpoints', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await createAccount(h, { phone: PHONE });
  });
  after(() => h.close());

  it('POST /auth starts the same sign-in as GET and ends with a code the relying party redeems', async () => {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const posted = await browser.agent.post('/auth').type('form').send(authorizeForm(challenge));
    expect(posted.status).to.equal(303);
    expect(posted.headers.location).to.match(/^\/auth\?/);
    const page = await signIn(browser, PHONE, GOOD_PASSWORD, posted.headers.location);
    const { claims } = await redeem(h, page.location, verifier);
    expect(claims.sub).to.be.a('string');
  });

  it('POST /auth sees an existing sign-in (single sign-on, no second password)', async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    const posted = await browser.agent.post('/auth').type('form').send(authorizeForm(pkce().challenge));
    const page = await browser.get(posted.headers.location);
    expect(codeFrom(page.location)).to.be.a('string');
  });

  it('POST /auth with a bad request gets the OAuth error, not a 404 or 500', async () => {
    const browser = new Browser(h);
    const posted = await browser.agent
      .post('/auth')
      .type('form')
      .send({ client_id: 'rp-basic', response_type: 'code', redirect_uri: TEST_REDIRECT, scope: 'openid', state: 's1', prompt: 'bogus' });
    const page = await browser.get(posted.headers.location);
    expect(page.location).to.include('error=invalid_request');
    const garbled = await browser.agent.post('/auth').type('json').send({ client_id: 'rp-basic' });
    expect(garbled.status).to.be.within(400, 499);
  });

  it('POST /auth passes the parameters on as they were sent: bracketed names stay names, never "[object Object]"', async () => {
    const browser = new Browser(h);
    const { challenge } = pkce();
    const form = new URLSearchParams({ ...authorizeForm(challenge), 'client_id[x]': '1', 'scope[]': 'email' }).toString();
    const posted = await browser.agent.post('/auth').type('form').send(form);
    expect(posted.status).to.equal(303);
    const forwarded = new URL(posted.headers.location as string, h.url).searchParams;
    expect(forwarded.get('client_id')).to.equal('rp-basic');
    expect(forwarded.get('client_id[x]')).to.equal('1');
    expect(forwarded.get('scope[]')).to.equal('email');
    expect(posted.headers.location).to.not.include('object');
  });

  it('POST /session/end shows the logout page like GET', async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    const posted = await browser.agent
      .post('/session/end')
      .type('form')
      .send({ client_id: 'rp-basic', post_logout_redirect_uri: 'https://rp.example.test/bye', state: 'st' });
    expect(posted.status).to.equal(303);
    const page = await browser.get(posted.headers.location);
    expect(page.status).to.equal(200);
    expect(page.html).to.include('Выйти из учётной записи?');
  });
});
