/**
 * A production vkhod reached over plain HTTP (a TLS proxy whose X-Forwarded-Proto is not trusted,
 * or a port reached without the proxy): the pages set Secure cookies, which koa refuses on such a
 * request — the sign-in page answered 500. Now: 403 with a message that says to use https, health
 * probes still answer, and behind a trusted proxy that says `X-Forwarded-Proto: https` sign-in works.
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  VKHOD_ISSUER: 'https://id.example.test',
  VKHOD_SMS_GATEWAY: 'console',
  VKHOD_MAIL_TRANSPORT: 'console',
};

async function get(h: Harness, path: string, headers: Record<string, string> = {}) {
  return fetch(new URL(path, h.url), {
    redirect: 'manual',
    headers: { host: 'id.example.test', 'accept-language': 'ru', ...headers },
  });
}

/** A production vkhod for the enclosing describe (with a device-grant client), trusting `trustProxy` when given. */
function productionVkhod(trustProxy?: string): () => Harness {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: { ...PRODUCTION, ...(trustProxy ? { VKHOD_TRUST_PROXY: trustProxy } : {}) },
      clients: [
        ...defaultClients(),
        { client_id: 'rp-tv', token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] },
      ],
    });
  });
  after(() => h.close());
  return () => h;
}

describe('production over plain HTTP', function () {
  this.timeout(60_000);

  describe('no trusted proxy', () => {
    const vkhod = productionVkhod();

    for (const path of ['/interaction/some-uid', authorizePath(), '/cabinet', '/register'])
      it(`GET ${path.split('?')[0]} → 403 that says to open the https address (was a 500 on the sign-in page)`, async () => {
        const res = await get(vkhod(), path);
        expect(res.status).to.equal(403);
        const body = await res.text();
        expect(body).to.include('https://');
        expect(body).to.include('незащищённому адресу');
        expect(res.headers.get('set-cookie'), 'no cookie goes out over plain HTTP').to.equal(null);
      });

    it('health and readiness still answer over plain HTTP (the orchestrator probes them so)', async () => {
      expect((await get(vkhod(), '/healthz')).status).to.equal(200);
      expect((await get(vkhod(), '/readyz')).status).to.equal(200);
    });

    it('what sets no cookie is not affected: the provider’s machine endpoints, the admin API', async () => {
      const res = await get(vkhod(), '/.well-known/openid-configuration');
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { issuer: string }).issuer).to.equal('https://id.example.test');
      const token = await fetch(new URL('/token', vkhod().url), {
        method: 'POST',
        headers: { host: 'id.example.test', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=svc-backend&client_secret=wrong',
      });
      expect(token.status).to.equal(401);
      expect(((await token.json()) as { error: string }).error).to.equal('invalid_client');
      const admin = await get(vkhod(), '/admin/api/clients');
      expect(admin.status, 'the admin API asks for its credentials').to.equal(401);
      // the device authorization request: the device calls it, no browser (RFC 8628 §3.1)
      const device = await fetch(new URL('/device/auth', vkhod().url), {
        method: 'POST',
        headers: { host: 'id.example.test', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=rp-tv&scope=openid',
      });
      expect(device.status).to.equal(200);
      expect(((await device.json()) as { user_code?: string }).user_code).to.be.a('string');
    });

    it('a client’s own X-Forwarded-Proto is not believed without a trusted proxy', async () => {
      expect((await get(vkhod(), authorizePath(), { 'x-forwarded-proto': 'https' })).status).to.equal(403);
    });
  });

  describe('proxies trusted by address, and a client that reaches vkhod directly', () => {
    const vkhod = productionVkhod('10.9.9.9');

    it('its own X-Forwarded-Proto: https does not make the request secure (koa would believe any peer)', async () => {
      const res = await get(vkhod(), authorizePath(), { 'x-forwarded-proto': 'https' });
      expect(res.status).to.equal(403);
      expect(res.headers.get('set-cookie')).to.equal(null);
    });
  });

  describe('behind a trusted TLS proxy', () => {
    const vkhod = productionVkhod('127.0.0.1');

    it('X-Forwarded-Proto: https → /auth leads to the sign-in page, with Secure cookies', async () => {
      const auth = await get(vkhod(), authorizePath(), { 'x-forwarded-proto': 'https' });
      expect(auth.status).to.equal(303);
      const location = new URL(auth.headers.get('location')!, 'https://id.example.test');
      expect(location.origin).to.equal('https://id.example.test');
      expect(location.pathname).to.match(/^\/interaction\//);
      const cookies = auth.headers.getSetCookie();
      expect(cookies.length).to.be.greaterThan(0);
      for (const c of cookies) expect(c.toLowerCase()).to.include('secure');
      const page = await get(vkhod(), location.pathname, {
        'x-forwarded-proto': 'https',
        cookie: cookies.map((c) => c.split(';')[0]).join('; '),
      });
      expect(page.status).to.equal(200);
      expect(await page.text()).to.match(/<form[^>]+method="post"/i);
    });

    it('without X-Forwarded-Proto from the proxy → 403, and the operator is told which setting to check', async () => {
      const lines: string[] = [];
      const pino = (await import('pino')).default;
      const { httpsOnly } = await import('../../src/web/https-only.ts');
      const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(String(chunk)), done()) }));
      const refuse = httpsOnly(logger);
      const ctx = { secure: false, path: '/cabinet', get: () => '' } as never;
      for (let i = 0; i < 3; i += 1) expect(() => refuse(ctx, () => Promise.resolve())).to.throw('errors.https_required');
      expect(lines, 'one warning a minute, not one per request').to.have.length(1);
      expect(lines[0]).to.include('VKHOD_TRUST_PROXY');
      expect((await get(vkhod(), authorizePath())).status).to.equal(403);
    });
  });
});
