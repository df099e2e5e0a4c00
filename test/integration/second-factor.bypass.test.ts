/**
 * A sign-in that still owes its second factor cannot be finished, or used to change the
 * account, through another step of the interaction (the level upgrade pages); and raising the
 * level inside a re-issued session does not make that session's sign-in fresh.
 */
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import { IDENTITY_FORM } from '../support/identity.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const uidOf = (page: Page) => page.url.match(/^\/interaction\/([^/?]+)/)![1]!;

describe('second factor: no way around it through the upgrade pages', function () {
  let h: Harness;
  let accountId: string;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } })).id;
    await addTotp(h, accountId, { mfa: true });
  });

  it('the upgrade status page does not finish a sign-in that waits for its second factor', async () => {
    const browser = new Browser(h);
    const { challenge } = pkce();
    const mfa = await submitPassword(browser, PHONE, authorizePath({}, challenge));
    expect(mfa.url).to.match(/\/mfa$/);
    const status = await passConsent(browser, await browser.get(`/interaction/${uidOf(mfa)}/upgrade/status`));
    expect(status.location, 'no redirect to the relying party').to.equal(undefined);
    expect(status.status).to.equal(400);
  });

  it('the upgrade form cannot change the identity data of a sign-in that waits for its second factor', async () => {
    const browser = new Browser(h);
    const mfa = await submitPassword(browser, PHONE, authorizePath({ acr_values: 'urn:vkhod:loa:standard' }));
    expect(mfa.url).to.match(/\/mfa$/);
    const res = await browser.post(`/interaction/${uidOf(mfa)}/upgrade`, { _csrf: csrfOf(mfa.html), ...IDENTITY_FORM });
    expect(res.status).to.equal(400);
    const account = (await h.services.accounts.findActive(accountId))!;
    expect(account.snils).to.equal(undefined);
    expect(account.identity).to.equal(undefined);
  });

  it('raising the level through an existing session keeps its sign-in time (the session does not become fresh)', async () => {
    await h.services.accounts.modify(accountId, (a) => ({ ...a, totp: undefined, mfa: { enabled: false } }));
    const browser = new Browser(h);
    const first = pkce();
    const plain = await passConsent(browser, await submitPassword(browser, PHONE, authorizePath({}, first.challenge)));
    const signedInAt = (await redeem(h, plain.location, first.verifier)).claims.auth_time as number;
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const { verifier, challenge } = pkce();
    const unmet = await browser.get(authorizePath({ acr_values: 'urn:vkhod:loa:standard' }, challenge));
    expect(unmet.status).to.equal(403);
    const form = await browser.get(`/interaction/${uidOf(unmet)}/upgrade`);
    const done = await passConsent(
      browser,
      await browser.post(`/interaction/${uidOf(form)}/upgrade`, { _csrf: csrfOf(form.html), ...IDENTITY_FORM }),
    );
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.acr).to.equal('urn:vkhod:loa:standard');
    expect(claims.auth_time, 'the time of the password sign-in, not of the upgrade').to.equal(signedInAt);
  });
});
