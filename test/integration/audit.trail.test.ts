/**
 * The audit trail you can read (issue 14): the security events that happen at the provider's own
 * endpoints (a replayed code, a reused refresh token, a revocation, a sign-out) and a lockout are
 * recorded with their account, client, IP, outcome and reason; nothing secret is kept; operators
 * with the admin role read the trail through GET /admin/api/audit by account, type and time,
 * page by page, and bad parameters get a 400 with a message.
 */
import { expect } from 'chai';
import request from 'supertest';
import { auditEvent } from '../../src/security/audit.ts';
import type { AuditEvent } from '../../src/store.ts';
import { Browser } from '../support/browser.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, signIn } from '../support/flows.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { addOperator, type TestOperator } from './admin-fixtures.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';

describe('audit trail: security events recorded and read (issue 14)', function () {
  this.timeout(120_000);
  let h: Harness;
  let accountId: string;
  let admin: TestOperator;

  before(async () => {
    h = await startHarness({ env: { VKHOD_REFRESH_REUSE_GRACE: '0', VKHOD_LOGIN_MAX_FAILURES: '3' } });
    accountId = (await createAccount(h, { phone: PHONE })).id;
    admin = await addOperator(h, 'auditor', ['admin']);
  });
  after(() => h.close());

  const eventsOf = async (query: { accountId?: string; type?: string }) =>
    (await h.services.store.audit.query({ ...query, limit: 100 })).events;

  /** Signs in at rp-basic and exchanges the code: the tokens and the code. */
  async function tokens(): Promise<{ code: string; verifier: string; body: Record<string, string> }> {
    const browser = new Browser(h);
    const { verifier, challenge } = pkce();
    const page = await signIn(
      browser,
      PHONE,
      GOOD_PASSWORD,
      authorizePath({ scope: 'openid offline_access', prompt: 'consent' }, challenge),
    );
    const code = codeFrom(page.location);
    const res = await exchange(code, verifier);
    expect(res.status, res.text).to.equal(200);
    return { code, verifier, body: res.body as Record<string, string> };
  }

  const exchange = (code: string, verifier: string) =>
    request(h.url)
      .post('/token')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT, code_verifier: verifier });

  const refresh = (token: string) =>
    request(h.url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send({ grant_type: 'refresh_token', refresh_token: token });

  it('a replayed authorization code: token.code_replay with the account, client, IP and reason', async () => {
    const { code, verifier } = await tokens();
    const replay = await exchange(code, verifier);
    expect(replay.status).to.equal(400);
    const [event] = await eventsOf({ type: 'token.code_replay' });
    expect(event).to.include({ accountId, clientId: 'rp-basic', actor: 'client:rp-basic', outcome: 'failure', reason: 'code_replay' });
    expect(event!.ip).to.be.a('string');
    expect(JSON.stringify(event)).not.to.include(code);
  });

  it('a reused refresh token: token.refresh_reuse, and the grant is gone', async () => {
    const { body } = await tokens();
    const rotated = await refresh(body.refresh_token!);
    expect(rotated.status, rotated.text).to.equal(200);
    const reuse = await refresh(body.refresh_token!);
    expect(reuse.status).to.equal(400);
    expect((await refresh(rotated.body.refresh_token as string)).status, 'the successor died with the grant').to.equal(400);
    const [event] = await eventsOf({ type: 'token.refresh_reuse' });
    expect(event).to.include({ accountId, clientId: 'rp-basic', outcome: 'failure', reason: 'refresh_token_reuse' });
    expect(JSON.stringify(event)).not.to.include(body.refresh_token!);
  });

  it('a token revoked by the service (RFC 7009): token.revoked', async () => {
    const { body } = await tokens();
    const res = await request(h.url)
      .post('/token/revocation')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ token: body.refresh_token, token_type_hint: 'refresh_token' });
    expect(res.status).to.equal(200);
    const [event] = await eventsOf({ type: 'token.revoked' });
    expect(event).to.include({ accountId, clientId: 'rp-basic', actor: 'client:rp-basic', outcome: 'success' });
    expect(event!.details).to.deep.equal({ kind: 'refresh_token' });
  });

  it('a sign-out at the end-session endpoint: signout with the account', async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    const page = await browser.get(`/session/end?${new URLSearchParams({ client_id: 'rp-basic' })}`);
    const form = page.html.match(
      /<form id="op\.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/,
    );
    expect(form, 'the logout form').to.not.equal(null);
    await browser.post(form![1]!, { xsrf: form![2]!, logout: 'yes' });
    const [event] = await eventsOf({ type: 'signout' });
    expect(event).to.include({ accountId, actor: 'self', outcome: 'success' });
  });

  it('a lockout after wrong passwords: account.locked (system), each failure with its reason', async () => {
    const other = await createAccount(h, { phone: '+79123450000' });
    for (let i = 0; i < 3; i++) {
      const browser = new Browser(h);
      const login = await browser.get(authorizePath());
      await browser.submit(login, '/login', { identifier: '+79123450000', password: 'Неверный-Пароль-1!' });
    }
    const locked = await eventsOf({ accountId: other.id, type: 'account.locked' });
    expect(locked).to.have.length(1);
    expect(locked[0]).to.include({ actor: 'system', reason: 'too_many_failures' });
    const failures = await eventsOf({ accountId: other.id, type: 'signin.password' });
    expect(failures.length).to.be.at.least(3);
    for (const f of failures) expect(f).to.include({ outcome: 'failure', actor: 'self', reason: 'wrong_password' });
  });

  it('never stores a secret a caller put in the details', () => {
    const event = auditEvent({
      type: 'test.secretive',
      details: {
        password: 'x',
        code: '123456',
        refresh_token: 'rt',
        clientSecret: 's',
        nested: { otp: '1', kept: 1 },
        reason: 'r',
        via: 'sms',
      },
    });
    expect(event.details).to.deep.equal({ nested: { kept: 1 }, reason: 'r', via: 'sms' });
    expect(event).to.include({ reason: 'r', actor: 'anonymous' });
  });

  describe('GET /admin/api/audit', () => {
    const get = (query: Record<string, string>, who: TestOperator = admin) =>
      request(h.url).get('/admin/api/audit').query(query).auth(who.login, who.password);

    it('reads one account, newest first, page by page with `next`', async () => {
      const all: AuditEvent[] = [];
      let next: string | undefined;
      do {
        const res = await get({ account: accountId, limit: '2', ...(next ? { cursor: next } : {}) });
        expect(res.status, res.text).to.equal(200);
        expect(res.body.events.length).to.be.at.most(2);
        all.push(...(res.body.events as AuditEvent[]));
        next = res.body.next as string | undefined;
      } while (next);
      expect(all.map((e) => e.id)).to.deep.equal((await eventsOf({ accountId })).map((e) => e.id));
      expect(all.length).to.be.at.least(4);
      for (const e of all) expect(e.accountId).to.equal(accountId);
    });

    it('filters by type family and by time, and records who read it', async () => {
      const res = await get({ type: 'token.*', since: '2020-01-01', until: '2100-01-01T00:00:00+03:00' });
      expect(res.status, res.text).to.equal(200);
      const types = new Set((res.body.events as AuditEvent[]).map((e) => e.type));
      expect([...types].sort()).to.deep.equal(['token.code_replay', 'token.refresh_reuse', 'token.revoked']);
      const none = await get({ type: 'token.*', until: '2020-01-01' });
      expect(none.body.events).to.deep.equal([]);
      const [read] = await eventsOf({ type: 'admin.audit_read' });
      expect(read).to.include({ actor: 'operator:auditor', outcome: 'success' });
      expect(read!.details).to.include({ type: 'token.*', until: '2020-01-01T00:00:00.000Z' });
    });

    for (const [what, query, text] of [
      ['an unknown parameter', { acount: 'x' }, 'acount'],
      ['a malformed type', { type: 'DROP TABLE' }, 'event type'],
      ['a date that is not one', { since: 'yesterday' }, 'date'],
      ['a range the wrong way round', { since: '2026-02-01', until: '2026-01-01' }, 'earlier'],
      ['a page too large', { limit: '501' }, '500'],
      ['a page of zero', { limit: '0' }, '500'],
      ['a cursor not made here', { cursor: 'bm90LW91cnM' }, 'cursor'],
    ] as const) {
      it(`refuses ${what} with 400 and a message`, async () => {
        const res = await get(query as Record<string, string>).set('accept-language', 'en');
        expect(res.status, res.text).to.equal(400);
        expect(res.body.error_description).to.be.a('string').and.include(text);
      });
    }

    it('refuses a repeated parameter with 400', async () => {
      const res = await request(h.url).get('/admin/api/audit?type=a&type=b').auth(admin.login, admin.password);
      expect(res.status).to.equal(400);
      expect(res.body.error_description).to.be.a('string');
    });

    it('needs the admin role', async () => {
      const clerk = await addOperator(h, 'clerk', ['service_centre']);
      expect((await get({}, clerk)).status).to.equal(403);
      expect((await request(h.url).get('/admin/api/audit')).status).to.equal(401);
    });
  });
});
