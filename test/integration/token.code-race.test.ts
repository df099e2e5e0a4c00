/**
 * One-time artefacts are consumed once, also under parallel requests (a load balancer retrying,
 * an attacker racing a stolen code): exactly one token response, every other request gets
 * invalid_grant, and the grant is revoked as for a replay.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, signIn } from '../support/flows.ts';
import { holdReads } from '../support/races.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const PARALLEL = 5;
const RACES = 3;

const exchange = (h: Harness, code: string, verifier: string) =>
  request(h.url)
    .post('/token')
    .auth('rp-basic', TEST_SECRET)
    .type('form')
    .send({ grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT, code_verifier: verifier });

const introspect = (h: Harness, token: string) =>
  request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token });

describe('token endpoint: parallel use of one authorization code', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  it(`of ${PARALLEL} simultaneous exchanges of one code exactly one gets tokens, in each of ${RACES} races`, async () => {
    const browser = new Browser(h);
    let { verifier, challenge } = pkce();
    let page = await signIn(
      browser,
      PHONE,
      GOOD_PASSWORD,
      authorizePath({ scope: 'openid profile offline_access', prompt: 'consent' }, challenge),
    );
    for (let race = 0; race < RACES; race += 1) {
      if (race > 0) {
        ({ verifier, challenge } = pkce());
        page = await browser.get(authorizePath({ scope: 'openid profile' }, challenge));
      }
      const code = codeFrom(page.location);
      // Every request reads the unused code before any of them consumes it.
      const release = holdReads(h, 'AuthorizationCode', PARALLEL);
      const answers = await Promise.all(Array.from({ length: PARALLEL }, () => exchange(h, code, verifier))).finally(release);
      const won = answers.filter((res) => res.status === 200);
      expect(won, `race ${race}: ${answers.map((r) => r.status).join(',')}`).to.have.length(1);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expect(res.status).to.equal(400);
        expect(res.body.error).to.equal('invalid_grant');
      }
      // The grant is revoked as for a replay: the winner's access token is dead too.
      const info = await introspect(h, won[0]!.body.access_token as string);
      expect(info.body.active, `race ${race}: the winner's token after the race`).to.equal(false);
    }
  });

  it('a single exchange still works and its tokens stay active', async () => {
    const { verifier, challenge } = pkce();
    const page = await signIn(new Browser(h), PHONE, GOOD_PASSWORD, authorizePath({}, challenge));
    const res = await exchange(h, codeFrom(page.location), verifier);
    expect(res.status, res.text).to.equal(200);
    expect((await introspect(h, res.body.access_token as string)).body.active).to.equal(true);
  });
});
