import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ANONYMOUS_REQUEST_LIMITS } from '../../src/security/limits.ts';
import { Browser } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';
import { countRows, resetStore, sqlite } from './fixtures.ts';

const IP = '127.0.0.1';
const oidcRows = (h: Harness) => (sqlite(h).prepare('SELECT COUNT(*) AS n FROM oidc').get() as { n: number }).n;

describe('anonymous requests cannot grow the store without bound', function () {
  this.timeout(60000);
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());
  beforeEach(() => resetStore(h));

  /** Spends all but `left` of a rule's budget for this test's IP (as that many earlier requests would). */
  async function spend(rule: keyof typeof ANONYMOUS_REQUEST_LIMITS, left: number) {
    for (let i = 0; i < ANONYMOUS_REQUEST_LIMITS[rule].points - left; i += 1) await h.services.limits.hit(rule, IP);
  }

  it('authorization requests per IP: over the limit 429 with Retry-After, and nothing more is stored', async () => {
    await spend('authorize-ip', 3);
    const browser = new Browser(h);
    for (let i = 0; i < 3; i += 1) expect((await browser.agent.get(authorizePath())).status).to.equal(303);
    const stored = oidcRows(h);
    for (let i = 0; i < 5; i += 1) {
      const res = await browser.agent.get(authorizePath()).set('accept-language', 'ru');
      expect(res.status).to.equal(429);
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      expect(res.text).to.include('Слишком много запросов');
    }
    expect((await browser.agent.head(authorizePath())).status).to.equal(429);
    expect((await browser.agent.post('/request').type('form').send({ client_id: 'rp-basic' })).status).to.equal(429);
    expect(oidcRows(h)).to.equal(stored);
  });

  it('the authorization budget per IP is the operator’s (VKHOD_AUTHORIZE_MAX_PER_IP), also under parallel requests', async () => {
    const small = await startHarness({ env: { VKHOD_AUTHORIZE_MAX_PER_IP: '4' } });
    try {
      const browser = new Browser(small);
      const statuses = await Promise.all(Array.from({ length: 10 }, () => browser.agent.get(authorizePath()).then((res) => res.status)));
      expect(statuses.filter((status) => status === 303)).to.have.length(4);
      expect(statuses.filter((status) => status === 429)).to.have.length(6);
    } finally {
      await small.close();
    }
  });

  it('device authorization requests and code-entry pages per IP share the authorization budget (each may store a device code or a session)', async () => {
    await spend('authorize-ip', 1);
    const browser = new Browser(h);
    expect((await browser.agent.post('/device/auth').type('form').send({ client_id: 'rp-public', scope: 'openid' })).status).to.not.equal(
      429,
    );
    const stored = oidcRows(h);
    const device = await browser.agent.post('/device/auth').type('form').send({ client_id: 'rp-public', scope: 'openid' });
    expect(device.status).to.equal(429);
    expect(Number(device.headers['retry-after'])).to.be.greaterThan(0);
    expect((await browser.agent.get('/device')).status).to.equal(429);
    expect(oidcRows(h)).to.equal(stored);
  });

  it('e-signature pages per IP: each showing stores a challenge, so they share the authorization budget', async () => {
    const trust = mkdtempSync(join(tmpdir(), 'vkhod-trust-'));
    const esign = await startHarness({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: trust } });
    try {
      for (let i = 0; i < ANONYMOUS_REQUEST_LIMITS['authorize-ip'].points - 2; i += 1) await esign.services.limits.hit('authorize-ip', IP);
      const browser = new Browser(esign);
      for (let i = 0; i < 2; i += 1) expect((await browser.agent.get('/recover/esign')).status).to.equal(200);
      const stored = countRows(esign, 'challenges');
      expect(stored, 'a challenge per showing').to.equal(2);
      for (const path of ['/recover/esign', '/recover/esign', '/interaction/any-uid/esign']) {
        const res = await browser.agent.get(path);
        expect(res.status, path).to.equal(429);
        expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      }
      expect(countRows(esign, 'challenges'), 'nothing more stored').to.equal(stored);
    } finally {
      await esign.close();
      rmSync(trust, { recursive: true, force: true });
    }
  });

  it('end-session requests per IP: the same', async () => {
    await spend('end-session-ip', 2);
    const browser = new Browser(h);
    for (let i = 0; i < 2; i += 1) expect((await browser.agent.get('/session/end')).status).to.equal(200);
    const stored = oidcRows(h);
    const res = await browser.agent.get('/session/end');
    expect(res.status).to.equal(429);
    expect(oidcRows(h)).to.equal(stored);
  });

  it('stray federation callbacks are answered and logged, not written to the audit; then limited per IP', async () => {
    const browser = new Browser(h);
    for (let i = 0; i < 5; i += 1) expect((await browser.agent.get(`/federation/callback?state=s${i}&code=c`)).status).to.equal(400);
    expect(countRows(h, 'audit')).to.equal(0);
    await spend('federation-callback-ip', 0);
    expect((await browser.agent.get('/federation/callback?state=x&code=c')).status).to.equal(429);
  });

  it('caps parameter lengths at the authorization endpoint with invalid_request, storing nothing', async () => {
    const browser = new Browser(h);
    for (const param of ['state', 'nonce', 'login_hint', 'acr_values', 'ui_locales']) {
      const before = oidcRows(h);
      const page = await browser.get(authorizePath({ [param]: 'x'.repeat(2049) }));
      expect(page.location, param).to.be.a('string');
      const back = new URL(page.location!);
      expect(back.origin + back.pathname).to.equal(TEST_REDIRECT);
      expect(back.searchParams.get('error'), param).to.equal('invalid_request');
      expect(back.searchParams.get('error_description'), param).to.include(param);
      expect(oidcRows(h), param).to.equal(before);
    }
    const ok = await browser.get(authorizePath({ state: 'x'.repeat(2048) }));
    expect(ok.html).to.include('name="identifier"');
  });

  it('caps parameter lengths at /session/end with 400, storing nothing', async () => {
    const browser = new Browser(h);
    const before = oidcRows(h);
    const res = await browser.agent.get(`/session/end?state=${'x'.repeat(3000)}`).set('accept-language', 'ru');
    expect(res.status).to.equal(400);
    // A parameter named like a member of Object.prototype has the same cap (it escaped it before).
    expect((await browser.agent.get(`/session/end?constructor=${'x'.repeat(3000)}`)).status).to.equal(400);
    expect(oidcRows(h)).to.equal(before);
  });
});
