import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import request from 'supertest';
import { Browser, csrfOf, decodeEntities, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce } from '../support/flows.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8')) as { scopes: Record<string, string> };

/** The plain-Russian line the consent page shows for a scope (checked against its meaning too). */
function item(scope: 'profile' | 'email' | 'phone' | 'offline_access'): string {
  const meaning = {
    profile: /^фамилию, имя(,| и) отчество/,
    email: /^адрес электронной почты/,
    phone: /^номер мобильного телефона/,
    offline_access: /когда вы не на сайте сервиса/,
  }[scope];
  expect(RU.scopes[scope], `ru.json scopes.${scope}`).to.match(meaning);
  return RU.scopes[scope]!;
}

/** Signs in on a fresh authorization request and stops at whatever comes next (consent page or the RP). */
async function signInOnly(browser: Browser, authorize: string): Promise<Page> {
  const login = await browser.get(authorize);
  expect(login.html).to.include('name="identifier"');
  return browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
}

function consentItems(page: Page): string[] {
  const list = page.html.match(/<ul class="consent-list">([\s\S]*?)<\/ul>/);
  expect(list, 'the consent list').to.not.equal(null);
  return [...list![1]!.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
}

async function grantedScope(h: Harness, location: string | undefined, verifier: string): Promise<string[]> {
  const res = await request(h.url)
    .post('/token')
    .auth('rp-basic', TEST_SECRET)
    .type('form')
    .send({ grant_type: 'authorization_code', code: codeFrom(location), redirect_uri: TEST_REDIRECT, code_verifier: verifier });
  expect(res.status, res.text).to.equal(200);
  return String(res.body.scope).split(' ').sort();
}

describe('consent', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  it('lists each requested item in plain Russian, with the service’s name', async () => {
    const page = await signInOnly(new Browser(h), authorizePath({ scope: 'openid profile email phone' }));
    expect(page.status).to.equal(200);
    expect(page.html).to.include('Разрешить доступ к данным?');
    expect(page.html).to.include('Сервис «Тестовый сервис» запрашивает:');
    expect(consentItems(page)).to.have.members([item('profile'), item('email'), item('phone')]);
    expect(page.html, 'no raw scope names').to.not.match(/<li>(openid|profile|email|phone)<\/li>/);
    expect(page.html).to.include('name="decision" value="allow"').and.include('name="decision" value="deny"');
  });

  it('the consent form sent while the sign-in is still at its first step: 400, and not "this step is done"', async () => {
    const browser = new Browser(h);
    const login = await browser.get(authorizePath());
    const early = await browser.post(login.url.replace(/\/?$/, '/consent'), { _csrf: csrfOf(login.html), decision: 'allow' }, false);
    expect(early.status).to.equal(400);
    const text = decodeEntities(early.html);
    expect(text).to.include('Эта форма не относится к текущему шагу входа');
    expect(text).to.not.include('Этот шаг уже пройден');
  });

  it('asks about offline access in words too', async () => {
    const page = await signInOnly(new Browser(h), authorizePath({ scope: 'openid profile offline_access', prompt: 'consent' }));
    expect(consentItems(page)).to.have.members([item('profile'), item('offline_access')]);
  });

  it('sends access_denied to the relying party when the citizen refuses, and records it', async () => {
    const browser = new Browser(h);
    const consent = await signInOnly(browser, authorizePath({ state: 'deny-state' }));
    const back = await browser.submit(consent, '/consent', { decision: 'deny' });
    const url = new URL(back.location!);
    expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
    expect(url.searchParams.get('error')).to.equal('access_denied');
    expect(url.searchParams.get('state')).to.equal('deny-state');
    expect(url.searchParams.get('code')).to.equal(null);
    const account = await h.services.accounts.findByKey({ kind: 'phone', value: PHONE });
    const events = await h.services.store.audit.listForAccount(account!.id);
    expect(events.find((e) => e.type === 'consent')).to.deep.include({ outcome: 'failure', clientId: 'rp-basic' });
    // A refusal is not remembered: the next request asks again.
    const next = await signInOnly(new Browser(h), authorizePath());
    expect(next.html).to.include('/consent');
  });

  it('remembers an allow for the service: a new browser session goes straight back to it', async () => {
    const { verifier, challenge } = pkce();
    const first = new Browser(h);
    const consent = await signInOnly(first, authorizePath({}, challenge));
    const allowed = await first.submit(consent, '/consent', { decision: 'allow' });
    expect(await grantedScope(h, allowed.location, verifier)).to.deep.equal(['email', 'openid', 'phone', 'profile']);

    const second = pkce();
    const again = await signInOnly(new Browser(h), authorizePath({}, second.challenge));
    expect(again.html, 'no consent page the second time').to.not.include('consent-list');
    expect(await grantedScope(h, again.location, second.verifier)).to.deep.equal(['email', 'openid', 'phone', 'profile']);
  });

  it('asks later only about what is new, and then grants both', async () => {
    const first = new Browser(h);
    const consent = await signInOnly(first, authorizePath({ scope: 'openid profile' }));
    expect(consentItems(consent)).to.deep.equal([item('profile')]);
    codeFrom((await first.submit(consent, '/consent', { decision: 'allow' })).location);

    const { verifier, challenge } = pkce();
    const browser = new Browser(h);
    const more = await signInOnly(browser, authorizePath({ scope: 'openid profile email' }, challenge));
    expect(consentItems(more)).to.deep.equal([item('email')]);
    const done = await browser.submit(more, '/consent', { decision: 'allow' });
    expect(await grantedScope(h, done.location, verifier)).to.deep.equal(['email', 'openid', 'profile']);
  });

  it('does not let one service’s consent stand for another', async () => {
    const browser = new Browser(h);
    const consent = await signInOnly(browser, authorizePath());
    codeFrom((await browser.submit(consent, '/consent', { decision: 'allow' })).location);
    // The same browser session, another client: consent is asked again.
    const other = await browser.get(authorizePath({ client_id: 'rp-public', scope: 'openid profile' }));
    expect(other.html).to.include('consent-list');
    expect(consentItems(other)).to.deep.equal([item('profile')]);
  });

  it('remembers the consents of many tabs allowing at once: each goes back to the service, none fails', async () => {
    // One citizen, eight browser tabs, each on the consent page; every "allow" is a change of the
    // same account at the same moment (a version conflict for all but one at each try).
    const tabs: Array<{ browser: Browser; page: Page }> = [];
    for (let i = 0; i < 8; i += 1) {
      const browser = new Browser(h);
      tabs.push({ browser, page: await signInOnly(browser, authorizePath({ scope: 'openid profile offline_access', prompt: 'consent' })) });
    }
    for (const { page } of tabs) expect(page.html).to.include('consent-list');
    // Every tab has read the account before any of them writes (no timing involved).
    const accounts = h.services.store.accounts;
    const update = accounts.update;
    let held: Array<() => void> | undefined = [];
    accounts.update = async (...args: Parameters<typeof update>) => {
      const queue = held;
      if (queue)
        await new Promise<void>((resolve) => {
          queue.push(resolve);
          if (queue.length === tabs.length) {
            held = undefined;
            queue.forEach((release) => release());
          }
        });
      return update.apply(accounts, args);
    };
    const results = await Promise.all(tabs.map(({ browser, page }) => browser.submit(page, '/consent', { decision: 'allow' }))).finally(
      () => (accounts.update = update),
    );
    for (const back of results) {
      expect(back.status, back.html.slice(0, 200)).to.be.within(300, 399);
      expect(new URL(back.location!).searchParams.get('code')).to.be.a('string');
    }
  });
});
