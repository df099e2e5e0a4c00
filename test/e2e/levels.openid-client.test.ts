/**
 * Relying parties that demand an account level, with openid-client v6 on their side: a service
 * requiring `confirmed` gets unmet_authentication_requirements while the account is standard and
 * a token with acr confirmed once an operator confirmed it; a service requiring `standard` lets
 * a simplified citizen enter SNILS and passport in the middle of the sign-in and gets its code.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import * as oidc from 'openid-client';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { Browser, csrfOf, decodeEntities, type Page } from '../support/browser.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { IDENTITY_FORM, makeStandard } from '../support/identity.ts';

const PHONE = '+79123456789';
const STANDARD = 'urn:vkhod:loa:standard';
const CONFIRMED = 'urn:vkhod:loa:confirmed';
const insecure = { execute: [oidc.allowInsecureRequests] };
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));

async function rejection(promise: Promise<unknown>): Promise<Error & { error?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { error?: string };
  }
  expect.fail('expected the call to be refused');
}

describe('openid-client v6: relying parties that require an account level', function () {
  let h: Harness;
  let accountId: string;
  let config: oidc.Configuration;

  before(async () => {
    h = await startHarness({
      clients: [
        {
          client_id: 'rp-gov',
          client_name: 'Госсервис',
          client_secret: TEST_SECRET,
          redirect_uris: [TEST_REDIRECT],
          grant_types: ['authorization_code'],
          scope: 'openid fullname snils id_doc',
        },
      ],
    });
    config = await oidc.discovery(new URL(h.url), 'rp-gov', TEST_SECRET, oidc.ClientSecretBasic(TEST_SECRET), insecure);
  });
  after(() => h.close());
  beforeEach(async () => {
    const account = await h.services.accounts.register({
      name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' },
      contact: { kind: 'phone', value: PHONE },
      passwordHash: await hashPassword(GOOD_PASSWORD),
    });
    accountId = account.id;
  });
  afterEach(async () => {
    // One account per test: free the phone (and SNILS, passport) for the next one.
    await h.services.store.accounts.softDelete(accountId, new Date().toISOString());
  });

  async function authorization(extra: Record<string, string>) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: TEST_REDIRECT,
      scope: 'openid fullname snils',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
  }

  const signInPage = async (browser: Browser, url: URL): Promise<Page> => {
    const login = await browser.get(url.href);
    expect(login.html, 'the sign-in page').to.include('name="identifier"');
    return browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
  };
  const passConsent = (browser: Browser, page: Page) =>
    !page.location && page.html.includes('/consent') ? browser.submit(page, '/consent', { decision: 'allow' }) : page;
  const requirements = (page: Page) => [...page.html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));

  it('requires confirmed: unmet_authentication_requirements for a standard account; acr confirmed after an operator confirms', async () => {
    await makeStandard(h, accountId);
    const browser = new Browser(h);

    // Signed in at vkhod already (for a service that asked for no level): acr standard.
    const plain = await authorization({});
    const plainDone = await passConsent(browser, await signInPage(browser, plain.url));
    expect((await oidc.authorizationCodeGrant(config, new URL(plainDone.location!), plain.checks)).claims()).to.include({ acr: STANDARD });

    // The session is not enough for confirmed, and confirmed cannot be reached in a sign-in.
    const first = await authorization({ acr_values: CONFIRMED });
    const unmet = await browser.get(first.url.href);
    expect(unmet.status).to.equal(403);
    expect(unmet.html).to.include(RU.unmet.heading);
    expect(requirements(unmet)).to.include(RU.acr.confirmed);
    expect(unmet.html).to.include(RU.unmet.how_level);
    expect(unmet.html, 'confirmed cannot be reached inside the sign-in').to.not.include('id="start-upgrade"');
    const back = await browser.submit(unmet, '/abort', { reason: 'unmet' });
    expect(back.location).to.be.a('string');
    const err = await rejection(oidc.authorizationCodeGrant(config, new URL(back.location!), first.checks));
    expect(err).to.be.instanceOf(oidc.AuthorizationResponseError);
    expect(err.error).to.equal('unmet_authentication_requirements');

    // A service-centre operator confirms the identity (the admin API does this same call).
    const confirmed = await h.services.levels.confirm(accountId, {
      method: 'service_centre',
      actor: 'operator:test',
      evidence: { document: 'passport', checkedInPerson: true },
    });
    expect(confirmed.level).to.equal('confirmed');

    // The same browser: the session is re-issued with the higher acr, no new password.
    const second = await authorization({ acr_values: CONFIRMED });
    const done = await passConsent(browser, await browser.get(second.url.href));
    expect(done.location, done.html.slice(0, 300)).to.match(/[?&]code=/);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location!), second.checks);
    expect(tokens.claims()).to.include({ sub: accountId, acr: CONFIRMED, account_level: 'confirmed' });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, accountId);
    const verified = info.verified_claims as Array<{ verification: Record<string, unknown> }>;
    expect(verified.map((v) => v.verification.assurance_level)).to.include('confirmed');

    // A fresh browser: the password sign-in earns confirmed straight away.
    const third = await authorization({ acr_values: CONFIRMED });
    const fresh = new Browser(h);
    const freshDone = await passConsent(fresh, await signInPage(fresh, third.url));
    const freshTokens = await oidc.authorizationCodeGrant(config, new URL(freshDone.location!), third.checks);
    expect(freshTokens.claims()).to.include({ acr: CONFIRMED });

    // The surname changes: the confirmation no longer holds, and confirmed is refused again.
    await h.services.levels.saveIdentity(accountId, {
      identity: { ...confirmed.identity },
      snils: confirmed.snils,
      name: { ...confirmed.name, family: 'Петрова' },
    });
    const fourth = await authorization({ acr_values: CONFIRMED });
    const other = new Browser(h);
    const refused = await signInPage(other, fourth.url);
    expect(refused.status).to.equal(403);
    const refusedBack = await other.submit(refused, '/abort', { reason: 'unmet' });
    expect((await rejection(oidc.authorizationCodeGrant(config, new URL(refusedBack.location!), fourth.checks))).error).to.equal(
      'unmet_authentication_requirements',
    );
  });

  it('requires standard: a simplified citizen enters SNILS and passport in the sign-in; the RP gets acr standard', async () => {
    const browser = new Browser(h);
    // The requirement as an essential acr claim (the claims parameter).
    const req = await authorization({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: STANDARD } } }) });
    const unmet = await signInPage(browser, req.url);
    expect(unmet.status).to.equal(403);
    expect(requirements(unmet)).to.include(RU.acr.standard);
    expect(unmet.html).to.match(/id="start-upgrade">Ввести СНИЛС и паспорт сейчас</);

    const uid = unmet.url.match(/^\/interaction\/([^/?]+)/)![1]!;
    const form = await browser.get(`/interaction/${uid}/upgrade`);
    expect(form.status).to.equal(200);
    expect(form.html).to.include(RU.upgrade.heading);
    expect(form.html).to.include('value="Иванова"');

    // A mistake first: the form comes back with the message, nothing stored.
    const bad = await browser.post(`/interaction/${uid}/upgrade`, { _csrf: csrfOf(form.html), ...IDENTITY_FORM, snils: '112-233-445 96' });
    expect(bad.status).to.equal(400);
    expect(decodeEntities(bad.html)).to.include(RU.identity.problems.bad_snils);
    expect((await h.services.accounts.findActive(accountId))!.snils).to.equal(undefined);

    const submitted = await browser.post(`/interaction/${uid}/upgrade`, { _csrf: csrfOf(bad.html), ...IDENTITY_FORM });
    const done = await passConsent(browser, submitted);
    expect(done.location, `${done.status} ${done.url}: ${done.html.slice(0, 400)}`).to.match(/[?&]code=/);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location!), req.checks);
    const claims = tokens.claims()!;
    expect(claims).to.include({ sub: accountId, acr: STANDARD, account_level: 'standard' });
    expect(claims.amr).to.deep.equal(['pwd']);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, accountId);
    expect(info).to.include({ snils: '112-233-445 95', family_name: 'Иванова' });
    const [entry] = info.verified_claims as Array<{ verification: Record<string, unknown>; claims: Record<string, unknown> }>;
    expect(entry!.verification).to.include({ trust_framework: 'ru_vkhod', assurance_level: 'standard' });
    expect(entry!.claims).to.include({ snils: '112-233-445 95', family_name: 'Иванова' });
    expect(h.gateway.sent.map((m) => m.text)).to.include(RU.messages.level.standard);
  });

  it('requires standard with acr_values and the citizen goes back instead: unmet_authentication_requirements', async () => {
    const browser = new Browser(h);
    const req = await authorization({ acr_values: STANDARD });
    const unmet = await signInPage(browser, req.url);
    const uid = unmet.url.match(/^\/interaction\/([^/?]+)/)![1]!;
    const form = await browser.get(`/interaction/${uid}/upgrade`);
    const back = await browser.submit(form, '/abort', { reason: 'unmet' });
    const err = await rejection(oidc.authorizationCodeGrant(config, new URL(back.location!), req.checks));
    expect(err.error).to.equal('unmet_authentication_requirements');
    expect((await h.services.accounts.findActive(accountId))!.level).to.equal('simplified');
  });
});
