import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.ts';
import { rawRequest, type RawAnswer } from '../support/http.ts';

/**
 * A relying party's OAuth library sends `Accept: *\/*` or no Accept at all, and reads the error of
 * a token, introspection or ESIA token request as JSON (RFC 6749 §5.2). vkhod's own middleware
 * refuses some requests before the endpoint is reached; those answers were the HTML error page to
 * such a client.
 */
const send = (h: Harness, method: string, path: string, headers: Record<string, string>, body?: string) =>
  rawRequest(`${h.url}${path}`, method, { 'accept-language': 'ru', ...headers }, { body });
const typeOf = (res: RawAnswer) => String(res.headers['content-type'] ?? '');

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('errors on the endpoints only code calls are JSON, whatever the client accepts', function () {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  for (const accept of [undefined, '*/*', 'text/html,*/*']) {
    const headers: Record<string, string> = accept ? { accept } : {};
    const label = accept ?? 'no Accept';

    it(`a compressed body on /token, /token/introspection and /device/auth: 415 in JSON (${label})`, async () => {
      for (const path of ['/token', '/token/introspection', '/device/auth', '/aas/oauth2/te']) {
        const res = await send(h, 'POST', path, { ...headers, ...FORM, 'content-encoding': 'gzip' }, 'grant_type=x');
        expect(res.status, path).to.equal(415);
        expect(typeOf(res), path).to.match(/^application\/json/);
        expect(JSON.parse(res.body), path).to.deep.equal({
          error: 'invalid_request',
          error_description: 'Тело запроса должно быть без сжатия: отправьте его без заголовка Content-Encoding.',
        });
      }
    });

    it(`a method the endpoint does not take: 405 in JSON (${label})`, async () => {
      for (const [method, path] of [
        ['PROPFIND', '/token'],
        ['TRACE', '/me'],
        ['GET', '/aas/oauth2/te'],
        ['GET', '/aas/oauth2/v3/te'],
        ['TRACE', '/rs/prns/1000000001'],
      ] as const) {
        const res = await send(h, method, path, headers);
        expect(res.status, `${method} ${path}`).to.equal(405);
        expect(typeOf(res), `${method} ${path}`).to.match(/^application\/json/);
        expect(JSON.parse(res.body).error, `${method} ${path}`).to.equal('invalid_request');
      }
    });

    it(`a body over the limit on ESIA's token endpoint: 413 in JSON (${label})`, async () => {
      const res = await send(h, 'POST', '/aas/oauth2/te', { ...headers, ...FORM }, `client_id=${'x'.repeat(100_000)}`);
      expect(res.status).to.equal(413);
      expect(typeOf(res)).to.match(/^application\/json/);
      expect(JSON.parse(res.body).error_description).to.equal(
        'Отправлено слишком много данных. Сократите введённый текст и попробуйте снова.',
      );
    });
  }

  it('an address over its limit on /device/auth and /request: 429 in JSON with Retry-After', async () => {
    const small = await startHarness({ env: { VKHOD_AUTHORIZE_MAX_PER_IP: '4' } });
    try {
      const answers = [];
      for (let i = 0; i < 6; i += 1) {
        const path = i % 2 ? '/request' : '/device/auth';
        answers.push(await rawRequest(`${small.url}${path}`, 'POST', { accept: '*/*', ...FORM }, { body: 'client_id=rp-public' }));
      }
      const refused = answers.filter((res) => res.status === 429);
      expect(refused).to.have.length(2);
      for (const res of refused) {
        expect(typeOf(res)).to.match(/^application\/json/);
        expect(res.headers['retry-after']).to.match(/^\d+$/);
        expect(JSON.parse(res.body).error).to.equal('invalid_request');
      }
    } finally {
      await small.close();
    }
  });

  it('a page still answers a browser with the page', async () => {
    for (const accept of ['*/*', 'text/html,*/*']) {
      const res = await send(h, 'PROPFIND', '/auth', { accept });
      expect(res.status).to.equal(405);
      expect(typeOf(res)).to.match(/^text\/html/);
      expect(res.body).to.include('Такой запрос здесь не обрабатывается');
    }
  });
});
