/**
 * Issue 14: Prometheus metrics on their own listener and a request id on every request. Read
 * through HTTP as a scraper and a proxy would: the counters move after a sign-in, a failed one, a
 * lockout, a code sent and a token grant; labels are route templates, never raw paths.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig } from '../../config/load.ts';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { buildApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { logCapture } from '../support/logs.ts';
import { metricsRequestHandler } from '../../src/observability/metrics.ts';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, pkce, redeem, signIn, submitPassword } from '../support/flows.ts';
import { createAccount, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One sample's value from the exposition text (0 when the series is not there yet). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && !Object.keys(labels).length) return Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('metrics (issue 14)', function () {
  let h: Harness;
  const scrape = async () => {
    const res = await request(metricsRequestHandler(h.services.metrics)).get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/plain/);
    return res.text;
  };
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_FAILURES: '3' } });
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  it('counts a sign-in and the token grant that follows it, and times the requests by route template', async () => {
    await createAccount(h, { phone: PHONE });
    const before = await scrape();
    const { verifier, challenge } = pkce();
    const rp = await signIn(new Browser(h), PHONE, GOOD_PASSWORD, authorizePath({}, challenge));
    await redeem(h, rp.location, verifier);
    const after = await scrape();

    const signIns = { method: 'password', outcome: 'success' };
    expect(sample(after, 'vkhod_sign_ins_total', signIns) - sample(before, 'vkhod_sign_ins_total', signIns)).to.equal(1);
    const grants = { grant_type: 'authorization_code', outcome: 'success' };
    expect(sample(after, 'vkhod_token_grants_total', grants) - sample(before, 'vkhod_token_grants_total', grants)).to.equal(1);
    const token = { method: 'POST', route: '/token', status: '200' };
    expect(sample(after, 'vkhod_http_request_duration_seconds_count', token)).to.be.greaterThan(
      sample(before, 'vkhod_http_request_duration_seconds_count', token),
    );
    // The interaction pages are labelled with their template, never with the interaction's id.
    expect(after).to.match(/route="\/interaction\/:uid[^"]*"/);
    expect(after).to.not.match(/route="\/interaction\/[A-Za-z0-9_-]{10,}/);
    // Store operations are timed through the one wrapper.
    expect(sample(after, 'vkhod_store_operation_duration_seconds_count', { repository: 'accounts', outcome: 'success' })).to.be.greaterThan(
      0,
    );
    expect(after).to.match(/vkhod_store_operation_duration_seconds_count\{repository="oidc\.AuthorizationCode",operation="consume"/);
  });

  it('counts failed sign-ins, the lockout they lead to, and a refused grant', async () => {
    await createAccount(h, { phone: PHONE });
    const before = await scrape();
    for (let i = 1; i <= 3; i += 1) await submitPassword(new Browser(h), PHONE, authorizePath(), `Не-тот-пароль-${i}!`);
    const refused = await request(h.url)
      .post('/token')
      .auth('rp-basic', 'wrong-secret-wrong-secret-wrong')
      .type('form')
      .send({ grant_type: 'authorization_code', code: 'nothing', redirect_uri: 'https://rp.example.test/cb' });
    expect(refused.status).to.equal(401);
    const after = await scrape();
    const failed = { method: 'password', outcome: 'failure' };
    expect(sample(after, 'vkhod_sign_ins_total', failed) - sample(before, 'vkhod_sign_ins_total', failed)).to.equal(3);
    expect(sample(after, 'vkhod_lockouts_total', {}) - sample(before, 'vkhod_lockouts_total', {})).to.equal(1);
    const grants = { grant_type: 'authorization_code', outcome: 'failure' };
    expect(sample(after, 'vkhod_token_grants_total', grants) - sample(before, 'vkhod_token_grants_total', grants)).to.equal(1);
  });

  it('counts codes sent by channel and purpose', async () => {
    const before = await scrape();
    const browser = new Browser(h);
    await browser.submit(await browser.get('/register'), 'register', { contact: '+79001112234' });
    const after = await scrape();
    const diff = (labels: Record<string, string>) =>
      sample(after, 'vkhod_codes_sent_total', labels) - sample(before, 'vkhod_codes_sent_total', labels);
    expect(diff({ channel: 'phone' })).to.be.at.least(1);
    expect(after).to.match(/vkhod_codes_sent_total\{channel="phone",purpose="[a-z_-]+"\} \d/);
  });

  it('adds the process metrics and the event-loop lag when the metrics listener is configured', async () => {
    expect(await scrape()).to.not.include('nodejs_eventloop_lag_seconds');
    const withListener = await startHarness({ env: { VKHOD_METRICS_PORT: '39464' } });
    try {
      const res = await request(metricsRequestHandler(withListener.services.metrics)).get('/metrics');
      expect(res.text).to.match(/^nodejs_eventloop_lag_p99_seconds \d/m);
      expect(res.text).to.match(/^process_resident_memory_bytes \d/m);
    } finally {
      await withListener.close();
    }
  });

  it('answers only GET /metrics on the metrics listener', async () => {
    const handler = metricsRequestHandler(h.services.metrics);
    expect((await request(handler).get('/')).status).to.equal(404);
    expect((await request(handler).post('/metrics')).status).to.equal(404);
  });
});

describe('request id (issue 14)', function () {
  let plain: Harness;
  let proxied: Harness;
  before(async () => {
    plain = await startHarness();
    proxied = await startHarness({ env: { VKHOD_TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await plain.close();
    await proxied.close();
  });

  it('generates one for every request and sends it back', async () => {
    const a = await request(plain.url).get('/healthz');
    const b = await request(plain.url).get('/no-such-page');
    expect(a.headers['x-request-id']).to.match(UUID);
    expect(b.status).to.equal(404);
    expect(b.headers['x-request-id']).to.match(UUID);
    expect(a.headers['x-request-id']).to.not.equal(b.headers['x-request-id']);
  });

  it('replaces the id a client sent directly (no trusted proxy), however well-formed', async () => {
    const res = await request(plain.url).get('/healthz').set('x-request-id', 'client-chosen-id-123');
    expect(res.headers['x-request-id']).to.match(UUID);
  });

  it("keeps a trusted proxy's well-formed id, and replaces a hostile one (too long, spaces, control characters)", async () => {
    const kept = await request(proxied.url).get('/healthz').set('x-request-id', 'lb-7f3a2c:req.42');
    expect(kept.headers['x-request-id']).to.equal('lb-7f3a2c:req.42');
    for (const hostile of ['a'.repeat(129), 'id with spaces', 'id\twith\ttabs', '<script>alert(1)</script>', 'id%0d%0aSet-Cookie:x=1']) {
      const res = await request(proxied.url).get('/healthz').set('x-request-id', hostile);
      expect(res.headers['x-request-id'], JSON.stringify(hostile)).to.match(UUID);
    }
  });

  it('puts the id on every log line written while the request is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-reqid-'));
    const { lines, sink } = logCapture();
    const config = loadConfig({
      NODE_ENV: 'test',
      VKHOD_ISSUER: 'http://127.0.0.1:1',
      VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
      VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
      VKHOD_CLIENTS: '[]',
      VKHOD_DEMO_RP: 'false',
      VKHOD_DEV_OUTBOX: 'false',
    });
    const store = openSqliteStore({ path: join(dir, 'vkhod.sqlite'), sweepIntervalMs: 0 });
    try {
      const { app } = await buildApp(config, store, createLogger('info', sink));
      // A wrong operator password is audited, and the audit is mirrored to the log.
      const res = await request(app.callback()).get('/admin/api/accounts?q=x').auth('nobody', 'wrong-password').set('host', '127.0.0.1:1');
      const id = res.headers['x-request-id'] as string;
      expect(id).to.match(UUID);
      const ofRequest = lines.filter((l) => l.msg === 'audit');
      expect(ofRequest, JSON.stringify(lines)).to.not.be.empty;
      for (const line of ofRequest) expect(line.reqId).to.equal(id);
      // Lines written outside any request carry none.
      lines.length = 0;
      createLogger('info', sink).info('outside');
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.at(-1)).to.not.have.property('reqId');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
