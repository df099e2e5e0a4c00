/**
 * The embedded store under faults short of a crash (issue 17): a write lock held by another
 * process, a full disk, a WAL that must stay bounded under load. Bounded in time: the busy
 * deadline is 300 ms here.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import Database from 'libsql';
import request from 'supertest';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { Browser, type Page } from '../support/browser.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, register, REGISTRATION_PROFILE } from '../support/flows.ts';
import { startHarness, TEST_SECRET, type Harness } from '../support/harness.ts';
import { createAccount, resetStore, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';

function clientCredentials(h: Harness) {
  return request(h.url)
    .post('/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: 'svc-backend', client_secret: TEST_SECRET });
}

/** Another process's connection holding the write lock until released. */
function holdWriteLock(h: Harness): { release(): void } {
  const other = new Database(h.config.store.kind === 'sqlite' ? h.config.store.path : '');
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      other.exec('COMMIT');
      other.close();
    },
  };
}

function expectUnavailable(res: { status: number; headers: Record<string, string> }, what: string) {
  expect(res.status, what).to.equal(503);
  expect(Number(res.headers['retry-after']), `${what}: Retry-After`).to.be.greaterThan(0);
}

describe('the embedded store survives faults', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_SQLITE_BUSY_DEADLINE_MS: '300' } });
  });
  after(() => h.close());
  beforeEach(() => {
    resetStore(h);
    sqlite(h).pragma('max_page_count = 1073741823');
  });

  describe('a write lock held by another process', () => {
    it('answers client_credentials 503 with Retry-After while held, and 200 right after release', async () => {
      const lock = holdWriteLock(h);
      try {
        for (let i = 0; i < 3; i++) {
          const res = await clientCredentials(h);
          expectUnavailable(res, 'client_credentials during the lock');
          expect(res.body.error).to.equal('temporarily_unavailable');
        }
      } finally {
        lock.release();
      }
      const after = await clientCredentials(h);
      expect(after.status, after.text).to.equal(200);
      expect(after.body.access_token).to.be.a('string');
    });

    it('keeps answering /healthz while writes wait for the lock', async () => {
      const lock = holdWriteLock(h);
      try {
        const order: string[] = [];
        const token = clientCredentials(h).then((res) => {
          order.push('token');
          return res;
        });
        const health = await request(h.url).get('/healthz');
        order.push('health');
        expect(health.status).to.equal(200);
        expectUnavailable(await token, 'the waiting token request');
        expect(order).to.deep.equal(['health', 'token']);
      } finally {
        lock.release();
      }
    });

    it('a sign-in with the right password while the lock is held: 503 page, then the next attempt signs in', async () => {
      await createAccount(h, { phone: PHONE });
      const browser = new Browser(h);
      const login = await browser.get(authorizePath());
      expect(login.html).to.include('name="identifier"');
      const lock = holdWriteLock(h);
      let during: Page;
      try {
        during = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      } finally {
        lock.release();
      }
      expect(during.status).to.equal(503);
      expect(during.html).to.include('Сервис временно не может сохранить данные');
      // The connection is not poisoned: tokens, sessions and counters are written again at once.
      const retry = await browser.get(authorizePath());
      let page = await browser.submit(retry, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
      if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
      codeFrom(page.location);
      const token = await clientCredentials(h);
      expect(token.status, token.text).to.equal(200);
    });

    it('a registration while the lock is held: 503 at each write step, then it completes', async () => {
      const browser = new Browser(h);
      const contactPage = await browser.get('/register');
      let lock = holdWriteLock(h);
      let sendCode: Page;
      try {
        sendCode = await browser.submit(contactPage, 'register', { contact: PHONE });
      } finally {
        lock.release();
      }
      expect(sendCode.status).to.equal(503);

      const codePage = await browser.submit(await browser.get('/register'), 'register', { contact: PHONE });
      expect(codePage.status, codePage.html).to.equal(200);
      const profile = await browser.submit(codePage, 'register/', { code: h.gateway.code(PHONE) });
      expect(profile.html).to.include('name="family"');
      const fields = REGISTRATION_PROFILE;
      lock = holdWriteLock(h);
      let create: Page;
      try {
        create = await browser.submit(profile, 'register/', fields);
      } finally {
        lock.release();
      }
      expect(create.status).to.equal(503);
      const done = await browser.submit(profile, 'register/', fields);
      expect(done.status, done.html).to.equal(200);
      expect(await h.services.store.accounts.findByKey({ kind: 'phone', value: PHONE })).to.not.equal(undefined);
      // and a second registration goes through the whole way
      const other = await register(new Browser(h), h, { start: '/register', contact: '+79123450000', normalized: '+79123450000' });
      expect(other.status).to.equal(200);
    });

    it('/readyz is not ready while the lock is held and ready after', async () => {
      const lock = holdWriteLock(h);
      try {
        await new Promise((r) => setTimeout(r, 1100)); // past the cached answer
        expect((await request(h.url).get('/readyz')).status).to.equal(503);
      } finally {
        lock.release();
      }
      await new Promise((r) => setTimeout(r, 1100));
      expect((await request(h.url).get('/readyz')).status).to.equal(200);
    });
  });

  describe('a full disk (simulated with PRAGMA max_page_count)', () => {
    it('writes answer 503, readiness drops, reads keep working, and service resumes when space returns', async () => {
      const issued = await clientCredentials(h);
      expect(issued.status).to.equal(200);
      const db = sqlite(h);
      const pages = (db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
      db.pragma(`max_page_count = ${pages}`);
      let failed: request.Response | undefined;
      for (let i = 0; i < 500 && !failed; i++) {
        const res = await clientCredentials(h);
        expect(res.status, res.text).to.be.oneOf([200, 503]);
        if (res.status === 503) failed = res;
      }
      expect(failed, 'a token write failed for space').to.not.equal(undefined);
      expectUnavailable(failed!, 'a write on a full disk');
      expect(failed!.body.error).to.equal('temporarily_unavailable');
      expect(failed!.headers['retry-after'], 'a full disk is not over in a second (docs/operations.md)').to.equal('30');

      await new Promise((r) => setTimeout(r, 1100));
      expect((await request(h.url).get('/readyz')).status, 'not ready while full').to.equal(503);
      expect((await request(h.url).get('/.well-known/openid-configuration')).status).to.equal(200);
      expect((await request(h.url).get('/jwks')).status).to.equal(200);
      const introspection = await request(h.url)
        .post('/token/introspection')
        .type('form')
        .send({ token: issued.body.access_token, client_id: 'svc-backend', client_secret: TEST_SECRET });
      expect(introspection.status).to.equal(200);
      expect(introspection.body.active).to.equal(true);

      db.pragma('max_page_count = 1073741823');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await request(h.url).get('/readyz')).status, 'ready again without a restart').to.equal(200);
      const after = await clientCredentials(h);
      expect(after.status, after.text).to.equal(200);
    });
  });
});

