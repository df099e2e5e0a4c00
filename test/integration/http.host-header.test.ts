import { expect } from 'chai';
import { connect } from 'node:net';
import { startHarness, type Harness } from '../support/harness.ts';

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
