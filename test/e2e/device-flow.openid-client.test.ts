/**
 * The device authorization grant (RFC 8628) against a real relying-party library: openid-client v6
 * plays the TV (initiates, polls), the no-JS Browser plays the citizen's phone or computer (types
 * the code at /device, confirms, signs in, consents), all over real HTTP.
 */
import { expect } from 'chai';
import * as oidc from 'openid-client';
import request from 'supertest';
import { hashPassword } from '../../src/accounts/password-hash.ts';
import { DEVICE_CODE_LIMITS } from '../../src/security/limits.ts';
import { Browser, decodeEntities, type Page, xsrfOf } from '../support/browser.ts';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { addTotp, GOOD_PASSWORD, passConsent, totpCode } from '../support/flows.ts';
import { errorsOn, sqlite } from '../integration/fixtures.ts';

const PHONE = '+79123456780';
const SIMPLIFIED = 'urn:vkhod:loa:simplified';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { execute: [oidc.allowInsecureRequests] };

async function rejection(promise: Promise<unknown>): Promise<Error & { error?: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { error?: string; status?: number };
  }
  expect.fail('expected the call to be refused');
}

/** Types `userCode` at /device; returns the page after it (the confirm page when the code is right). */
async function enterCode(browser: Browser, userCode: string): Promise<Page> {
  const input = await browser.get('/device');
  expect(input.status).to.equal(200);
  expect(input.html).to.include('Введите код');
  return browser.post('/device', { xsrf: xsrfOf(input), user_code: userCode });
}

/** A device code whose expiry has passed, as if ten minutes had gone by (the store keeps it a while longer). */
function expireDeviceCode(h: Harness, userCode: string): void {
  const result = sqlite(h)
    .prepare(`UPDATE oidc SET payload = json_set(payload, '$.exp', ?) WHERE model = 'DeviceCode' AND user_code = ?`)
    .run(Math.floor(Date.now() / 1000) - 1, userCode.replace(/\D/g, ''));
  expect(Number(result.changes)).to.equal(1);
}