describe('the WAL stays bounded under load', function () {
  this.timeout(60_000);

  it('a 2 MB bound: checkpoints truncate the WAL while writes go on, and a clean close removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-wal-'));
    const path = join(dir, 'vkhod.sqlite');
    const bound = 2 * 1024 * 1024;
    const store = openSqliteStore({ path, sweepIntervalMs: 0, walMaxBytes: bound });
    const wal = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    try {
      const adapter = store.oidcAdapter('AccessToken');
      const payload = { blob: randomBytes(1500).toString('base64') };
      let written = 0;
      let largest = 0;
      let truncatedUnderLoad = false;
      // Write well past the bound (about 5 times over), watching the WAL as it goes.
      const deadline = Date.now() + 20_000;
      while (written < 12 * bound && Date.now() < deadline) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => adapter.upsert(`t${written + i}`, payload, 600)));
        written += 50 * 2048;
        const size = wal();
        if (size < largest) truncatedUnderLoad = true;
        largest = Math.max(largest, size);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(largest, 'the load reached the bound').to.be.greaterThan(bound / 2);
      expect(truncatedUnderLoad, 'a checkpoint cut the WAL back while writes went on').to.equal(true);
      await store.close();
      expect(wal(), 'no WAL left after a clean close').to.equal(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bounded growth: the sweep', () => {
  it('deletes rotated-out refresh tokens past their reuse window, used codes and audit past retention, in batches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-sweep-'));
    const store = openSqliteStore({
      path: join(dir, 'vkhod.sqlite'),
      sweepIntervalMs: 0,
      consumedRetentionSeconds: 3600,
      auditRetentionDays: 30,
    });
    try {
      const tokens = store.oidcAdapter('RefreshToken');
      const now = Date.now();
      const day = 86400_000;
      // 1,200 rotated-out tokens (more than one sweep batch), one rotated out just now, one live.
      for (let i = 0; i < 1200; i++) await tokens.upsert(`old${i}`, { grantId: 'g1' }, 86400);
      await tokens.upsert('recent', { grantId: 'g1' }, 86400);
      await tokens.upsert('live', { grantId: 'g1' }, 86400);
      await store.writes.run(() =>
        store.db.prepare("UPDATE oidc SET consumed = ? WHERE id LIKE 'old%'").run(Math.floor((now - 2 * 3600_000) / 1000)),
      );
      await tokens.consume('recent');
      await store.audit.append({ id: 'a-old', at: new Date(now - 40 * day).toISOString(), type: 'sign_in' });
      await store.audit.append({ id: 'a-new', at: new Date(now - 1 * day).toISOString(), type: 'sign_in' });

      const challenge = (id: string) => ({
        id,
        purpose: 'register',
        recipient: PHONE,
        codeHash: 'x',
        attempts: 0,
        maxAttempts: 3,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + day).toISOString(),
      });
      await store.challenges.create(challenge('used'));
      await store.challenges.create(challenge('pending'));
      expect(await store.challenges.consume('used', new Date(now - 2 * 3600_000).toISOString())).to.equal(true);

      await store.sweep(now);

      expect(await store.challenges.find('used')).to.equal(undefined);
      expect(await store.challenges.find('pending')).to.not.equal(undefined);

      const ids = (store.db.prepare('SELECT id FROM oidc ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
      expect(ids).to.deep.equal(['live', 'recent']);
      expect((await tokens.find('recent'))?.consumed, 'reuse detection still sees the recent one').to.be.a('number');
      const audit = (store.db.prepare('SELECT id FROM audit').all() as Array<{ id: string }>).map((r) => r.id);
      expect(audit).to.deep.equal(['a-new']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('low free space', () => {
  it('logs a warning with the free bytes when the volume has less than the threshold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-space-'));
    const warnings: Array<{ data: Record<string, unknown>; message: string }> = [];
    // A threshold no volume meets: the warning must come.
    const store = openSqliteStore({
      path: join(dir, 'vkhod.sqlite'),
      sweepIntervalMs: 0,
      lowSpaceBytes: Number.MAX_SAFE_INTEGER,
      warn: (data, message) => warnings.push({ data, message }),
    });
    try {
      await store.sweep();
      expect(warnings.map((w) => w.message)).to.deep.equal(['the store volume is low on free space']);
      expect(warnings[0]!.data.freeBytes).to.be.a('number');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
