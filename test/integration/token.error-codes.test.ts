/**
 * The error codes a relying party's library acts on (RFC 6749 §5.2, RFC 8628 §3.2, RFC 7662 §2.2):
 * a grant the client is not registered for is `unauthorized_client` (not a malformed request), and
 * introspecting something that is not one of vkhod's access or refresh tokens — an ID token — says
 * `active: false`.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, redeem, signIn } from '../support/flows.ts';
import { harnessWithCitizen } from './fixtures.ts';

const PHONE = '+79123456788';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('token endpoint error codes', function () {
  const harness = harnessWithCitizen(PHONE);
  const h = (): Harness => harness();

  it('a grant the client is not registered for: unauthorized_client (400), for each kind of client', async () => {
    const cases = [
      // a confidential relying party (client_secret_basic) asking for a machine token
      request(h().url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send({ grant_type: 'client_credentials' }),
      // a machine client (client_secret_post) presenting a code
      request(h().url).post('/token').type('form').send({
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: TEST_REDIRECT,
        client_id: 'svc-backend',
        client_secret: TEST_SECRET,
      }),
      // a public client asking for the device grant
      request(h().url).post('/token').type('form').send({ grant_type: DEVICE_GRANT, device_code: 'x', client_id: 'rp-public' }),
      request(h().url).post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'rp-public' }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error, res.text).to.equal('unauthorized_client');
      expect(res.body.error_description).to.be.a('string');
    }
  });

  it('a device authorization request from a client without the device grant: unauthorized_client', async () => {
    const res = await request(h().url).post('/device/auth').type('form').send({ client_id: 'rp-public', scope: 'openid' });
    expect(res.status, res.text).to.equal(400);
    expect(res.body.error).to.equal('unauthorized_client');
  });

  it('other failures keep their own codes: an unknown grant type, a wrong secret, a malformed request', async () => {
    const unknownGrant = await request(h().url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send({ grant_type: 'password' });
    expect(unknownGrant.body.error).to.equal('unsupported_grant_type');
    // A wrong secret says nothing about which grants the client has.
    const wrongSecret = await request(h().url)
      .post('/token')
      .auth('rp-basic', 'wrong')
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(wrongSecret.status).to.equal(401);
    expect(wrongSecret.body.error).to.equal('invalid_client');
    // A grant the client has, with a parameter missing.
    const missing = await request(h().url)
      .post('/token')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code' });
    expect(missing.status).to.equal(400);
    expect(missing.body.error).to.equal('invalid_request');
  });

  it('introspecting an ID token: active false (RFC 7662 §2.2); revoking it stays unsupported_token_type (RFC 7009 §2.2.1)', async () => {
    const { verifier, challenge } = pkce();
    const page = await signIn(new Browser(h()), PHONE, GOOD_PASSWORD, authorizePath({ scope: 'openid' }, challenge));
    const tokens = await request(h().url)
      .post('/token')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code: codeFrom(page.location), redirect_uri: TEST_REDIRECT, code_verifier: verifier });
    expect(tokens.status, tokens.text).to.equal(200);
    const idToken = tokens.body.id_token as string;

    const introspection = await request(h().url)
      .post('/token/introspection')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ token: idToken });
    expect(introspection.status).to.equal(200);
    expect(introspection.body).to.deep.equal({ active: false });
    const hinted = await request(h().url)
      .post('/token/introspection')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ token: idToken, token_type_hint: 'access_token' });
    expect(hinted.body).to.deep.equal({ active: false });
    // The access token itself is still introspected as before.
    const access = await request(h().url)
      .post('/token/introspection')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ token: tokens.body.access_token as string });
    expect(access.body.active).to.equal(true);
    // Without client authentication there is no answer about any token.
    const anonymous = await request(h().url).post('/token/introspection').type('form').send({ token: idToken });
    expect(anonymous.status).to.be.within(400, 401);
    expect(anonymous.body).to.not.have.property('active');

    const revocation = await request(h().url).post('/token/revocation').auth('rp-basic', TEST_SECRET).type('form').send({ token: idToken });
    expect(revocation.status).to.equal(400);
    expect(revocation.body.error).to.equal('unsupported_token_type');
  });

  it('no client authentication at all: 401 invalid_client with the scheme to use (RFC 6749 §5.2), at every endpoint that authenticates clients', async () => {
    const bodies: Record<string, Record<string, string>> = {
      '/token': { grant_type: 'authorization_code', code: 'x', redirect_uri: TEST_REDIRECT },
      '/token/introspection': { token: 'x' },
      '/token/revocation': { token: 'x' },
      '/request': { response_type: 'code', scope: 'openid', redirect_uri: TEST_REDIRECT },
    };
    for (const [path, body] of Object.entries(bodies)) {
      const res = await request(h().url).post(path).type('form').send(body);
      expect(res.status, `${path} ${res.text}`).to.equal(401);
      expect(res.body.error, path).to.equal('invalid_client');
      expect(res.headers['www-authenticate'], path).to.match(/^Basic realm="/);
    }
    // A malformed request that names its client keeps invalid_request.
    const named = await request(h().url).post('/token').type('form').send({ grant_type: 'authorization_code', client_id: 'rp-public' });
    expect(named.status).to.equal(400);
    expect(named.body.error).to.equal('invalid_request');
  });

  it('a public client cannot introspect, not even its own tokens: it has nothing to authenticate with (RFC 7662 §2.1)', async () => {
    const { verifier, challenge } = pkce();
    const page = await signIn(
      new Browser(h()),
      PHONE,
      GOOD_PASSWORD,
      authorizePath({ client_id: 'rp-public', scope: 'openid' }, challenge),
    );
    const tokens = await redeem(h(), page.location, verifier, 'rp-public');
    const res = await request(h().url)
      .post('/token/introspection')
      .type('form')
      .send({ client_id: 'rp-public', token: tokens.body.access_token as string });
    expect(res.status, res.text).to.equal(401);
    expect(res.body.error).to.equal('invalid_client');
    expect(res.body).to.not.have.property('active');
    // The same for a token that does not exist: the answer tells nothing about tokens.
    const unknown = await request(h().url)
      .post('/token/introspection')
      .type('form')
      .send({ client_id: 'rp-public', token: 'no-such-token' });
    expect(unknown.status).to.equal(401);
    expect(unknown.body.error).to.equal('invalid_client');
    // Revoking its own token stays open to it (RFC 7009 §5 allows public clients).
    const revoked = await request(h().url)
      .post('/token/revocation')
      .type('form')
      .send({ client_id: 'rp-public', token: tokens.body.access_token as string });
    expect(revoked.status).to.equal(200);
  });

  it('token responses say Pragma: no-cache beside no-store (RFC 6749 §5.1); a body over the limit is 413; the JWKS says how long to cache it', async () => {
    const ok = await request(h().url)
      .post('/token')
      .auth('svc-backend', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'client_credentials' });
    const failed = await request(h().url).post('/token').auth('rp-basic', 'wrong').type('form').send({ grant_type: 'client_credentials' });
    for (const res of [ok, failed]) {
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['pragma']).to.equal('no-cache');
    }
    const huge = await request(h().url)
      .post('/token')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code: 'x'.repeat(200_000) });
    expect(huge.status).to.equal(413);
    expect(huge.body.error).to.equal('invalid_request');
    expect(huge.body.error_description).to.include('слишком много данных');
    const jwks = await request(h().url).get('/jwks');
    expect(jwks.status).to.equal(200);
    expect(jwks.headers['cache-control']).to.match(/^public, max-age=\d+$/);
  });
});
