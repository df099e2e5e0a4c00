import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.ts';
import { rawRequest } from '../support/http.ts';

/** A request with `accept` (supertest cannot send every method). */
const send = (h: Harness, method: string, path: string, accept = 'text/html') =>
  rawRequest(`${h.url}${path}`, method, { accept, 'accept-language': 'ru' });

const PATHS = [
  '/',
  '/auth',
  '/auth/some-uid',
  '/token',
  '/me',
  '/jwks',
  '/.well-known/openid-configuration',
  '/session/end',
  '/interaction/x/login',
  '/register',
  '/account',
  '/operator',
  '/no-such-page',
];

describe('unknown and unserved methods (TRACE, PROPFIND, …)', function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it('answers every path with 405 and an Allow header, never a 500', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'LOCK', 'SEARCH', 'PURGE', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of PATHS) {
        const res = await send(h, method, path);
        expect(res.status, `${method} ${path}`).to.equal(405);
        expect(res.headers.allow, `${method} ${path}`).to.equal('GET, HEAD, POST, OPTIONS');
      }
    }
  });

  it('lets the admin API answer in its own JSON, also with 405 and Allow', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'DELETE']) {
      const res = await send(h, method, '/admin/api/accounts', 'application/json');
      expect(res.status, method).to.equal(405);
      expect(res.headers.allow, method).to.be.a('string');
      expect(JSON.parse(res.body).error).to.equal('method');
    }
  });

  it('says so in Russian on a page, and as an OAuth error to a client that wants JSON', async () => {
    const page = await send(h, 'TRACE', '/auth');
    expect(page.body).to.include('Такой запрос здесь не обрабатывается');
    expect(page.body).to.not.match(/\bat .*\.(ts|js):\d+/);
    const json = await send(h, 'PROPFIND', '/token', 'application/json');
    expect(JSON.parse(json.body)).to.include({ error: 'invalid_request' });
  });

  it('a GET or HEAD of an endpoint that takes only POST: 405 in JSON with Allow, whatever the client accepts', async () => {
    for (const path of ['/token', '/token/introspection', '/token/revocation', '/request']) {
      const get = await send(h, 'GET', path);
      expect(get.status, `GET ${path}`).to.equal(405);
      expect(get.headers.allow, path).to.equal('POST, OPTIONS');
      expect(get.headers['content-type'], path).to.match(/^application\/json/);
      expect(JSON.parse(get.body)).to.deep.equal({
        error: 'invalid_request',
        error_description: 'Этот адрес принимает только POST с телом application/x-www-form-urlencoded.',
      });
      expect((await send(h, 'HEAD', path)).status, `HEAD ${path}`).to.equal(405);
    }
  });

  it('still answers the methods it serves', async () => {
    expect((await send(h, 'GET', '/.well-known/openid-configuration', 'application/json')).status).to.equal(200);
    expect((await send(h, 'HEAD', '/')).status).to.equal(200);
  });
});
