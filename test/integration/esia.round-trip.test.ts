/**
 * ESIA drop-in (issue 13): an ESIA-style relying party that signs with OpenSSL (RSA, and GOST
 * through Debian's engine) runs the whole round trip against vkhod — authorization through the
 * real hosted sign-in, token, refresh with access_type=offline — and gets tokens in ESIA's shape.
 */
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import request from 'supertest';
import { EsiaRelyingParty, esiaSignIn, type EsiaKeyKind } from '../support/esia-rp.ts';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { gostEngineAvailable, skipWithoutGostEngine } from '../support/openssl-gost.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';

for (const kind of ['rsa', 'gost'] as EsiaKeyKind[]) {
  describe(`ESIA profile: the round trip with a ${kind.toUpperCase()}-signing relying party`, function () {
    this.timeout(60_000);
    let h: Harness;
    let rp: EsiaRelyingParty;
    let accountId: string;
    before(async function () {
      if (kind === 'gost') skipWithoutGostEngine(this);
      rp = new EsiaRelyingParty(`ESIA_RP_${kind.toUpperCase()}`, kind);
      h = await startHarness({ clients: [...defaultClients(), rp.registration()] });
    });
    after(async () => {
      await h?.close();
      rp?.close();
    });
    beforeEach(async () => {
      resetStore(h);
      accountId = (await createAccount(h, { phone: PHONE, name: { family: 'Иванова', given: 'Мария' } })).id;
    });

    for (const version of [1, 2] as const) {
      it(`v${version}: authorization through the hosted sign-in, then a code, tokens in ESIA's shape`, async () => {
        const { path, state } = rp.authorizePath({ scope: 'openid fullname snils', version });
        const back = await esiaSignIn(h, path, PHONE);
        expect(back.searchParams.get('state')).to.equal(state);
        expect(back.searchParams.get('error'), back.href).to.equal(null);
        const code = back.searchParams.get('code')!;
        const res = await rp.tokenRequest(
          h.url,
          rp.tokenForm({ code }, { scope: 'openid fullname snils', version: version === 2 ? 3 : 1 }),
          version === 2 ? 3 : 1,
        );
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.have.keys('access_token', 'id_token', 'state', 'token_type', 'expires_in');
        expect(res.body.token_type).to.equal('Bearer');

        const oid = await h.services.store.esia.oidOf(accountId);
        const access = decodeJwt(res.body.access_token);
        expect(access).to.include({ 'urn:esia:sbj_id': oid, client_id: rp.clientId, iss: h.url });
        expect(access.scope).to.equal(`openid fullname?oid=${oid} snils?oid=${oid}`);
        for (const claim of ['nbf', 'exp', 'iat']) expect(access[claim], claim).to.be.a('number');
        const id = decodeJwt(res.body.id_token);
        expect(id).to.include({ sub: oid, aud: rp.clientId, iss: h.url, amr: 'PWD', 'urn:esia:amd': 'PWD' });
        expect(id['urn:esia:sbj']).to.deep.equal({ 'urn:esia:sbj:typ': 'P', 'urn:esia:sbj:oid': oid, 'urn:esia:sbj:nam': `OID.${oid}` });
        expect(id['urn:esia:sid']).to.be.a('string').and.not.equal('');
        expect(id.auth_time).to.be.a('number');
        expect(decodeProtectedHeader(res.body.id_token)).to.include({ alg: 'RS256', sbt: 'id' });
        // checkable offline with vkhod's published keys
        const jwks = (await request(h.url).get('/jwks')).body.keys as Array<Record<string, unknown>>;
        const header = decodeProtectedHeader(res.body.access_token);
        const key = await importJWK(
          jwks.find((k) => k.kid === header.kid)!,
          'RS256',
        );
        await jwtVerify(res.body.access_token, key);
      });
    }

    it('the oid is stable: a second sign-in gets the same one', async () => {
      const oids = [];
      for (let i = 0; i < 2; i++) {
        const back = await esiaSignIn(h, rp.authorizePath({ scope: 'openid' }).path, PHONE);
        const res = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }, { scope: 'openid' }));
        oids.push(decodeJwt(res.body.access_token)['urn:esia:sbj_id']);
      }
      expect(oids[0]).to.be.a('number').and.equal(oids[1]);
    });

    it('access_type=offline: a refresh token, rotated on use', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ scope: 'openid fullname', accessType: 'offline' }).path, PHONE);
      const first = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }, { scope: 'openid fullname' }));
      expect(first.status, first.text).to.equal(200);
      expect(first.body.refresh_token).to.be.a('string');
      const form = rp.tokenForm({ refresh_token: first.body.refresh_token }, { scope: 'openid fullname' });
      const second = await rp.tokenRequest(h.url, form);
      expect(second.status, second.text).to.equal(200);
      expect(second.body.state).to.equal(form.state);
      expect(second.body.refresh_token).to.be.a('string').and.not.equal(first.body.refresh_token);
      expect(decodeJwt(second.body.access_token)['urn:esia:sbj_id']).to.equal(decodeJwt(first.body.access_token)['urn:esia:sbj_id']);
      const again = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: first.body.refresh_token }, { scope: 'openid fullname' }));
      expect(again.status).to.equal(400);
      expect(again.body.error_description).to.match(/^ESIA-007011/);
    });

    it('access_type=online: no refresh token', async () => {
      const back = await esiaSignIn(h, rp.authorizePath({ scope: 'openid' }).path, PHONE);
      const res = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }, { scope: 'openid' }));
      expect(res.body).to.not.have.property('refresh_token');
    });
  });
}

describe('ESIA profile: GOST engine present for the GOST round trip', () => {
  it('reports whether the GOST tests ran', function () {
    if (!gostEngineAvailable()) this.skip();
  });
});
