import { expect } from 'chai';
import { connect } from 'node:net';
import request from 'supertest';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { authorizePath } from '../support/flows.ts';

/** A raw HTTP/1.x request with a Host header the client chose (clients normally refuse to send one). */
function rawGet(
  h: Harness,
  path: string,
  host: string | undefined,
  version = '1.1',
  extra = '',
): Promise<{ status: number; text: string }> {
  const { port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), text }));
    socket.write(
      `GET ${path} HTTP/${version}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Accept: text/html\r\nAccept-Language: ru\r\n${extra}Connection: close\r\n\r\n`,
    );
  });
}

const BAD_HOSTS = ['127.0.0.1:3000"><svg>', 'a b', 'host/path', 'user@host', '[::1', 'host:port', '<script>'];

describe('malformed Host header', function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it('is refused with 400 on discovery, /auth, /session/end and every page, never a 500', async () => {
    for (const host of BAD_HOSTS) {
      for (const path of [
        '/.well-known/openid-configuration',
        '/auth?client_id=rp-basic&response_type=code&scope=openid',
        '/session/end',
        '/',
        '/register',
        '/jwks',
      ]) {
        const res = await rawGet(h, path, host);
        expect(res.status, `${host} ${path}`).to.equal(400);
        expect(res.text, `${host} ${path}`).to.not.include('<svg>');
        expect(res.text).to.not.include('<script>');
      }
    }
  });

  it('tells the person in Russian what went wrong', async () => {
    const res = await rawGet(h, '/auth', '127.0.0.1:3000"><svg>');
    expect(res.text).to.include('Запрос пришёл с неправильным адресом сайта');
  });

  it('is refused in X-Forwarded-Host behind a trusted proxy too', async () => {
    const proxied = await startHarness({ env: { VKHOD_TRUST_PROXY: 'true' } });
    try {
      const { port } = new URL(proxied.url);
      const bad = await rawGet(
        proxied,
        '/.well-known/openid-configuration',
        `127.0.0.1:${port}`,
        '1.1',
        'X-Forwarded-Host: evil"><svg>\r\n',
      );
      expect(bad.status).to.equal(400);
    } finally {
      await proxied.close();
    }
  });

  it('serves well-formed hosts, and health probes without a Host', async () => {
    const { port } = new URL(h.url);
    expect((await rawGet(h, '/.well-known/openid-configuration', `127.0.0.1:${port}`)).status).to.equal(200);
    expect((await rawGet(h, '/', `localhost:${port}`)).status).to.equal(200);
    expect((await rawGet(h, '/', `[::1]:${port}`)).status).to.equal(200);
    expect((await rawGet(h, '/healthz', undefined, '1.0')).status).to.equal(200);
    expect((await rawGet(h, '/', undefined, '1.0')).status).to.equal(400);
  });
});

/**
 * A request's Host does not choose the addresses vkhod hands out: discovery, the device flow's
 * verification address and the provider's redirects name the issuer's host whatever Host came
 * with the request (a cache that does not key on Host, or a device, would pass a forged one on).
 */
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('the Host header and the URLs vkhod hands out', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        { client_id: 'rp-tv-host', client_name: 'ТВ', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT] },
      ],
    });
  });
  after(() => h.close());

  it("discovery names the issuer's host in every endpoint, whatever Host the request had", async () => {
    const res = await request(h.url).get('/.well-known/openid-configuration').set('host', 'evil.example');
    expect(res.status).to.equal(200);
    expect(res.body.issuer).to.equal(h.url);
    const urls = Object.entries(res.body as Record<string, unknown>).filter(([, v]) => typeof v === 'string' && /^https?:\/\//.test(v));
    expect(urls.length, 'discovery has endpoints').to.be.greaterThan(5);
    for (const [name, url] of urls) expect(url, name).to.satisfy((u: string) => u.startsWith(`${h.url}/`) || u === h.url);
  });

  it("the device flow's verification address is the issuer's", async () => {
    const res = await request(h.url)
      .post('/device/auth')
      .set('host', 'evil.example')
      .type('form')
      .send({ client_id: 'rp-tv-host', scope: 'openid' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.verification_uri).to.equal(`${h.url}/device`);
    expect(res.body.verification_uri_complete).to.match(new RegExp(`^${h.url}/device\\?user_code=`));
  });

  it("the authorization endpoint's redirect to the sign-in stays on the issuer's host", async () => {
    const res = await request(h.url).get(authorizePath()).set('host', 'evil.example');
    expect(res.status).to.be.within(302, 303);
    const location = res.headers.location as string;
    expect(location.startsWith('/') || location.startsWith(`${h.url}/`), location).to.equal(true);
  });
});
