/**
 * node-oidc-provider's router and vkhod's routers match a path whatever the case of its letters and
 * with one trailing slash ignored (`/AUTH`, `/Operator/Login/`). Every decision taken on a path
 * before the router — the admin listener's fence, the per-IP budgets, the device-code budget, the
 * JSON answers of machine endpoints — must see those spellings as the endpoint they reach
 * (src/web/routed-path.ts). Before, each of these spellings went past its decision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { DEVICE_CODE_LIMITS } from '../../src/security/limits.ts';
import { adminListenerHandler } from '../../src/web/admin-listener.ts';
import { routedPathOf } from '../../src/web/routed-path.ts';
import { Browser, xsrfOf } from '../support/browser.ts';
import { authorizePath } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { countRows, errorsOn } from './fixtures.ts';

describe('another spelling of a path is the same path to every check (case, trailing slash)', function () {
  this.timeout(60000);

  it('routedPathOf folds ASCII letters and one trailing slash, nothing else', () => {
    expect(routedPathOf('/OPERATOR/Login/')).to.equal('/operator/login');
    expect(routedPathOf('/interaction/AbC-123/ESIGN')).to.equal('/interaction/abc-123/esign');
    expect(routedPathOf('/')).to.equal('/');
    expect(routedPathOf('/token')).to.equal('/token');
    expect(routedPathOf('/token//')).to.equal('/token/');
    // The Kelvin sign lower-cases to an ASCII k in JavaScript, but no router takes it for one.
    expect(routedPathOf('/to\u212Aen')).to.equal('/to\u212Aen');
  });

  describe('the admin listener (VKHOD_ADMIN_PORT)', () => {
    let split: Harness;
    before(async () => (split = await startHarness({ env: { VKHOD_ADMIN_PORT: '39002' } })));
    after(() => split.close());

    it('the public listener answers the operator pages and the admin API 404 in any spelling', async () => {
      for (const path of [
        '/OPERATOR/login',
        '/Operator/Login',
        '/operator/login/',
        '/OPERATOR',
        '/ADMIN/api/accounts?q=x',
        '/Admin/Api/',
      ]) {
        const res = await request(split.url).get(path).set('accept-language', 'ru');
        expect(res.status, path).to.equal(404);
        expect(res.text, path).to.include('Страница не найдена');
        expect(res.text, path).to.not.include('name="password"');
      }
      const signIn = await request(split.url).post('/OPERATOR/login').type('form').send({ login: 'op', password: 'x' });
      expect(signIn.status).to.equal(404);
    });

    it('the admin listener still serves them', async () => {
      const admin = request(adminListenerHandler(split.app.callback()));
      const host = new URL(split.url).host;
      expect((await admin.get('/operator/login').set('host', host)).status).to.equal(200);
      expect((await admin.get('/admin/api/accounts?q=x').set('host', host)).status).to.equal(401);
    });
  });

  describe('per-IP budgets', () => {
    it('authorization requests count in any spelling of /auth', async () => {
      const h = await startHarness({ env: { VKHOD_AUTHORIZE_MAX_PER_IP: '3' } });
      try {
        const browser = new Browser(h);
        const query = authorizePath().slice('/auth'.length);
        const statuses: number[] = [];
        for (const path of ['/AUTH', '/Auth/', '/auth', '/aUtH']) statuses.push((await browser.agent.get(`${path}${query}`)).status);
        expect(statuses).to.deep.equal([303, 303, 303, 429]);
      } finally {
        await h.close();
      }
    });

    it('every showing of an e-signature page counts, whatever its spelling, and stores nothing past the budget', async () => {
      const trust = mkdtempSync(join(tmpdir(), 'vkhod-trust-'));
      const h = await startHarness({ env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: trust, VKHOD_AUTHORIZE_MAX_PER_IP: '4' } });
      try {
        const browser = new Browser(h);
        const statuses: number[] = [];
        for (const path of ['/recover/ESIGN', '/RECOVER/esign/', '/recover/esign', '/Recover/Esign'])
          statuses.push((await browser.agent.get(path)).status);
        expect(statuses).to.deep.equal([200, 200, 200, 200]);
        const stored = countRows(h, 'challenges');
        for (const path of ['/recover/ESIGN', '/interaction/any-uid/ESIGN', '/interaction/any-uid/esign/']) {
          expect((await browser.agent.get(path)).status, path).to.equal(429);
        }
        expect(countRows(h, 'challenges'), 'nothing more stored').to.equal(stored);
      } finally {
        await h.close();
        rmSync(trust, { recursive: true, force: true });
      }
    });

    it('wrong device codes count against the address in any spelling of /device', async () => {
      const h = await startHarness();
      try {
        const guesser = new Browser(h);
        let page = await guesser.get('/device');
        const statuses: number[] = [];
        for (let i = 0; i < DEVICE_CODE_LIMITS.wrongCodesPerIp + 2; i += 1) {
          const path = ['/DEVICE', '/Device/', '/device'][i % 3]!;
          // Each answer draws the form again with a fresh xsrf value.
          if (i < DEVICE_CODE_LIMITS.wrongCodesPerIp)
            page = await guesser.post(path, { xsrf: xsrfOf(page), user_code: `111-111-${String(100 + i)}` }, false);
          else page = await guesser.post(path, { xsrf: 'x', user_code: `111-111-${String(100 + i)}` }, false);
          statuses.push(page.status);
          if (i < DEVICE_CODE_LIMITS.wrongCodesPerIp)
            expect(errorsOn(page.html), path).to.deep.equal(['Такого кода нет. Проверьте цифры на экране устройства.']);
        }
        expect(statuses.filter((status) => status === 400)).to.have.length(DEVICE_CODE_LIMITS.wrongCodesPerIp);
        expect(statuses.slice(-2)).to.deep.equal([429, 429]);
      } finally {
        await h.close();
      }
    });
  });

  describe('machine endpoints', () => {
    let h: Harness;
    before(async () => (h = await startHarness()));
    after(() => h.close());

    it('a GET of the token endpoint in another spelling is the same 405 in JSON', async () => {
      for (const path of ['/TOKEN', '/Token/', '/token/INTROSPECTION']) {
        const res = await request(h.url).get(path).set('accept', '*/*');
        expect(res.status, path).to.equal(405);
        expect(res.headers['allow'], path).to.equal('POST, OPTIONS');
        expect(res.type, path).to.equal('application/json');
      }
    });
  });
});
