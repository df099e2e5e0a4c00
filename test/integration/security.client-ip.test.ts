/**
 * Attack: behind a proxy, send a different left-most X-Forwarded-For on every request so that
 * every per-IP limit (and the audit) sees a new client each time. The client IP is the
 * right-most address not added by a trusted proxy (DESIGN §6), so such requests are limited
 * exactly like requests from one address.
 */
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';
import { auditOfType, resetStore } from './fixtures.ts';

const ATTEMPTS = 200;
const PER_IP = 20;

/** One failed sign-in (an unknown login each time, so only the per-IP limit can stop it). */
async function failedSignIn(h: Harness, i: number, forwardedFor?: string): Promise<number> {
  const browser = new Browser(h, forwardedFor ? { 'x-forwarded-for': forwardedFor } : {});
  const login = await browser.get(authorizePath());
  const page = await browser.submit(login, '/login', { identifier: `nobody${i}@example.ru`, password: 'Не-тот-пароль-1!' });
  return page.status;
}

const randomIp = () => `${randomInt(1, 223)}.${randomInt(0, 255)}.${randomInt(0, 255)}.${randomInt(1, 254)}`;

describe('client IP behind a trusted proxy (one hop)', function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_TRUST_PROXY: 'true', VKHOD_LOGIN_MAX_PER_IP: String(PER_IP) } });
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  it('200 failed sign-ins with a different left-most X-Forwarded-For each are limited exactly like 200 from one address', async () => {
    // The proxy appends the address it saw (203.0.113.7) to whatever the client sent.
    const spoofed: number[] = [];
    for (let i = 0; i < ATTEMPTS; i += 1) spoofed.push(await failedSignIn(h, i, `${randomIp()}, 203.0.113.7`));
    const oneAddress: number[] = [];
    for (let i = 0; i < ATTEMPTS; i += 1) oneAddress.push(await failedSignIn(h, ATTEMPTS + i, '203.0.113.8'));

    expect(spoofed).to.deep.equal(oneAddress);
    expect(
      spoofed.filter((s) => s === 401),
      'checked before the per-IP lock',
    ).to.have.length(PER_IP - 1);
    expect(
      spoofed.slice(PER_IP - 1).every((s) => s === 429),
      'locked from the limit on',
    ).to.equal(true);
  });

  it('the audit records the address the proxy saw, not the one the client wrote', async () => {
    await failedSignIn(h, 1, '198.51.100.99, 203.0.113.7');
    const [event] = auditOfType(h, 'signin.password') as Array<{ ip?: string }>;
    expect(event!.ip).to.equal('203.0.113.7');
  });
});

describe('client IP without a trusted proxy', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { VKHOD_LOGIN_MAX_PER_IP: '3' } });
  });
  after(() => h.close());

  it('ignores X-Forwarded-For altogether: the peer address is the client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push(await failedSignIn(h, i, randomIp()));
    expect(statuses).to.deep.equal([401, 401, 429, 429, 429]);
    const ips = new Set((auditOfType(h, 'signin.password') as Array<{ ip?: string }>).map((e) => e.ip));
    expect([...ips].every((ip) => /127\.0\.0\.1$/.test(ip ?? ''))).to.equal(true);
  });
});
