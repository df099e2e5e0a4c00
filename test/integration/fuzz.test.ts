/**
 * A bounded, reproducible fuzz run: ≥ 2,000 malformed requests (seeded PRNG) over every endpoint
 * discovery advertises and every form of the hosted pages. No answer may be a 5xx, show a stack
 * trace or reflect markup; afterwards the server still signs a citizen in.
 * A failure prints the seed and the request: FUZZ_SEED=<seed> reproduces the run.
 */
import { expect } from 'chai';
import { Agent } from 'node:http';
import { Browser } from '../support/browser.ts';
import { rawRequest, type RawAnswer } from '../support/http.ts';
import { startHarness, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD, pkce, redeem, signIn } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const REQUESTS = 2100;
const PHONE = '+79123456789';

/** mulberry32: small, fast, seedable. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

/** Markup that must never come back unescaped. */
const MARKERS = ['<svg onload=fz()>', '"><script>fz()</script>', "'><img src=x onerror=fz()>"];
const NASTY = [
  ...MARKERS,
  '',
  ' ',
  'x'.repeat(3000),
  '%',
  '%zz',
  '%00',
  '\u0000',
  '\uFFFF',
  '😀'.repeat(50),
  '../../etc/passwd',
  'javascript:alert(1)',
  'https://evil.example.test/',
  '//evil.example.test',
  '{"a":',
  '[]',
  'null',
  '-1',
  '1e309',
  'openid frobnicate',
  'rp-basic',
  'code',
  'S256',
  'true',
  'Иванова',
  '+79123456789',
  '\r\nX-Injected: 1',
];
const PARAMS = [
  'client_id',
  'response_type',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'acr_values',
  'claims',
  'request',
  'request_uri',
  'ui_locales',
  'id_token_hint',
  'login_hint',
  'post_logout_redirect_uri',
  'grant_type',
  'code',
  'refresh_token',
  'token',
  'client_secret',
  'code_verifier',
  'response_mode',
  'logout',
  'xsrf',
  '_csrf',
  'identifier',
  'password',
  'contact',
  'code',
  'decision',
  'family',
  'given',
  'snils',
  'back',
  'notice',
  'a[b]',
  'a[]',
  '__proto__',
  'constructor',
];
const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/json',
  'multipart/form-data; boundary=zz',
  'text/plain',
  'application/x-www-form-urlencoded; charset=koi8-r',
  'application/xml',
  '',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE', 'PROPFIND'];

function nasty(rng: Rng): string {
  const value = rng.pick(NASTY);
  return rng.next() < 0.2 ? value + rng.pick(NASTY) : value;
}

