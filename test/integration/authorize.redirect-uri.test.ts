/**
 * OIDC Core 3.1.2.1: `redirect_uri` is REQUIRED in an OpenID authentication request. node-oidc-provider
 * takes a client's only registered URI when it is left out (what RFC 6749 allows plain OAuth); vkhod
 * refuses it for OpenID requests, at the authorization endpoint and at PAR. A request pushed with
 * its redirect_uri is not asked again for it at the authorization endpoint.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { authorizePath } from '../support/flows.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';

describe('an OpenID request names its redirect_uri', function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  const withoutRedirect = (params: Record<string, string> = {}) => {
    const url = new URL(authorizePath(params), 'http://x');
    url.searchParams.delete('redirect_uri');
    return `${url.pathname}${url.search}`;
  };

  it('left out: invalid_request at the registered URI, with state, and no sign-in page', async () => {
    const page = await new Browser(h).get(withoutRedirect({ state: 'S-1' }));
    expect(page.location, page.html.slice(0, 200)).to.be.a('string');
    const back = new URL(page.location!);
    expect(back.origin + back.pathname).to.equal(TEST_REDIRECT);
    expect(back.searchParams.get('error')).to.equal('invalid_request');
    expect(back.searchParams.get('error_description')).to.include('redirect_uri');
    expect(back.searchParams.get('state')).to.equal('S-1');
    expect(back.searchParams.get('code')).to.equal(null);
  });

  it('named: the sign-in page as always', async () => {
    const page = await new Browser(h).get(authorizePath());
    expect(page.html).to.include('name="identifier"');
  });

  it('PAR: pushed without it, refused; pushed with it, /auth needs only client_id and request_uri', async () => {
    const params = Object.fromEntries(new URL(authorizePath(), 'http://x').searchParams);
    const { redirect_uri: _left, ...without } = params;
    const refused = await request(h.url).post('/request').auth('rp-basic', TEST_SECRET).type('form').send(without);
    expect(refused.status, refused.text).to.equal(400);
    expect(refused.body.error).to.equal('invalid_request');
    const pushed = await request(h.url).post('/request').auth('rp-basic', TEST_SECRET).type('form').send(params);
    expect(pushed.status, pushed.text).to.equal(201);
    const page = await new Browser(h).get(`/auth?client_id=rp-basic&request_uri=${encodeURIComponent(pushed.body.request_uri as string)}`);
    expect(page.html).to.include('name="identifier"');
  });

  it('PAR: parameters sent beside the request_uri do not count (RFC 9126 §4) — an unknown scope there is no invalid_scope', async () => {
    const params = Object.fromEntries(new URL(authorizePath(), 'http://x').searchParams);
    const pushed = await request(h.url).post('/request').auth('rp-basic', TEST_SECRET).type('form').send(params);
    expect(pushed.status, pushed.text).to.equal(201);
    const uri = encodeURIComponent(pushed.body.request_uri as string);
    const page = await new Browser(h).get(`/auth?client_id=rp-basic&request_uri=${uri}&scope=openid%20fulname`);
    expect(page.location ?? '', 'no error back to the service').to.not.include('error=');
    expect(page.html).to.include('name="identifier"');
  });
});
