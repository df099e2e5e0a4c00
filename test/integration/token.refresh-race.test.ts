/**
 * Refresh rotation tolerates the honest retry (a client retrying after a timeout, two tabs): a
 * rotated-out refresh token presented again within the grace gets the same successor, not a
 * revoked sign-in. Reuse outside the grace, or after the successor was itself used, still revokes.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, pkce, signIn } from '../support/flows.ts';
import { holdReads } from '../support/races.ts';
import type { SqliteStore } from '../../adapters/sqlite/index.ts';
import { createAccount, resetStore, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';

const token = (h: Harness, form: Record<string, string>) =>
  request(h.url).post('/token').auth('rp-basic', TEST_SECRET).type('form').send(form);
const refresh = (h: Harness, refreshToken: string) => token(h, { grant_type: 'refresh_token', refresh_token: refreshToken });
const active = async (h: Harness, value: string) =>
  (await request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token: value })).body
    .active as boolean;

/** Signs in with offline access; returns the first refresh token. */
async function firstRefreshToken(h: Harness): Promise<string> {
  const { verifier, challenge } = pkce();
  const page = await signIn(
    new Browser(h),
    PHONE,
    GOOD_PASSWORD,
    authorizePath({ scope: 'openid offline_access', prompt: 'consent' }, challenge),
  );
  const res = await token(h, {
    grant_type: 'authorization_code',
    code: codeFrom(page.location),
    redirect_uri: TEST_REDIRECT,
    code_verifier: verifier,
  });
  expect(res.status, res.text).to.equal(200);
  expect(res.body.refresh_token).to.be.a('string');
  return res.body.refresh_token as string;
}

/** Moves a rotation into the past, beyond the grace (as if `seconds` had passed). */
function ageRotation(h: Harness, refreshToken: string, seconds: number): void {
  const db = sqlite(h);
  db.prepare(`UPDATE oidc SET consumed = consumed - ? WHERE model = 'RefreshToken' AND id = ?`).run(seconds, refreshToken);
  db.prepare(`UPDATE oidc SET expires_at = ? WHERE model = 'RefreshTokenSuccessor' AND id = ?`).run(Date.now() - 1, refreshToken);
}

describe('refresh token rotation and the honest retry', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });

  it('three simultaneous refreshes (a retrying load balancer) all get one and the same successor', async () => {
    const original = await firstRefreshToken(h);
    const release = holdReads(h, 'RefreshToken', 3);
    const answers = await Promise.all([refresh(h, original), refresh(h, original), refresh(h, original)]).finally(release);
    for (const res of answers) expect(res.status, res.text).to.equal(200);
    expect(new Set(answers.map((r) => r.body.refresh_token)).size, 'one successor').to.equal(1);
    expect((await refresh(h, answers[0]!.body.refresh_token as string)).status).to.equal(200);
  });

  it('two simultaneous refreshes with one token both succeed with the same successor, and the sign-in lives on', async () => {
    const original = await firstRefreshToken(h);
    const release = holdReads(h, 'RefreshToken', 2);
    const [a, b] = await Promise.all([refresh(h, original), refresh(h, original)]).finally(release);
    expect(a.status, a.text).to.equal(200);
    expect(b.status, b.text).to.equal(200);
    expect(a.body.refresh_token).to.be.a('string').and.not.equal(original);
    expect(b.body.refresh_token, 'one successor for both').to.equal(a.body.refresh_token);
    expect(await active(h, a.body.access_token as string)).to.equal(true);
    expect(await active(h, b.body.access_token as string)).to.equal(true);
    const next = await refresh(h, a.body.refresh_token as string);
    expect(next.status, next.text).to.equal(200);
  });

  it('a retry after the first refresh answered, within the grace, gets the same successor', async () => {
    const original = await firstRefreshToken(h);
    const first = await refresh(h, original);
    expect(first.status).to.equal(200);
    const retry = await refresh(h, original);
    expect(retry.status, retry.text).to.equal(200);
    expect(retry.body.refresh_token).to.equal(first.body.refresh_token);
    expect(retry.body.id_token).to.be.a('string');
    expect(await active(h, first.body.access_token as string)).to.equal(true);
    expect((await refresh(h, first.body.refresh_token as string)).status).to.equal(200);
  });

  it('reuse after the grace revokes the sign-in, as a stolen token', async () => {
    const original = await firstRefreshToken(h);
    const first = await refresh(h, original);
    expect(first.status).to.equal(200);
    ageRotation(h, original, 60);
    const reuse = await refresh(h, original);
    expect(reuse.status).to.equal(400);
    expect(reuse.body.error).to.equal('invalid_grant');
    expect(await active(h, first.body.access_token as string)).to.equal(false);
    expect((await refresh(h, first.body.refresh_token as string)).body.error).to.equal('invalid_grant');
  });

  it('reuse after the successor was itself used revokes, even within the grace', async () => {
    const original = await firstRefreshToken(h);
    const first = await refresh(h, original);
    const second = await refresh(h, first.body.refresh_token as string);
    expect(second.status).to.equal(200);
    const reuse = await refresh(h, original);
    expect(reuse.body.error).to.equal('invalid_grant');
    expect(await active(h, second.body.access_token as string)).to.equal(false);
  });

  describe('with the grace turned off (VKHOD_REFRESH_REUSE_GRACE=0)', () => {
    let strict: Harness;
    before(async () => {
      strict = await startHarness({ env: { VKHOD_REFRESH_REUSE_GRACE: '0' } });
    });
    after(() => strict.close());

    it('of two simultaneous refreshes exactly one succeeds, and the reuse revokes the grant', async () => {
      await createAccount(strict, { phone: PHONE });
      const original = await firstRefreshToken(strict);
      const release = holdReads(strict, 'RefreshToken', 2);
      const answers = await Promise.all([refresh(strict, original), refresh(strict, original)]).finally(release);
      const won = answers.filter((r) => r.status === 200);
      expect(won, answers.map((r) => r.text).join(' | ')).to.have.length(1);
      expect(answers.find((r) => r.status !== 200)!.body.error).to.equal('invalid_grant');
      expect(await active(strict, won[0]!.body.access_token as string)).to.equal(false);
    });

    it('the link kept for the grace costs a refresh no commit of its own (it goes with the new token)', async () => {
      resetStore(strict);
      await createAccount(strict, { phone: PHONE });
      const commitsOf = async (harness: Harness, refreshToken: string) => {
        const writes = (harness.services.store as SqliteStore).writes;
        const before = writes.commits;
        const res = await refresh(harness, refreshToken);
        expect(res.status, res.text).to.equal(200);
        return writes.commits - before;
      };
      const withGrace = await commitsOf(h, await firstRefreshToken(h));
      const without = await commitsOf(strict, await firstRefreshToken(strict));
      expect(without, 'a refresh commits something').to.be.greaterThan(0);
      expect(withGrace, 'commits per refresh with the grace link and without it').to.equal(without);
      const links = sqlite(h).prepare(`SELECT count(*) AS n FROM oidc WHERE model = 'RefreshTokenSuccessor'`).get() as { n: number };
      expect(links.n, 'the grace link was written').to.equal(1);
    });
  });
});
