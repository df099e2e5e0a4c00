/**
 * Scopes → claims (src/oidc/claims.ts) as a relying party sees them at userinfo and in the ID
 * token: each scope releases its items; a client asks only for the scopes it is registered with;
 * verified_claims carries verified data only, for granted scopes only (or, asked for by OIDC4IDA's
 * request syntax, only the claims asked for, under its conditions); account_level, acr and —
 * for ESIA-compatible clients — urn:esia:sbj say how well the person is known.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { Browser, decodeEntities, type Page } from '../support/browser.ts';
import { GOOD_PASSWORD, pkce } from '../support/flows.ts';
import { defaultClients, startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { IDENTITY_FORM, innFor, makeConfirmed, makeStandard, saveIdentity, snilsFor } from '../support/identity.ts';
import { createAccount, resetStore } from './fixtures.ts';
import { addOperator } from './admin-fixtures.ts';
import { SCOPE_CLAIMS as RELEASED_BY_SCOPE } from '../../src/oidc/claims.ts';

const PHONE = '+79123456789';
const EMAIL = 'maria@example.test';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8')) as {
  scopes: Record<string, string>;
  claims: Record<string, string>;
};
const ESIA_SCOPES = ['fullname', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'email', 'mobile', 'contacts', 'addresses'];
const ALL = `openid offline_access profile email phone address ${ESIA_SCOPES.join(' ')}`;
const STANDARD = 'urn:vkhod:loa:standard';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';

const client = (client_id: string, extra: Record<string, unknown> = {}) => ({
  client_id,
  client_name: `Сервис ${client_id}`,
  client_secret: TEST_SECRET,
  redirect_uris: [TEST_REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'],
  ...extra,
});

/** The claims each scope releases at userinfo (besides sub and account_level, always there). */
const SCOPE_CLAIMS: Record<string, string[]> = {
  profile: ['family_name', 'given_name', 'middle_name', 'name', 'birthdate', 'gender', 'updated_at'],
  fullname: ['family_name', 'given_name', 'middle_name', 'name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  snils: ['snils'],
  inn: ['inn'],
  id_doc: ['id_document'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  mobile: ['phone_number', 'phone_number_verified'],
  contacts: ['email', 'email_verified', 'phone_number', 'phone_number_verified'],
  address: ['address'],
  addresses: ['address'],
};

type Tokens = { body: Record<string, unknown>; idToken: Record<string, unknown>; userinfo: Record<string, unknown> };

describe('claims: scopes, verified_claims, levels', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;

  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        client('rp-all', { scope: ALL }),
        client('rp-esia', { scope: ALL, vkhod_esia_compat: true }),
        client('rp-narrow', { scope: 'openid fullname' }),
        client('rp-profile', { scope: 'openid profile' }),
      ],
    });
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
    await h.services.accounts.modify(accountId, (a) => ({ ...a, email: EMAIL, emailVerified: true }));
    browser = new Browser(h);
  });

  const authUrl = (clientId: string, scope: string, challenge: string, extra: Record<string, string> = {}) =>
    `/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: TEST_REDIRECT, scope, state: randomBytes(6).toString('hex'), nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256', ...extra })}`;

  /** Authorization through sign-in (when asked) and consent (when asked); stops at the RP or at a page. */
  async function authorize(
    clientId: string,
    scope: string,
    extra: Record<string, string> = {},
  ): Promise<{ page: Page; verifier: string; consent?: Page }> {
    const { verifier, challenge } = pkce();
    let page = await browser.get(authUrl(clientId, scope, challenge, extra));
    if (page.html.includes('name="identifier"'))
      page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    let consent: Page | undefined;
    if (!page.location && page.html.includes('/consent')) {
      consent = page;
      page = await browser.submit(page, '/consent', { decision: 'allow' });
    }
    return { page, verifier, consent };
  }

  /** Authorization → code → tokens → userinfo. */
  async function tokens(clientId: string, scope: string, extra: Record<string, string> = {}): Promise<Tokens> {
    const { page, verifier } = await authorize(clientId, scope, extra);
    expect(page.location, `a redirect for ${clientId} ${scope}: ${page.html.slice(0, 300)}`).to.be.a('string');
    const code = new URL(page.location!).searchParams.get('code');
    expect(code, page.location).to.be.a('string');
    const res = await request(h.url)
      .post('/token')
      .auth(clientId, TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT, code_verifier: verifier });
    expect(res.status, res.text).to.equal(200);
    return {
      body: res.body,
      idToken: decodeJwt(res.body.id_token as string) as Record<string, unknown>,
      userinfo: await userinfo(res.body.access_token as string),
    };
  }

  async function userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const res = await request(h.url).get('/me').set('authorization', `Bearer ${accessToken}`);
    expect(res.status, res.text).to.equal(200);
    return res.body;
  }

  function errorOf(page: Page): string | null {
    expect(page.location, page.html.slice(0, 300)).to.be.a('string');
    return new URL(page.location!).searchParams.get('error');
  }

  const vc = (info: Record<string, unknown>) =>
    info.verified_claims as
      | Array<{ verification: Record<string, unknown> & { evidence: Array<Record<string, unknown>> }; claims: Record<string, unknown> }>
      | undefined;

  describe('which scopes a client may ask for', () => {
    it('discovery lists every scope and the claims they release', async () => {
      const meta = (await request(h.url).get('/.well-known/openid-configuration')).body;
      expect(meta.scopes_supported).to.include.members([
        'openid',
        'offline_access',
        'profile',
        'email',
        'phone',
        'address',
        ...ESIA_SCOPES,
      ]);
      expect(meta.claims_supported).to.include.members([
        'snils',
        'inn',
        'id_document',
        'birthplace',
        'verified_claims',
        'account_level',
        'urn:esia:sbj',
        'acr',
      ]);
    });

    it('a client registered without `scope` may ask only openid offline_access profile email phone', async () => {
      for (const scope of ESIA_SCOPES.filter((s) => s !== 'email').concat('address')) {
        const { page } = await authorize('rp-basic', `openid ${scope}`);
        expect(errorOf(page), scope).to.equal('invalid_scope');
      }
      // offline_access needs prompt=consent (OpenID Connect Core §11).
      const ok = await tokens('rp-basic', 'openid offline_access profile email phone', { prompt: 'consent' });
      expect(String(ok.body.scope).split(' ')).to.have.members(['openid', 'offline_access', 'profile', 'email', 'phone']);
    });

    it('a client registered with `scope` is refused anything beyond it', async () => {
      const { page } = await authorize('rp-narrow', 'openid fullname snils');
      expect(errorOf(page)).to.equal('invalid_scope');
      expect(errorOf((await authorize('rp-narrow', 'openid profile')).page)).to.equal('invalid_scope');
      const ok = await tokens('rp-narrow', 'openid fullname');
      expect(ok.userinfo).to.include({ family_name: 'Иванова', given_name: 'Мария' });
    });
  });

  describe("the claims parameter stays within the client's registered scopes", () => {
    /** The authorization response for rp-profile with `claims`, before any sign-in. */
    async function ask(claims: unknown, state = randomBytes(6).toString('hex')) {
      const res = await request(h.url).get(
        authUrl('rp-profile', 'openid profile', pkce().challenge, { claims: JSON.stringify(claims), state }),
      );
      return res;
    }

    it('a claim only a scope the client is not registered for releases: invalid_request back at the redirect_uri, with state', async () => {
      for (const claims of [
        { userinfo: { snils: null } },
        { id_token: { snils: { essential: true } } },
        { userinfo: { family_name: null, inn: null } },
      ]) {
        const state = randomBytes(6).toString('hex');
        const res = await ask(claims, state);
        // The redirect_uri is registered and the client known: OIDC Core §3.1.2.6 sends the error there.
        expect(res.status, JSON.stringify(claims)).to.equal(303);
        const back = new URL(res.headers.location!);
        expect(back.origin + back.pathname).to.equal(TEST_REDIRECT);
        expect(back.searchParams.get('error'), JSON.stringify(claims)).to.equal('invalid_request');
        expect(back.searchParams.get('error_description')).to.match(/^claim (snils|inn) needs a scope this client is not registered for/);
        expect(back.searchParams.get('state')).to.equal(state);
        expect(back.searchParams.get('iss')).to.equal(h.url);
        expect(back.searchParams.has('code')).to.equal(false);
      }
      // The same request with the claim inside the registered scope goes on to the sign-in page.
      const within = await browser.get(
        authUrl('rp-profile', 'openid profile', pkce().challenge, { claims: JSON.stringify({ userinfo: { family_name: null } }) }),
      );
      expect(within.html).to.include('name="identifier"');
    });

    it('acr, and claims of an allowed scope, are accepted and released', async () => {
      const acr = await ask({ id_token: { acr: { essential: true } } });
      expect(acr.status).to.equal(303);
      expect(acr.headers.location).to.match(/^\/interaction\//);
      const { idToken, userinfo: info } = await tokens('rp-profile', 'openid profile', {
        claims: JSON.stringify({
          id_token: { acr: { essential: true }, family_name: null, birthdate: null },
          userinfo: { given_name: null },
        }),
      });
      expect(idToken).to.include({ acr: 'urn:vkhod:loa:simplified', family_name: 'Иванова' });
      expect(info).to.include({ given_name: 'Мария' });
      expect(info).to.not.have.property('snils');
    });
  });

  it('each scope releases its own claims at userinfo, and no more', async () => {
    await saveIdentity(h, accountId);
    for (const [scope, claims] of Object.entries(SCOPE_CLAIMS)) {
      const { userinfo: info } = await tokens('rp-all', `openid ${scope}`);
      expect(Object.keys(info), scope).to.have.members(['sub', 'account_level', ...claims]);
    }
  });

  it('the values: names, dates, SNILS as printed, passport, address, contacts', async () => {
    await saveIdentity(h, accountId);
    const { userinfo: info } = await tokens('rp-all', ALL);
    expect(info).to.include({
      sub: accountId,
      account_level: 'simplified',
      family_name: 'Иванова',
      given_name: 'Мария',
      middle_name: 'Петровна',
      name: 'Иванова Мария Петровна',
      birthdate: '1985-03-05',
      gender: 'female',
      birthplace: 'гор. Москва',
      snils: '112-233-445 95',
      inn: IDENTITY_FORM.inn,
      email: EMAIL,
      email_verified: true,
      phone_number: PHONE,
      phone_number_verified: true,
    });
    expect(info.id_document).to.deep.equal({
      type: 'RF_PASSPORT',
      series: '4506',
      number: '123456',
      issue_date: '2005-03-20',
      issuer: 'ОВД района Хамовники гор. Москвы',
      department_code: '772-001',
    });
    expect(info.address).to.deep.equal({ formatted: IDENTITY_FORM.address, postal_code: '125009', country: 'RU' });
    // Nothing is verified yet: no verified_claims at all.
    expect(info).to.not.have.property('verified_claims');
  });

  it('the ID token (code flow) carries sub, acr, amr and account_level; personal data only when the claims parameter asks', async () => {
    await makeStandard(h, accountId);
    const plain = await tokens('rp-all', 'openid fullname snils');
    expect(plain.idToken).to.include({ sub: accountId, account_level: 'standard', acr: STANDARD });
    expect(plain.idToken.amr).to.deep.equal(['pwd']);
    expect(plain.idToken).to.not.have.any.keys('family_name', 'snils', 'verified_claims', 'urn:esia:sbj');
    const asked = await tokens('rp-all', 'openid fullname snils', {
      claims: JSON.stringify({ id_token: { family_name: null, snils: null } }),
    });
    expect(asked.idToken).to.include({ family_name: 'Иванова', snils: '112-233-445 95' });
  });

  describe('verified_claims', () => {
    it('after the registry check: ru_vkhod, evidence and time, and only the items the registry checked', async () => {
      await makeStandard(h, accountId);
      const { userinfo: info } = await tokens('rp-all', ALL);
      expect(info.account_level).to.equal('standard');
      const list = vc(info)!;
      expect(list).to.have.length(1);
      const [entry] = list;
      expect(entry!.verification).to.include({ trust_framework: 'ru_vkhod', assurance_level: 'standard' });
      expect(Date.parse(String(entry!.verification.time))).to.be.closeTo(Date.now(), 60_000);
      expect(entry!.verification.evidence[0]).to.include({ type: 'electronic_record' });
      // OIDC4IDA: evidence time is an ISO 8601 date-time (not Unix seconds), the same instant.
      expect(entry!.verification.evidence[0]!.time)
        .to.be.a('string')
        .and.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(entry!.verification.evidence[0]!.time).to.equal(entry!.verification.time);
      expect(entry!.claims).to.deep.equal({
        family_name: 'Иванова',
        given_name: 'Мария',
        middle_name: 'Петровна',
        name: 'Иванова Мария Петровна',
        birthdate: '1985-03-05',
        snils: '112-233-445 95',
        id_document: info.id_document,
      });
      // INN and address were not checked by the registry: never inside verified_claims.
      expect(entry!.claims).to.not.have.any.keys('inn', 'address', 'gender', 'birthplace');
    });

    it('only for the items of the granted scopes; none for scopes without verified items', async () => {
      await makeStandard(h, accountId);
      const narrow = await tokens('rp-all', 'openid fullname');
      expect(Object.keys(vc(narrow.userinfo)![0]!.claims)).to.have.members(['family_name', 'given_name', 'middle_name', 'name']);
      const snils = await tokens('rp-all', 'openid snils');
      expect(vc(snils.userinfo)![0]!.claims).to.deep.equal({ snils: '112-233-445 95' });
      const unverified = await tokens('rp-all', 'openid inn addresses email');
      expect(unverified.userinfo).to.not.have.property('verified_claims');
      expect(unverified.userinfo.inn).to.equal(IDENTITY_FORM.inn);
    });

    it('INN entered after verification is released as a plain claim only', async () => {
      await makeStandard(h, accountId, { inn: '' });
      await saveIdentity(h, accountId, { inn: innFor('7707083893') });
      expect((await h.services.accounts.findActive(accountId))!.level).to.equal('standard');
      const { userinfo: info } = await tokens('rp-all', 'openid inn snils');
      expect(info.inn).to.equal(innFor('7707083893'));
      expect(vc(info)![0]!.claims).to.deep.equal({ snils: '112-233-445 95' });
    });

    it('a confirmed address (by post) is verified; changed afterwards, it is not', async () => {
      await makeStandard(h, accountId);
      let account = (await h.services.accounts.findActive(accountId))!;
      account = await h.services.postal.request(account);
      const [letter] = await h.services.store.letters.list('queued');
      expect(await h.services.postal.verify(account, h.services.postal.printable(letter!).code!, '127.0.0.1')).to.equal('ok');
      const confirmed = await tokens('rp-all', 'openid addresses');
      const [entry] = vc(confirmed.userinfo)!;
      expect(entry!.verification).to.include({ trust_framework: 'ru_vkhod', assurance_level: 'confirmed' });
      expect(entry!.claims).to.deep.equal({ address: { formatted: IDENTITY_FORM.address, postal_code: '125009', country: 'RU' } });
      await saveIdentity(h, accountId, { address: 'г. Тверь, ул. Советская, д. 5' });
      const moved = await tokens('rp-all', 'openid addresses');
      expect((moved.userinfo.address as Record<string, unknown>).formatted).to.equal('г. Тверь, ул. Советская, д. 5');
      expect(moved.userinfo).to.not.have.property('verified_claims');
      expect(moved.userinfo.account_level).to.equal('confirmed');
    });

    it('a change of verified data drops the level and removes verified_claims, even for a token issued before', async () => {
      await makeStandard(h, accountId);
      // A token issued at simplified (what this relying party asked for) stays valid: its data follows the account.
      const before = await tokens('rp-all', 'openid fullname snils', { acr_values: SIMPLIFIED });
      expect(vc(before.userinfo)).to.have.length(1);
      // One issued at standard is not: the account no longer satisfies its acr (as introspection says).
      const atStandard = await tokens('rp-all', 'openid fullname snils');
      expect(atStandard.idToken.acr).to.equal(STANDARD);
      await saveIdentity(h, accountId, { snils: snilsFor('123456789') });
      const same = await userinfo(before.body.access_token as string);
      expect(same.account_level).to.equal('simplified');
      expect(same.snils).to.equal('123-456-789 64');
      expect(same).to.not.have.property('verified_claims');
      const refused = await request(h.url)
        .get('/me')
        .set('authorization', `Bearer ${atStandard.body.access_token as string}`);
      expect(refused.status).to.equal(401);
      // The session was signed in at standard: a new token says simplified now, never standard.
      const after = await tokens('rp-all', 'openid fullname snils');
      expect(after.userinfo).to.not.have.property('verified_claims');
      expect(after.idToken).to.include({ account_level: 'simplified', acr: 'urn:vkhod:loa:simplified' });
      // And a relying party that asks for standard does not get a code for it.
      const { page } = await authorize('rp-all', 'openid', { acr_values: STANDARD });
      expect(page.location, 'no redirect with a code').to.equal(undefined);
      expect(page.status).to.equal(403);
      expect(page.html).to.include('id="start-upgrade"');
    });

    it('a refresh token issued at standard is refused once the level dropped: no new ID token says standard', async () => {
      await makeStandard(h, accountId);
      const before = await tokens('rp-all', 'openid offline_access fullname', { acr_values: STANDARD, prompt: 'consent' });
      expect(before.idToken.acr).to.equal(STANDARD);
      const refresh = () =>
        request(h.url)
          .post('/token')
          .auth('rp-all', TEST_SECRET)
          .type('form')
          .send({ grant_type: 'refresh_token', refresh_token: before.body.refresh_token });
      await saveIdentity(h, accountId, { snils: snilsFor('123456789') });
      const refused = await refresh();
      expect(refused.status, refused.text).to.equal(400);
      expect(refused.body.error).to.equal('invalid_grant');
      // Back at standard (the new data checked), the same refresh token works again.
      await h.services.levels.requestStandard(accountId);
      const again = await refresh();
      expect(again.status, again.text).to.equal(200);
      expect((decodeJwt(again.body.id_token as string) as Record<string, unknown>).acr).to.equal(STANDARD);
    });
  });

  describe('account_level and urn:esia:sbj', () => {
    it('account_level follows the account: simplified → standard → confirmed', async () => {
      expect((await tokens('rp-all', 'openid')).idToken).to.include({ account_level: 'simplified', acr: 'urn:vkhod:loa:simplified' });
      await makeStandard(h, accountId);
      const standard = await tokens('rp-all', 'openid');
      expect(standard.idToken.account_level).to.equal('standard');
      expect(standard.userinfo.account_level).to.equal('standard');
      // A relying party that asks for standard gets it from the same session, without a new sign-in.
      const asked = await tokens('rp-all', 'openid', { acr_values: STANDARD });
      expect(asked.idToken).to.include({ account_level: 'standard', acr: STANDARD });
      expect(asked.idToken.amr).to.deep.equal(['pwd']);
      await h.services.levels.confirm(accountId, { method: 'service_centre', actor: 'operator:test', evidence: { document: 'passport' } });
      const confirmed = await tokens('rp-all', 'openid');
      expect(confirmed.userinfo.account_level).to.equal('confirmed');
    });

    it("urn:esia:sbj (ESIA's shape) only for a client registered with vkhod_esia_compat; is_tru only when confirmed", async () => {
      const oid = await h.services.store.esia.oidOf(accountId);
      const shape = { 'urn:esia:sbj:typ': 'P', 'urn:esia:sbj:oid': oid, 'urn:esia:sbj:nam': `OID.${oid}` };
      const simplified = await tokens('rp-esia', 'openid fullname');
      expect(simplified.idToken['urn:esia:sbj']).to.deep.equal(shape);
      await makeStandard(h, accountId);
      const standard = await tokens('rp-esia', 'openid fullname');
      expect(standard.idToken['urn:esia:sbj']).to.deep.equal(shape);
      expect(standard.userinfo['urn:esia:sbj']).to.deep.equal(standard.idToken['urn:esia:sbj']);
      await h.services.levels.confirm(accountId, { method: 'service_centre', actor: 'operator:test', evidence: {} });
      const confirmed = await tokens('rp-esia', 'openid fullname');
      expect(confirmed.idToken['urn:esia:sbj']).to.deep.equal({ ...shape, 'urn:esia:sbj:is_tru': true });
      expect(confirmed.userinfo['urn:esia:sbj']).to.deep.include({ 'urn:esia:sbj:is_tru': true });

      const other = await tokens('rp-all', 'openid fullname');
      expect(other.idToken).to.not.have.property('urn:esia:sbj');
      expect(other.userinfo).to.not.have.property('urn:esia:sbj');
    });

    it('after a service-centre confirmation the identity is verified at confirmed, with document evidence', async () => {
      await makeConfirmed(h, accountId);
      const { userinfo: info, idToken } = await tokens('rp-all', 'openid fullname snils id_doc');
      expect(info.account_level).to.equal('confirmed');
      expect(idToken.acr, 'no acr asked: the highest the sign-in earns').to.equal('urn:vkhod:loa:confirmed');
      // Each item under the evidence that covers it: the operator saw the passport, the registry checked the SNILS.
      const entries = vc(info)!;
      const inPerson = entries.find((e) => e.verification.assurance_level === 'confirmed')!;
      expect(inPerson.verification).to.include({ trust_framework: 'ru_vkhod', assurance_level: 'confirmed' });
      expect(inPerson.verification.evidence[0]).to.include({ type: 'document', method: 'pipp' });
      expect(inPerson.claims).to.include.keys('family_name', 'id_document');
      expect(inPerson.claims).to.not.have.property('snils');
      const registry = entries.find((e) => 'snils' in e.claims)!;
      expect(registry.verification.evidence[0]).to.include({ type: 'electronic_record' });
    });

    it("discovery has OIDC4IDA's OP metadata, and what userinfo releases stays within it", async () => {
      const discovery = (await request(h.url).get('/.well-known/openid-configuration')).body as Record<string, unknown>;
      expect(discovery).to.include({ verified_claims_supported: true });
      expect(discovery.trust_frameworks_supported).to.deep.equal(['ru_vkhod']);
      expect(discovery.evidence_supported).to.have.members(['electronic_record', 'document', 'electronic_signature']);
      expect(discovery.documents_supported).to.deep.equal(['ru_passport']);
      expect(discovery.electronic_records_supported).to.include.members(['state_registry', 'postal_confirmation_code', 'bank_account']);
      await makeConfirmed(h, accountId);
      const { userinfo: info } = await tokens('rp-all', 'openid fullname birthdate snils id_doc');
      const entries = vc(info)!;
      expect(entries.length).to.be.greaterThan(1);
      for (const entry of entries) {
        expect(discovery.trust_frameworks_supported).to.include(entry.verification.trust_framework);
        for (const e of entry.verification.evidence as Record<string, { type?: string } | string>[]) {
          expect(discovery.evidence_supported).to.include(e.type);
          if (e.type === 'document') expect(discovery.documents_supported).to.include((e.document_details as { type: string }).type);
          if (e.type === 'electronic_record')
            expect(discovery.electronic_records_supported).to.include((e.record as { type: string }).type);
        }
        expect(discovery.claims_in_verified_claims_supported).to.include.members(Object.keys(entry.claims));
      }
    });
  });

  describe('OIDC4IDA requests: verified_claims asked for claim by claim', () => {
    const ask = (target: 'id_token' | 'userinfo', request: unknown) => ({
      claims: JSON.stringify({ [target]: { verified_claims: request } }),
    });
    const nameOnly = { verification: { trust_framework: null }, claims: { given_name: null } };

    it('releases only the claims asked for, with only the verification members asked for', async () => {
      await makeStandard(h, accountId);
      const { idToken, userinfo: info } = await tokens('rp-all', 'openid fullname snils id_doc', ask('id_token', nameOnly));
      expect(idToken.verified_claims).to.deep.equal([{ verification: { trust_framework: 'ru_vkhod' }, claims: { given_name: 'Мария' } }]);
      // userinfo was not asked for verified claims: the scopes release theirs, as without the request
      expect(Object.keys(vc(info)![0]!.claims)).to.include.members(['snils', 'id_document', 'family_name']);

      const detailed = await tokens('rp-all', 'openid fullname snils', {
        ...ask('userinfo', {
          verification: { trust_framework: null, time: null, evidence: [{ type: null }] },
          claims: { snils: { essential: true, purpose: 'проверка' }, family_name: null },
        }),
      });
      const [entry, ...more] = vc(detailed.userinfo)!;
      expect(more).to.have.length(0);
      expect(entry!.claims).to.deep.equal({ snils: '112-233-445 95', family_name: 'Иванова' });
      expect(entry!.verification).to.have.all.keys('trust_framework', 'time', 'evidence');
      expect(entry!.verification.evidence[0]).to.include({ type: 'electronic_record' });
      // evidence: its type and only the members asked for (not the registry's name, not its time)
      expect(entry!.verification.evidence).to.deep.equal([{ type: 'electronic_record' }]);
      const record = await tokens('rp-all', 'openid fullname', {
        ...ask('userinfo', {
          verification: { trust_framework: null, evidence: [{ record: { type: null } }] },
          claims: { given_name: null },
        }),
      });
      expect(vc(record.userinfo)![0]!.verification.evidence).to.deep.equal([
        { type: 'electronic_record', record: { type: 'state_registry' } },
      ]);
    });

    it('a claim asked for with a value is released only when it has that value', async () => {
      await makeStandard(h, accountId);
      const other = await tokens('rp-all', 'openid fullname', ask('id_token', { ...nameOnly, claims: { given_name: { value: 'Анна' } } }));
      expect(other.idToken).to.not.have.property('verified_claims');
      const same = await tokens(
        'rp-all',
        'openid fullname',
        ask('id_token', { ...nameOnly, claims: { given_name: { values: ['Анна', 'Мария'] } } }),
      );
      expect(same.idToken.verified_claims).to.deep.equal([
        { verification: { trust_framework: 'ru_vkhod' }, claims: { given_name: 'Мария' } },
      ]);
    });

    it('a condition the verification does not meet leaves the whole element out (trust framework, assurance level, max_age, evidence)', async () => {
      await makeStandard(h, accountId);
      const scope = 'openid fullname snils';
      const unmet = [
        { trust_framework: { value: 'eidas' } },
        { trust_framework: null, assurance_level: { value: 'confirmed' } },
        { trust_framework: null, time: { max_age: 0 } },
        { trust_framework: null, evidence: [{ type: { value: 'document' } }] },
        { trust_framework: null, evidence: [{ type: null, time: { max_age: 0 } }] },
      ];
      for (const verification of unmet) {
        const { idToken } = await tokens('rp-all', scope, ask('id_token', { verification, claims: { given_name: null } }));
        expect(idToken, JSON.stringify(verification)).to.not.have.property('verified_claims');
      }
      const met = await tokens(
        'rp-all',
        scope,
        ask('id_token', {
          verification: {
            trust_framework: { values: ['eidas', 'ru_vkhod'] },
            assurance_level: { values: ['standard', 'confirmed'] },
            time: { max_age: 3600 },
            evidence: [{ type: { value: 'electronic_record' }, record: { type: { value: 'state_registry' } } }],
          },
          claims: { given_name: null },
        }),
      );
      const [entry] = met.idToken.verified_claims as Array<{ verification: Record<string, unknown>; claims: unknown }>;
      expect(entry!.verification).to.include({ trust_framework: 'ru_vkhod', assurance_level: 'standard' });
      expect(entry!.claims).to.deep.equal({ given_name: 'Мария' });
    });

    it('conditions choose among verifications: the passport seen in person, or the registry check', async () => {
      await makeConfirmed(h, accountId);
      const byEvidence = async (type: string) =>
        (
          await tokens(
            'rp-all',
            'openid fullname id_doc',
            ask('userinfo', {
              verification: { trust_framework: null, evidence: [{ type: { value: type }, method: null }] },
              claims: { family_name: null },
            }),
          )
        ).userinfo.verified_claims as Array<{ verification: { evidence: Array<Record<string, unknown>> } }>;
      const inPerson = await byEvidence('document');
      expect(inPerson).to.have.length(1);
      expect(inPerson[0]!.verification.evidence[0]).to.include({ type: 'document', method: 'pipp' });
      const registry = await byEvidence('electronic_record');
      expect(registry[0]!.verification.evidence[0]).to.include({ type: 'electronic_record' });
    });

    it("a claim asked for only inside verified_claims needs the citizen's consent to it, also when a consent was remembered", async () => {
      await makeStandard(h, accountId);
      const first = await authorize('rp-all', 'openid', ask('userinfo', nameOnly));
      const items = [...first.consent!.html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
      expect(items).to.include.members([RU.claims.given_name, RU.claims.verified_claims]);
      const { userinfo: info } = await tokens('rp-all', 'openid', ask('userinfo', nameOnly));
      expect(vc(info)).to.deep.equal([{ verification: { trust_framework: 'ru_vkhod' }, claims: { given_name: 'Мария' } }]);
      expect(info, 'the plain claim was not asked for').to.not.have.property('given_name');

      // The same client asks for the SNILS too: the remembered consent does not cover it.
      const more = await authorize('rp-all', 'openid', ask('userinfo', { ...nameOnly, claims: { given_name: null, snils: null } }));
      expect(more.consent, 'asked again').to.not.equal(undefined);
      const asked = [...more.consent!.html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
      expect(asked).to.deep.equal([RU.claims.snils]);
      // prompt=none cannot give it silently
      const silent = await authorize('rp-all', 'openid', {
        ...ask('userinfo', { ...nameOnly, claims: { inn: null, birthdate: null } }),
        prompt: 'none',
      });
      expect(errorOf(silent.page)).to.equal('consent_required');
    });

    it('a verified claim whose scope is asked for in the same request is listed once on the consent page', async () => {
      await makeStandard(h, accountId);
      const { consent } = await authorize('rp-all', 'openid snils', ask('userinfo', { ...nameOnly, claims: { snils: null } }));
      const items = [...consent!.html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
      expect(items.filter((text) => text === RU.scopes.snils)).to.have.length(1);
    });

    it('a scope granted earlier but not asked for now does not stand in for consent to a verified claim', async () => {
      await makeStandard(h, accountId);
      await tokens('rp-all', 'openid snils');
      const snilsOnly = ask('userinfo', { ...nameOnly, claims: { snils: null } });
      const { consent } = await authorize('rp-all', 'openid', snilsOnly);
      expect(consent, 'asked: the tokens of this request will not carry the snils scope').to.not.equal(undefined);
      const { userinfo: info } = await tokens('rp-all', 'openid', snilsOnly);
      expect(vc(info)).to.deep.equal([{ verification: { trust_framework: 'ru_vkhod' }, claims: { snils: '112-233-445 95' } }]);
    });

    it('a request that cannot be read, or reaches past the registration, is invalid_request at the redirect_uri', async () => {
      const cases: Array<[string, unknown, string]> = [
        ['rp-all', { verification: { trust_framework: null }, claims: {} }, 'verified_claims.claims'],
        ['rp-all', { verification: { trust_framework: null } }, 'verified_claims.claims'],
        ['rp-all', [nameOnly], 'array'],
        ['rp-all', { verification: 'ru_vkhod', claims: { given_name: null } }, 'verified_claims.verification'],
        ['rp-all', { verification: { trust_framework: { value: 1 } }, claims: { given_name: null } }, 'trust_framework.value'],
        ['rp-all', { verification: { time: { max_age: -1 } }, claims: { given_name: null } }, 'max_age'],
        ['rp-all', { verification: { evidence: { type: null } }, claims: { given_name: null } }, 'evidence'],
        ['rp-narrow', { verification: { trust_framework: null }, claims: { snils: null } }, 'snils'],
      ];
      for (const [clientId, request, mention] of cases) {
        const { page } = await authorize(clientId, 'openid', ask('id_token', request));
        expect(errorOf(page), JSON.stringify(request)).to.equal('invalid_request');
        const url = new URL(page.location!);
        expect(url.searchParams.get('error_description'), JSON.stringify(request)).to.include(mention);
        expect(url.searchParams.get('state')).to.be.a('string');
      }
    });
  });

  describe('purpose of a claim (OIDC4IDA §6.1)', () => {
    const plain = (claims: Record<string, unknown>) => ({ claims: JSON.stringify({ userinfo: claims }) });

    it('is shown on the consent page beside the data it is for, as text', async () => {
      await makeStandard(h, accountId);
      const { consent } = await authorize(
        'rp-all',
        'openid',
        plain({
          birthdate: { essential: true, purpose: 'Проверка возраста для <b>льготы</b>' },
          verified_claims: { verification: { trust_framework: null }, claims: { snils: { purpose: 'Запись к врачу' } } },
        }),
      );
      expect(consent, 'a consent page').to.not.equal(undefined);
      const purposes = consent!.html.match(/<ul class="consent-purposes">([\s\S]*?)<\/ul>/)![1]!;
      const lines = [...purposes.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => decodeEntities(m[1]!));
      expect(lines).to.deep.equal([
        `${RU.claims.birthdate}: «Проверка возраста для <b>льготы</b>»`,
        `${RU.claims.snils}: «Запись к врачу»`,
      ]);
      expect(purposes, 'escaped, not markup').to.not.include('<b>');
    });

    it('shorter than 3 or longer than 300 characters, or not a string: invalid_request at the redirect_uri', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ birthdate: { purpose: 'ок' } }, 'claims.userinfo.birthdate.purpose'],
        [{ birthdate: { purpose: 'я'.repeat(301) } }, 'claims.userinfo.birthdate.purpose'],
        [{ birthdate: { purpose: 42 } }, 'claims.userinfo.birthdate.purpose'],
        [
          { verified_claims: { verification: { trust_framework: null }, claims: { given_name: { purpose: '' } } } },
          'verified_claims.claims.given_name.purpose',
        ],
      ];
      for (const [claims, mention] of cases) {
        const { page } = await authorize('rp-all', 'openid profile', plain(claims));
        expect(errorOf(page), JSON.stringify(claims)).to.equal('invalid_request');
        expect(new URL(page.location!).searchParams.get('error_description')).to.include(mention);
      }
      // 300 characters (letters, not bytes) is within
      const within = await authorize('rp-all', 'openid profile', plain({ birthdate: { purpose: 'я'.repeat(300) } }));
      expect(within.consent?.html ?? '', 'asked for consent, not refused').to.include('consent-purposes');
    });
  });

  it('a registration narrowed since (an admin took a scope away): the tokens issued before release no more than it allows', async () => {
    await makeStandard(h, accountId);
    const before = await tokens('rp-all', 'openid fullname snils', {
      claims: JSON.stringify({ userinfo: { snils: { essential: true } } }),
    });
    expect(before.userinfo.snils).to.equal('112-233-445 95');
    const admin = await addOperator(h, 'boss.admin', ['admin']);
    const narrowed = ALL.split(' ')
      .filter((s) => s !== 'snils')
      .join(' ');
    const patched = await request(h.url)
      .patch('/admin/api/clients/rp-all')
      .auth(admin.login, admin.password)
      .set('accept', 'application/json')
      .send({ scope: narrowed });
    expect(patched.status, patched.text).to.equal(200);
    let after: Record<string, unknown>;
    try {
      after = await userinfo(before.body.access_token as string);
    } finally {
      await request(h.url).patch('/admin/api/clients/rp-all').auth(admin.login, admin.password).send({ scope: ALL });
    }
    expect(after, 'asked for by scope and by name, granted before').to.not.have.property('snils');
    expect(JSON.stringify(after.verified_claims ?? []), 'nor inside verified_claims').to.not.include('snils');
    expect(after.family_name, 'what it is still registered for').to.equal('Иванова');
  });

  it('updated_at dates the data released, not every write of the account: a new device and a consent leave it, a new name moves it', async () => {
    // A known point in the past, so that a second's difference cannot hide a move.
    const past = '2020-01-01T00:00:00.000Z';
    await h.services.accounts.modify(accountId, (a) => ({ ...a, profileUpdatedAt: past }));
    const first = await tokens('rp-all', 'openid profile');
    expect(first.userinfo.updated_at).to.equal(Date.parse(past) / 1000);
    // Another browser (a device the account has not seen: the record changes) and a new consent.
    browser = new Browser(h);
    const again = await tokens('rp-all', 'openid profile birthplace', { prompt: 'consent' });
    expect((await h.services.accounts.findActive(accountId))!.updatedAt > past).to.equal(true);
    expect(again.userinfo.updated_at, 'nothing released changed').to.equal(Date.parse(past) / 1000);
    await h.services.accounts.modify(accountId, (a) => ({ ...a, name: { ...a.name, family: 'Смирнова' } }));
    const renamed = await userinfo(again.body.access_token as string);
    expect(renamed.updated_at as number).to.be.greaterThan(Date.parse(past) / 1000);
  });

  it('consent lists the ESIA items in plain Russian', async () => {
    const scopes = ['fullname', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'addresses', 'mobile', 'contacts'];
    const { consent } = await authorize('rp-esia', `openid ${scopes.join(' ')}`);
    expect(consent, 'a consent page').to.not.equal(undefined);
    const list = consent!.html.match(/<ul class="consent-list">([\s\S]*?)<\/ul>/)![1]!;
    const items = [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
    expect(items).to.have.members(scopes.map((s) => RU.scopes[s]!));
    for (const text of items) expect(text, 'in Russian, no raw scope names').to.match(/^[а-яё«»(), ]|^СНИЛС|^ИНН/i);
    expect(RU.scopes.snils).to.equal('СНИЛС');
    expect(RU.scopes.id_doc).to.match(/паспорт/);
  });

  it('claims asked for one by one (the claims parameter) are listed in plain Russian too, every claim a scope releases', async () => {
    const asked = ['snils', 'id_document', 'family_name', 'birthdate', 'verified_claims'];
    const claims = JSON.stringify({ userinfo: Object.fromEntries(asked.map((c) => [c, { essential: true }])) });
    const { consent } = await authorize('rp-all', 'openid', { claims });
    expect(consent, 'a consent page').to.not.equal(undefined);
    const list = consent!.html.match(/<ul class="consent-list">([\s\S]*?)<\/ul>/)![1]!;
    const items = [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => decodeEntities(m[1]!));
    expect(items).to.include.members(asked.map((c) => RU.claims[c]!));
    for (const text of items) expect(text, 'no raw claim names').to.not.match(/«[a-z_]+»/);
    const everyClaim = new Set(Object.values(RELEASED_BY_SCOPE).flat());
    for (const claim of everyClaim) expect(RU.claims, `a consent label for ${claim}`).to.have.property(claim);
  });
});
