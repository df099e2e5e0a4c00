import { expect } from 'chai';
import request from 'supertest';
import { defaultClients, startHarness, TEST_SECRET, type Harness } from '../support/harness.ts';

/** A client_credentials token request (client_secret_post), with the introspection of its token. */
async function machineToken(h: Harness, clientId: string, scope?: string) {
  const res = await request(h.url)
    .post('/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: TEST_SECRET, ...(scope !== undefined ? { scope } : {}) });
  if (res.status !== 200) return { res, introspection: undefined };
  const introspection = await request(h.url)
    .post('/token/introspection')
    .type('form')
    .send({ client_id: clientId, client_secret: TEST_SECRET, token: res.body.access_token });
  return { res, introspection: introspection.body as Record<string, unknown> };
}

describe("client_credentials tokens carry only the client's machine scopes", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        {
          client_id: 'svc-notify',
          client_secret: TEST_SECRET,
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_post',
          vkhod_machine_scope: 'notifications:send notifications:read',
        },
      ],
    });
  });
  after(() => h.close());

  it("refuses the citizens' scopes (openid profile email phone) with invalid_scope", async () => {
    for (const scope of ['openid', 'openid profile email phone', 'profile', 'offline_access', 'snils']) {
      const { res } = await machineToken(h, 'svc-notify', scope);
      expect(res.status, scope).to.equal(400);
      expect(res.body.error, scope).to.equal('invalid_scope');
    }
  });

  it('refuses a scope the client is not registered for, and an unknown one', async () => {
    for (const scope of ['notifications:delete', 'frobnicate', 'notifications:send admin']) {
      const { res } = await machineToken(h, 'svc-notify', scope);
      expect(res.body.error, scope).to.equal('invalid_scope');
    }
    const { res } = await machineToken(h, 'svc-backend', 'openid profile email phone');
    expect(res.body.error).to.equal('invalid_scope');
  });

  it('grants what is registered: the asked subset, or all of it when none is asked', async () => {
    const some = await machineToken(h, 'svc-notify', 'notifications:read');
    expect(some.res.body.scope).to.equal('notifications:read');
    expect(some.introspection).to.include({ active: true, scope: 'notifications:read', client_id: 'svc-notify' });
    const all = await machineToken(h, 'svc-notify');
    expect(all.res.body.scope).to.equal('notifications:send notifications:read');
    expect(all.introspection).to.include({ active: true, scope: 'notifications:send notifications:read' });
  });

  it('a client with no machine scopes gets a token with no scope at all', async () => {
    const { res, introspection } = await machineToken(h, 'svc-backend');
    expect(res.status).to.equal(200);
    expect(res.body).to.not.have.property('scope');
    expect(introspection).to.include({ active: true, client_id: 'svc-backend' });
    expect(introspection).to.not.have.property('scope');
  });
});