/** A query or form string of random parameters, sometimes repeated or broken on purpose. */
function randomParams(rng: Rng): string {
  const parts: string[] = [];
  for (let i = rng.int(6); i >= 0; i -= 1) {
    const name = rng.pick(PARAMS);
    const value = nasty(rng);
    parts.push(rng.next() < 0.1 ? `${name}=${value}` : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  }
  if (rng.next() < 0.1) parts.push('%E0%A4%A');
  return parts.join('&');
}

function randomBody(rng: Rng, contentType: string): string {
  if (contentType.includes('json'))
    return rng.pick([
      JSON.stringify(
        Object.fromEntries(
          randomParams(rng)
            .split('&')
            .map((p) => p.split('=')),
        ),
      ),
      '{"a":',
      '[1,2',
      'null',
      '"x"',
      '{"__proto__":{"x":1}}',
    ]);
  if (contentType.includes('multipart'))
    return rng.pick(['--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n<svg onload=fz()>\r\n--zz--\r\n', '--zz\r\n\r\n', 'garbage']);
  if (rng.next() < 0.05) return 'a='.padEnd(20000, 'x');
  return randomParams(rng);
}

interface Target {
  method?: string;
  path: string;
}

async function targets(h: Harness): Promise<Target[]> {
  const browser = new Browser(h);
  const discovery = (await browser.agent.get('/.well-known/openid-configuration')).body as Record<string, unknown>;
  const advertised = Object.entries(discovery)
    .filter(([k, v]) => (k.endsWith('_endpoint') || k === 'jwks_uri') && typeof v === 'string')
    .map(([, v]) => new URL(v as string).pathname);
  expect(advertised).to.include.members([
    '/auth',
    '/token',
    '/me',
    '/jwks',
    '/session/end',
    '/token/introspection',
    '/token/revocation',
    '/request',
  ]);
  // A live interaction and a live registration flow, so the forms behind them are reached too.
  const login = await browser.get(authorizePath());
  const uid = login.url.split('/')[2]!;
  const register = await browser.get('/register');
  const flowPage = await browser.submit(register, 'register', { contact: '+79123456780' });
  const flow = flowPage.url.split('?')[0]!.split('/').pop()!;
  const interaction = [
    '',
    '/login',
    '/consent',
    '/abort',
    '/unmet',
    '/mfa',
    '/mfa/sms',
    '/mfa/sms/send',
    '/mfa/totp',
    '/mfa/webauthn',
    '/mfa/webauthn/options',
    '/mfa/enrol',
    '/mfa/enrol/totp',
    '/upgrade',
    '/bank/dev-bank',
    '/bank-return',
    '/bank-link',
    '/esign',
    '/esign/challenge/x',
    '/esign-link',
    '/register',
    '/recover',
    '/passkey/options',
    '/passkey',
  ].map((s) => `/interaction/${uid}${s}`);
  const pages = [
    '/',
    '/healthz',
    '/readyz',
    '/lang/en',
    '/lang/<svg>',
    '/favicon.ico',
    '/static/app.css',
    '/static/../package.json',
    '/no-such-page',
    '/register',
    `/register/${flow}`,
    `/register/${flow}/resend`,
    '/register/unknown-flow',
    '/recover',
    '/recover/unknown-flow',
    '/account',
    '/account/callback',
    '/account/logout',
    '/account/reauth',
    '/account/security',
    '/account/security/mfa',
    '/account/security/totp',
    '/account/security/totp/remove',
    '/account/security/passkeys',
    '/account/security/passkeys/x/rename',
    '/account/security/recovery-codes',
    '/account/contacts',
    '/account/contacts/phone',
    '/account/contacts/email/confirm',
    '/account/identity',
    '/account/identity/verify',
    '/account/identity/post',
    '/account/federation',
    '/account/federation/banks/dev-bank/link',
    '/account/federation/esign',
    '/account/password',
    '/account/sessions',
    '/account/sessions/end-others',
    '/account/sessions/alerts',
    '/account/sessions/x/end',
    '/account/history',
    '/account/history?page=-1',
    '/account/services',
    '/account/services/rp-basic/withdraw',
    '/account/services/%3Csvg%3E/withdraw',
    '/operator',
    '/operator/login',
    '/operator/logout',
    '/operator/search',
    '/operator/accounts/x',
    '/operator/accounts/x/confirm',
    '/operator/letters',
    '/operator/letters/x/sent',
    '/federation/callback',
    '/logout/stayed',
    '/auth/some-uid',
    '/session/end/confirm',
    '/session/end/success',
    '/admin/api/accounts',
    '/admin/api/letters',
    `/interaction/${uid.slice(0, 10)}/login`,
    '/interaction/%3Csvg%3E/login',
  ];
  return [...advertised, ...interaction, ...pages].map((path) => ({ path }));
}

const send = (h: Harness, agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string) =>
  rawRequest(`${h.url}${path}`, method, headers, { body, agent });

describe('fuzz: malformed requests over every advertised endpoint and every form', function () {
  this.timeout(120000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await createAccount(h, { phone: PHONE });
  });
  after(() => h.close());

  it(`answers ${REQUESTS} seeded malformed requests without a 5xx, a stack trace or reflected markup, then still signs in`, async () => {
    const rng = prng(SEED);
    const list = await targets(h);
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    async function one(): Promise<void> {
      const target = rng.pick(list);
      const method = target.method ?? rng.pick(METHODS);
      const query = rng.next() < 0.7 ? `?${randomParams(rng)}` : '';
      const path = `${target.path}${query}`.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
      const headers: Record<string, string> = {
        accept: rng.pick(['text/html', 'application/json', '*/*', 'image/png', '']) || '*/*',
        'accept-language': rng.pick(['ru', 'en', 'xx', '*', 'ru;q=abc', '']) || 'ru',
      };
      if (rng.next() < 0.2)
        headers.cookie = rng.pick([
          'vkhod.session=<svg>',
          'vkhod.csrf=x; vkhod.csrf.sig=y',
          '_interaction=%zz',
          'vkhod.lang=<svg>',
          'a=b;;;;=',
        ]);
      if (rng.next() < 0.1)
        headers.authorization = rng.pick([
          'Basic %%%',
          `Basic ${Buffer.from(`rp-basic:${TEST_SECRET}`).toString('base64')}`,
          'Bearer <svg>',
          'Basic ' + Buffer.from('::').toString('base64'),
          'DPoP x',
        ]);
      if (rng.next() < 0.05) headers['content-encoding'] = rng.pick(['gzip', 'br', 'identity, gzip', 'x']);
      if (rng.next() < 0.05) headers['x-forwarded-for'] = '<svg>';
      let body: string | undefined;
      if (method === 'POST' || method === 'PUT') {
        const type = rng.pick(CONTENT_TYPES);
        if (type) headers['content-type'] = type;
        body = randomBody(rng, type);
      }
      const label = `#${sent} ${method} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)} ${String(body ?? '').slice(0, 120)}`;
      sent += 1;
      let answer: RawAnswer;
      try {
        answer = await send(h, agent, method, path, headers, body);
      } catch (err) {
        failures.push(`${label} → connection error ${(err as Error).message}`);
        return;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) failures.push(`${label} → ${answer.status}`);
      if (/\bat .*\.(ts|js|mjs):\d+|node_modules|Error: /.test(answer.body)) failures.push(`${label} → a stack trace or error text`);
      for (const marker of MARKERS) if (answer.body.includes(marker)) failures.push(`${label} → reflects ${marker}`);
      for (const value of Object.values(answer.headers)) if (String(value).includes('<svg')) failures.push(`${label} → markup in a header`);
    }
    const workers = Array.from({ length: 6 }, async () => {
      while (sent < REQUESTS && failures.length < 20) await one();
    });
    await Promise.all(workers);
    agent.destroy();
    expect(failures, `seed ${SEED}:\n${failures.join('\n')}`).to.deep.equal([]);
    expect(sent).to.be.at.least(2000);
    // The statuses seen, for the curious: mostly 4xx, some 200/30x.
    expect([...statuses.keys()].every((s) => s < 500)).to.equal(true);

    // Afterwards a citizen still signs in and the relying party redeems the code.
    const { verifier, challenge } = pkce();
    const page = await signIn(new Browser(h), PHONE, GOOD_PASSWORD, authorizePath({}, challenge));
    const { claims } = await redeem(h, page.location, verifier);
    expect(claims.sub).to.be.a('string');
  });
});
