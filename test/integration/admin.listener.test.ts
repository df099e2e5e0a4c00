/**
 * Issue 14: with VKHOD_ADMIN_PORT the operator API and pages are served only on the admin
 * listener; the public listener answers them 404 like any unknown page, and the admin listener
 * serves nothing of the public site.
 */
import { expect } from 'chai';
import request from 'supertest';
import { adminListenerHandler } from '../../src/web/admin-listener.ts';
import { startHarness, type Harness } from '../support/harness.ts';

describe('admin listener (VKHOD_ADMIN_PORT)', function () {
  let split: Harness;
  let single: Harness;
  let admin: ReturnType<typeof request>;
  before(async () => {
    split = await startHarness({ env: { VKHOD_ADMIN_PORT: '39001' } });
    single = await startHarness();
    admin = request(adminListenerHandler(split.app.callback()));
  });
  after(async () => {
    await split.close();
    await single.close();
  });

  it('answers /admin and /operator 404 on the public listener, as an unknown page', async () => {
    const unknown = await request(split.url).get('/no-such-page').set('accept-language', 'ru');
    expect(unknown.text).to.include('Страница не найдена');
    for (const path of ['/operator', '/operator/letters', '/admin/api/accounts?q=x', '/admin', '/admin/']) {
      const res = await request(split.url).get(path).set('accept-language', 'ru');
      expect(res.status, path).to.equal(404);
      expect(res.text.replaceAll(`back=${path.split('?')[0]}`, 'back=/no-such-page'), path).to.equal(unknown.text);
    }
    const post = await request(split.url).post('/admin/api/accounts/x/confirm').auth('admin', 'x').send({});
    expect(post.status).to.equal(404);
  });

  it('serves them on the admin listener', async () => {
    const page = await admin.get('/operator').set('host', new URL(split.url).host);
    expect(page.status).to.be.oneOf([200, 302]);
    const api = await admin.get('/admin/api/accounts?q=x').set('host', new URL(split.url).host);
    expect(api.status).to.equal(401);
    expect((await admin.get('/healthz').set('host', new URL(split.url).host)).status).to.equal(200);
  });

  it('serves nothing of the public site on the admin listener', async () => {
    for (const path of ['/', '/jwks', '/.well-known/openid-configuration', '/register', '/cabinet']) {
      const res = await admin.get(path).set('host', new URL(split.url).host);
      expect(res.status, path).to.equal(404);
    }
    const token = await admin.post('/token').type('form').send({ grant_type: 'client_credentials' });
    expect(token.status).to.equal(404);
  });

  it('keeps both on the public listener when no admin listener is set', async () => {
    expect((await request(single.url).get('/operator')).status).to.be.oneOf([200, 302]);
    expect((await request(single.url).get('/admin/api/accounts?q=x')).status).to.equal(401);
  });
});
