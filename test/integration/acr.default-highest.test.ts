/**
 * `acr` without `acr_values` is the highest value the session satisfies (DESIGN §3) — it never
 * depends on what another service asked for earlier in the same session. Introspection reports
 * the acr a token was issued with, and a token whose account has since dropped below it is
 * inactive.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, type Page } from '../support/browser.ts';
import { startHarness, TEST_SECRET, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, passConsent, pkce, redeem, submitPassword, totpCode } from '../support/flows.ts';
import { makeStandard, saveIdentity, snilsFor } from '../support/identity.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const STANDARD = 'urn:vkhod:loa:standard';
const STANDARD_MFA = 'urn:vkhod:loa:standard-mfa';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';

const introspect = async (h: Harness, value: string) =>
  (await request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token: value })).body as Record<
    string,
    unknown
  >;

/** An authorization request for the public client (no secret; PKCE), through to its code's ID token. */
async function publicClientAcr(h: Harness, browser: Browser, params: Record<string, string>): Promise<string> {
  const { verifier, challenge } = pkce();
  const page = await passConsent(
    browser,
    await browser.get(authorizePath({ client_id: 'rp-public', scope: 'openid', ...params }, challenge)),
  );
  return (await redeem(h, page.location, verifier, 'rp-public')).claims.acr as string;
}

/** rp-basic without acr_values, in the existing session: the ID token's acr and the tokens. */
async function basicClient(h: Harness, browser: Browser, params: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const page = await passConsent(browser, await browser.get(authorizePath({ scope: 'openid', ...params }, challenge)));
  return redeem(h, page.location, verifier);
}

describe('acr without acr_values', function () {
  let h: Harness;
  let accountId: string;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
  });

  it('is the highest the session satisfies, also after another service asked for a lower value', async () => {
    await makeStandard(h, accountId);
    const secret = await addTotp(h, accountId, { mfa: true });
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const mfa: Page = await submitPassword(browser, PHONE, authorizePath({ scope: 'openid' }, challenge));
    const first = await redeem(
      h,
      (await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }))).location,
      verifier,
    );
    expect(first.claims.acr, 'a two-factor sign-in at standard').to.equal(STANDARD_MFA);

    // Another service asks for exactly standard: it gets standard …
    expect(await publicClientAcr(h, browser, { acr_values: STANDARD })).to.equal(STANDARD);
    // … and that choice does not stick to the session: no acr_values → the highest again, for any service.
    expect((await basicClient(h, browser)).claims.acr).to.equal(STANDARD_MFA);
    expect(await publicClientAcr(h, browser, {})).to.equal(STANDARD_MFA);
  });

  it('several values asked: the highest of them the session satisfies, whatever another service asked for before', async () => {
    await makeStandard(h, accountId);
    const secret = await addTotp(h, accountId, { mfa: true });
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const mfa: Page = await submitPassword(browser, PHONE, authorizePath({ scope: 'openid', acr_values: SIMPLIFIED }, challenge));
    const first = await redeem(
      h,
      (await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }))).location,
      verifier,
    );
    expect(first.claims.acr, 'exactly what was asked').to.equal(SIMPLIFIED);
    // docs/claims.md: "standard at least, and to know whether it is confirmed" — ask for both, get the highest met.
    expect(await publicClientAcr(h, browser, { acr_values: `${SIMPLIFIED} ${STANDARD}` })).to.equal(STANDARD);
    expect(await publicClientAcr(h, browser, { acr_values: `${SIMPLIFIED} ${STANDARD_MFA} ${STANDARD}` })).to.equal(STANDARD_MFA);
    // The same through the claims parameter, after a lower value again.
    expect(await publicClientAcr(h, browser, { acr_values: SIMPLIFIED })).to.equal(SIMPLIFIED);
    const claims = JSON.stringify({ id_token: { acr: { values: [SIMPLIFIED, STANDARD] } } });
    expect(await publicClientAcr(h, browser, { claims })).to.equal(STANDARD);
  });

  it('a one-factor session gets the level’s plain value, never a lower one a service asked for before', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const page = await passConsent(
      browser,
      await submitPassword(browser, PHONE, authorizePath({ scope: 'openid', acr_values: SIMPLIFIED }, challenge)),
    );
    expect((await redeem(h, page.location, verifier)).claims.acr).to.equal(SIMPLIFIED);
    expect((await basicClient(h, browser)).claims.acr).to.equal(STANDARD);
  });

  it('introspection reports the acr the access token was issued with; once the account drops below it, the token is inactive', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const page = await passConsent(browser, await submitPassword(browser, PHONE, authorizePath({ scope: 'openid' }, challenge)));
    const tokens = await redeem(h, page.location, verifier);
    expect(tokens.claims.acr).to.equal(STANDARD);
    const info = await introspect(h, tokens.body.access_token as string);
    expect(info).to.include({ active: true, acr: STANDARD });
    // The account's verified data changes: the level drops to simplified.
    await saveIdentity(h, accountId, { snils: snilsFor('123456789') });
    expect(await introspect(h, tokens.body.access_token as string)).to.deep.equal({ active: false });
    // The provider's own resource says the same of it: userinfo refuses it (it answered 200 before).
    const userinfo = await request(h.url)
      .get('/me')
      .set('authorization', `Bearer ${tokens.body.access_token as string}`);
    expect(userinfo.status).to.equal(401);
    expect(userinfo.headers['www-authenticate']).to.include('invalid_token');
    // The session, asked silently with no acr: the acr the account satisfies now, no new sign-in
    // (it would earn the same) — before, login_required "does not satisfy the requested acr values".
    const { verifier: v2, challenge: c2 } = pkce();
    const silent = await browser.get(authorizePath({ scope: 'openid', prompt: 'none' }, c2));
    expect(new URL(silent.location!).searchParams.get('error'), silent.location).to.equal(null);
    expect((await redeem(h, silent.location, v2)).claims.acr).to.equal(SIMPLIFIED);
    // A token issued at the level the account still has stays active.
    const later = await basicClient(h, browser);
    expect(later.claims.acr).to.equal(SIMPLIFIED);
    expect(await introspect(h, later.body.access_token as string)).to.include({ active: true, acr: SIMPLIFIED });
    expect(
      (
        await request(h.url)
          .get('/me')
          .set('authorization', `Bearer ${later.body.access_token as string}`)
      ).status,
    ).to.equal(200);
  });
});
