/**
 * Signing keys without restarts (issue 14): a rotation publishes the new key in the JWKS of every
 * process first and signs with it only after the activation delay (or an explicit activation);
 * a withdrawn key leaves the JWKS at once and is never used again — ID tokens it signed no longer
 * verify. Two processes on one store publish the same JWKS.
 */
import { expect } from 'chai';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { authorizePath, passConsent, pkce, redeem, submitPassword } from '../support/flows.ts';
import type { Harness } from '../support/harness.ts';
import { auditOfType, createAccount } from './fixtures.ts';
import { adminCall, eventually, startTwoInstances, type TwoInstances } from './two-instances.ts';

const PHONE = '+79123456789';

const jwksOf = async (h: Harness): Promise<JSONWebKeySet> => (await request(h.url).get('/jwks').expect(200)).body as JSONWebKeySet;
const kidsOf = async (h: Harness): Promise<string[]> => (await jwksOf(h)).keys.map((k) => k.kid!);

describe('admin API: signing keys across two processes', function () {
  this.timeout(90_000);
  let two: TwoInstances;
  let call: ReturnType<typeof adminCall>;
  let browser: Browser;

  /** A fresh ID token for rp-basic from process B (signing in once, then through the session). */
  async function idToken(): Promise<string> {
    const { verifier, challenge } = pkce();
    let page = await browser.get(authorizePath({ scope: 'openid' }, challenge));
    if (page.html.includes('name="identifier"')) page = await submitPassword(browser, PHONE, authorizePath({ scope: 'openid' }, challenge));
    page = await passConsent(browser, page);
    return (await redeem(two.b, page.location, verifier)).body.id_token as string;
  }
  const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

  async function activeRsKid(): Promise<string> {
    const keys = (await call('get', '/keys')).body.keys as Array<{ kid: string; alg: string; state: string }>;
    return keys.find((k) => k.alg === 'RS256' && k.state === 'active')!.kid;
  }

  beforeEach(async () => {
    two = await startTwoInstances();
    call = adminCall(two.a, two.admin);
    await createAccount(two.a, { phone: PHONE });
    browser = new Browser(two.b);
  });
  afterEach(() => two.close());

  it('both processes publish the same JWKS', async () => {
    expect(await kidsOf(two.b)).to.deep.equal(await kidsOf(two.a));
  });

  it('a rotated key is published first and signs only once activated', async () => {
    const old = await activeRsKid();
    expect(kidOf(await idToken())).to.equal(old);

    const rotated = await call('post', '/keys/rotate', { delay_seconds: 3600 });
    expect(rotated.status, rotated.text).to.equal(200);
    const [fresh] = rotated.body.pending as string[];
    expect(Date.parse(rotated.body.activates_at as string)).to.be.greaterThan(Date.now() + 3500_000);
    // published at once on the process that rotated, within seconds on the other …
    expect(await kidsOf(two.a))
      .to.include(fresh)
      .and.include(old);
    await eventually(async () => expect(await kidsOf(two.b)).to.include(fresh));
    expect(await kidsOf(two.b)).to.deep.equal(await kidsOf(two.a));
    // … but the old key still signs
    const before = await idToken();
    expect(kidOf(before)).to.equal(old);
    const listed = (await call('get', '/keys')).body.keys as Array<{ kid: string; state: string }>;
    expect(listed.find((k) => k.kid === fresh)!.state).to.equal('pending');

    const activated = await call('post', `/keys/${fresh}/activate`, {});
    expect(activated.status, activated.text).to.equal(200);
    await eventually(async () => expect(kidOf(await idToken())).to.equal(fresh));
    // the old key stays published (its tokens still verify) and no longer signs
    const jwks = createLocalJWKSet(await jwksOf(two.b));
    await jwtVerify(before, jwks);
    expect(await kidsOf(two.b)).to.include(old);
    expect(auditOfType(two.a, 'key.rotated')).to.have.length(1);
    expect(auditOfType(two.a, 'key.activated')).to.have.length(1);
  });

  it('after the activation delay the new key signs by itself', async () => {
    const old = await activeRsKid();
    const rotated = await call('post', '/keys/rotate', { delay_seconds: 1 });
    const [fresh] = rotated.body.pending as string[];
    await eventually(async () => expect(await kidsOf(two.b)).to.include(fresh));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(rotated.body.activates_at as string) - Date.now()) + 50));
    await eventually(async () => expect(kidOf(await idToken())).to.equal(fresh));
    expect(await kidsOf(two.b)).to.include(old);
  });

  it('a withdrawn key leaves the JWKS at once and its tokens no longer verify', async () => {
    const compromised = await activeRsKid();
    const signed = await idToken();
    expect(kidOf(signed)).to.equal(compromised);
    // as an id_token_hint it is good before …
    expect((await request(two.b.url).get('/session/end').query({ id_token_hint: signed })).status).to.equal(200);

    const res = await call('post', `/keys/${compromised}/withdraw`, {});
    expect(res.status, res.text).to.equal(200);
    const replacement = res.body.replacement as string;
    expect(replacement).to.be.a('string').and.not.equal(compromised);
    expect(await kidsOf(two.a), 'gone from the JWKS of the process that withdrew it at once').to.not.include(compromised);
    await eventually(async () => expect(await kidsOf(two.b)).to.not.include(compromised));
    // … and refused after: nobody can verify it any more
    let refused: unknown;
    await jwtVerify(signed, createLocalJWKSet(await jwksOf(two.b))).catch((err: unknown) => (refused = err));
    expect(refused, 'the ID token signed by the withdrawn key does not verify').to.be.instanceOf(Error);
    expect((await request(two.b.url).get('/session/end').query({ id_token_hint: signed })).status).to.equal(400);
    // new tokens come from the replacement, and verify
    await eventually(async () => expect(kidOf(await idToken())).to.equal(replacement));
    await jwtVerify(await idToken(), createLocalJWKSet(await jwksOf(two.b)));
    const listed = (await call('get', '/keys')).body.keys as Array<{ kid: string; state: string }>;
    expect(listed.find((k) => k.kid === compromised)!.state).to.equal('withdrawn');
    const stored = JSON.stringify(await two.a.services.signingKeys.keys.read());
    expect(stored.match(new RegExp(compromised, 'g')), 'only its name is kept, not the key').to.have.length(1);
    expect(auditOfType(two.a, 'key.withdrawn')).to.have.length(1);
  });

  it('withdrawing an active key while a successor is pending activates the successor at once', async () => {
    const rotated = await call('post', '/keys/rotate', { delay_seconds: 3600 });
    const [pending] = rotated.body.pending as string[];
    const res = await call('post', `/keys/${await activeRsKid()}/withdraw`, {});
    expect(res.body.replacement).to.equal(pending);
    await eventually(async () => expect(kidOf(await idToken())).to.equal(pending));
  });

  it('two rotations at once (one on each process) both land', async () => {
    const [first, second] = await Promise.all([
      call('post', '/keys/rotate', { delay_seconds: 3600 }),
      adminCall(two.b, two.admin)('post', '/keys/rotate', { delay_seconds: 3600 }),
    ]);
    expect([first.status, second.status]).to.deep.equal([200, 200]);
    const keys = (await call('get', '/keys')).body.keys as Array<{ kid: string; state: string }>;
    const pending = keys.filter((k) => k.state === 'pending').map((k) => k.kid);
    expect(pending).to.have.members([...(first.body.pending as string[]), ...(second.body.pending as string[])]);
  });

  it('bad input: 400 or 404 with a message', async () => {
    for (const delay of [-1, 'soon', 1.5, 30 * 86400 + 1]) {
      const res = await call('post', '/keys/rotate', { delay_seconds: delay });
      expect([res.status, res.body.error], String(delay)).to.deep.equal([400, 'delay_seconds']);
      expect(res.body.error_description).to.include('delay_seconds');
    }
    const unknown = await call('post', '/keys/rotate', { delay: 5 });
    expect([unknown.status, unknown.body.error]).to.deep.equal([400, 'unknown_fields']);
    const notObject = await call('post', '/keys/rotate', 'now');
    expect([notObject.status, notObject.body.error]).to.deep.equal([400, 'json_object']);
    const missing = await call('post', '/keys/no-such-kid/withdraw', {});
    expect([missing.status, missing.body.error]).to.deep.equal([404, 'key_not_found']);
    const notPending = await call('post', `/keys/${await activeRsKid()}/activate`, {});
    expect([notPending.status, notPending.body.error]).to.deep.equal([404, 'key_not_found']);
    expect(auditOfType(two.a, 'key.rotated')).to.have.length(0);
  });
});