describe('device authorization grant (RFC 8628) with openid-client v6', function () {
  let h: Harness;
  let accountId: string;
  let tv: oidc.Configuration;

  before(async () => {
    h = await startHarness({
      clients: [
        ...defaultClients(),
        {
          client_id: 'rp-tv',
          client_name: 'Госуслуги на ТВ',
          token_endpoint_auth_method: 'none',
          grant_types: [DEVICE_GRANT, 'refresh_token'],
        },
      ],
    });
    const account = await h.services.accounts.register({
      name: { family: 'Петрова', given: 'Анна' },
      contact: { kind: 'phone', value: PHONE },
      passwordHash: await hashPassword(GOOD_PASSWORD),
    });
    accountId = account.id;
    tv = await oidc.discovery(new URL(h.url), 'rp-tv', undefined, oidc.None(), insecure);
  });
  after(() => h.close());

  it('the citizen types the code, sees the service and the device, signs in and consents; the poll gets tokens with acr and amr', async () => {
    const meta = tv.serverMetadata();
    expect(meta.device_authorization_endpoint).to.equal(`${h.url}/device/auth`);
    expect(meta.grant_types_supported).to.include(DEVICE_GRANT);

    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid profile' });
    expect(started.user_code).to.match(/^\d{3}-\d{3}-\d{3}$/);
    expect(started.verification_uri).to.equal(`${h.url}/device`);
    expect(started.interval).to.equal(DEVICE_CODE_LIMITS.pollInterval);

    // Before the citizen acts, the device is told to wait.
    const pending = await request(h.url)
      .post('/token')
      .type('form')
      .send({ grant_type: DEVICE_GRANT, device_code: started.device_code, client_id: 'rp-tv' });
    expect(pending.status).to.equal(400);
    expect(pending.body.error).to.equal('authorization_pending');

    const browser = new Browser(h);
    const confirm = await enterCode(browser, started.user_code);
    expect(confirm.status).to.equal(200);
    expect(confirm.html).to.include('Госуслуги на ТВ');
    expect(confirm.html).to.include(started.user_code);
    expect(confirm.html).to.include('Войти на устройстве?');
    const login = await browser.post('/device', { xsrf: xsrfOf(confirm), user_code: started.user_code, confirm: 'yes' });
    expect(login.html, 'the hosted sign-in page').to.include('name="identifier"');
    const consent = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(consent.html).to.include('/consent');
    const done = await browser.submit(consent, '/consent', { decision: 'allow' });
    expect(done.status).to.equal(200);
    expect(done.html).to.include('устройство вошло в сервис «Госуслуги на ТВ»');

    // The device polls (no wait: the citizen is done) and gets tokens for the account.
    const tokens = await oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 });
    const claims = tokens.claims()!;
    expect(claims.sub).to.equal(accountId);
    expect(claims.aud).to.equal('rp-tv');
    expect(claims.acr).to.equal(SIMPLIFIED);
    expect(claims.amr).to.deep.equal(['pwd']);
    const info = await oidc.fetchUserInfo(tv, tokens.access_token, claims.sub);
    expect(info).to.include({ family_name: 'Петрова', given_name: 'Анна' });

    // The citizen is told that a device got access, and the cabinet's history shows it.
    expect(h.gateway.last(PHONE)?.text).to.match(/выполнен вход на устройстве .* в сервис «Госуслуги на ТВ»/);
    const history = await browser.get('/account/history');
    expect(history.html).to.include('Вход на телевизоре или другом устройстве по коду');

    // The code is used: typed again, it is refused; polled again, it gets nothing.
    const again = await enterCode(new Browser(h), started.user_code);
    expect(errorsOn(again.html)).to.deep.equal(['Этот код уже использован. Запросите новый код на устройстве.']);
    const replay = await rejection(oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 }));
    expect(replay.error).to.equal('invalid_grant');
  });

  it('a device that asks for -mfa: the citizen adds the second factor in the same hosted sign-in; the poll gets …-mfa', async () => {
    const secret = await addTotp(h, accountId);
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid', acr_values: 'urn:vkhod:loa:simplified-mfa' });
    const browser = new Browser(h);
    const confirm = await enterCode(browser, started.user_code);
    const login = await browser.post('/device', { xsrf: xsrfOf(confirm), user_code: started.user_code, confirm: 'yes' });
    const mfa = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(mfa.html).to.include('/mfa/verify');
    const done = await passConsent(browser, await browser.submit(mfa, '/mfa/verify', { code: await totpCode(secret) }));
    expect(done.html).to.include('устройство вошло в сервис');
    const claims = (await oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 })).claims()!;
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
  });

  it('refusing on the confirm page: the page says so and the device gets access_denied', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const browser = new Browser(h);
    const confirm = await enterCode(browser, started.user_code);
    const refused = await browser.post('/device', { xsrf: xsrfOf(confirm), user_code: started.user_code, abort: 'yes' });
    expect(refused.html).to.include('Вход на устройстве отклонён');
    const denied = await rejection(oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 }));
    expect(denied).to.be.instanceOf(oidc.ResponseBodyError);
    expect(denied.error).to.equal('access_denied');
  });

  it('refusing consent after signing in: the device gets access_denied', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid profile phone' });
    const browser = new Browser(h);
    const confirm = await enterCode(browser, started.user_code);
    const login = await browser.post('/device', { xsrf: xsrfOf(confirm), user_code: started.user_code, confirm: 'yes' });
    const consent = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    const refused = await browser.submit(consent, '/consent', { decision: 'deny' });
    expect(refused.html).to.include('Вход на устройстве отклонён');
    const denied = await rejection(oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 }));
    expect(denied.error).to.equal('access_denied');
  });

  it('an expired code: the page says it expired and the device gets expired_token', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    expireDeviceCode(h, started.user_code);
    const page = await enterCode(new Browser(h), started.user_code);
    expect(page.status).to.equal(410);
    expect(errorsOn(page.html)).to.deep.equal(['Срок действия кода истёк. Запросите новый код на устройстве.']);
    const expired = await rejection(oidc.pollDeviceAuthorizationGrant(tv, { ...started, interval: 0 }));
    expect(expired.error).to.equal('expired_token');
  });

  it('polling faster than the interval gets slow_down; a pending poll within the pace gets authorization_pending', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const poll = () =>
      request(h.url).post('/token').type('form').send({ grant_type: DEVICE_GRANT, device_code: started.device_code, client_id: 'rp-tv' });
    const first = await poll();
    expect(first.body.error).to.equal('authorization_pending');
    const second = await poll();
    expect(second.status).to.equal(400);
    expect(second.body.error).to.equal('slow_down');
    // Another device's code has its own pace.
    const other = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const otherPoll = await request(h.url)
      .post('/token')
      .type('form')
      .send({ grant_type: DEVICE_GRANT, device_code: other.device_code, client_id: 'rp-tv' });
    expect(otherPoll.body.error).to.equal('authorization_pending');
  });

  it("a code-entry form without the provider's xsrf token is refused with a message (400), and counts as no guess", async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const browser = new Browser(h);
    await browser.get('/device');
    const forged = await browser.post('/device', { xsrf: 'forged', user_code: started.user_code });
    expect(forged.status).to.equal(400);
    expect(errorsOn(forged.html)).to.deep.equal(['Не удалось проверить код. Попробуйте ещё раз.']);
    expect(forged.html, 'a fresh form to try again').to.match(/name="xsrf" value="[^"]+"/);
  });

  it('the code form sent without a session (cookie gone or forged): a fresh form, never a 500, and that form works', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    for (const cookie of [undefined, 'vkhod.session=forged; vkhod.session.sig=forged']) {
      let req = request(h.url).post('/device').type('form').set('accept', 'text/html');
      if (cookie) req = req.set('cookie', cookie);
      const res = await req.send({ xsrf: 'from-an-old-page', user_code: started.user_code });
      expect(res.status, `${cookie ?? 'no cookie'}: ${res.text.slice(0, 200)}`).to.equal(400);
      expect(errorsOn(res.text)).to.deep.equal(['Не удалось проверить код. Попробуйте ещё раз.']);
      // The re-drawn form's secret is kept in a session the answer hands over: sent again, it passes.
      // (a forged signature is first cleared: the cookies that expire are left out)
      const session = ([] as string[])
        .concat(res.headers['set-cookie'] ?? [])
        .filter((c) => /^vkhod\.session(\.sig)?=[^;]/.test(c) && !/expires=Thu, 01 Jan 1970/.test(c));
      expect(
        session.map((c) => c.split('=')[0]),
        'a session cookie and its signature',
      ).to.deep.equal(['vkhod.session', 'vkhod.session.sig']);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(res.text)?.[1];
      expect(xsrf, 'a fresh form').to.be.a('string');
      const again = await request(h.url)
        .post('/device')
        .type('form')
        .set('accept', 'text/html')
        .set('cookie', session.map((c) => c.split(';')[0]).join('; '))
        .send({ xsrf: decodeEntities(xsrf!), user_code: started.user_code });
      expect(again.status, again.text.slice(0, 300)).to.equal(200);
      expect(again.text, 'the confirm page').to.include('name="confirm"');
    }
  });

  it('the resume address without its cookie, and the device endpoint with GET, get a 4xx page — never a 500', async () => {
    for (const [method, path] of [
      ['get', '/device/auth'],
      ['head', '/device/auth'],
      ['get', '/device/some-uid'],
      ['post', '/device/some-uid'],
    ] as const) {
      const res = await request(h.url)[method](path).set('accept', 'text/html');
      expect(res.status, `${method} ${path}`).to.be.within(400, 499);
    }
  });

  it('a wrong user code: a message; after the limit of wrong codes per address (even in parallel) every entry is refused', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const guesser = new Browser(h);
    const wrong = await enterCode(guesser, '000-000-000');
    expect(wrong.status).to.equal(400);
    expect(errorsOn(wrong.html)).to.deep.equal(['Такого кода нет. Проверьте цифры на экране устройства.']);
    expect(wrong.html, 'the typed code is kept for correction').to.include('value="000-000-000"');
    const input = await guesser.get('/device');
    const xsrf = xsrfOf(input);
    // 2× the remaining budget in parallel: exactly the budget is checked, the rest refused.
    const remaining = DEVICE_CODE_LIMITS.wrongCodesPerIp - 1;
    const results = await Promise.all(
      Array.from({ length: remaining * 2 }, (_, i) => guesser.post('/device', { xsrf, user_code: `111-111-${String(100 + i)}` })),
    );
    expect(results.filter((r) => r.status === 400).length).to.equal(remaining);
    expect(results.filter((r) => r.status === 429).length).to.equal(remaining);
    // Now even the right code is refused from this address, with a message saying when to retry.
    const blocked = await guesser.post('/device', { xsrf, user_code: started.user_code });
    expect(blocked.status).to.equal(429);
    expect(blocked.html).to.include('Слишком много неверных кодов');
  });
});
