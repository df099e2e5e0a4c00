import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, register, signIn } from '../support/flows.ts';

describe('registration of a simplified account', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('registers by phone from an authorization request and returns to the relying party signed in', async () => {
    const browser = new Browser(h);
    const login = await browser.get(authorizePath());
    const registerLink = login.html.match(/href="(\/interaction\/[^"]+\/register)"/)![1]!;
    const afterProfile = await register(browser, h, { start: registerLink, contact: '8 (912) 345-67-89', normalized: '+79123456789' });
    // Registration signs the citizen in; consent comes next, then the relying party.
    expect(afterProfile.html).to.include('/consent');
    const done = await browser.submit(afterProfile, '/consent', { decision: 'allow' });
    codeFrom(done.location);
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: '+79123456789' });
    expect(account).to.include({ level: 'simplified', phoneVerified: true });
    expect(account!.name).to.deep.equal({ family: 'Иванова', given: 'Мария' });
    expect(account!.passwordHash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const events = await h.services.store.audit.listForAccount(account!.id);
    expect(events.map((e) => e.type)).to.include.members(['account.registered', 'signin', 'consent']);
  });

  it('registers by e-mail without a relying party and can then sign in', async () => {
    const browser = new Browser(h);
    const done = await register(browser, h, { start: '/register', contact: ' Maria.Ivanova@Example.RU ', normalized: 'maria.ivanova@example.ru' });
    expect(done.html).to.include('Учётная запись создана');
    const rp = await signIn(new Browser(h), 'maria.ivanova@example.ru', GOOD_PASSWORD);
    codeFrom(rp.location);
  });
});
