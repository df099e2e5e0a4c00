/**
 * A pushed request_uri is single-use also under parallel requests: of two authorization requests
 * that both read it before either used it, exactly one gets a code.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { codeFrom, GOOD_PASSWORD, pkce, signIn } from '../support/flows.ts';
import { holdReads } from '../support/races.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';

async function push(h: Harness): Promise<string> {
  const res = await request(h.url).post('/request').auth('rp-basic', TEST_SECRET).type('form').send({
    client_id: 'rp-basic',
    response_type: 'code',
    redirect_uri: TEST_REDIRECT,
    scope: 'openid profile',
    state: 'par-state',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
  });
  expect(res.status, res.text).to.equal(201);
  return res.body.request_uri as string;
}

describe('PAR: parallel use of one request_uri', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  it('of two simultaneous authorization requests with one request_uri exactly one gets a code', async () => {
    const browser = new Browser(h);
    codeFrom((await signIn(browser, PHONE, GOOD_PASSWORD)).location);
    const requestUri = await push(h);
    const path = `/auth?${new URLSearchParams({ client_id: 'rp-basic', request_uri: requestUri })}`;
    const release = holdReads(h, 'PushedAuthorizationRequest', 2);
    const pages = await Promise.all([browser.get(path), browser.get(path)]).finally(release);
    const codes = pages.filter((p) => p.location && new URL(p.location).searchParams.get('code'));
    expect(codes, pages.map((p) => p.location ?? p.status).join(' | ')).to.have.length(1);
    const loser = pages.find((p) => !codes.includes(p))!;
    const error = loser.location ? new URL(loser.location).searchParams.get('error') : undefined;
    expect(error ?? loser.status, 'the other request is refused').to.be.oneOf(['invalid_request_uri', 400]);
  });
});
