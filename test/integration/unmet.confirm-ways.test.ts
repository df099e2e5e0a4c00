/**
 * A service needs `confirmed` and the account is not: the page does not dead-end — it lists the
 * four ways, the ones available right now as buttons (each bank, the e-signature), the others as
 * links (service centre, letter); a button starts that way in the same sign-in.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { authorizePath, pkce, submitPassword } from '../support/flows.ts';
import { startFederation, type FederationSetup } from '../support/federation.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

describe('unmet confirmed: the four ways, the ones available now as buttons', function () {
  let f: FederationSetup;
  before(async () => {
    f = await startFederation();
  });
  after(() => f.close());

  it('a standard-or-lower account asked for confirmed: bank buttons, links to the service centre and the letter; a bank button starts the round trip', async () => {
    await createAccount(f.h, { phone: PHONE });
    const browser = new Browser(f.h);
    const unmet = await submitPassword(browser, PHONE, authorizePath({ acr_values: 'urn:vkhod:loa:confirmed' }, pkce().challenge));
    expect(unmet.status).to.equal(403);
    expect(unmet.html).to.include('Как подтвердить личность');
    expect(unmet.html).to.match(/<button type="submit" class="button" data-bank="demobank">Сейчас: через банк «Демо-банк»<\/button>/);
    expect(unmet.html).to.include('id="confirm-service-centre"');
    expect(unmet.html).to.include('id="confirm-letter"');
    expect(unmet.html).to.include('Кодом в письме Почты России');
    const started = await browser.submit(unmet, '/bank/demobank', {});
    expect(started.location, started.html.slice(0, 300)).to.match(new RegExp(`^${f.bank.url}`));
  });

  it('a service asking only for standard gets no list of confirmation ways', async () => {
    const browser = new Browser(f.h);
    await createAccount(f.h, { phone: '+79123456700' });
    const unmet = await submitPassword(browser, '+79123456700', authorizePath({ acr_values: 'urn:vkhod:loa:standard' }, pkce().challenge));
    expect(unmet.status).to.equal(403);
    expect(unmet.html).to.not.include('id="confirm-ways"');
  });
});
