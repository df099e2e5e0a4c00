/**
 * vkhod against a real relying-party library: openid-client v6 discovers the provider over HTTP,
 * pushes authorization requests, redeems codes, validates ID tokens, refreshes, introspects,
 * revokes and logs out, while the citizen's side is played by the no-JS Browser.
 */
import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { Browser, decodeEntities, type Page } from '../support/browser.ts';
import { defaultClients, startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { GOOD_PASSWORD, signIn } from '../support/flows.ts';

const PHONE = '+79123456789';
const BYE = 'https://rp.example.test/bye';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';
const CONFIRMED = 'urn:vkhod:loa:confirmed';
const insecure = { execute: [oidc.allowInsecureRequests] };

/** The error an openid-client call rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { error?: string; status?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { error?: string; status?: number };
  }
  expect.fail('expected the call to be refused');
}

/** Parameters of a redirect to the relying party, or a failure naming the page instead. */
function redirectParams(page: Page, base = TEST_REDIRECT): URLSearchParams {
  expect(page.location, `a redirect to the relying party, got ${page.status}: ${page.html.slice(0, 400)}`).to.be.a('string');
  const url = new URL(page.location!);
  expect(url.origin + url.pathname).to.equal(base);
  return url.searchParams;
}

describe('openid-client v6 as the relying party', function () {
  let h: Harness;
  let issuer: URL;
  let jwtKey: CryptoKey;
  let accountId: string;

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwtKey = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'rp-jwt-1', alg: 'ES256', use: 'sig' };
    h = await startHarness({
      clients: [
        ...defaultClients(),
        {
          client_id: 'rp-jwt',
          client_name: 'Сервис с ключом',
          redirect_uris: [TEST_REDIRECT],
          post_logout_redirect_uris: [BYE],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [publicJwk] },
        },
        {
          client_id: 'rp-post',
          client_name: 'Сервис с секретом в теле',
          client_secret: TEST_SECRET,
          redirect_uris: [TEST_REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
    });
    issuer = new URL(h.url);
    const account = await h.services.accounts.register({
      name: { family: 'Петрова', given: 'Анна' },
      contact: { kind: 'phone', value: PHONE },
      passwordHash: await hashPassword(GOOD_PASSWORD),
    });
    accountId = account.id;
  });
  after(() => h.close());

  const jwtClient = () => oidc.discovery(issuer, 'rp-jwt', undefined, oidc.PrivateKeyJwt({ key: jwtKey, kid: 'rp-jwt-1' }), insecure);
  const postClient = () => oidc.discovery(issuer, 'rp-post', TEST_SECRET, oidc.ClientSecretPost(TEST_SECRET), insecure);
  const basicClient = (secret = TEST_SECRET) => oidc.discovery(issuer, 'rp-basic', secret, oidc.ClientSecretBasic(secret), insecure);
  const publicClient = () => oidc.discovery(issuer, 'rp-public', undefined, oidc.None(), insecure);

  /** A fresh authorization request's secrets and the parameters that carry them. */
  async function request(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const params: Record<string, string> = {
      redirect_uri: TEST_REDIRECT,
      scope: 'openid profile phone',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    };
    return { verifier, state, nonce, params };
  }

  /** Signs in through the hosted pages and returns the redirect to the relying party. */
  async function codeResponse(browser: Browser, authorizationUrl: URL): Promise<URL> {
    const done = await signIn(browser, PHONE, GOOD_PASSWORD, authorizationUrl.href);
    const params = redirectParams(done);
    expect(params.get('error'), params.toString()).to.equal(null);
    expect(params.get('code')).to.be.a('string');
    return new URL(done.location!);
  }

  it('PAR → sign-in and consent → code → validated ID token → userinfo → refresh with rotation; a rotated-out refresh token is refused', async () => {
    // Discovery: the metadata the library relies on.
    const config = await jwtClient();
    const meta = config.serverMetadata();
    expect(meta.issuer).to.equal(h.url);
    expect(meta.pushed_authorization_request_endpoint).to.be.a('string');
    expect(meta.code_challenge_methods_supported).to.deep.equal(['S256']);
    expect(meta.token_endpoint_auth_methods_supported).to.include('private_key_jwt');
    expect(meta.acr_values_supported).to.include(SIMPLIFIED);
    expect(meta.claims_supported).to.include.members(['acr', 'amr', 'auth_time']);

    // PAR: the browser carries only client_id and request_uri.
    const req = await request({ scope: 'openid profile phone offline_access', prompt: 'consent' });
    const authUrl = await oidc.buildAuthorizationUrlWithPAR(config, req.params);
    expect(authUrl.searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
    expect(authUrl.searchParams.has('code_challenge')).to.equal(false);

    // The citizen signs in with a password and consents.
    const browser = new Browser(h);
    const login = await browser.get(authUrl.href);
    expect(login.html).to.include('Сервис с ключом');
    const consent = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(consent.html).to.include('/consent');
    const done = await browser.submit(consent, '/consent', { decision: 'allow' });
    const callbackParams = redirectParams(done);
    expect(callbackParams.get('state')).to.equal(req.state);
    expect(callbackParams.get('iss')).to.equal(h.url);
    const callback = new URL(done.location!);

    // A pushed request is used once: replaying its request_uri gets no second code.
    const replayed = redirectParams(await new Browser(h).get(authUrl.href));
    expect(replayed.get('error')).to.equal('invalid_request_uri');
    expect(replayed.get('code')).to.equal(null);

    // Code → tokens; the library checks the ID token's signature, iss, aud, nonce and PKCE.
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(accountId);
    expect(claims.aud).to.equal('rp-jwt');
    expect(claims.acr).to.equal(SIMPLIFIED);
    expect(claims.amr).to.be.an('array').that.includes('pwd');
    expect(claims.nonce).to.equal(req.nonce);
    expect(claims.auth_time).to.be.a('number');
    expect(claims.auth_time).to.be.at.most(claims.iat);
    expect(tokens.refresh_token, 'offline_access with prompt=consent gives a refresh token').to.be.a('string');
    expect(tokens.scope?.split(' ')).to.include.members(['openid', 'profile', 'phone', 'offline_access']);

    // Userinfo: the profile and phone claims of the account.
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).to.include({
      sub: accountId,
      family_name: 'Петрова',
      given_name: 'Анна',
      phone_number: PHONE,
      phone_number_verified: true,
    });

    // Refresh rotates the refresh token and keeps the acr of the original sign-in.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    expect(refreshed.access_token).to.not.equal(tokens.access_token);
    const refreshedClaims = refreshed.claims()!;
    expect(refreshedClaims.sub).to.equal(accountId);
    expect(refreshedClaims.acr).to.equal(SIMPLIFIED);
    expect(refreshedClaims.amr).to.deep.equal(claims.amr);
    expect(refreshedClaims.auth_time).to.equal(claims.auth_time);

    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).to.include({ active: true, client_id: 'rp-jwt', sub: accountId });
    expect((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active).to.equal(true);
    // An honest retry with the rotated-out token (within the grace) gets the same successor …
    const retry = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(retry.refresh_token).to.equal(refreshed.refresh_token);
    // … but once the successor has been used, the rotated-out token is refused and its reuse ends
    // the whole grant (theft suspected).
    const next = await oidc.refreshTokenGrant(config, refreshed.refresh_token!);
    expect((await oidc.tokenIntrospection(config, next.refresh_token!)).active).to.equal(true);
    const reuse = await rejection(oidc.refreshTokenGrant(config, tokens.refresh_token!));
    expect(reuse).to.be.instanceOf(oidc.ResponseBodyError);
    expect(reuse.error).to.equal('invalid_grant');
    expect(
      (await oidc.tokenIntrospection(config, next.refresh_token!)).active,
      'reuse of a rotated refresh token revokes the grant',
    ).to.equal(false);
    expect((await oidc.tokenIntrospection(config, next.access_token)).active).to.equal(false);
  });

  it('single sign-on session: silent re-authorization, introspection and revocation, RP-initiated logout, then login_required', async () => {
    const config = await jwtClient();
    const browser = new Browser(h);
    const first = await request();
    const callback = await codeResponse(browser, oidc.buildAuthorizationUrl(config, first.params));
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;

    // The session signs the citizen in silently (prompt=none) while it lives; acr and auth_time carry over.
    const silent = await request();
    const silentPage = await browser.get(oidc.buildAuthorizationUrl(config, { ...silent.params, prompt: 'none' }).href);
    expect(redirectParams(silentPage).get('code'), 'prompt=none with a live session').to.be.a('string');
    const again = await oidc.authorizationCodeGrant(config, new URL(silentPage.location!), {
      pkceCodeVerifier: silent.verifier,
      expectedState: silent.state,
      expectedNonce: silent.nonce,
      idTokenExpected: true,
    });
    expect(again.claims()).to.include({ sub: accountId, acr: SIMPLIFIED, auth_time: claims.auth_time });

    // Introspection: active until revoked; a revoked access token no longer opens userinfo.
    const active = await oidc.tokenIntrospection(config, again.access_token);
    expect(active).to.include({ active: true, client_id: 'rp-jwt', sub: accountId, token_type: 'Bearer' });
    expect(active.scope?.split(' ')).to.include.members(['openid', 'profile', 'phone']);
    await oidc.tokenRevocation(config, again.access_token);
    const revoked = await oidc.tokenIntrospection(config, again.access_token);
    expect(revoked.active).to.equal(false);
    expect(revoked).to.not.have.property('sub');
    const rejected = await rejection(oidc.fetchUserInfo(config, again.access_token, accountId));
    expect(rejected.status).to.equal(401);

    // RP-initiated logout: confirmation page with xsrf, "Выйти", back to post_logout_redirect_uri.
    const logoutState = oidc.randomState();
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: BYE,
      state: logoutState,
    });
    expect(endSession.href.startsWith(`${h.url}/session/end`)).to.equal(true);
    const confirm = await browser.get(endSession.href);
    expect(confirm.status).to.equal(200);
    expect(confirm.html).to.include('Выйти из учётной записи?');
    expect(confirm.html).to.include('Сервис с ключом');
    const action = decodeEntities(confirm.html.match(/<form id="op.logoutForm" method="post" action="([^"]+)"/)![1]!);
    const xsrf = confirm.html.match(/name="xsrf" value="([^"]+)"/)![1]!;
    expect(confirm.html).to.match(/name="logout" value="yes"/);
    const forged = await browser.post(action, { xsrf: 'forged', logout: 'yes' });
    expect(forged.location, 'a wrong xsrf does not log out').to.equal(undefined);
    expect(forged.status).to.equal(400);
    const back = await browser.post(action, { xsrf, logout: 'yes' });
    expect(redirectParams(back, BYE).get('state')).to.equal(logoutState);

    // After logout there is no session: prompt=none comes back with login_required.
    const silentAfter = await request();
    const afterLogout = await browser.get(oidc.buildAuthorizationUrl(config, { ...silentAfter.params, prompt: 'none' }).href);
    const params = redirectParams(afterLogout);
    expect(params.get('error')).to.equal('login_required');
    expect(params.get('code')).to.equal(null);
    const err = await rejection(
      oidc.authorizationCodeGrant(config, new URL(afterLogout.location!), {
        pkceCodeVerifier: silentAfter.verifier,
        expectedState: silentAfter.state,
        expectedNonce: silentAfter.nonce,
      }),
    );
    expect(err).to.be.instanceOf(oidc.AuthorizationResponseError);
    expect(err.error).to.equal('login_required');
  });

  it('authenticates a client_secret_post client at the token endpoint', async () => {
    const config = await postClient();
    const req = await request();
    const callback = await codeResponse(new Browser(h), oidc.buildAuthorizationUrl(config, req.params));
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });
    expect(tokens.claims()).to.include({ sub: accountId, aud: 'rp-post', acr: SIMPLIFIED });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).to.include({ active: true, client_id: 'rp-post' });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, accountId);
    expect(info.family_name).to.equal('Петрова');
  });

  it('refuses a private_key_jwt assertion signed with a key the client did not register', async () => {
    const stranger = await generateKeyPair('ES256', { extractable: true });
    const config = await oidc.discovery(
      issuer,
      'rp-jwt',
      undefined,
      oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'rp-jwt-1' }),
      insecure,
    );
    const err = await rejection(oidc.tokenIntrospection(config, 'not-a-token'));
    expect(err).to.be.instanceOf(oidc.ResponseBodyError);
    expect(err.status).to.equal(401);
    expect(err.error).to.equal('invalid_client');
  });

  it('issues a client_credentials access token to svc-backend that introspects as active', async () => {
    const config = await oidc.discovery(issuer, 'svc-backend', TEST_SECRET, oidc.ClientSecretPost(TEST_SECRET), insecure);
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.access_token).to.be.a('string');
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');
    expect(tokens.refresh_token).to.equal(undefined);
    expect(tokens.id_token).to.equal(undefined);
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(introspection).to.include({ active: true, client_id: 'svc-backend' });
    expect(introspection).to.not.have.property('sub');
  });

  describe('what a correct provider refuses', () => {
    it('never redirects to an unregistered redirect_uri', async () => {
      const config = await basicClient();
      const req = await request({ redirect_uri: 'https://evil.example.test/steal' });
      const url = oidc.buildAuthorizationUrl(config, req.params);
      const res = await new Browser(h).agent.get(url.pathname + url.search);
      expect(res.status).to.equal(400);
      expect(res.headers.location).to.equal(undefined);
      expect(res.text).to.include('invalid_redirect_uri');
      expect(res.text).to.not.include('evil.example.test');
    });

    it('refuses a replayed code and revokes what the first exchange issued', async () => {
      const config = await basicClient();
      const req = await request();
      const callback = await codeResponse(new Browser(h), oidc.buildAuthorizationUrl(config, req.params));
      const checks = { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce };
      const first = await oidc.authorizationCodeGrant(config, callback, checks);
      expect((await oidc.tokenIntrospection(config, first.access_token)).active).to.equal(true);
      const replay = await rejection(oidc.authorizationCodeGrant(config, callback, checks));
      expect(replay).to.be.instanceOf(oidc.ResponseBodyError);
      expect(replay.error).to.equal('invalid_grant');
      expect((await oidc.tokenIntrospection(config, first.access_token)).active, 'tokens of the first exchange are revoked').to.equal(
        false,
      );
    });

    it('refuses a code redeemed with the wrong PKCE verifier', async () => {
      const config = await basicClient();
      const req = await request();
      const callback = await codeResponse(new Browser(h), oidc.buildAuthorizationUrl(config, req.params));
      const err = await rejection(
        oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
          expectedState: req.state,
          expectedNonce: req.nonce,
        }),
      );
      expect(err).to.be.instanceOf(oidc.ResponseBodyError);
      expect(err.error).to.equal('invalid_grant');
    });

    it('requires PKCE from the public client rp-public', async () => {
      const config = await publicClient();
      const { code_challenge: _c, code_challenge_method: _m, ...withoutPkce } = (await request()).params;
      const page = await new Browser(h).get(oidc.buildAuthorizationUrl(config, withoutPkce).href);
      const params = redirectParams(page);
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('error_description')).to.match(/PKCE/);
      expect(params.get('code')).to.equal(null);
    });

    it('refuses the plain code_challenge_method', async () => {
      const config = await publicClient();
      const verifier = oidc.randomPKCECodeVerifier();
      const req = await request({ code_challenge: verifier, code_challenge_method: 'plain' });
      const page = await new Browser(h).get(oidc.buildAuthorizationUrl(config, req.params).href);
      const params = redirectParams(page);
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('error_description')).to.match(/code_challenge_method/);
      expect(params.get('code')).to.equal(null);
    });

    it('answers a wrong client secret with 401 invalid_client', async () => {
      const good = await basicClient();
      const req = await request();
      const callback = await codeResponse(new Browser(h), oidc.buildAuthorizationUrl(good, req.params));
      const bad = await basicClient('wrong-secret-0123456789-abcdefghijklmnopqrs');
      const err = await rejection(
        oidc.authorizationCodeGrant(bad, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce }),
      );
      // Basic authentication failed: 401 with a Basic challenge naming invalid_client (RFC 6749 §5.2).
      expect(err).to.be.instanceOf(oidc.WWWAuthenticateChallengeError);
      expect(err.status).to.equal(401);
      const [challenge] = err.cause as { scheme: string; parameters: { error?: string } }[];
      expect(challenge!.scheme).to.equal('basic');
      expect(challenge!.parameters.error).to.equal('invalid_client');
      // The failed attempt did not burn the code: the real client can still redeem it.
      const tokens = await oidc.authorizationCodeGrant(good, callback, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
      expect(tokens.claims()!.sub).to.equal(accountId);
    });

    it('shows its own error page for an unknown client_id instead of redirecting', async () => {
      const req = await request();
      const url = new URL('/auth', h.url);
      url.search = new URLSearchParams({ ...req.params, client_id: 'no-such-client', response_type: 'code' }).toString();
      const res = await new Browser(h).agent.get(url.pathname + url.search);
      expect(res.status).to.equal(400);
      expect(res.headers.location).to.equal(undefined);
      expect(res.text).to.include('invalid_client');
    });

    it('explains an unmet acr to the citizen and returns unmet_authentication_requirements, never a code', async () => {
      const config = await basicClient();
      const req = await request({ acr_values: CONFIRMED });
      const browser = new Browser(h);
      const login = await browser.get(oidc.buildAuthorizationUrl(config, req.params).href);
      const unmet = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(unmet.status).to.equal(403);
      expect(unmet.html).to.include('Сервису нужно больше, чем есть сейчас');
      expect(unmet.html).to.include('Вернуться в сервис');
      expect(unmet.location).to.equal(undefined);
      const back = await browser.submit(unmet, '/abort', { reason: 'unmet' });
      const params = redirectParams(back);
      expect(params.get('error')).to.equal('unmet_authentication_requirements');
      expect(params.get('state')).to.equal(req.state);
      expect(params.get('code')).to.equal(null);
      const err = await rejection(
        oidc.authorizationCodeGrant(config, new URL(back.location!), {
          pkceCodeVerifier: req.verifier,
          expectedState: req.state,
          expectedNonce: req.nonce,
        }),
      );
      expect(err).to.be.instanceOf(oidc.AuthorizationResponseError);
      expect(err.error).to.equal('unmet_authentication_requirements');
    });
  });
});
