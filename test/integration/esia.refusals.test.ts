/**
 * ESIA drop-in (issue 13): what a relying party or an attacker gets wrong is refused with ESIA's
 * codes — a signature by another key, a replayed request, a stale timestamp, a reused state (also
 * raced), another client's code, a code redeemed twice in parallel, a scope the client is not
 * registered for, a refused consent — and what cannot be redirected safely is a page.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { EsiaRelyingParty, esiaSignIn, esiaTimestamp, ESIA_RP_REDIRECT } from '../support/esia-rp.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';

function errorOf(location: string | undefined): { error: string | null; description: string | null; state: string | null } {
  expect(location, 'a redirect to the relying party').to.be.a('string');
  const url = new URL(location!);
  expect(url.origin + url.pathname).to.equal(ESIA_RP_REDIRECT);
  return {
    error: url.searchParams.get('error'),
    description: url.searchParams.get('error_description'),
    state: url.searchParams.get('state'),
  };
}

describe('ESIA profile: refusals', function () {
  this.timeout(60_000);
  let h: Harness;
  let rp: EsiaRelyingParty;
  let other: EsiaRelyingParty;
  before(async () => {
    rp = new EsiaRelyingParty('ESIA_RP', 'rsa', 'openid fullname snils');
    other = new EsiaRelyingParty('ESIA_OTHER', 'rsa', 'openid fullname snils');
    h = await startHarness({ clients: [...defaultClients(), rp.registration(), other.registration()] });
  });
  after(async () => {
    await h.close();
    rp.close();
    other.close();
  });
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  async function authorize(path: string) {
    return request(h.url).get(path);
  }

  describe('the authorization request', () => {
    it('a signature by a key other than the registered certificate’s: ESIA-007053, no sign-in', async () => {
      const { path, state } = rp.authorizePath({ signer: other });
      const res = await authorize(path);
      expect(res.status).to.equal(302);
      expect(errorOf(res.headers.location)).to.deep.include({ error: 'invalid_request', state });
      expect(errorOf(res.headers.location).description).to.match(/^ESIA-007053: /);
    });

    it('a signature over other parameters (the scope changed after signing): ESIA-007053', async () => {
      const { params } = rp.authorizePath({ scope: 'openid' });
      const res = await authorize(`/aas/oauth2/ac?${new URLSearchParams({ ...params, scope: 'openid fullname snils' })}`);
      expect(errorOf(res.headers.location).description).to.match(/^ESIA-007053: /);
    });

    it('a replayed request (the same signed URL again): the first starts a sign-in, the replay gets ESIA-007003 (the state was used)', async () => {
      const { path } = rp.authorizePath();
      const first = await authorize(path);
      expect(first.headers.location).to.match(/^\/auth\?/);
      const replay = await authorize(path);
      expect(errorOf(replay.headers.location).description).to.match(/^ESIA-007003: .*state/);
    });

    it('one state raced by parallel requests: exactly one starts a sign-in', async () => {
      const { path } = rp.authorizePath();
      const answers = await Promise.all(Array.from({ length: 6 }, () => authorize(path)));
      const started = answers.filter((r) => String(r.headers.location).startsWith('/auth?'));
      expect(started, answers.map((r) => r.headers.location).join('\n')).to.have.length(1);
      for (const r of answers.filter((x) => !String(x.headers.location).startsWith('/auth?')))
        expect(errorOf(r.headers.location).description).to.match(/^ESIA-007003: .*state/);
    });

    it('a timestamp older (or newer) than the window: ESIA-007015', async () => {
      for (const shift of [-2 * 3600_000, 2 * 3600_000]) {
        const res = await authorize(rp.authorizePath({ timestamp: esiaTimestamp(shift) }).path);
        expect(errorOf(res.headers.location).description, String(shift)).to.match(/^ESIA-007015: /);
      }
      const malformed = await authorize(rp.authorizePath({ timestamp: '2024-01-01T00:00:00Z' }).path);
      expect(errorOf(malformed.headers.location).description).to.match(/^ESIA-007015: /);
    });

    it('a + sent unencoded (a space) in the timestamp is read as the + the client signed', async () => {
      const { params } = rp.authorizePath();
      const raw = Object.entries(params)
        .map(([k, v]) => `${k}=${k === 'timestamp' ? v.replace(/ /g, '%20').replace('+', '+') : encodeURIComponent(v)}`)
        .join('&');
      const res = await authorize(`/aas/oauth2/ac?${raw}`);
      expect(res.headers.location).to.match(/^\/auth\?/);
    });

    it('a scope the client is not registered for: ESIA-007006; no scope at all: ESIA-007013', async () => {
      const res = await authorize(rp.authorizePath({ scope: 'openid id_doc' }).path);
      expect(errorOf(res.headers.location)).to.deep.include({ error: 'invalid_scope' });
      expect(errorOf(res.headers.location).description).to.match(/^ESIA-007006: /);
      const { params } = rp.authorizePath();
      const none = await authorize(`/aas/oauth2/ac?${new URLSearchParams({ ...params, scope: ' ' })}`);
      expect(errorOf(none.headers.location)).to.deep.include({ error: 'invalid_scope' });
      expect(errorOf(none.headers.location).description).to.match(/^ESIA-007013: /);
    });

    it('a state that is not a UUID, a missing signature, a wrong response_type: ESIA codes by redirect', async () => {
      const { params } = rp.authorizePath();
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ ...params, state: 'not-a-uuid' }, /^ESIA-007003/],
        [{ ...params, client_secret: '' }, /^ESIA-007003/],
        [{ ...params, client_secret: 'bm90IGEgc2lnbmF0dXJl' }, /^ESIA-007053/],
        [{ ...params, response_type: 'token' }, /^ESIA-007009/],
      ];
      for (const [query, code] of cases) {
        const res = await authorize(`/aas/oauth2/ac?${new URLSearchParams(query)}`);
        expect(errorOf(res.headers.location).description, JSON.stringify(query).slice(0, 80)).to.match(code);
      }
    });

    it('an unknown client or a redirect_uri not registered: a page, never a redirect', async () => {
      const { params } = rp.authorizePath();
      for (const query of [
        { ...params, client_id: 'NOBODY' },
        { ...params, redirect_uri: 'https://evil.example.test/cb' },
      ]) {
        const res = await authorize(`/aas/oauth2/ac?${new URLSearchParams(query)}`);
        expect(res.status).to.equal(400);
        expect(res.headers.location).to.equal(undefined);
        expect(res.text).to.include('<html');
        // the code the service's support looks up
        if (new URLSearchParams(query).get('client_id') !== 'NOBODY') expect(res.text).to.include('ESIA-007023');
      }
    });

    it('v2 with another certificate’s hash: ESIA-007002; without one: ESIA-007014', async () => {
      const { params } = rp.authorizePath({ version: 2 });
      const res = await authorize(
        `/aas/oauth2/v2/ac?${new URLSearchParams({ ...params, client_certificate_hash: other.certificateHash() })}`,
      );
      expect(errorOf(res.headers.location).description).to.match(/^ESIA-007002: /);
      const { client_certificate_hash: _hash, ...without } = params;
      const missing = await authorize(`/aas/oauth2/v2/ac?${new URLSearchParams(without)}`);
      expect(errorOf(missing.headers.location)).to.deep.include({ error: 'invalid_request' });
      expect(errorOf(missing.headers.location).description).to.match(/^ESIA-007014: .*client_certificate_hash/);
    });

    it('the citizen refuses the consent: ESIA-007004 with the client’s state', async () => {
      const { path, state } = rp.authorizePath();
      const browser = new Browser(h);
      let page = await browser.get(path);
      page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(page.html).to.include('/consent');
      page = await browser.submit(page, '/consent', { decision: 'deny' });
      expect(errorOf(page.location)).to.deep.include({ error: 'access_denied', state });
      expect(errorOf(page.location).description).to.match(/^ESIA-007004/);
    });
  });

  it('the internal callback raced (the browser’s return from the sign-in, sent several times at once): exactly one ESIA code', async () => {
    const browser = new Browser(h);
    // a first sign-in leaves a session and the consent: the next authorization needs no page
    await esiaSignIn(h, rp.authorizePath().path, PHONE);
    let page = await browser.get(rp.authorizePath().path);
    page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    if (!page.location) page = await browser.submit(page, '/consent', { decision: 'allow' });
    let next = rp.authorizePath().path;
    let callback: string | undefined;
    for (let i = 0; i < 10 && !callback; i++) {
      const res = await browser.agent.get(next);
      const location = new URL(res.headers.location, h.url);
      if (location.pathname === '/aas/oauth2/internal/callback') callback = location.pathname + location.search;
      else next = location.pathname + location.search;
    }
    expect(callback, 'the provider’s redirect to the internal callback').to.be.a('string');
    const answers = await Promise.all(Array.from({ length: 5 }, () => browser.agent.get(callback!)));
    const codes = answers.map((r) => String(r.headers.location ?? '')).filter((l) => l.startsWith(ESIA_RP_REDIRECT) && l.includes('code='));
    expect(codes, answers.map((r) => `${r.status} ${r.headers.location ?? ''}`).join('\n')).to.have.length(1);
    expect(answers.filter((r) => r.status === 400)).to.have.length(4);
  });

  it('failed signatures count against the address: once over the per-IP rule, even a good request is turned away before the check', async () => {
    // 599 authorization requests from this address already (the rule allows 600 per 10 minutes)
    await Promise.all(Array.from({ length: 599 }, () => h.services.limits.hit('authorize-ip', '127.0.0.1')));
    expect(String((await authorize(rp.authorizePath().path)).headers.location)).to.match(/^\/auth\?/);
    const bad = await authorize(rp.authorizePath({ signer: other }).path);
    expect(errorOf(bad.headers.location).description).to.match(/^ESIA-007053/);
    const good = await authorize(rp.authorizePath().path);
    expect(errorOf(good.headers.location)).to.deep.include({ error: 'temporarily_unavailable' });
    expect(errorOf(good.headers.location).description).to.match(/^ESIA-007008/);
    const token = await rp.tokenRequest(h.url, rp.tokenForm({ code: 'whatever' }));
    expect(token.status).to.equal(429);
  });

  describe('the token request', () => {
    async function code(scope = 'openid fullname snils'): Promise<string> {
      return (await esiaSignIn(h, rp.authorizePath({ scope }).path, PHONE)).searchParams.get('code')!;
    }

    it('another client’s code, signed correctly by that other client: ESIA-007011, and the code still works for its client', async () => {
      const stolen = await code();
      const res = await other.tokenRequest(h.url, other.tokenForm({ code: stolen }));
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
      expect(res.body.error_description).to.match(/^ESIA-007011/);
      expect((await rp.tokenRequest(h.url, rp.tokenForm({ code: stolen }))).status).to.equal(200);
    });

    const prns = (token: string) =>
      request(h.url)
        .get(`/rs/prns/${decodeJwt(token)['urn:esia:sbj_id'] as number}`)
        .set('authorization', `Bearer ${token}`);

    it('a code redeemed twice: the second gets ESIA-007011, and the tokens of the first are revoked (RFC 6749 §4.1.2)', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ accessType: 'offline' }).path, PHONE);
      const c = back.searchParams.get('code')!;
      const first = await rp.tokenRequest(h.url, rp.tokenForm({ code: c }));
      expect(first.status).to.equal(200);
      expect((await prns(first.body.access_token)).status, 'the access token works before').to.equal(200);
      const again = await rp.tokenRequest(h.url, rp.tokenForm({ code: c }));
      expect(again.body.error_description).to.match(/^ESIA-007011/);
      expect((await prns(first.body.access_token)).status, 'the access token of the first exchange').to.equal(401);
      const refreshed = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: first.body.refresh_token }));
      expect(refreshed.body.error_description, 'its refresh token').to.match(/^ESIA-007011/);
    });

    it('a code raced by parallel requests: the winner’s access token is revoked too (its tokens may be written after the revocation)', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ accessType: 'offline' }).path, PHONE);
      const c = back.searchParams.get('code')!;
      const answers = await Promise.all(Array.from({ length: 4 }, () => rp.tokenRequest(h.url, rp.tokenForm({ code: c }))));
      expect(answers.filter((r) => r.status !== 200).length, 'the others are replays').to.be.greaterThan(0);
      for (const won of answers.filter((r) => r.status === 200))
        expect((await prns(won.body.access_token)).status, 'the winner’s access token').to.equal(401);
    });

    it('a rotated refresh token replayed: refused, and the refresh token that replaced it is revoked (RFC 9700 §4.14.2)', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ accessType: 'offline' }).path, PHONE);
      const first = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }));
      const second = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: first.body.refresh_token }));
      expect(second.status).to.equal(200);
      const replay = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: first.body.refresh_token }));
      expect(replay.body.error_description).to.match(/^ESIA-007011/);
      const next = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: second.body.refresh_token }));
      expect(next.body.error_description, 'the refresh token that replaced it').to.match(/^ESIA-007011/);
      expect((await prns(second.body.access_token)).status, 'the access token issued with it').to.equal(401);
    });

    it('one code raced by parallel token requests (each correctly signed, own state): exactly one gets tokens', async () => {
      const c = await code();
      const forms = Array.from({ length: 6 }, () => rp.tokenForm({ code: c }));
      const answers = await Promise.all(forms.map((f) => rp.tokenRequest(h.url, f)));
      expect(
        answers.filter((r) => r.status === 200),
        answers.map((r) => r.text).join('\n'),
      ).to.have.length(1);
      for (const r of answers.filter((x) => x.status !== 200)) expect(r.body.error_description).to.match(/^ESIA-007011/);
    });

    it('one refresh token raced: exactly one gets new tokens', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ accessType: 'offline' }).path, PHONE);
      const first = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }));
      const forms = Array.from({ length: 6 }, () => rp.tokenForm({ refresh_token: first.body.refresh_token }));
      const answers = await Promise.all(forms.map((f) => rp.tokenRequest(h.url, f)));
      expect(answers.filter((r) => r.status === 200)).to.have.length(1);
    });

    it('a reused state: the replayed token request gets ESIA-007003 and no tokens', async () => {
      const c1 = await code();
      const state = randomUUID();
      expect((await rp.tokenRequest(h.url, rp.tokenForm({ code: c1 }, { state }))).status).to.equal(200);
      const c2 = await code();
      const reused = await rp.tokenRequest(h.url, rp.tokenForm({ code: c2 }, { state }));
      expect(reused.status).to.equal(400);
      expect(reused.body).to.include({ state });
      expect(reused.body.error_description).to.match(/^ESIA-007003: .*state/);
    });

    it('the signature of an authorization request (seen by the browser) replayed at the token endpoint: ESIA-007003 (its state was used)', async () => {
      const scope = 'openid fullname snils';
      const { path, params } = rp.authorizePath({ scope });
      const back = await esiaSignIn(h, path, PHONE);
      // v1 signs scope + timestamp + client_id + state at both endpoints: the same bytes
      const res = await rp.tokenRequest(h.url, {
        ...rp.tokenForm({ code: back.searchParams.get('code')! }, { scope }),
        client_secret: params.client_secret!,
        state: params.state!,
        timestamp: params.timestamp!,
      });
      expect(res.status).to.equal(400);
      expect(res.body.error_description).to.match(/^ESIA-007003: .*state/);
    });

    it('a JSON body: told the request must be a form, not that client_id is missing', async () => {
      const res = await request(h.url)
        .post('/aas/oauth2/v3/te')
        .set('content-type', 'application/json')
        .send(rp.tokenForm({ code: 'x' }));
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      expect(res.body.error_description).to.match(/^ESIA-007003: .*application\/x-www-form-urlencoded/);
    });

    it('v3: without client_certificate_hash ESIA-007014, with another certificate’s ESIA-007002; the code is not spent', async () => {
      const c = await code();
      const { client_certificate_hash: _hash, ...without } = rp.tokenForm({ code: c }, { version: 3 });
      const missing = await rp.tokenRequest(h.url, without, 3);
      expect(missing.status).to.equal(400);
      expect(missing.body.error_description).to.match(/^ESIA-007014: .*client_certificate_hash/);
      const foreign = await rp.tokenRequest(
        h.url,
        { ...rp.tokenForm({ code: c }, { version: 3 }), client_certificate_hash: other.certificateHash() },
        3,
      );
      expect(foreign.body.error_description).to.match(/^ESIA-007002: /);
      expect((await rp.tokenRequest(h.url, rp.tokenForm({ code: c }, { version: 3 }), 3)).status).to.equal(200);
    });

    it('a bad signature, a stale timestamp, an unknown client, an unsupported grant type', async () => {
      const c = await code();
      const bad = await rp.tokenRequest(h.url, rp.tokenForm({ code: c }, { signer: other }));
      expect(bad.body.error_description).to.match(/^ESIA-007053/);
      const stale = await rp.tokenRequest(h.url, rp.tokenForm({ code: c }, { timestamp: esiaTimestamp(-3 * 3600_000) }));
      expect(stale.body.error_description).to.match(/^ESIA-007015/);
      const unknown = await rp.tokenRequest(h.url, { ...rp.tokenForm({ code: c }), client_id: 'NOBODY' });
      expect(unknown.status).to.equal(401);
      expect(unknown.body).to.include({ error: 'invalid_client' });
      expect(unknown.body.error_description).to.match(/^ESIA-008010/);
      const { scope: _scope, ...noScope } = rp.tokenForm({ code: c });
      const unscoped = await rp.tokenRequest(h.url, noScope);
      expect(unscoped.body).to.include({ error: 'invalid_scope' });
      expect(unscoped.body.error_description).to.match(/^ESIA-007013/);
      const grant = await rp.tokenRequest(h.url, { ...rp.tokenForm({ code: c }), grant_type: 'password' });
      expect(grant.body.error_description).to.match(/^ESIA-007012/);
      // none of these spent the code
      expect((await rp.tokenRequest(h.url, rp.tokenForm({ code: c }))).status).to.equal(200);
    });

    it('the redirect_uri must be the one the code was issued for', async () => {
      const c = await code();
      const res = await rp.tokenRequest(h.url, { ...rp.tokenForm({ code: c }), redirect_uri: 'https://esia-rp.example.test/other' });
      expect(res.body.error_description).to.match(/^ESIA-007011/);
    });

    it('the standard OIDC token endpoint does not take the ESIA client’s internal codes', async () => {
      const res = await request(h.url)
        .post('/token')
        .type('form')
        .send({ grant_type: 'authorization_code', code: 'x', client_id: rp.clientId });
      expect(res.status).to.be.oneOf([400, 401]);
    });
  });
});
