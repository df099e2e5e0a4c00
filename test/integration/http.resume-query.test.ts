import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, signIn } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

describe('the authorization resume endpoint (/auth/:uid) with a query', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await createAccount(h, { phone: '+79123456789' });
  });
  after(() => h.close());

  it('answers 400 with a page in Russian, not a 500, whatever the uid and query', async () => {
    const browser = new Browser(h);
    for (const path of [
      '/auth/anything?client_id=rp-basic',
      '/auth/x?client_id=rp-basic&redirect_uri=https%3A%2F%2Fevil.test',
      '/auth/x?client_id=no-such',
      '/auth/x/?a=1',
      '/auth/%3Csvg%3E?client_id=rp-basic',
    ]) {
      const res = await browser.agent.get(path).set({ accept: 'text/html', 'accept-language': 'ru' });
      expect(res.status, path).to.equal(400);
      expect(res.text).to.include('Запрос не удалось обработать');
      expect(res.text).to.not.include('<svg>');
      expect(res.headers.location, path).to.equal(undefined);
    }
  });

  it('leaves the real resume (no query) working: a sign-in still ends at the relying party', async () => {
    const page = await signIn(new Browser(h), '+79123456789', GOOD_PASSWORD, authorizePath());
    expect(codeFrom(page.location)).to.be.a('string');
  });
});
