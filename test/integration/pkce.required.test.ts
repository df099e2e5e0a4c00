import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { defaultClients, startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, redeem, signIn } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

/** An authorization request without code_challenge / code_challenge_method. */
function withoutPkce(params: Record<string, string> = {}): string {
  const url = new URL(`http://x${authorizePath(params)}`);
  url.searchParams.delete('code_challenge');
  url.searchParams.delete('code_challenge_method');
  return `${url.pathname}${url.search}`;
}

describe('PKCE is required for every client by default', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        { client_id: 'rp-legacy', client_secret: TEST_SECRET, redirect_uris: [TEST_REDIRECT], vkhod_pkce_optional: true },
      ],
    });
    await createAccount(h, { phone: PHONE });
  });
  after(() => h.close());

  it('a confidential client without code_challenge gets invalid_request at its redirect_uri', async () => {
    const page = await new Browser(h).get(withoutPkce({ state: 'st-p' }));
    const back = new URL(page.location!);
    expect(back.origin + back.pathname).to.equal(TEST_REDIRECT);
    expect(back.searchParams.get('error')).to.equal('invalid_request');
    expect(back.searchParams.get('error_description')).to.match(/PKCE/);
    expect(back.searchParams.get('state')).to.equal('st-p');
  });

  it('a confidential client with PKCE signs in and redeems with its verifier', async () => {
    const { verifier, challenge } = pkce();
    const page = await signIn(new Browser(h), PHONE, GOOD_PASSWORD, authorizePath({}, challenge));
    const { claims } = await redeem(h, page.location, verifier);
    expect(claims.sub).to.be.a('string');
  });

  it('a legacy client registered with vkhod_pkce_optional may leave it out', async () => {
    const page = await signIn(new Browser(h), PHONE, GOOD_PASSWORD, withoutPkce({ client_id: 'rp-legacy' }));
    const res = await request(h.url)
      .post('/token')
      .auth('rp-legacy', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code: codeFrom(page.location), redirect_uri: TEST_REDIRECT });
    expect(res.status, res.text).to.equal(200);
  });

  it('the opt-out cannot be given to a public client', async () => {
    let error: Error | undefined;
    try {
      await (
        await startHarness({
          clients: [
            { client_id: 'rp-pub-legacy', redirect_uris: [TEST_REDIRECT], token_endpoint_auth_method: 'none', vkhod_pkce_optional: true },
          ],
        })
      ).close();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.include('rp-pub-legacy');
  });
});
