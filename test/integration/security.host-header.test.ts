/**
 * A request's Host does not choose the addresses vkhod hands out: discovery, the device flow's
 * verification address and the provider's redirects name the issuer's host whatever Host came
 * with the request (a cache that does not key on Host, or a device, would pass a forged one on).
 */
import { expect } from 'chai';
import request from 'supertest';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('the Host header and the URLs vkhod hands out', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        { client_id: 'rp-tv-host', client_name: 'ТВ', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT] },
      ],
    });
  });
  after(() => h.close());

  it("discovery names the issuer's host in every endpoint, whatever Host the request had", async () => {
    const res = await request(h.url).get('/.well-known/openid-configuration').set('host', 'evil.example');
    expect(res.status).to.equal(200);
    expect(res.body.issuer).to.equal(h.url);
    const urls = Object.entries(res.body as Record<string, unknown>).filter(([, v]) => typeof v === 'string' && /^https?:\/\//.test(v));
    expect(urls.length, 'discovery has endpoints').to.be.greaterThan(5);
    for (const [name, url] of urls) expect(url, name).to.satisfy((u: string) => u.startsWith(`${h.url}/`) || u === h.url);
  });

  it("the device flow's verification address is the issuer's", async () => {
    const res = await request(h.url)
      .post('/device/auth')
      .set('host', 'evil.example')
      .type('form')
      .send({ client_id: 'rp-tv-host', scope: 'openid' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.verification_uri).to.equal(`${h.url}/device`);
    expect(res.body.verification_uri_complete).to.match(new RegExp(`^${h.url}/device\\?user_code=`));
  });

  it("the authorization endpoint's redirect to the sign-in stays on the issuer's host", async () => {
    const res = await request(h.url).get(authorizePath()).set('host', 'evil.example');
    expect(res.status).to.be.within(302, 303);
    const location = res.headers.location as string;
    expect(location.startsWith('/') || location.startsWith(`${h.url}/`), location).to.equal(true);
  });
});
