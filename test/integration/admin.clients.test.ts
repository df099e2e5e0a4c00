/**
 * Relying parties without restarts (issue 14): clients live in the store and are managed through
 * the admin API; a change made through one process is seen by another on the same store without a
 * restart; secrets rotate with an overlap; a disabled client is refused; bad input is a 400 with a
 * message; racing rotations leave one consistent state; the clients file seeds the store and never
 * reverts a change made through the API.
 */
import { expect } from 'chai';
import request from 'supertest';
import { startHarness, defaultClients, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';
import { auditOfType } from './fixtures.ts';
import { adminCall, eventually, startTwoInstances, type TwoInstances } from './two-instances.ts';

const machineToken = (h: Harness, clientId: string, secret: string) =>
  request(h.url).post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });

async function expectToken(h: Harness, clientId: string, secret: string, works: boolean): Promise<void> {
  const res = await machineToken(h, clientId, secret);
  if (works) expect(res.status, res.text).to.equal(200);
  else {
    expect(res.status, res.text).to.equal(401);
    expect(res.body.error).to.equal('invalid_client');
  }
}

let serial = 0;
const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(serial += 1)}`;

describe('admin API: clients in the store, across two processes', function () {
  this.timeout(60_000);
  let two: TwoInstances;
  let onA: ReturnType<typeof adminCall>;
  let onB: ReturnType<typeof adminCall>;

  before(async () => {
    two = await startTwoInstances();
    onA = adminCall(two.a, two.admin);
    onB = adminCall(two.b, two.admin);
  });
  after(() => two.close());

  async function machineClient(): Promise<{ clientId: string; secret: string }> {
    const clientId = newId('svc');
    const res = await onA('post', '/clients', {
      client_id: clientId,
      client_name: 'Сервис уведомлений',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(res.status, res.text).to.equal(201);
    return { clientId, secret: res.body.client_secret as string };
  }

  it('a client created through one process signs in at the other without a restart', async () => {
    const { clientId, secret } = await machineClient();
    expect(secret).to.match(/^[A-Za-z0-9_-]{43}$/);
    await eventually(() => expectToken(two.b, clientId, secret, true));
    await expectToken(two.b, clientId, 'wrong-secret-wrong-secret-wrong-secret', false);
    const listed = await onB('get', '/clients');
    expect(listed.status).to.equal(200);
    const view = (listed.body.clients as Array<Record<string, unknown>>).find((c) => c.client_id === clientId)!;
    expect(view).to.include({ status: 'active', source: 'store' });
    expect(JSON.stringify(listed.body), 'no secret or hash is ever shown').to.not.include(secret).and.not.include('v1.');
    // only a keyed hash is stored
    const stored = await two.a.services.store.clients.find(clientId);
    expect(JSON.stringify(stored)).to.not.include(secret);
    expect(auditOfType(two.a, 'client.created').some((e) => (e as { clientId?: string }).clientId === clientId)).to.equal(true);
  });

  it('a disabled client is refused at /token and /auth on the other process; enabled again, it works', async () => {
    const clientId = newId('rp');
    const created = await onA('post', '/clients', {
      client_id: clientId,
      redirect_uris: [TEST_REDIRECT],
      grant_types: ['authorization_code'],
    });
    expect(created.status, created.text).to.equal(201);
    const secret = created.body.client_secret as string;
    const auth = () => request(two.b.url).get(authorizePath({ client_id: clientId }));
    await eventually(async () => expect((await auth()).status).to.equal(303));

    expect((await onA('post', `/clients/${clientId}/disable`)).status).to.equal(200);
    await eventually(async () => {
      const page = await auth();
      expect(page.status).to.equal(400);
      expect(page.text).to.not.include('name="identifier"');
    });
    const token = await request(two.b.url)
      .post('/token')
      .auth(clientId, secret)
      .type('form')
      .send({ grant_type: 'authorization_code', code: 'x', redirect_uri: TEST_REDIRECT });
    expect(token.status).to.equal(401);
    expect(token.body.error).to.equal('invalid_client');
    expect(auditOfType(two.a, 'client.disabled').length).to.be.greaterThan(0);

    expect((await onB('post', `/clients/${clientId}/enable`)).status).to.equal(200);
    await eventually(async () => expect((await auth()).status).to.equal(303));
  });

  it('rotation: both secrets work during the overlap; after it ends, only the new one', async () => {
    const { clientId, secret: old } = await machineClient();
    await eventually(() => expectToken(two.b, clientId, old, true));
    const rotated = await onA('post', `/clients/${clientId}/secret`, { overlap_seconds: 3600 });
    expect(rotated.status, rotated.text).to.equal(200);
    const fresh = rotated.body.client_secret as string;
    expect(fresh).to.not.equal(old);
    expect(rotated.body.client.secrets).to.have.length(2);
    await eventually(() => expectToken(two.b, clientId, fresh, true));
    await expectToken(two.b, clientId, old, true);

    expect((await onA('post', `/clients/${clientId}/secret/end-overlap`)).status).to.equal(200);
    await eventually(() => expectToken(two.b, clientId, old, false));
    await expectToken(two.b, clientId, fresh, true);
    await expectToken(two.a, clientId, old, false);
    expect(auditOfType(two.a, 'client.secret-rotated').length).to.be.greaterThan(0);
  });

  it('the overlap ends by itself: the old secret stops at its end', async () => {
    const { clientId, secret: old } = await machineClient();
    const rotated = await onA('post', `/clients/${clientId}/secret`, { overlap_seconds: 1 });
    const fresh = rotated.body.client_secret as string;
    const until = Date.parse(rotated.body.client.secrets.find((s: { expires_at?: string }) => s.expires_at).expires_at);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 50));
    await eventually(() => expectToken(two.b, clientId, fresh, true));
    await expectToken(two.b, clientId, old, false);
    await expectToken(two.a, clientId, old, false);
  });

  it('two rotations at once (one on each process) leave one current secret and the other in its overlap', async () => {
    const { clientId, secret: original } = await machineClient();
    const before = (await two.a.services.store.clients.find(clientId))!.version;
    const [first, second] = await Promise.all([
      onA('post', `/clients/${clientId}/secret`, { overlap_seconds: 3600 }),
      onB('post', `/clients/${clientId}/secret`, { overlap_seconds: 3600 }),
    ]);
    expect([first.status, second.status]).to.deep.equal([200, 200]);
    const secrets = [first.body.client_secret as string, second.body.client_secret as string];
    expect(secrets[0]).to.not.equal(secrets[1]);
    const stored = (await two.a.services.store.clients.find(clientId))!;
    expect(stored.version, 'both rotations were applied, one after the other').to.equal(before + 2);
    expect(
      stored.secrets.filter((s) => !s.expiresAt),
      'one current secret',
    ).to.have.length(1);
    expect(stored.secrets, 'the current one and the one it replaced').to.have.length(2);
    // both returned secrets work now; the original's overlap was ended by the second rotation
    for (const secret of secrets) await eventually(() => expectToken(two.b, clientId, secret, true));
    await expectToken(two.b, clientId, original, false);
    // once the overlap ends, exactly one of them is left
    await onA('post', `/clients/${clientId}/secret/end-overlap`);
    await eventually(async () => {
      const works = await Promise.all(secrets.map(async (s) => (await machineToken(two.b, clientId, s)).status === 200));
      expect(works.filter(Boolean)).to.have.length(1);
    });
  });

  it('update changes the registration everywhere; delete refuses it everywhere; the id can be registered again', async () => {
    const clientId = newId('rp');
    await onA('post', '/clients', { client_id: clientId, redirect_uris: [TEST_REDIRECT] });
    const other = 'https://rp.example.test/other';
    const updated = await onB('patch', `/clients/${clientId}`, { redirect_uris: [other], client_name: 'Портал услуг' });
    expect(updated.status, updated.text).to.equal(200);
    expect(updated.body.client.metadata).to.include({ client_name: 'Портал услуг' });
    // The audit says what was registered and what it became (who added which redirect URI), nothing secret.
    const created = auditOfType(two.a, 'client.created').find((e) => (e as { clientId?: string }).clientId === clientId)!;
    expect((created.details as { registered: Record<string, unknown> }).registered).to.deep.include({ redirect_uris: [TEST_REDIRECT] });
    const changed = auditOfType(two.a, 'client.updated').find((e) => (e as { clientId?: string }).clientId === clientId)!;
    expect((changed.details as { now: Record<string, unknown> }).now).to.deep.equal({
      client_name: 'Портал услуг',
      redirect_uris: [other],
    });
    const authTo = (uri: string) => request(two.a.url).get(authorizePath({ client_id: clientId, redirect_uri: uri }));
    await eventually(async () => {
      expect((await authTo(other)).status).to.equal(303);
      expect((await authTo(TEST_REDIRECT)).status).to.equal(400);
    });

    expect((await onA('delete', `/clients/${clientId}`)).status).to.equal(204);
    await eventually(async () => expect((await authTo(other)).status).to.equal(400));
    expect((await onB('get', `/clients/${clientId}`)).status).to.equal(404);
    expect((await onB('post', `/clients/${clientId}/disable`)).status).to.equal(404);
    const again = await onB('post', '/clients', { client_id: clientId, redirect_uris: [other] });
    expect(again.status, again.text).to.equal(201);
    expect(auditOfType(two.a, 'client.deleted').length).to.be.greaterThan(0);
  });

  describe('bad input: 400 with a message, nothing stored', () => {
    const cases: Array<[string, unknown, string]> = [
      ['no redirect_uris for the code flow', { client_id: 'rp-bad-1' }, 'redirect_uris'],
      ['a redirect URI that is not a URL', { client_id: 'rp-bad-2', redirect_uris: ['not a url'] }, 'redirect_uris'],
      [
        'an unknown auth method',
        { client_id: 'rp-bad-3', redirect_uris: [TEST_REDIRECT], token_endpoint_auth_method: 'magic' },
        'token_endpoint_auth_method',
      ],
      ['an unknown scope', { client_id: 'rp-bad-4', redirect_uris: [TEST_REDIRECT], scope: 'openid fulname' }, 'fulname'],
      ['a client id with spaces', { client_id: 'rp bad', redirect_uris: [TEST_REDIRECT] }, 'client_id'],
      [
        'grant types that are not an array',
        { client_id: 'rp-bad-5', redirect_uris: [TEST_REDIRECT], grant_types: 'authorization_code' },
        'grant_types',
      ],
      [
        'node-oidc-provider refuses it (http redirect for a web client is fine, a fragment is not)',
        { client_id: 'rp-bad-6', redirect_uris: ['https://rp.example.test/cb#frag'] },
        'fragment',
      ],
      ['a redirect URI in clear off the loopback', { client_id: 'rp-bad-9', redirect_uris: ['http://rp.example.test/cb'] }, 'loopback'],
      ['a * host (never matched)', { client_id: 'rp-bad-10', redirect_uris: ['https://*.example.test/cb'] }, 'no * in the host'],
      ['a user name before the host', { client_id: 'rp-bad-11', redirect_uris: ['https://rp.example.test@evil.example/cb'] }, 'user name'],
      [
        'a name with a direction override',
        { client_id: 'rp-bad-12', redirect_uris: [TEST_REDIRECT], client_name: 'Госуслуги\u202e' },
        'client_name',
      ],
      [
        'a misspelt field (it would be dropped, and the sign-out it names would fail later)',
        { client_id: 'rp-bad-13', redirect_uris: [TEST_REDIRECT], post_logout_redirect_uri: 'https://rp.example.test/out' },
        'post_logout_redirect_uri',
      ],
      ['a field nobody knows', { client_id: 'rp-bad-14', redirect_uris: [TEST_REDIRECT], colour: 'blue' }, 'colour'],
      [
        'a private_key_jwt client whose key is no key (its modulus is not base64url)',
        {
          client_id: 'rp-bad-8',
          redirect_uris: [TEST_REDIRECT],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ kty: 'RSA', kid: 'k1', use: 'sig', n: '!!', e: 'AQAB' }] },
        },
        'kid k1',
      ],
    ];
    for (const [what, body, mention] of cases) {
      it(`create: ${what}`, async () => {
        const res = await onA('post', '/clients', body);
        expect(res.status, res.text).to.equal(400);
        expect(res.body.error).to.equal('client_metadata');
        expect(res.body.error_description).to.include('Регистрация клиента заполнена неверно').and.include(mention);
        expect(await two.a.services.store.clients.find(String((body as { client_id: string }).client_id))).to.equal(undefined);
      });
    }

    it('a secret sent by the caller, a body that is not an object, malformed JSON, a reserved or taken id', async () => {
      const secret = await onA('post', '/clients', {
        client_id: 'rp-bad-7',
        redirect_uris: [TEST_REDIRECT],
        client_secret: 'x'.repeat(40),
      });
      expect([secret.status, secret.body.error]).to.deep.equal([400, 'client_secret_given']);
      const array = await onA('post', '/clients', [1, 2]);
      expect([array.status, array.body.error]).to.deep.equal([400, 'client_metadata']);
      const malformed = await request(two.a.url)
        .post('/admin/api/clients')
        .auth(two.admin.login, two.admin.password)
        .set('content-type', 'application/json')
        .send('{"client_id": ');
      expect([malformed.status, malformed.body.error]).to.deep.equal([400, 'malformed_json']);
      // Well-formed JSON with a key that is never accepted: named as such, not "check the quotes".
      const prototypeKey = await request(two.a.url)
        .post('/admin/api/clients')
        .auth(two.admin.login, two.admin.password)
        .set('content-type', 'application/json')
        .send('{"client_id": "rp-bad-15", "__proto__": {"vkhod_resource_server": true}}');
      expect([prototypeKey.status, prototypeKey.body.error]).to.deep.equal([400, 'forbidden_key']);
      expect(prototypeKey.body.error_description).to.include('__proto__');
      const reserved = await onA('post', '/clients', { client_id: 'vkhod-cabinet', redirect_uris: [TEST_REDIRECT] });
      expect([reserved.status, reserved.body.error]).to.deep.equal([409, 'client_reserved']);
      const taken = await onA('post', '/clients', { client_id: 'rp-basic', redirect_uris: [TEST_REDIRECT] });
      expect([taken.status, taken.body.error]).to.deep.equal([409, 'client_exists']);
      const unknown = await onA('patch', '/clients/no-such-client', { client_name: 'x' });
      expect([unknown.status, unknown.body.error]).to.deep.equal([404, 'client_not_found']);
      // An ESIA-profile client is not one the API can make work: refused, and told where it goes.
      const esia = { certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', redirect_uris: [TEST_REDIRECT] };
      const esiaNew = await onA('post', '/clients', { client_id: 'ESIARP', redirect_uris: [TEST_REDIRECT], esia });
      expect([esiaNew.status, esiaNew.body.error]).to.deep.equal([400, 'client_esia']);
      expect(esiaNew.body.error_description).to.include('vkhod clients add-esia');
      const esiaPatch = await onA('patch', '/clients/rp-basic', { esia });
      expect([esiaPatch.status, esiaPatch.body.error]).to.deep.equal([400, 'client_esia']);
      const changeId = await onA('patch', '/clients/rp-basic', { client_id: 'rp-other' });
      expect([changeId.status, changeId.body.error]).to.deep.equal([400, 'client_metadata']);
    });

    it('rotation: a bad overlap, unknown fields, a client without a secret', async () => {
      for (const overlap of [-1, 1.5, '60', 90 * 86400 + 1]) {
        const res = await onA('post', '/clients/rp-basic/secret', { overlap_seconds: overlap });
        expect([res.status, res.body.error], String(overlap)).to.deep.equal([400, 'overlap_seconds']);
        expect(res.body.error_description).to.include('overlap_seconds');
      }
      const unknown = await onA('post', '/clients/rp-basic/secret', { overlap: 5 });
      expect([unknown.status, unknown.body.error]).to.deep.equal([400, 'unknown_fields']);
      const publicClient = await onA('post', '/clients/rp-public/secret', {});
      expect([publicClient.status, publicClient.body.error]).to.deep.equal([409, 'client_no_secret']);
      // "`{}` or nothing": an empty body said to be JSON is no body, not one of the wrong shape.
      const empty = await request(two.a.url)
        .post('/admin/api/clients/rp-public/secret')
        .auth(two.admin.login, two.admin.password)
        .set('content-type', 'application/json')
        .set('content-length', '0');
      expect([empty.status, empty.body.error]).to.deep.equal([409, 'client_no_secret']);
      // the test client still works with its secret: nothing was changed by the refusals
      const stored = (await two.a.services.store.clients.find('rp-basic'))!;
      expect(stored.source).to.equal('file');
    });

    it('only an admin may manage clients', async () => {
      const { addOperator } = await import('./admin-fixtures.ts');
      const desk = await addOperator(two.a, 'desk.clerk', ['service_centre']);
      const res = await adminCall(two.a, desk)('post', '/clients', { client_id: 'rp-desk', redirect_uris: [TEST_REDIRECT] });
      expect([res.status, res.body.error]).to.deep.equal([403, 'forbidden_role']);
    });
  });
});

describe('the clients file seeds the store', function () {
  this.timeout(60_000);

  it('inserts what is missing, follows file edits of file clients, never reverts an API change or brings back a deleted client', async () => {
    const two = await startTwoInstances();
    const call = adminCall(two.a, two.admin);
    const path = two.a.config.store.kind === 'sqlite' ? two.a.config.store.path : '';
    const clients = defaultClients() as Array<Record<string, unknown>>;
    try {
      // changed through the API: the store is its master now
      expect((await call('patch', '/clients/rp-basic', { client_name: 'Изменено через API' })).status).to.equal(200);
      expect((await call('delete', '/clients/svc-backend')).status).to.equal(204);
      const edited = clients.map((c) =>
        c.client_id === 'rp-basic'
          ? { ...c, client_name: 'Из файла' }
          : c.client_id === 'rp-public'
            ? { ...c, client_name: 'Публичный' }
            : c,
      );
      const extra = { client_id: 'rp-new-in-file', client_secret: TEST_SECRET, redirect_uris: [TEST_REDIRECT] };
      const restarted = await startHarness({
        clients: [...edited, extra],
        env: { VKHOD_SQLITE_PATH: path, VKHOD_SECRET_KEY: two.a.config.secretKey.toString('base64') },
      });
      try {
        const store = restarted.services.store.clients;
        expect((await store.find('rp-basic'))!.metadata.client_name, 'the API change stays').to.equal('Изменено через API');
        expect((await store.find('svc-backend'))!.status, 'the deleted client stays deleted').to.equal('deleted');
        expect((await store.find('rp-public'))!.metadata.client_name, 'a file client follows its file').to.equal('Публичный');
        expect((await store.find('rp-new-in-file'))!.source, 'a new file client is inserted').to.equal('file');
        await expectToken(restarted, 'svc-backend', TEST_SECRET, false);
        const res = await request(restarted.url)
          .post('/token')
          .auth('rp-new-in-file', TEST_SECRET)
          .type('form')
          .send({ grant_type: 'authorization_code', code: 'nope', redirect_uri: TEST_REDIRECT });
        expect(res.body.error, 'the file secret authenticates (the code is what is wrong)').to.equal('invalid_grant');
      } finally {
        await restarted.close();
      }
    } finally {
      await two.close();
    }
  });
});

describe("a disabled client's tokens", function () {
  this.timeout(60_000);

  it('no longer answer at userinfo, and a resource server introspects them as inactive (never a 500)', async () => {
    const two = await startTwoInstances();
    const call = adminCall(two.a, two.admin);
    try {
      const { createAccount } = await import('./fixtures.ts');
      const { Browser } = await import('../support/browser.ts');
      const { passConsent, pkce, redeem, submitPassword } = await import('../support/flows.ts');
      await createAccount(two.a, { phone: '+79123456789' });
      const browser = new Browser(two.b);
      const { verifier, challenge } = pkce();
      const page = await passConsent(browser, await submitPassword(browser, '+79123456789', authorizePath({ scope: 'openid' }, challenge)));
      const access = (await redeem(two.b, page.location, verifier)).body.access_token as string;
      const rs = await call('post', '/clients', {
        client_id: 'api-gateway',
        grant_types: ['client_credentials'],
        vkhod_resource_server: true,
      });
      expect(rs.status, rs.text).to.equal(201);
      const introspect = () =>
        request(two.b.url).post('/token/introspection').auth('api-gateway', rs.body.client_secret).type('form').send({ token: access });
      const userinfo = () => request(two.b.url).get('/me').set('authorization', `Bearer ${access}`);
      await eventually(async () => expect((await introspect()).body).to.include({ active: true }));
      expect((await userinfo()).status).to.equal(200);

      expect((await call('post', '/clients/rp-basic/disable')).status).to.equal(200);
      await eventually(async () => {
        const res = await introspect();
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.deep.equal({ active: false });
      });
      expect((await userinfo()).status).to.equal(401);
    } finally {
      await two.close();
    }
  });
});
